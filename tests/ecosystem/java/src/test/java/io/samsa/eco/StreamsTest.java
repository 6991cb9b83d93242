/* StreamsTest: a Kafka Streams word count (at-least-once) on Samsa.  Lines go
 * to an input topic; the topology splits them into words, groups by word
 * (through a repartition topic) and counts (a state store backed by a
 * changelog topic) into an output topic.  The last count of each word on the
 * output topic must equal the expected one, and the internal topics must have
 * been created on Samsa with Streams' settings.  At-least-once, and
 * exactly-once v2 (transactions, issue 16; skipped if the broker does not
 * advertise the transaction APIs). */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class StreamsTest {
    private static final String[] LINES = {
        "the quick brown fox", "jumps over the lazy dog", "The Dog barks",
        "a fox is quick", "the end", "quick quick QUICK",
    };

    @Test
    @Feature(value = "streams.wordcount", client = "kafka-streams")
    void wordCountAtLeastOnce() throws Exception {
        wordCount(StreamsConfig.AT_LEAST_ONCE);
    }

    /** Transactions: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit. */
    private static final int[] TXN_APIS = {24, 25, 26, 28};

    @Test
    @Feature(value = "streams.exactly_once_v2", client = "kafka-streams")
    void wordCountExactlyOnceV2() throws Exception {
        for (int key : TXN_APIS)
            assumeTrue(ApiVersions.has(key), "the broker has no transactions (ApiVersions lacks key " + key + ")");
        wordCount(StreamsConfig.EXACTLY_ONCE_V2);
    }

    private static void wordCount(String guarantee) throws Exception {
        String app = Kit.unique("wc");
        String input = app + "-lines", output = app + "-counts";
        int partitions = 3;
        try (Admin admin = Kit.admin()) {
            Kit.createTopic(admin, input, partitions, null);
            Kit.createTopic(admin, output, partitions, null);
        }
        // 20 rounds of the lines, keyed so they spread over the input's partitions.
        Map<String, Long> expected = new HashMap<>();
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int round = 0; round < 20; round++)
                for (int i = 0; i < LINES.length; i++) {
                    p.send(new ProducerRecord<>(input, "line-" + i, LINES[i]));
                    for (String w : LINES[i].toLowerCase(Locale.ROOT).split("\\W+"))
                        expected.merge(w, 1L, Long::sum);
                }
            p.flush();
        }

        StreamsBuilder b = new StreamsBuilder();
        b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
         .flatMapValues(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split("\\W+")))
         .groupBy((key, word) -> word, Grouped.with("words", Serdes.String(), Serdes.String()))
         .count(Materialized.as("counts"))
         .toStream()
         .to(output, Produced.with(Serdes.String(), Serdes.Long()));

        Path state = Files.createTempDirectory("samsa-streams-");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, app);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, SamsaBroker.bootstrap());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        AtomicReference<Throwable> failure = new AtomicReference<>();
        Map<String, Long> last = new HashMap<>();
        try (KafkaStreams streams = new KafkaStreams(b.build(), props)) {
            streams.setUncaughtExceptionHandler(e -> {
                failure.set(e);
                return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                    .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams.start();
            try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SamsaBroker.bootstrap(),
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                     new StringDeserializer(), new LongDeserializer())) {
                c.assign(Kit.partitions(output, partitions));
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!last.equals(expected) && failure.get() == null && System.nanoTime() < deadline)
                    for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200)))
                        last.put(r.key(), r.value());
            }
            assertNull(failure.get(), () -> "stream thread died: " + failure.get());
            assertEquals(KafkaStreams.State.RUNNING, streams.state());
            streams.close(Duration.ofSeconds(20));
            assertEquals(KafkaStreams.State.NOT_RUNNING, streams.state());
        }
        assertEquals(new java.util.TreeMap<>(expected), new java.util.TreeMap<>(last), "final word counts");

        String repartition = app + "-words-repartition", changelog = app + "-counts-changelog";
        try (Admin admin = Kit.admin()) {
            Set<String> names = Kit.get(() -> admin.listTopics().names());
            assertTrue(names.containsAll(List.of(repartition, changelog)), "internal topics: " + names);
            Map<String, TopicDescription> d =
                Kit.get(() -> admin.describeTopics(List.of(repartition, changelog)).allTopicNames());
            assertEquals(partitions, d.get(repartition).partitions().size(), "repartition topic partitions");
            assertEquals(partitions, d.get(changelog).partitions().size(), "changelog topic partitions");
            ConfigResource rr = new ConfigResource(ConfigResource.Type.TOPIC, repartition);
            ConfigResource cr = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
            Map<ConfigResource, Config> cfg = Kit.get(() -> admin.describeConfigs(List.of(rr, cr)).all());
            assertEquals("compact", cfg.get(cr).get("cleanup.policy").value(), "changelog cleanup.policy");
            assertEquals("delete", cfg.get(rr).get("cleanup.policy").value(), "repartition cleanup.policy");
            assertEquals("-1", cfg.get(rr).get("retention.ms").value(), "repartition retention.ms");
        }
    }
}
