/* GroupTest: consumer groups over the classic protocol.  Members join and
 * leave while records keep coming; every record must be consumed exactly once
 * across the members, and each stable assignment must split the partitions
 * evenly and disjointly.  Eager (range) revokes everything on a rebalance;
 * cooperative-sticky only moves what must move.  Static membership: a member
 * that restarts within session.timeout.ms gets its partitions back in the same
 * generation, without a rebalance of the others.  Commits: a new consumer of
 * the group resumes at the committed offsets. */
package io.samsa.eco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({SamsaBroker.class, CompatRecorder.class})
class GroupTest {
    private static final int PARTITIONS = 6;

    /** Produces per records to each partition of topic; returns how many were produced in all. */
    private static int produce(String topic, int partitions, int per, int round) {
        try (KafkaProducer<String, String> p = Kit.producer()) {
            for (int i = 0; i < per; i++)
                for (int part = 0; part < partitions; part++)
                    p.send(new ProducerRecord<>(topic, part, "r" + round + "-" + i, "v"));
            p.flush();
        }
        return per * partitions;
    }

    private static void awaitSeen(ConcurrentMap<String, Integer> seen, int total) {
        Kit.waitUntil(total + " records consumed (have " + seen.size() + ")", () -> seen.size() >= total);
    }

    /** Waits until the members hold exactly the given numbers of partitions, disjoint and covering all. */
    private static void awaitBalanced(int partitions, Member[] members, int... sizes) {
        Kit.waitUntil("assignment sizes " + java.util.Arrays.toString(sizes), () -> {
            Set<TopicPartition> all = new HashSet<>();
            int sum = 0;
            for (int i = 0; i < members.length; i++) {
                Set<TopicPartition> a = members[i].assignmentNow();
                if (a.size() != sizes[i])
                    return false;
                all.addAll(a);
                sum += a.size();
            }
            return sum == partitions && all.size() == partitions;
        });
        for (Member m : members)
            assertNull(m.error.get(), () -> "member " + m.name + " failed: " + m.error.get());
    }

    private static void assertExactlyOnce(ConcurrentMap<String, Integer> seen, int total) {
        List<String> dups = new ArrayList<>();
        seen.forEach((k, v) -> {
            if (v != 1)
                dups.add(k + " x" + v);
        });
        assertTrue(dups.isEmpty(), "records consumed more than once: " + dups);
        assertEquals(total, seen.size(), "distinct records consumed");
    }

    /** What the first member's rebalance listener saw, before it closed. */
    private record History(List<Set<TopicPartition>> revoked, List<Set<TopicPartition>> assigned) {}

    /** Three members join one by one, then the second leaves; returns the first member's callbacks. */
    private static History joinAndLeave(String assignor) throws Exception {
        String topic = Kit.unique("grp-" + assignor.replaceAll(".*\\.", ""));
        String group = Kit.unique("g");
        Kit.createTopic(topic, PARTITIONS);
        ConcurrentMap<String, Integer> seen = new ConcurrentHashMap<>();
        Object[] cfg = {ConsumerConfig.GROUP_ID_CONFIG, group,
                        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor};
        int total = produce(topic, PARTITIONS, 10, 1);
        Member m1 = new Member("m1", topic, seen, cfg);
        Member m2 = null, m3 = null;
        try {
            awaitBalanced(PARTITIONS, new Member[] {m1}, 6);
            awaitSeen(seen, total);

            m2 = new Member("m2", topic, seen, cfg);
            awaitBalanced(PARTITIONS, new Member[] {m1, m2}, 3, 3);
            total += produce(topic, PARTITIONS, 10, 2);
            awaitSeen(seen, total);

            m3 = new Member("m3", topic, seen, cfg);
            awaitBalanced(PARTITIONS, new Member[] {m1, m2, m3}, 2, 2, 2);
            total += produce(topic, PARTITIONS, 10, 3);
            awaitSeen(seen, total);

            m2.close();
            awaitBalanced(PARTITIONS, new Member[] {m1, m3}, 3, 3);
            total += produce(topic, PARTITIONS, 10, 4);
            awaitSeen(seen, total);
            assertExactlyOnce(seen, total);
            return new History(List.copyOf(m1.revoked), List.copyOf(m1.assigned));
        } finally {
            m1.close();
            if (m2 != null)
                m2.close();
            if (m3 != null)
                m3.close();
        }
    }

