/* ConsumerTest: manual assignment without a group: seek, seekToBeginning,
 * seekToEnd, position, beginning/end offsets, and offsetsForTimes
 * (ListOffsets by timestamp), each checked against the records produced. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class ConsumerTest {
    /** Polls c until it returned n records (or the deadline). */
    private static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Kit.WAIT.toNanos();
        while (out.size() < n && System.nanoTime() < deadline)
            c.poll(Duration.ofMillis(200)).forEach(out::add);
        assertEquals(n, out.size(), "records polled");
        return out;
    }

    @Test
    @Feature({"consume", "consume.seek"})
    void assignAndSeek() throws Exception {
        String topic = Kit.unique("seek");
        Kit.createTopic(topic, 2);
        TopicPartition p0 = new TopicPartition(topic, 0), p1 = new TopicPartition(topic, 1);
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int i = 0; i < 50; i++) {
                p.send(new ProducerRecord<>(topic, 0, "a" + i, "p0-" + i));
                p.send(new ProducerRecord<>(topic, 1, "b" + i, "p1-" + i));
            }
            p.flush();
        }
        try (KafkaConsumer<String, String> c = Kit.consumer()) {
            c.assign(List.of(p0, p1));
            assertEquals(Map.of(p0, 0L, p1, 0L), c.beginningOffsets(List.of(p0, p1)));
            assertEquals(Map.of(p0, 50L, p1, 50L), c.endOffsets(List.of(p0, p1)));

            c.seekToEnd(List.of(p0, p1));
            assertEquals(50, c.position(p0));
            assertEquals(50, c.position(p1));
            assertTrue(c.poll(Duration.ofMillis(300)).isEmpty(), "nothing past the end");

            c.seekToBeginning(List.of(p0));
            assertEquals(0, c.position(p0));
            c.seek(p1, 45);
            List<ConsumerRecord<String, String>> got = poll(c, 55);
            long fromP1 = got.stream().filter(r -> r.partition() == 1).count();
            assertEquals(5, fromP1, "records of p1 after seek(45)");
            for (ConsumerRecord<String, String> r : got)
                assertEquals((r.partition() == 0 ? "p0-" : "p1-") + r.offset(), r.value());
            assertEquals(50, c.position(p0));
            assertEquals(50, c.position(p1));

            c.seek(p0, 20);
            c.pause(List.of(p1));
            List<ConsumerRecord<String, String>> again = poll(c, 30);
            assertEquals(20, again.get(0).offset());
            assertEquals("p0-20", again.get(0).value());
            assertEquals("p0-49", again.get(29).value());
        }
    }

    @Test
    @Feature("consume")
    void recordsLargerThanTheFetchLimits() throws Exception {
        // KIP-74: a fetch returns the first batch even when it is larger than
        // max.partition.fetch.bytes / fetch.max.bytes, so the consumer makes progress.
        TopicPartition tp = Kit.newPartition("big-records");
        String topic = tp.topic();
        String big = "0123456789abcdef".repeat(12_000); // 192 KB, incompressible enough uncompressed
        try (KafkaProducer<String, String> p = Kit.producer(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1000000")) {
            for (int i = 0; i < 5; i++)
                p.send(new ProducerRecord<>(topic, 0, "k" + i, i + big));
            p.flush();
        }
        try (KafkaConsumer<String, String> c = Kit.consumer(
                 ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "65536",
                 ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "65536")) {
            c.assign(List.of(tp));
            List<ConsumerRecord<String, String>> got = poll(c, 5);
            for (int i = 0; i < 5; i++) {
                assertEquals(i, got.get(i).offset());
                assertEquals(i + big, got.get(i).value());
            }
        }
    }

    @Test
    @Feature("consume")
    void offsetOutOfRangeWithoutReset() throws Exception {
        TopicPartition tp = Kit.newPartition("oor");
        String topic = tp.topic();
        try (KafkaProducer<String, String> p = Kit.producer()) {
            p.send(new ProducerRecord<>(topic, 0, "k", "v")).get();
        }
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none")) {
            c.assign(List.of(tp));
            c.seek(tp, 1000);
            long deadline = System.nanoTime() + Kit.WAIT.toNanos();
            OffsetOutOfRangeException e = null;
            while (e == null && System.nanoTime() < deadline) {
                try {
                    assertTrue(c.poll(Duration.ofMillis(200)).isEmpty());
                } catch (OffsetOutOfRangeException x) {
                    e = x;
                }
            }
            assertNotNull(e, "no OffsetOutOfRangeException for offset 1000 of a 1-record partition");
            assertEquals(Map.of(tp, 1000L), e.offsetOutOfRangePartitions());
        }
    }

    @Test
    @Feature("consume.offsets_for_times")
    void offsetsForTimes() throws Exception {
        TopicPartition tp = Kit.newPartition("times");
        String topic = tp.topic();
        long base = System.currentTimeMillis() - 600_000;
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int i = 0; i < 10; i++)
                p.send(new ProducerRecord<>(topic, 0, base + i * 1000L, "k" + i, "v" + i));
            p.flush();
        }
        try (KafkaConsumer<String, String> c = Kit.consumer()) {
            OffsetAndTimestamp between = c.offsetsForTimes(Map.of(tp, base + 3500)).get(tp);
            assertNotNull(between);
            assertEquals(4, between.offset());
            assertEquals(base + 4000, between.timestamp());

            OffsetAndTimestamp exact = c.offsetsForTimes(Map.of(tp, base + 7000)).get(tp);
            assertEquals(7, exact.offset());
            assertEquals(base + 7000, exact.timestamp());

            OffsetAndTimestamp first = c.offsetsForTimes(Map.of(tp, 0L)).get(tp);
            assertEquals(0, first.offset());
            assertEquals(base, first.timestamp());

            assertNull(c.offsetsForTimes(Map.of(tp, base + 20_000)).get(tp), "no record at or after the time");

            c.assign(List.of(tp));
            c.seek(tp, between.offset());
            List<ConsumerRecord<String, String>> got = poll(c, 6);
            assertEquals("v4", got.get(0).value());
            assertEquals(base + 4000, got.get(0).timestamp());
        }
    }
}
