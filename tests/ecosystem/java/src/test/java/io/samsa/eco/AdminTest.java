/* AdminTest: the Java AdminClient against Samsa: topics (create, list,
 * describe, delete), configs (describe, incrementalAlter on a topic, on this
 * broker and on the cluster-wide default), partitions, consumer groups (list,
 * describe, delete), group offsets (list, alter, delete), listOffsets,
 * deleteRecords, describeCluster and describeLogDirs.  Each call's answer is
 * compared with what was set up, and the refusals Kafka gives are expected
 * with Kafka's exceptions. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class AdminTest {
    private static Admin admin;

    @BeforeEach
    void open() { // after SamsaBroker's beforeEach: the broker runs
        if (admin == null)
            admin = Kit.admin();
    }

    @AfterAll
    static void close() {
        if (admin != null)
            admin.close(Duration.ofSeconds(10));
    }

    private static void produce(String topic, int partition, int n, long baseTs) {
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int i = 0; i < n; i++)
                p.send(new ProducerRecord<>(topic, partition, baseTs + i, "k" + i, "v" + i));
            p.flush();
        }
    }

    private static ListOffsetsResult.ListOffsetsResultInfo offsetFor(TopicPartition tp, OffsetSpec spec) {
        return Kit.get(() -> admin.listOffsets(Map.of(tp, spec)).partitionResult(tp));
    }

    private static Cause cause(Runnable r) {
        return new Cause(assertThrows(RuntimeException.class, r::run));
    }

    private record Cause(RuntimeException e) {}

    @Test
    @Feature("admin.topics")
    void topics() {
        String name = Kit.unique("adm-topic");
        Kit.get(() -> admin.createTopics(List.of(new NewTopic(name, 3, (short) 1)
            .configs(Map.of("retention.ms", "3600000")))).all());
        assertTrue(Kit.get(() -> admin.listTopics().names()).contains(name));

        TopicDescription d = Kit.get(() -> admin.describeTopics(List.of(name)).allTopicNames()).get(name);
        assertEquals(name, d.name());
        assertEquals(3, d.partitions().size());
        assertNotEquals(Uuid.ZERO_UUID, d.topicId());
        assertFalse(d.isInternal());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, d.partitions().get(i).partition());
            assertEquals(SamsaBroker.nodeId(), d.partitions().get(i).leader().id());
            assertEquals(1, d.partitions().get(i).replicas().size());
            assertEquals(1, d.partitions().get(i).isr().size());
        }
        // By topic id too.
        TopicDescription byId = Kit.get(() -> admin.describeTopics(
            org.apache.kafka.common.TopicCollection.ofTopicIds(List.of(d.topicId()))).allTopicIds()).get(d.topicId());
        assertEquals(name, byId.name());

        assertTrue(cause(() -> Kit.get(() -> admin.createTopics(List.of(new NewTopic(name, 1, (short) 1))).all()))
                       .e() instanceof TopicExistsException);

        Kit.get(() -> admin.deleteTopics(List.of(name)).all());
        Kit.waitUntil(name + " gone from listTopics", () -> !Kit.get(() -> admin.listTopics().names()).contains(name));
        assertTrue(cause(() -> Kit.get(() -> admin.describeTopics(List.of(name)).allTopicNames()))
                       .e() instanceof UnknownTopicOrPartitionException);
    }

    @Test
    @Feature("admin.topics")
    void topicDefaultsAndRefusals() {
        // No partition count nor replication factor (-1, KIP-464): the broker's defaults.
        String dflt = Kit.unique("adm-dflt");
        Kit.get(() -> admin.createTopics(List.of(new NewTopic(dflt, Optional.empty(), Optional.empty()))).all());
        TopicDescription d = Kit.get(() -> admin.describeTopics(List.of(dflt)).allTopicNames()).get(dflt);
        assertEquals(1, d.partitions().size(), "num.partitions=1");
        assertEquals(1, d.partitions().get(0).replicas().size());

        String name = Kit.unique("adm-bad");
        assertInstanceOf(InvalidReplicationFactorException.class,
            cause(() -> Kit.get(() -> admin.createTopics(List.of(new NewTopic(name, 1, (short) 3))).all())).e());
        assertInstanceOf(InvalidConfigurationException.class,
            cause(() -> Kit.get(() -> admin.createTopics(List.of(new NewTopic(name, 1, (short) 1)
                .configs(Map.of("cleanup.policy", "sometimes")))).all())).e());
        assertInstanceOf(InvalidPartitionsException.class,
            cause(() -> Kit.get(() -> admin.createTopics(List.of(new NewTopic(name, 0, (short) 1))).all())).e());
        assertFalse(Kit.get(() -> admin.listTopics().names()).contains(name), "a refused topic exists");
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            cause(() -> Kit.get(() -> admin.deleteTopics(List.of(name)).all())).e());
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, name);
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            cause(() -> Kit.get(() -> admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(
                new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET)))).all())).e());
    }

    private static Config describe(ConfigResource r) {
        return Kit.get(() -> admin.describeConfigs(List.of(r)).all()).get(r);
    }

    @Test
    @Feature("admin.configs")
    void topicConfigs() {
        String name = Kit.unique("adm-cfg");
        Kit.createTopic(admin, name, 1, Map.of("retention.ms", "7200000", "cleanup.policy", "compact"));
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, name);
        Config c = describe(r);
        assertEquals("7200000", c.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms").source());
        assertEquals("compact", c.get("cleanup.policy").value());
        Config withSynonyms = Kit.get(() -> admin.describeConfigs(List.of(r),
            new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true)).all()).get(r);
        ConfigEntry ret = withSynonyms.get("retention.ms");
        assertEquals(List.of("retention.ms:7200000:DYNAMIC_TOPIC_CONFIG", "log.retention.hours:168:DEFAULT_CONFIG"),
                     ret.synonyms().stream().map(y -> y.name() + ":" + y.value() + ":" + y.source()).toList());
        assertEquals(ConfigEntry.ConfigType.LONG, ret.type());
        assertNotNull(ret.documentation());
        ConfigEntry seg = c.get("segment.bytes");
        assertNotNull(seg, "segment.bytes described");
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, seg.source());

        Kit.get(() -> admin.incrementalAlterConfigs(Map.of(r, List.of(
            new AlterConfigOp(new ConfigEntry("retention.ms", "60000"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.APPEND),
            new AlterConfigOp(new ConfigEntry("max.message.bytes", "200000"), AlterConfigOp.OpType.SET)))).all());
        c = describe(r);
        assertEquals("60000", c.get("retention.ms").value());
        assertEquals(Set.of("compact", "delete"), Set.of(c.get("cleanup.policy").value().split(",")));
        assertEquals("200000", c.get("max.message.bytes").value());

        Kit.get(() -> admin.incrementalAlterConfigs(Map.of(r, List.of(
            new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE),
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SUBTRACT)))).all());
        c = describe(r);
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, c.get("retention.ms").source());
        assertEquals("604800000", c.get("retention.ms").value());
        assertEquals("delete", c.get("cleanup.policy").value());

        // An unknown key and a bad value are refused, and nothing changes.
        assertThrows(RuntimeException.class, () -> Kit.get(() -> admin.incrementalAlterConfigs(Map.of(r, List.of(
            new AlterConfigOp(new ConfigEntry("retention.ms", "not-a-number"), AlterConfigOp.OpType.SET)))).all()));
        assertEquals("200000", describe(r).get("max.message.bytes").value());
    }

    @Test
    @Feature("admin.configs")
    void brokerConfigs() {
        ConfigResource node = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(SamsaBroker.nodeId()));
        ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
        Config c = describe(node);
        assertEquals("0", c.get("log.cleaner.min.compaction.lag.ms").value());
        assertEquals(String.valueOf(SamsaBroker.nodeId()), c.get("node.id").value());
        assertTrue(c.get("listeners").value().contains(SamsaBroker.bootstrap()), c.get("listeners").value());

        Kit.get(() -> admin.incrementalAlterConfigs(Map.of(node, List.of(
            new AlterConfigOp(new ConfigEntry("log.cleaner.backoff.ms", "12345"), AlterConfigOp.OpType.SET)))).all());
        Kit.get(() -> admin.incrementalAlterConfigs(Map.of(cluster, List.of(
            new AlterConfigOp(new ConfigEntry("log.cleaner.delete.retention.ms", "4321000"), AlterConfigOp.OpType.SET)))).all());
        try {
            c = describe(node);
            assertEquals("12345", c.get("log.cleaner.backoff.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, c.get("log.cleaner.backoff.ms").source());
            assertEquals("4321000", c.get("log.cleaner.delete.retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                         c.get("log.cleaner.delete.retention.ms").source());
            assertEquals("4321000", describe(cluster).get("log.cleaner.delete.retention.ms").value());
        } finally {
            Kit.get(() -> admin.incrementalAlterConfigs(Map.of(node, List.of(
                new AlterConfigOp(new ConfigEntry("log.cleaner.backoff.ms", ""), AlterConfigOp.OpType.DELETE)))).all());
            Kit.get(() -> admin.incrementalAlterConfigs(Map.of(cluster, List.of(
                new AlterConfigOp(new ConfigEntry("log.cleaner.delete.retention.ms", ""),
                                  AlterConfigOp.OpType.DELETE)))).all());
        }
        c = describe(node);
        assertEquals("15000", c.get("log.cleaner.backoff.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, c.get("log.cleaner.backoff.ms").source());
        // A read-only key cannot be changed at run time.
        assertThrows(RuntimeException.class, () -> Kit.get(() -> admin.incrementalAlterConfigs(Map.of(node, List.of(
            new AlterConfigOp(new ConfigEntry("log.dirs", "/tmp/x"), AlterConfigOp.OpType.SET)))).all()));
    }

    @Test
    @Feature("admin.partitions")
    void createPartitions() {
        String name = Kit.unique("adm-parts");
        Kit.createTopic(admin, name, 2, null);
        Kit.get(() -> admin.createPartitions(Map.of(name, NewPartitions.increaseTo(5))).all());
        Kit.waitUntil(name + " with 5 partitions", () ->
            Kit.get(() -> admin.describeTopics(List.of(name)).allTopicNames()).get(name).partitions().size() == 5);
        produce(name, 4, 3, System.currentTimeMillis());
        assertEquals(3, Kit.readAll(name, 5, 3).stream().filter(r -> r.partition() == 4).count());
        assertTrue(cause(() -> Kit.get(() -> admin.createPartitions(Map.of(name, NewPartitions.increaseTo(3))).all()))
                       .e() instanceof InvalidPartitionsException);
    }

    @Test
    @Feature("admin.groups")
    void groups() throws Exception {
        String topic = Kit.unique("adm-groups");
        String group = Kit.unique("ag");
        Kit.createTopic(admin, topic, 3, null);
        produce(topic, 0, 5, System.currentTimeMillis());
        ConcurrentHashMap<String, Integer> seen = new ConcurrentHashMap<>();
        Member m = new Member("admin-m", topic, seen, ConsumerConfig.GROUP_ID_CONFIG, group);
        try {
            Kit.waitUntil("member assigned", () -> m.assignmentNow().size() == 3);
            Kit.waitUntil("member consumed", () -> seen.size() == 5);

            Collection<GroupListing> all = Kit.get(() -> admin.listGroups(ListGroupsOptions.forConsumerGroups()).all());
            GroupListing l = all.stream().filter(g -> g.groupId().equals(group)).findFirst().orElseThrow();
            assertEquals(GroupState.STABLE, l.groupState().orElseThrow());
            assertEquals("consumer", l.protocol());

            ConsumerGroupDescription d = Kit.get(() -> admin.describeConsumerGroups(List.of(group)).all()).get(group);
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals(1, d.members().size());
            assertEquals("range", d.partitionAssignor());
            assertEquals(SamsaBroker.nodeId(), d.coordinator().id());
            var member = d.members().iterator().next();
            assertEquals("admin-m", member.clientId());
            assertEquals(Set.copyOf(Kit.partitions(topic, 3)), member.assignment().topicPartitions());

            assertTrue(cause(() -> Kit.get(() -> admin.deleteConsumerGroups(List.of(group)).all()))
                           .e() instanceof GroupNotEmptyException);
        } finally {
            m.close();
        }
        Kit.waitUntil(group + " empty", () -> Kit.get(() -> admin.describeConsumerGroups(List.of(group)).all())
                          .get(group).groupState() == GroupState.EMPTY);
        Kit.get(() -> admin.deleteConsumerGroups(List.of(group)).all());
        assertFalse(Kit.get(() -> admin.listGroups(ListGroupsOptions.forConsumerGroups()).all()).stream()
                        .anyMatch(g -> g.groupId().equals(group)), "deleted group still listed");
    }

    @Test
    @Feature("admin.offsets")
    void groupOffsets() {
        String topic = Kit.unique("adm-offs");
        String group = Kit.unique("ao");
        Kit.createTopic(admin, topic, 2, null);
        produce(topic, 0, 10, System.currentTimeMillis());
        produce(topic, 1, 10, System.currentTimeMillis());
        TopicPartition p0 = new TopicPartition(topic, 0), p1 = new TopicPartition(topic, 1);
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group)) {
            c.commitSync(Map.of(p0, new OffsetAndMetadata(4, "four"), p1, new OffsetAndMetadata(7)));
        }
        Map<TopicPartition, OffsetAndMetadata> offs =
            Kit.get(() -> admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        assertEquals(4, offs.get(p0).offset());
        assertEquals("four", offs.get(p0).metadata());
        assertEquals(7, offs.get(p1).offset());

        // Two groups in one call (OffsetFetch v8+).
        String other = Kit.unique("ao2");
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, other)) {
            c.commitSync(Map.of(p1, new OffsetAndMetadata(2)));
        }
        var both = admin.listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec(),
                                                         other, new ListConsumerGroupOffsetsSpec()));
        assertEquals(4, Kit.get(() -> both.partitionsToOffsetAndMetadata(group)).get(p0).offset());
        assertEquals(2, Kit.get(() -> both.partitionsToOffsetAndMetadata(other)).get(p1).offset());
        assertNull(Kit.get(() -> both.partitionsToOffsetAndMetadata(other)).get(p0));

        Kit.get(() -> admin.alterConsumerGroupOffsets(group, Map.of(p0, new OffsetAndMetadata(9))).all());
        offs = Kit.get(() -> admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        assertEquals(9, offs.get(p0).offset());
        assertEquals(7, offs.get(p1).offset());

        Kit.get(() -> admin.deleteConsumerGroupOffsets(group, Set.of(p1)).all());
        Map<TopicPartition, OffsetAndMetadata> left =
            Kit.get(() -> admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        assertEquals(Set.of(p0), left.keySet().stream().filter(tp -> left.get(tp) != null).collect(Collectors.toSet()));

        // A consumer of the group starts where the altered offset says.
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group)) {
            c.assign(List.of(p0));
            var recs = c.poll(Duration.ofSeconds(5));
            assertEquals(9, recs.iterator().next().offset());
        }
    }

    @Test
    @Feature("admin.offsets")
    void listOffsets() {
        TopicPartition tp = Kit.newPartition("adm-lo");
        long base = System.currentTimeMillis() - 300_000;
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int i = 0; i < 10; i++) // timestamps rise, except the max in the middle
                p.send(new ProducerRecord<>(tp.topic(), 0, i == 6 ? base + 100_000 : base + i * 1000L, "k", "v" + i));
            p.flush();
        }
        var byTime = offsetFor(tp, OffsetSpec.forTimestamp(base + 2500));
        var max = offsetFor(tp, OffsetSpec.maxTimestamp());
        assertEquals(0, offsetFor(tp, OffsetSpec.earliest()).offset());
        assertEquals(10, offsetFor(tp, OffsetSpec.latest()).offset());
        assertEquals(3, byTime.offset());
        assertEquals(base + 3000, byTime.timestamp());
        assertEquals(6, max.offset());
        assertEquals(base + 100_000, max.timestamp());
    }

    @Test
    @Feature("admin.delete_records")
    void deleteRecords() {
        TopicPartition tp = Kit.newPartition("adm-dr");
        produce(tp.topic(), 0, 20, System.currentTimeMillis());
        long low = Kit.get(() -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(8))).lowWatermarks().get(tp))
            .lowWatermark();
        assertEquals(8, low);
        assertEquals(8, offsetFor(tp, OffsetSpec.earliest()).offset());
        try (KafkaConsumer<String, String> c = Kit.consumer()) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            assertEquals(8, c.position(tp));
            var recs = c.poll(Duration.ofSeconds(5));
            assertEquals("v8", recs.iterator().next().value());
        }
        // Past the end: OFFSET_OUT_OF_RANGE.
        assertThrows(RuntimeException.class, () -> Kit.get(
            () -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(50))).lowWatermarks().get(tp)));
        // -1: up to the high watermark.
        assertEquals(20, Kit.get(() -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(-1)))
            .lowWatermarks().get(tp)).lowWatermark());
    }

    @Test
    @Feature("admin.describe_cluster")
    void describeCluster() {
        DescribeClusterResult r = admin.describeCluster();
        Collection<Node> nodes = Kit.get(r::nodes);
        assertEquals(1, nodes.size());
        Node n = nodes.iterator().next();
        assertEquals(SamsaBroker.nodeId(), n.id());
        assertEquals(SamsaBroker.bootstrap(), n.host() + ":" + n.port());
        assertEquals(n.id(), Kit.get(r::controller).id());
        String id = Kit.get(r::clusterId);
        assertNotNull(id);
        assertFalse(id.isEmpty());
        assertEquals(id, Kit.get(() -> admin.describeCluster().clusterId()), "cluster id is stable");
    }

    @Test
    @Feature("admin.log_dirs")
    void describeLogDirs() {
        assumeTrue(ApiVersions.has(35), "the broker does not serve DescribeLogDirs (ApiVersions has no key 35)");
        String topic = Kit.unique("adm-logdirs");
        Kit.createTopic(admin, topic, 2, null);
        produce(topic, 1, 10, System.currentTimeMillis());
        Map<String, LogDirDescription> dirs =
            Kit.get(() -> admin.describeLogDirs(List.of(SamsaBroker.nodeId())).allDescriptions()).get(SamsaBroker.nodeId());
        assertEquals(1, dirs.size(), "log dirs " + dirs.keySet());
        LogDirDescription d = dirs.values().iterator().next();
        assertEquals(null, d.error());
        ReplicaInfo p0 = d.replicaInfos().get(new TopicPartition(topic, 0));
        ReplicaInfo p1 = d.replicaInfos().get(new TopicPartition(topic, 1));
        assertNotNull(p0);
        assertNotNull(p1);
        assertEquals(0, p0.size());
        assertTrue(p1.size() > 10 * 2, "size of partition 1: " + p1.size());
        assertTrue(d.totalBytes().orElse(0L) > 0, "total bytes");
        assertTrue(d.usableBytes().orElse(-1L) >= 0, "usable bytes");
    }
}