    @Test
    @Feature("group.eager")
    void eagerRangeAssignor() throws Exception {
        History m1 = joinAndLeave(RangeAssignor.class.getName());
        // Eager: each of the three rebalances first revoked everything m1 held.
        assertEquals(List.of(6, 3, 2), m1.revoked().stream().map(Set::size).toList(),
                     "m1's revocations " + m1.revoked());
    }

    @Test
    @Feature("group.cooperative")
    void cooperativeSticky() throws Exception {
        History m1 = joinAndLeave(CooperativeStickyAssignor.class.getName());
        // Cooperative: m1 gave up only what moved (3 of 6, then 1 of 3), never all it held,
        // and nothing when m2 left.
        assertEquals(List.of(3, 1), m1.revoked().stream().map(Set::size).toList(),
                     "m1's revocations " + m1.revoked());
        // Sticky: m1 kept two of its first partitions throughout.
        Set<TopicPartition> kept = new HashSet<>(m1.assigned().get(0));
        for (Set<TopicPartition> r : m1.revoked())
            kept.removeAll(r);
        assertEquals(2, kept.size(), "partitions m1 never gave up");
    }

    @Test
    @Feature("group.static")
    void staticMemberRestartsWithoutRebalance() throws Exception {
        String topic = Kit.unique("grp-static");
        String group = Kit.unique("g");
        int parts = 4;
        Kit.createTopic(topic, parts);
        ConcurrentMap<String, Integer> seen = new ConcurrentHashMap<>();
        Object[] common = {ConsumerConfig.GROUP_ID_CONFIG, group,
                           ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000"};
        Member a = new Member("a", topic, seen, with(common, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "a"));
        Member b = new Member("b", topic, seen, with(common, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "b"));
        Member b2 = null;
        try {
            awaitBalanced(parts, new Member[] {a, b}, 2, 2);
            int total = produce(topic, parts, 5, 1);
            awaitSeen(seen, total);
            int gen = a.generation;
            int aRevoked = a.revoked.size(), aAssigned = a.assigned.size();
            Set<TopicPartition> bHad = b.assignmentNow();
            assertEquals(gen, b.generation, "a and b in the same generation");

            b.close(); // a static member does not leave the group on close
            b2 = new Member("b2", topic, seen, with(common, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "b"));
            final Member nb = b2;
            Kit.waitUntil("b's partitions back on its restarted instance",
                          () -> nb.assignmentNow().equals(bHad));
            total += produce(topic, parts, 5, 2);
            awaitSeen(seen, total);
            assertExactlyOnce(seen, total);
            assertEquals(gen, b2.generation, "the restarted member rejoined the same generation");
            assertEquals(gen, a.generation, "a's generation");
            assertEquals(aRevoked, a.revoked.size(), "a's revocations");
            assertEquals(aAssigned, a.assigned.size(), "a's assignments");
        } finally {
            a.close();
            b.close();
            if (b2 != null)
                b2.close();
        }
        // Closed static members stay in the group until their session ends;
        // the admin client removes them by instance id (LeaveGroup v3+).
        try (Admin admin = Kit.admin()) {
            var members = Kit.get(() -> admin.describeConsumerGroups(List.of(group)).all()).get(group).members();
            assertEquals(Set.of("a", "b"), members.stream().map(m -> m.groupInstanceId().orElse("?"))
                                                  .collect(java.util.stream.Collectors.toSet()));
            Kit.get(() -> admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions(
                List.of(new MemberToRemove("a"), new MemberToRemove("b")))).all());
            assertEquals(GroupState.EMPTY,
                         Kit.get(() -> admin.describeConsumerGroups(List.of(group)).all()).get(group).groupState());
        }
    }

