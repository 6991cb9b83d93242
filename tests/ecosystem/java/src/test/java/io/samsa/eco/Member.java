/* Member: one consumer-group member on its own thread (KafkaConsumer is
 * single-threaded).  It subscribes, polls, counts every record it gets in a
 * map shared by the group's members (partition:offset -> times seen), commits
 * synchronously after each batch, and keeps what the tests assert on: its
 * current assignment, every revocation and assignment callback, and its
 * group generation.  close() stops the loop and closes the consumer on its
 * own thread (a dynamic member leaves the group; a static one stays). */
package io.samsa.eco;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

final class Member {
    final String name;
    final Set<TopicPartition> assignment = ConcurrentHashMap.newKeySet();
    final List<Set<TopicPartition>> revoked = new CopyOnWriteArrayList<>();
    final List<Set<TopicPartition>> assigned = new CopyOnWriteArrayList<>();
    volatile int generation = -1;
    final AtomicReference<Throwable> error = new AtomicReference<>();
    private final ConcurrentMap<String, Integer> seen;
    private final Thread thread;
    private volatile boolean stop;

    /** kv: extra consumer settings (group.id among them). */
    Member(String name, String topic, ConcurrentMap<String, Integer> seen, Object... kv) {
        this.name = name;
        this.seen = seen;
        Object[] all = new Object[kv.length + 4];
        System.arraycopy(kv, 0, all, 0, kv.length);
        all[kv.length] = ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG;
        all[kv.length + 1] = "500";
        all[kv.length + 2] = ConsumerConfig.CLIENT_ID_CONFIG;
        all[kv.length + 3] = name;
        KafkaConsumer<String, String> c = Kit.consumer(all);
        thread = new Thread(() -> run(c, topic), "member-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    private void run(KafkaConsumer<String, String> c, String topic) {
        try {
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                    revoked.add(new HashSet<>(parts));
                    assignment.removeAll(parts);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                    assigned.add(new HashSet<>(parts));
                    assignment.addAll(parts);
                    generation = c.groupMetadata().generationId();
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> parts) {
                    revoked.add(new HashSet<>(parts));
                    assignment.removeAll(parts);
                }
            });
            while (!stop) {
                var records = c.poll(Duration.ofMillis(100));
                for (ConsumerRecord<String, String> r : records)
                    seen.merge(r.partition() + ":" + r.offset(), 1, Integer::sum);
                if (!records.isEmpty())
                    c.commitSync();
                generation = c.groupMetadata().generationId();
            }
        } catch (Throwable t) {
            error.set(t);
        } finally {
            c.close(CloseOptions.timeout(Duration.ofSeconds(10)));
        }
    }

    Set<TopicPartition> assignmentNow() {
        return Set.copyOf(assignment);
    }

    void close() throws InterruptedException {
        stop = true;
        thread.join(20_000);
        if (thread.isAlive())
            throw new IllegalStateException("member " + name + " did not stop");
        if (error.get() != null)
            throw new IllegalStateException("member " + name + " failed", error.get());
    }
}
