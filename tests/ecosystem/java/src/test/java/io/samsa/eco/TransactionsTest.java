/* TransactionsTest: kafka-clients' transactional producer and read_committed
 * consumer on Samsa (issue 16): commit and abort across partitions (the
 * aborted records only in read_uncommitted), the last stable offset holding
 * read_committed at an open transaction, a zombie fenced by a second
 * producer with the same transactional.id, and consume-transform-produce
 * with sendOffsetsToTransaction (the group's offsets move with the commit
 * only). */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class TransactionsTest {

    private static KafkaProducer<String, String> txnProducer(String tid) {
        return Kit.producer(ProducerConfig.TRANSACTIONAL_ID_CONFIG, tid);
    }

    /** Values of the topic's n partitions to their ends (the LSO for read_committed), sorted. */
    private static List<String> values(String topic, int n, String isolation) {
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation)) {
            List<TopicPartition> tps = Kit.partitions(topic, n);
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = c.endOffsets(tps);
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + Kit.WAIT.toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                assertTrue(System.nanoTime() < deadline, "reading " + topic + " to " + ends);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100)))
                    out.add(r.value());
            }
            return out.stream().sorted().collect(Collectors.toList());
        }
    }

    /** The partitions' last stable offsets equal their high watermarks (no open transaction). */
    private static void waitStable(String topic, int n) {
        Kit.waitUntil(topic + " stable", () -> {
            try (KafkaConsumer<String, String> rc = Kit.consumer(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                 KafkaConsumer<String, String> ru = Kit.consumer()) {
                return rc.endOffsets(Kit.partitions(topic, n)).equals(ru.endOffsets(Kit.partitions(topic, n)));
            }
        });
    }

    @Test
    @Feature(value = "produce.transactions", client = "kafka-clients")
    void commitAndAbortAcrossPartitions() {
        String topic = Kit.unique("txn");
        Kit.createTopic(topic, 2);
        try (KafkaProducer<String, String> p = txnProducer(Kit.unique("tid"))) {
            p.initTransactions();
            p.beginTransaction();
            for (int i = 0; i < 4; i++)
                p.send(new ProducerRecord<>(topic, i % 2, "k", "c" + i));
            p.commitTransaction();
            p.beginTransaction();
            for (int i = 0; i < 3; i++)
                p.send(new ProducerRecord<>(topic, i % 2, "k", "a" + i));
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 1, "k", "c4"));
            p.commitTransaction();
        }
        waitStable(topic, 2);
        assertEquals(List.of("c0", "c1", "c2", "c3", "c4"), values(topic, 2, "read_committed"));
        assertEquals(List.of("a0", "a1", "a2", "c0", "c1", "c2", "c3", "c4"), values(topic, 2, "read_uncommitted"));
    }

    @Test
    @Feature(value = "consume.read_committed", client = "kafka-clients")
    void readCommittedStopsAtOpenTransaction() {
        TopicPartition tp = Kit.newPartition("lso");
        try (KafkaProducer<String, String> p = txnProducer(Kit.unique("tid"));
             KafkaProducer<String, String> plain = Kit.producer(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(tp.topic(), 0, "k", "open"));
            p.flush();
            plain.send(new ProducerRecord<>(tp.topic(), 0, "k", "after"));
            plain.flush();
            try (KafkaConsumer<String, String> rc = Kit.consumer(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
                 KafkaConsumer<String, String> ru = Kit.consumer()) {
                assertEquals(0L, rc.endOffsets(List.of(tp)).get(tp), "LSO at the open transaction's first offset");
                assertEquals(2L, ru.endOffsets(List.of(tp)).get(tp));
            }
            assertEquals(List.of(), values(tp.topic(), 1, "read_committed"));
            p.commitTransaction();
        }
        waitStable(tp.topic(), 1);
        assertEquals(List.of("after", "open"), values(tp.topic(), 1, "read_committed"));
    }

    @Test
    @Feature(value = "produce.transactions.fencing", client = "kafka-clients")
    void zombieFenced() {
        TopicPartition tp = Kit.newPartition("zombie");
        String tid = Kit.unique("tid");
        try (KafkaProducer<String, String> old = txnProducer(tid); KafkaProducer<String, String> neu = txnProducer(tid)) {
            old.initTransactions();
            old.beginTransaction();
            old.send(new ProducerRecord<>(tp.topic(), 0, "k", "old"));
            old.flush();
            neu.initTransactions();         // bumps the epoch: old's transaction is aborted
            neu.beginTransaction();
            neu.send(new ProducerRecord<>(tp.topic(), 0, "k", "new"));
            neu.commitTransaction();
            KafkaException e = assertThrows(KafkaException.class, old::commitTransaction);
            assertTrue(e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException,
                       "fencing error expected, got " + e);
        }
        waitStable(tp.topic(), 1);
        assertEquals(List.of("new"), values(tp.topic(), 1, "read_committed"));
        assertEquals(List.of("new", "old"), values(tp.topic(), 1, "read_uncommitted"));
    }

    @Test
    @Feature(value = "produce.transactions.send_offsets", client = "kafka-clients")
    void consumeTransformProduce() {
        String in = Kit.unique("ctp-in"), out = Kit.unique("ctp-out"), group = Kit.unique("ctp-group");
        Kit.createTopic(in, 1);
        Kit.createTopic(out, 1);
        try (KafkaProducer<String, String> plain = Kit.producer()) {
            for (int i = 0; i < 10; i++)
                plain.send(new ProducerRecord<>(in, 0, "k", "v" + i));
        }
        TopicPartition src = new TopicPartition(in, 0);
        try (KafkaProducer<String, String> p = txnProducer(Kit.unique("tid"));
             KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group,
                                                             ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")) {
            p.initTransactions();
            c.subscribe(List.of(in));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            Kit.waitUntil("10 input records", () -> {
                c.poll(Duration.ofMillis(100)).forEach(got::add);
                return got.size() >= 10;
            });
            // first half committed, second half aborted
            for (int half = 0; half < 2; half++) {
                p.beginTransaction();
                for (ConsumerRecord<String, String> r : got.subList(half * 5, half * 5 + 5))
                    p.send(new ProducerRecord<>(out, 0, r.key(), "T" + r.value()));
                p.sendOffsetsToTransaction(Map.of(src, new OffsetAndMetadata(half * 5 + 5)), c.groupMetadata());
                if (half == 0)
                    p.commitTransaction();
                else {
                    p.flush();
                    p.abortTransaction();
                }
            }
            Kit.waitUntil("group offset 5", () -> {
                Map<TopicPartition, OffsetAndMetadata> m = c.committed(java.util.Set.of(src));
                return m.get(src) != null && m.get(src).offset() == 5;
            });
        }
        waitStable(out, 1);
        assertEquals(List.of("Tv0", "Tv1", "Tv2", "Tv3", "Tv4"), values(out, 1, "read_committed"));
        assertEquals(10, values(out, 1, "read_uncommitted").size());
    }
}
