"""confluent-kafka from PyPI (its wheel bundles a current librdkafka) against
Samsa: the idempotent producer with acks=all, every codec and headers; the
consumer with seeks and offsets for times; consumer groups (range,
cooperative-sticky, static membership) with each message delivered once;
commit and resume; and the AdminClient (topics, configs, partitions, groups,
group offsets, records deletion, cluster, list offsets). Every test uses its
own topics and groups on the session's one broker."""

import json
import time

import pytest
from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, TIMESTAMP_CREATE_TIME, Consumer,
                             ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaError,
                             KafkaException, Producer, TopicCollection, TopicPartition)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewPartitions, NewTopic, OffsetSpec, ResourceType)

from conftest import unique, wait_for

pytestmark = pytest.mark.client("confluent-kafka")


@pytest.fixture(scope="module")
def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def create_topic(admin, partitions=1, config=None, prefix="ck"):
    name = unique(prefix)
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                        operation_timeout=10)[name].result(15)
    return name


def produce(bootstrap, topic, records, **conf):
    """Produce records (dicts of Producer.produce keyword arguments), flush,
    and return the delivered messages in the order produced."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5, **conf})
    out = []
    for r in records:
        out.append(None)
        i = len(out) - 1
        p.produce(topic, **r, on_delivery=lambda err, msg, i=i: out.__setitem__(i, (err, msg)))
    assert p.flush(20) == 0, "messages left in the producer queue"
    errs = [e for e, _ in out if e is not None]
    assert not errs, f"delivery errors: {errs[:3]}"
    return [m for _, m in out]


def consumer(bootstrap, group=None, **conf):
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group or unique("ck-assign"),
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "enable.partition.eof": False, **conf})


def consume_n(c, n, timeout=20.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        assert m.error() is None, f"consumer error: {m.error()}"
        got.append(m)
    assert len(got) == n, f"consumed {len(got)} of {n} messages"
    return got


@pytest.mark.feature("produce", "produce.idempotent", "produce.headers", "consume")
def test_idempotent_producer_acks_all_headers(bootstrap, admin):
    topic = create_topic(admin, partitions=3)
    records = [{"key": f"k{i}".encode(), "value": f"value-{i}".encode(), "partition": i % 3,
                "headers": [("seq", str(i).encode()), ("dup", b"a"), ("dup", b"b")]}
               for i in range(30)]
    records.append({"key": b"tombstone", "value": None, "partition": 0})
    delivered = produce(bootstrap, topic, records)
    for p in range(3):
        offs = [m.offset() for m in delivered if m.partition() == p]
        assert offs == list(range(len(offs))), f"partition {p} offsets {offs}"

    c = consumer(bootstrap)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
    got = consume_n(c, len(records))
    c.close()
    by_key = {m.key(): m for m in got}
    assert len(by_key) == len(records)
    for i in range(30):
        m = by_key[f"k{i}".encode()]
        assert m.value() == f"value-{i}".encode()
        assert m.partition() == i % 3 and m.offset() == i // 3
        assert m.headers() == [("seq", str(i).encode()), ("dup", b"a"), ("dup", b"b")]
    t = by_key[b"tombstone"]
    assert t.value() is None and t.headers() is None and (t.partition(), t.offset()) == (0, 10)


def segment_bytes(broker, topic, partition=0):
    d = broker.workdir / "data" / f"{topic}-{partition}"
    return sum(f.stat().st_size for f in d.glob("*.log"))


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression(request, broker, bootstrap, admin, codec):
    """acks=1, no idempotence, one codec: many records batched, stored as sent
    (compressed on disk) and read back whole."""
    request.node.add_marker(pytest.mark.feature("produce", f"produce.{codec}"))
    topic = create_topic(admin, prefix=f"ck-{codec}")
    n = 400
    value = lambda i: (f"payload {i:05d} " * 12).encode()   # noqa: E731 compressible
    produce(bootstrap, topic, [{"key": f"k{i}".encode(), "value": value(i)} for i in range(n)],
            **{"acks": "1", "enable.idempotence": False, "compression.type": codec,
               "linger.ms": 50, "batch.num.messages": 1000})
    raw = sum(len(value(i)) for i in range(n))
    on_disk = segment_bytes(broker, topic)
    assert 0 < on_disk < raw / 4, f"{codec}: {on_disk} bytes on disk for {raw} bytes of values"

    c = consumer(bootstrap)
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = consume_n(c, n)
    c.close()
    assert [m.offset() for m in got] == list(range(n))
    assert [m.value() for m in got] == [value(i) for i in range(n)]
    assert [m.key() for m in got] == [f"k{i}".encode() for i in range(n)]


@pytest.mark.feature("consume.seek", "consume")
def test_assign_seek_watermarks(bootstrap, admin):
    topic = create_topic(admin, partitions=2)
    produce(bootstrap, topic, [{"value": f"v{i}".encode(), "partition": 1} for i in range(10)])
    c = consumer(bootstrap)
    assert c.get_watermark_offsets(TopicPartition(topic, 1), timeout=10) == (0, 10)
    assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10) == (0, 0)
    c.assign([TopicPartition(topic, 1, 2)])
    assert [m.value() for m in consume_n(c, 3)] == [b"v2", b"v3", b"v4"]
    c.seek(TopicPartition(topic, 1, 8))
    got = consume_n(c, 2)
    assert [(m.offset(), m.value()) for m in got] == [(8, b"v8"), (9, b"v9")]
    assert c.position([TopicPartition(topic, 1)])[0].offset == 10
    c.seek(TopicPartition(topic, 1, OFFSET_BEGINNING))
    assert consume_n(c, 1)[0].offset() == 0
    c.close()
    # From the end: only what is produced after. librdkafka resolves OFFSET_END
    # with ListOffsets in the background; its statistics say when it fetches from 10.
    stats = []
    c = consumer(bootstrap, **{"statistics.interval.ms": 50, "stats_cb": stats.append})
    c.assign([TopicPartition(topic, 1, OFFSET_END)])

    def fetching_from_end():
        c.poll(0.05)
        for s in stats:
            p = json.loads(s).get("topics", {}).get(topic, {}).get("partitions", {}).get("1", {})
            if p.get("fetch_state") == "active" and p.get("next_offset") == 10:
                return True
        stats.clear()
    wait_for(fetching_from_end, 10, "the consumer to fetch from the end (offset 10)")
    produce(bootstrap, topic, [{"value": b"after", "partition": 1}])
    m = consume_n(c, 1)[0]
    c.close()
    assert (m.offset(), m.value()) == (10, b"after")


@pytest.mark.feature("consume.offsets_for_times")
def test_offsets_for_times(bootstrap, admin):
    topic = create_topic(admin)
    base = int(time.time() * 1000) - 60_000
    produce(bootstrap, topic, [{"value": f"v{i}".encode(), "timestamp": base + 1000 * i}
                               for i in range(10)])
    c = consumer(bootstrap)
    q = lambda ts: c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)[0]  # noqa: E731
    assert q(base + 2500).offset == 3
    assert q(base + 3000).offset == 3
    assert q(base - 5000).offset == 0
    assert q(base + 100_000).offset == OFFSET_END
    c.assign([TopicPartition(topic, 0, q(base + 7000).offset)])
    m = consume_n(c, 1)[0]
    c.close()
    assert (m.offset(), m.value(), m.timestamp()) == (7, b"v7", (TIMESTAMP_CREATE_TIME, base + 7000))


# --- consumer groups --------------------------------------------------------------
class Members:
    """n consumers of one group, polled in turn from this thread; records what
    each received and its assign/revoke callbacks."""

    def __init__(self, bootstrap, group, topic, n, **conf):
        self.conf = {"bootstrap.servers": bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest", "enable.auto.commit": True,
                     "auto.commit.interval.ms": 200, "session.timeout.ms": 6000,
                     "heartbeat.interval.ms": 300, **conf}
        self.topic = topic
        self.cs, self.got, self.revoked = [], [], []
        for _ in range(n):
            self.add()

    def add(self, **conf):
        i = len(self.cs)
        c = Consumer(dict(self.conf, **conf))
        self.got.append([])
        self.revoked.append([])
        c.subscribe([self.topic], on_revoke=lambda _c, parts: self.revoked[i].extend(parts))
        self.cs.append(c)
        return c

    def live(self):
        return [i for i, c in enumerate(self.cs) if c is not None]

    def poll_round(self):
        for i in self.live():
            m = self.cs[i].poll(0.02)
            if m is not None:
                assert m.error() is None, f"member {i}: {m.error()}"
                self.got[i].append(m)

    def assignments(self):
        return {i: sorted(tp.partition for tp in self.cs[i].assignment()) for i in self.live()}

    def wait_balanced(self, partitions, timeout=30.0):
        def balanced():
            self.poll_round()
            a = self.assignments()
            flat = sorted(p for ps in a.values() for p in ps)
            return a if all(a.values()) and flat == list(range(partitions)) else None
        return wait_for(balanced, timeout, f"{len(self.live())} members to share {partitions} partitions",
                        interval=0)

    def consume_total(self, n, timeout=30.0):
        wait_for(lambda: self.poll_round() or sum(map(len, self.got)) >= n, timeout,
                 f"{n} messages", interval=0)
        for _ in range(10):          # nothing more may come (no duplicates)
            self.poll_round()
        return self.got

    def close(self, i):
        self.cs[i].close()
        self.cs[i] = None

    def close_all(self):
        for i in self.live():
            self.close(i)


def produce_spread(bootstrap, topic, partitions, n, tag):
    produce(bootstrap, topic, [{"key": f"{tag}{i}".encode(), "value": f"{tag}{i}".encode(),
                                "partition": i % partitions} for i in range(n)])
    return {f"{tag}{i}".encode() for i in range(n)}


def assert_once_by_owner(got, sent, owners):
    """Every sent value received exactly once, each by the member owning its partition."""
    values = [m.value() for ms in got.values() for m in ms]
    assert sorted(values) == sorted(sent), "each message exactly once"
    for i, ms in got.items():
        wrong = {m.partition() for m in ms} - set(owners[i])
        assert not wrong, f"member {i} received partitions {wrong} it does not own {owners[i]}"
        assert ms, f"member {i} received nothing"


@pytest.mark.parametrize("assignor,feature", [("range", "group.eager"),
                                              ("cooperative-sticky", "group.cooperative")])
def test_group_members_share_partitions(request, bootstrap, admin, assignor, feature):
    """Three members split six partitions; every message is delivered once, to
    its partition's owner. When one leaves, the other two take its partitions;
    with cooperative-sticky they keep theirs without a revoke."""
    request.node.add_marker(pytest.mark.feature(feature))
    topic, group = create_topic(admin, partitions=6), unique(f"ck-{assignor}")
    g = Members(bootstrap, group, topic, 3, **{"partition.assignment.strategy": assignor})
    try:
        owners = g.wait_balanced(6)
        assert sorted(map(len, owners.values())) == [2, 2, 2], owners
        sent = produce_spread(bootstrap, topic, 6, 60, "a")
        got = g.consume_total(60)
        assert_once_by_owner({i: got[i] for i in range(3)}, sent, owners)

        before = {i: list(g.revoked[i]) for i in (1, 2)}
        g.close(0)
        owners2 = g.wait_balanced(6)
        for i in (1, 2):
            g.got[i].clear()
        if assignor == "cooperative-sticky":
            for i in (1, 2):
                assert set(owners[i]) <= set(owners2[i]), f"member {i} lost partitions: {owners} -> {owners2}"
            assert g.revoked[1] == before[1] and g.revoked[2] == before[2], \
                "cooperative rebalance revoked partitions of members that stayed"
        else:
            assert len(g.revoked[1]) > len(before[1]), "eager rebalance revokes everything first"
        sent = produce_spread(bootstrap, topic, 6, 30, "b")
        got = g.consume_total(30)
        assert_once_by_owner({i: got[i] for i in (1, 2)}, sent, owners2)
    finally:
        g.close_all()


@pytest.mark.feature("group.static")
def test_static_membership_rejoin_keeps_assignment(bootstrap, admin):
    """Static members (group.instance.id): one restarts within the session
    timeout and gets its partitions back; the other is not rebalanced."""
    topic, group = create_topic(admin, partitions=4), unique("ck-static")
    g = Members(bootstrap, group, topic, 0, **{"session.timeout.ms": 10000})
    g.add(**{"group.instance.id": "static-a"})
    g.add(**{"group.instance.id": "static-b"})
    try:
        owners = g.wait_balanced(4)
        desc = admin.describe_consumer_groups([group])[group].result(10)
        assert sorted(m.group_instance_id for m in desc.members) == ["static-a", "static-b"]
        old_ids = {m.group_instance_id: m.member_id for m in desc.members}
        revoked_b = list(g.revoked[1])
        g.close(0)                  # a static member does not leave the group on close
        desc = admin.describe_consumer_groups([group])[group].result(10)
        assert len(desc.members) == 2, "the closed static member stays until its session times out"

        g.add(**{"group.instance.id": "static-a"})
        owners2 = wait_for(lambda: g.poll_round() or (g.assignments()[2] and g.assignments()),
                           20, "the restarted static member's assignment", interval=0)
        assert owners2[2] == owners[0], f"restarted member got {owners2[2]}, had {owners[0]}"
        assert owners2[1] == owners[1]
        for _ in range(20):
            g.poll_round()
        assert g.revoked[1] == revoked_b, "the other static member was rebalanced"
        desc = admin.describe_consumer_groups([group])[group].result(10)
        new_ids = {m.group_instance_id: m.member_id for m in desc.members}
        assert new_ids["static-b"] == old_ids["static-b"]
        assert new_ids["static-a"] != old_ids["static-a"], "a rejoining static member gets a new member id"
        sent = produce_spread(bootstrap, topic, 4, 20, "s")
        got = g.consume_total(20)
        assert_once_by_owner({1: got[1], 2: got[2]}, sent, owners2)
    finally:
        g.close_all()


@pytest.mark.feature("group.commit")
def test_commit_and_resume(bootstrap, admin):
    topic, group = create_topic(admin), unique("ck-commit")
    produce(bootstrap, topic, [{"value": f"v{i}".encode()} for i in range(10)])
    c = consumer(bootstrap, group)
    c.subscribe([topic])
    got = consume_n(c, 4)
    assert [m.value() for m in got] == [b"v0", b"v1", b"v2", b"v3"]
    res = c.commit(message=got[-1], asynchronous=False)
    assert [(tp.partition, tp.offset, tp.error) for tp in res] == [(0, 4, None)]
    assert c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset == 4
    c.commit(offsets=[TopicPartition(topic, 0, 6, metadata="six")], asynchronous=False)
    tp = c.committed([TopicPartition(topic, 0)], timeout=10)[0]
    assert (tp.offset, tp.metadata) == (6, "six")
    c.close()

    c = consumer(bootstrap, group)
    c.subscribe([topic])
    got = consume_n(c, 4)
    c.close()
    assert [(m.offset(), m.value()) for m in got] == [(6, b"v6"), (7, b"v7"), (8, b"v8"), (9, b"v9")]


# --- AdminClient ------------------------------------------------------------------
def kafka_error(fut):
    with pytest.raises(KafkaException) as e:
        fut.result(10)
    return e.value.args[0].code()


@pytest.mark.feature("admin.topics")
def test_admin_topics(admin):
    name = unique("ck-admin-topic")
    fs = admin.create_topics([NewTopic(name, 3, 1, config={"retention.ms": "3600000"})],
                             validate_only=True)
    fs[name].result(10)
    assert name not in admin.list_topics(timeout=10).topics, "validate_only created the topic"
    admin.create_topics([NewTopic(name, 3, 1, config={"retention.ms": "3600000"})])[name].result(10)
    assert kafka_error(admin.create_topics([NewTopic(name, 1, 1)])[name]) == KafkaError.TOPIC_ALREADY_EXISTS
    bad = unique("ck-bad")
    assert kafka_error(admin.create_topics([NewTopic(bad, 0, 1)])[bad]) == KafkaError.INVALID_PARTITIONS

    md = admin.list_topics(timeout=10)
    assert sorted(md.topics[name].partitions) == [0, 1, 2]
    assert all(p.leader == 0 and p.replicas == [0] and p.isrs == [0]
               for p in md.topics[name].partitions.values())
    d = admin.describe_topics(TopicCollection([name]))[name].result(10)
    assert d.name == name and not d.is_internal and d.topic_id is not None
    assert [(p.id, p.leader.id, [r.id for r in p.replicas]) for p in d.partitions] == \
        [(0, 0, [0]), (1, 0, [0]), (2, 0, [0])]

    admin.delete_topics([name], operation_timeout=10)[name].result(10)
    wait_for(lambda: name not in admin.list_topics(timeout=10).topics, 10, "the topic to go")
    assert kafka_error(admin.delete_topics([name])[name]) == KafkaError.UNKNOWN_TOPIC_OR_PART


@pytest.mark.feature("admin.configs")
def test_admin_configs(admin):
    name = create_topic(admin, config={"retention.ms": "3600000"})
    res = ConfigResource(ResourceType.TOPIC, name)
    cfg = admin.describe_configs([res])[res].result(10)
    assert cfg["retention.ms"].value == "3600000" and not cfg["retention.ms"].is_default
    assert cfg["cleanup.policy"].value == "delete" and cfg["cleanup.policy"].is_default

    alter = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
        ConfigEntry("max.message.bytes", "65536", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND)])
    assert admin.incremental_alter_configs([alter])[alter].result(10) is None
    cfg = admin.describe_configs([res])[res].result(10)
    assert cfg["max.message.bytes"].value == "65536"
    assert cfg["retention.ms"].is_default and cfg["retention.ms"].value == "604800000"
    assert sorted(cfg["cleanup.policy"].value.split(",")) == ["compact", "delete"]

    bad = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
        ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)])
    assert kafka_error(admin.incremental_alter_configs([bad])[bad]) == KafkaError.INVALID_CONFIG

    brk = ConfigResource(ResourceType.BROKER, "0")
    bcfg = admin.describe_configs([brk])[brk].result(10)
    assert bcfg["group.initial.rebalance.delay.ms"].value == "0"
    assert bcfg["log.dirs"].value.endswith("/data")


@pytest.mark.feature("admin.partitions")
def test_admin_create_partitions(bootstrap, admin):
    name = create_topic(admin, partitions=2)
    admin.create_partitions([NewPartitions(name, 5)], validate_only=True)[name].result(10)
    assert len(admin.list_topics(name, timeout=10).topics[name].partitions) == 2
    admin.create_partitions([NewPartitions(name, 5)])[name].result(10)
    wait_for(lambda: len(admin.list_topics(name, timeout=10).topics[name].partitions) == 5, 10,
             "five partitions in the metadata")
    assert kafka_error(admin.create_partitions([NewPartitions(name, 3)])[name]) == KafkaError.INVALID_PARTITIONS
    delivered = produce(bootstrap, name, [{"value": b"p4", "partition": 4}])
    assert (delivered[0].partition(), delivered[0].offset()) == (4, 0)


@pytest.mark.feature("admin.groups", "admin.offsets")
def test_admin_groups_and_offsets(bootstrap, admin):
    topic, group = create_topic(admin, partitions=2), unique("ck-admin-group")
    produce(bootstrap, topic, [{"value": f"v{i}".encode(), "partition": i % 2} for i in range(8)])
    g = Members(bootstrap, group, topic, 2, **{"enable.auto.commit": False})
    owners = g.wait_balanced(2)

    listed = admin.list_consumer_groups().result(10)
    ours = [x for x in listed.valid if x.group_id == group]
    assert len(ours) == 1 and ours[0].state.name == "STABLE" and not ours[0].is_simple_consumer_group
    d = admin.describe_consumer_groups([group])[group].result(10)
    assert d.state.name == "STABLE" and d.partition_assignor == "range"
    assert d.coordinator.id == 0 and len(d.members) == 2
    assert sorted(sorted(tp.partition for tp in m.assignment.topic_partitions) for m in d.members) == \
        sorted(owners.values())
    assert kafka_error(admin.delete_consumer_groups([group])[group]) == KafkaError.NON_EMPTY_GROUP

    # Commit 3 on each partition from the members, then read them back.
    for i in g.live():
        g.cs[i].commit(offsets=[TopicPartition(topic, p, 3) for p in owners[i]], asynchronous=False)
    g.close_all()
    req = [ConsumerGroupTopicPartitions(group)]
    got = admin.list_consumer_group_offsets(req)[group].result(10)
    assert sorted((tp.topic, tp.partition, tp.offset) for tp in got.topic_partitions) == \
        [(topic, 0, 3), (topic, 1, 3)]

    alter = [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 1), TopicPartition(topic, 1, 4)])]
    res = admin.alter_consumer_group_offsets(alter)[group].result(10)
    assert sorted((tp.partition, tp.offset, tp.error) for tp in res.topic_partitions) == \
        [(0, 1, None), (1, 4, None)]
    got = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 1)])])[group].result(10)
    assert [(tp.partition, tp.offset) for tp in got.topic_partitions] == [(1, 4)]

    empty = admin.list_consumer_groups(states={ConsumerGroupState.EMPTY}).result(10).valid
    assert group in [x.group_id for x in empty]
    admin.delete_consumer_groups([group])[group].result(10)
    assert group not in [x.group_id for x in admin.list_consumer_groups().result(10).valid]
    assert kafka_error(admin.delete_consumer_groups([group])[group]) == KafkaError.GROUP_ID_NOT_FOUND


@pytest.mark.feature("admin.delete_records")
def test_admin_delete_records(bootstrap, admin):
    topic = create_topic(admin)
    produce(bootstrap, topic, [{"value": f"v{i}".encode()} for i in range(10)])
    res = admin.delete_records([TopicPartition(topic, 0, 6)])
    assert list(res.values())[0].result(10).low_watermark == 6
    c = consumer(bootstrap)
    assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10) == (6, 10)
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = consume_n(c, 4)
    assert [(m.offset(), m.value()) for m in got] == [(6, b"v6"), (7, b"v7"), (8, b"v8"), (9, b"v9")]
    c.close()
    res = admin.delete_records([TopicPartition(topic, 0, OFFSET_END)])
    assert list(res.values())[0].result(10).low_watermark == 10
    assert kafka_error(list(admin.delete_records([TopicPartition(topic, 0, 11)]).values())[0]) == \
        KafkaError.OFFSET_OUT_OF_RANGE


@pytest.mark.feature("admin.describe_cluster")
def test_admin_describe_cluster(broker, admin):
    d = admin.describe_cluster().result(10)
    assert d.cluster_id and d.controller.id == 0
    assert [(n.id, n.host, n.port) for n in d.nodes] == [(0, "127.0.0.1", broker.port)]


@pytest.mark.feature("admin.list_offsets")
def test_admin_list_offsets(bootstrap, admin):
    topic = create_topic(admin)
    base = int(time.time() * 1000) - 60_000
    stamps = [base + 1000 * i for i in range(10)]
    stamps[4] = base + 50_000                     # the largest timestamp, at offset 4
    produce(bootstrap, topic, [{"value": f"v{i}".encode(), "timestamp": ts} for i, ts in enumerate(stamps)])
    tp = TopicPartition(topic, 0)

    def one(spec):
        return list(admin.list_offsets({tp: spec}).values())[0].result(10)
    assert one(OffsetSpec.earliest()).offset == 0
    assert one(OffsetSpec.latest()).offset == 10
    r = one(OffsetSpec.for_timestamp(base + 2500))
    assert (r.offset, r.timestamp) == (3, base + 3000)
    r = one(OffsetSpec.max_timestamp())
    assert (r.offset, r.timestamp) == (4, base + 50_000)
    assert one(OffsetSpec.for_timestamp(base + 100_000)).offset == -1


@pytest.mark.feature("admin.log_dirs")
def test_admin_describe_log_dirs():
    pytest.skip("confluent-kafka 2.16 (librdkafka) has no DescribeLogDirs admin API")
