/* ProducerTest: the Java producer against Samsa, read back with the consumer.
 * Each test sends keyed records with explicit partitions and timestamps and
 * checks, record by record, the producer's metadata (partition, offset,
 * timestamp) and what the consumer reads (key, value, headers, offset,
 * timestamp and its type): acks=all idempotent (the default), acks=1, every
 * compression codec, and headers. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class ProducerTest {
    private static final int PARTITIONS = 3;

    /** Sends n records (partition i % 3, key k-i, value from valueOf, timestamp base + i),
     *  checks their metadata, reads them back and checks each one. */
    private static void produceAndCheck(String topic, int n, boolean withHeaders, Object... producerConfig)
            throws Exception {
        Kit.createTopic(topic, PARTITIONS);
        long base = System.currentTimeMillis() - 60_000;
        List<ProducerRecord<String, String>> sent = new ArrayList<>();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<String, String> p = Kit.producer(producerConfig)) {
            for (int i = 0; i < n; i++) {
                RecordHeaders h = new RecordHeaders();
                if (withHeaders) {
                    h.add("trace", ("t-" + i).getBytes(StandardCharsets.UTF_8));
                    h.add("dup", new byte[] {1});
                    h.add("dup", new byte[] {2, (byte) i});
                    h.add("none", null);
                    h.add("empty", new byte[0]);
                }
                // Compressible, and not all the same length.
                String value = "value-" + i + "-" + "abcdefgh".repeat(1 + i % 7);
                ProducerRecord<String, String> r =
                    new ProducerRecord<>(topic, i % PARTITIONS, base + i, "k-" + i, value, h);
                sent.add(r);
                acks.add(p.send(r));
            }
            p.flush();
        }
        Map<Integer, Long> next = new HashMap<>();
        Map<String, Long> offsetOf = new HashMap<>();
        for (int i = 0; i < n; i++) {
            RecordMetadata m = acks.get(i).get();
            assertEquals(i % PARTITIONS, m.partition());
            long want = next.getOrDefault(m.partition(), 0L);
            assertEquals(want, m.offset(), "offset of record " + i + " in its partition");
            next.put(m.partition(), want + 1);
            assertEquals(base + i, m.timestamp(), "timestamp in metadata of record " + i);
            offsetOf.put("k-" + i, m.offset());
        }

        List<ConsumerRecord<String, String>> got = Kit.readAll(topic, PARTITIONS, n);
        Map<String, ConsumerRecord<String, String>> byKey = new HashMap<>();
        for (ConsumerRecord<String, String> r : got)
            assertNull(byKey.put(r.key(), r), "key read twice: " + r.key());
        for (int i = 0; i < n; i++) {
            ProducerRecord<String, String> s = sent.get(i);
            ConsumerRecord<String, String> r = byKey.get(s.key());
            assertEquals(s.value(), r == null ? null : r.value(), "value of " + s.key());
            assertEquals(s.partition().intValue(), r.partition(), "partition of " + s.key());
            assertEquals(offsetOf.get(s.key()).longValue(), r.offset(), "offset of " + s.key());
            assertEquals(s.timestamp().longValue(), r.timestamp(), "timestamp of " + s.key());
            assertEquals(TimestampType.CREATE_TIME, r.timestampType());
            Header[] want = s.headers().toArray();
            Header[] have = r.headers().toArray();
            assertEquals(want.length, have.length, "header count of " + s.key());
            for (int j = 0; j < want.length; j++) {
                assertEquals(want[j].key(), have[j].key(), "header " + j + " key of " + s.key());
                assertArrayEquals(want[j].value(), have[j].value(), "header " + j + " value of " + s.key());
            }
        }
        // Offsets within each partition are dense and in send order.
        for (int part = 0; part < PARTITIONS; part++) {
            final int pp = part;
            long[] offs = got.stream().filter(r -> r.partition() == pp).mapToLong(ConsumerRecord::offset).toArray();
            for (int j = 0; j < offs.length; j++)
                assertEquals(j, offs[j], "offsets of partition " + part);
        }
    }

    @Test
    @Feature({"produce", "produce.idempotent"})
    void idempotentAcksAll() throws Exception {
        produceAndCheck(Kit.unique("prod-idem"), 600, false,
                        ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5",
                        ProducerConfig.LINGER_MS_CONFIG, "5",
                        ProducerConfig.BATCH_SIZE_CONFIG, "4096");
    }

    @Test
    @Feature("produce")
    void acksOne() throws Exception {
        produceAndCheck(Kit.unique("prod-acks1"), 300, false,
                        ProducerConfig.ACKS_CONFIG, "1",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    }

    private static void codec(String codec) throws Exception {
        produceAndCheck(Kit.unique("prod-" + codec), 500, false,
                        ProducerConfig.COMPRESSION_TYPE_CONFIG, codec,
                        ProducerConfig.LINGER_MS_CONFIG, "20");
    }

    @Test
    @Feature("produce")
    void compressionNone() throws Exception {
        codec("none");
    }

    @Test
    @Feature("produce.gzip")
    void compressionGzip() throws Exception {
        codec("gzip");
    }

    @Test
    @Feature("produce.snappy")
    void compressionSnappy() throws Exception {
        codec("snappy");
    }

    @Test
    @Feature("produce.lz4")
    void compressionLz4() throws Exception {
        codec("lz4");
    }

    @Test
    @Feature("produce.zstd")
    void compressionZstd() throws Exception {
        codec("zstd");
    }

    @Test
    @Feature("produce")
    void autoCreatedTopic() throws Exception {
        String topic = Kit.unique("prod-auto");
        try (KafkaProducer<String, String> p = Kit.producer()) {
            RecordMetadata m = p.send(new ProducerRecord<>(topic, "k", "auto")).get();
            assertEquals(0, m.partition());
            assertEquals(0, m.offset());
        }
        ConsumerRecord<String, String> r = Kit.readAll(topic, 1, 1).get(0);
        assertEquals("auto", r.value());
        assertEquals("k", r.key());
    }

    @Test
    @Feature("produce")
    void recordTooLargeForTheTopic() throws Exception {
        String topic = Kit.unique("prod-large");
        try (Admin a = Kit.admin()) {
            Kit.createTopic(a, topic, 1, Map.of("max.message.bytes", "2000"));
        }
        try (KafkaProducer<String, String> p = Kit.producer(ProducerConfig.RETRIES_CONFIG, "0")) {
            ExecutionException e = assertThrows(ExecutionException.class,
                () -> p.send(new ProducerRecord<>(topic, "big", "x".repeat(5000))).get());
            assertInstanceOf(RecordTooLargeException.class, e.getCause());
            // A record that fits still goes through afterwards.
            assertEquals(0, p.send(new ProducerRecord<>(topic, "small", "y".repeat(100))).get().offset());
        }
        assertEquals("small", Kit.readAll(topic, 1, 1).get(0).key());
    }

    @Test
    @Feature("produce.headers")
    void headers() throws Exception {
        produceAndCheck(Kit.unique("prod-headers"), 200, true,
                        ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    }
}
