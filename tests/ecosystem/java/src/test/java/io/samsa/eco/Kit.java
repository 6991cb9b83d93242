/* Kit: small helpers the tests share: client factories pointed at the shared
 * broker, unique topic and group names (tests share one broker), topic
 * creation, reading a topic back, and waiting on a condition with a deadline
 * (no fixed sleeps). */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

final class Kit {
    private Kit() {}

    static final Duration WAIT = Duration.ofSeconds(30);

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static Properties props(Object... kv) {
        Properties p = new Properties();
        for (int i = 0; i + 1 < kv.length; i += 2)
            p.put(kv[i], kv[i + 1]);
        return p;
    }

    /** A producer of String keys and values; kv: extra settings, key then value. */
    static KafkaProducer<String, String> producer(Object... kv) {
        Properties p = props(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, SamsaBroker.bootstrap(),
                             ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                             ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(props(kv));
        return new KafkaProducer<>(p);
    }

    /** A consumer from the earliest offset, no auto commit, no group unless kv sets one. */
    static KafkaConsumer<String, String> consumer(Object... kv) {
        Properties p = props(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SamsaBroker.bootstrap(),
                             ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                             ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                             ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                             ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putAll(props(kv));
        return new KafkaConsumer<>(p);
    }

    static Admin admin() {
        return Admin.create(props(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SamsaBroker.bootstrap()));
    }

    static void createTopic(Admin admin, String name, int partitions, Map<String, String> configs) {
        NewTopic t = new NewTopic(name, partitions, (short) 1);
        if (configs != null)
            t.configs(configs);
        get(() -> admin.createTopics(List.of(t)).all());
        waitUntil("metadata of " + name + " with " + partitions + " partitions", () -> {
            try (KafkaConsumer<String, String> c = consumer()) {
                List<PartitionInfo> ps = c.partitionsFor(name, Duration.ofSeconds(5));
                return ps != null && ps.size() == partitions && ps.stream().allMatch(pi -> pi.leader() != null);
            }
        });
    }

    static void createTopic(String name, int partitions) {
        try (Admin a = admin()) {
            createTopic(a, name, partitions, null);
        }
    }

    /** A new topic of one partition (name from prefix): its partition 0. */
    static TopicPartition newPartition(String prefix) {
        String topic = unique(prefix);
        createTopic(topic, 1);
        return new TopicPartition(topic, 0);
    }

    static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> l = new ArrayList<>();
        for (int i = 0; i < n; i++)
            l.add(new TopicPartition(topic, i));
        return l;
    }

    /** Every record of the topic's n partitions from offset 0 (assigned, no group), expecting count. */
    static List<ConsumerRecord<String, String>> readAll(String topic, int n, int count, Object... kv) {
        try (KafkaConsumer<String, String> c = consumer(kv)) {
            c.assign(partitions(topic, n));
            c.seekToBeginning(partitions(topic, n));
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (out.size() < count && System.nanoTime() < deadline)
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            // The end offsets say whether there is more than we expected.
            Map<TopicPartition, Long> ends = c.endOffsets(partitions(topic, n));
            long total = ends.values().stream().mapToLong(Long::longValue).sum();
            assertEquals(count, total, "end offsets of " + topic + ": " + ends);
            assertEquals(count, out.size(), "records read back from " + topic);
            return out;
        }
    }

    static void waitUntil(String what, BooleanSupplier cond) {
        waitUntil(what, WAIT, cond);
    }

    static void waitUntil(String what, Duration timeout, BooleanSupplier cond) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            try {
                Thread.sleep(50); // polling a condition, bounded by the deadline
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    interface KafkaCall<T> {
        org.apache.kafka.common.KafkaFuture<T> call();
    }

    /** The result of an admin call, or its cause (unwrapped from ExecutionException) rethrown. */
    static <T> T get(KafkaCall<T> f) {
        try {
            return f.call().get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r)
                throw r;
            throw new IllegalStateException(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> map(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2)
            m.put(kv[i], kv[i + 1]);
        return m;
    }
}