    private static Object[] with(Object[] base, Object... more) {
        Object[] all = new Object[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    @Feature("group.eager")
    void patternSubscriptionPicksUpNewTopics() throws Exception {
        String prefix = Kit.unique("pat");
        String group = Kit.unique("g");
        Kit.createTopic(prefix + "-a", 2);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        try (KafkaProducer<String, String> p = Kit.producer();
             KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group,
                                                            ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500")) {
            c.subscribe(java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(prefix) + "-.*"));
            p.send(new ProducerRecord<>(prefix + "-a", 1, "k", "a1"));
            p.flush();
            long deadline = System.nanoTime() + Kit.WAIT.toNanos();
            boolean created = false;
            while (seen.size() < 2 && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.topic() + "/" + r.value()));
                if (!created && seen.size() == 1) {
                    // A new matching topic joins the subscription (after a metadata refresh).
                    Kit.createTopic(prefix + "-b", 1);
                    p.send(new ProducerRecord<>(prefix + "-b", 0, "k", "b0"));
                    p.flush();
                    created = true;
                }
            }
            assertEquals(Set.of(prefix + "-a/a1", prefix + "-b/b0"), seen);
            assertEquals(Set.of(new TopicPartition(prefix + "-a", 0), new TopicPartition(prefix + "-a", 1),
                                new TopicPartition(prefix + "-b", 0)), c.assignment());
        }
    }

    @Test
    @Feature("group.commit")
    void commitAndResume() throws Exception {
        String topic = Kit.unique("grp-commit");
        String group = Kit.unique("g");
        Kit.createTopic(topic, 2);
        produce(topic, 2, 50, 1);
        List<TopicPartition> tps = Kit.partitions(topic, 2);
        Map<TopicPartition, Long> committed = new HashMap<>();
        Set<String> first = new HashSet<>();
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group,
                                                            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7")) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Kit.WAIT.toNanos();
            while (first.size() < 30 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    first.add(r.partition() + ":" + r.offset());
                    committed.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
                }
            }
            assertTrue(first.size() >= 30, "first consumer got " + first.size());
            Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
            committed.forEach((tp, o) -> offs.put(tp, new OffsetAndMetadata(o, "m-" + o)));
            c.commitSync(offs);
            Map<TopicPartition, OffsetAndMetadata> back = c.committed(Set.copyOf(tps));
            for (TopicPartition tp : committed.keySet()) {
                assertEquals(committed.get(tp).longValue(), back.get(tp).offset());
                assertEquals("m-" + committed.get(tp), back.get(tp).metadata());
            }
        }
        // Only what was committed counts as consumed: the second consumer starts right there.
        Set<String> done = new HashSet<>();
        committed.forEach((tp, o) -> {
            for (long i = 0; i < o; i++)
                done.add(tp.partition() + ":" + i);
        });
        int rest = 100 - done.size();
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group,
                                                            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true",
                                                            ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "100")) {
            c.subscribe(List.of(topic));
            Map<TopicPartition, Long> firstOffset = new HashMap<>();
            long deadline = System.nanoTime() + Kit.WAIT.toNanos();
            int got = 0;
            while (got < rest && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    firstOffset.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
                    assertTrue(done.add(r.partition() + ":" + r.offset()), "consumed again: " + r.offset());
                    got++;
                }
            }
            assertEquals(rest, got, "records after the committed offsets");
            for (TopicPartition tp : tps)
                assertEquals(committed.getOrDefault(tp, 0L), firstOffset.get(tp), "resumed at the commit of " + tp);
        } // close() commits the positions (auto commit)
        try (KafkaConsumer<String, String> c = Kit.consumer(ConsumerConfig.GROUP_ID_CONFIG, group)) {
            Map<TopicPartition, OffsetAndMetadata> back = c.committed(Set.copyOf(tps));
            for (TopicPartition tp : tps)
                assertEquals(50, back.get(tp).offset(), "auto-committed offset of " + tp);
        }
    }
}
