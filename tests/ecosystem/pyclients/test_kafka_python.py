"""kafka-python 3.x from PyPI (pure Python) against Samsa: the producer
(idempotent, acks=all, headers, gzip/snappy/lz4/zstd), the consumer with
seeks and offsets for times, groups of two members (range and
cooperative-sticky, each in its own thread), commit and resume, and
KafkaAdminClient: topics, configs, partitions, groups and their offsets,
records deletion, cluster, list offsets, log dirs."""

import threading
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.admin import ConfigResource, OffsetSpec
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import InvalidPartitionsError, TopicAlreadyExistsError, UnknownTopicOrPartitionError

from conftest import unique, wait_for

pytestmark = pytest.mark.client("kafka-python")


@pytest.fixture(scope="module")
def admin(bootstrap):
    a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    yield a
    a.close()


def create_topic(admin, partitions=1, configs=None, prefix="kp"):
    name = unique(prefix)
    admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1,
                                "configs": configs or {}}}, wait_for_metadata=True)
    return name


def produce(bootstrap, topic, records, **conf):
    """Send records (dicts of KafkaProducer.send keyword arguments), flush;
    the RecordMetadata of each, in order."""
    p = KafkaProducer(**{"bootstrap_servers": bootstrap, "acks": "all", "linger_ms": 5, **conf})
    try:
        futs = [p.send(topic, **r) for r in records]
        p.flush(20)
        return [f.get(timeout=20) for f in futs]
    finally:
        p.close(timeout=10)


def assigned_consumer(bootstrap, tps, **conf):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **conf)
    c.assign(tps)
    return c


def poll_n(c, n, timeout=20.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=200, max_records=n - len(got)).values():
            got.extend(recs)
    assert len(got) == n, f"consumed {len(got)} of {n}"
    return sorted(got, key=lambda r: (r.partition, r.offset))


@pytest.mark.feature("produce", "produce.idempotent", "produce.headers", "consume")
def test_idempotent_producer_headers(bootstrap, admin):
    topic = create_topic(admin, partitions=2)
    md = produce(bootstrap, topic, [{"key": f"k{i}".encode(), "value": f"v{i}".encode(), "partition": i % 2,
                                     "headers": [("seq", str(i).encode()), ("empty", b"")]}
                                    for i in range(20)], enable_idempotence=True)
    assert [(m.partition, m.offset) for m in md] == [(i % 2, i // 2) for i in range(20)]
    c = assigned_consumer(bootstrap, [TopicPartition(topic, 0), TopicPartition(topic, 1)],
                          auto_offset_reset="earliest")
    got = poll_n(c, 20)
    c.close()
    by_key = {r.key: r for r in got}
    for i in range(20):
        r = by_key[f"k{i}".encode()]
        assert (r.value, r.partition, r.offset) == (f"v{i}".encode(), i % 2, i // 2)
        assert r.headers == [("seq", str(i).encode()), ("empty", b"")]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compression(request, broker, bootstrap, admin, codec):
    request.node.add_marker(pytest.mark.feature("produce", f"produce.{codec}"))
    topic = create_topic(admin, prefix=f"kp-{codec}")
    n = 300
    value = lambda i: (f"kafka-python {i:05d} " * 10).encode()   # noqa: E731
    md = produce(bootstrap, topic, [{"value": value(i), "key": b"k%d" % i} for i in range(n)],
                 compression_type=codec, linger_ms=50, batch_size=1 << 20)
    assert [m.offset for m in md] == list(range(n))
    on_disk = sum(f.stat().st_size for f in (broker.workdir / "data" / f"{topic}-0").glob("*.log"))
    raw = sum(len(value(i)) for i in range(n))
    assert 0 < on_disk < raw / 4, f"{codec}: {on_disk} bytes on disk for {raw} bytes of values"
    c = assigned_consumer(bootstrap, [TopicPartition(topic, 0)], auto_offset_reset="earliest")
    got = poll_n(c, n)
    c.close()
    assert [(r.offset, r.key, r.value) for r in got] == [(i, b"k%d" % i, value(i)) for i in range(n)]


def timestamped_topic(bootstrap, admin):
    """A topic whose record i (0-9) is b"v<i>" at base + 1000 * i ms: (partition 0, base)."""
    topic = create_topic(admin)
    base = int(time.time() * 1000) - 60_000
    produce(bootstrap, topic, [{"value": f"v{i}".encode(), "timestamp_ms": base + 1000 * i} for i in range(10)])
    return TopicPartition(topic, 0), base


@pytest.mark.feature("consume.seek", "consume.offsets_for_times")
def test_seek_and_offsets_for_times(bootstrap, admin):
    tp, base = timestamped_topic(bootstrap, admin)
    c = assigned_consumer(bootstrap, [tp])
    assert c.beginning_offsets([tp]) == {tp: 0} and c.end_offsets([tp]) == {tp: 10}
    c.seek(tp, 6)
    assert [(r.offset, r.value) for r in poll_n(c, 2)] == [(6, b"v6"), (7, b"v7")]
    assert c.position(tp) == 8
    c.seek_to_beginning(tp)
    assert poll_n(c, 1)[0].offset == 0
    c.seek_to_end(tp)
    assert c.position(tp) == 10

    found = c.offsets_for_times({tp: base + 4500})[tp]
    assert (found.offset, found.timestamp) == (5, base + 5000)
    assert c.offsets_for_times({tp: base + 100_000})[tp] is None
    c.seek(tp, found.offset)
    r = poll_n(c, 1)[0]
    c.close()
    assert (r.offset, r.value, r.timestamp) == (5, b"v5", base + 5000)


class MemberThread(threading.Thread):
    """One KafkaConsumer group member, polled in its own thread (kafka-python
    consumers block in poll while their group forms)."""

    def __init__(self, bootstrap, group, topic, **conf):
        super().__init__(daemon=True)
        self.c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                               auto_offset_reset="earliest", heartbeat_interval_ms=300,
                               session_timeout_ms=6000, **conf)
        self.records, self.owned, self.error = [], [], None
        self.stop_ev = threading.Event()
        self.start()

    def run(self):
        try:
            while not self.stop_ev.is_set():
                # A poll() that times out in the middle of a rebalance can leave
                # kafka-python 3.0.12's member with its heartbeat off (it is then
                # dropped by session timeout): give a join time to finish.
                for recs in self.c.poll(timeout_ms=500).values():
                    self.records.extend(recs)
                self.owned = sorted(tp.partition for tp in self.c.assignment())
        except Exception as e:      # reported by stop()
            self.error = e
        finally:
            self.c.close()

    def stop(self):
        self.stop_ev.set()
        self.join(20)
        assert not self.is_alive(), "member did not stop"
        assert self.error is None, f"member failed: {self.error!r}"


def wait_balanced(members, partitions):
    def balanced():
        assert all(m.error is None for m in members), [m.error for m in members]
        owned = [m.owned for m in members]
        return owned if all(owned) and sorted(sum(owned, [])) == list(range(partitions)) else None
    return wait_for(balanced, 30, f"{len(members)} members to share {partitions} partitions")


@pytest.mark.parametrize("assignor,feature", [(RangePartitionAssignor, "group.eager"),
                                              (CooperativeStickyAssignor, "group.cooperative")])
def test_group_two_members(request, bootstrap, admin, assignor, feature):
    request.node.add_marker(pytest.mark.feature(feature, "group.commit"))
    topic, group = create_topic(admin, partitions=4), unique("kp-group")
    members = [MemberThread(bootstrap, group, topic, partition_assignment_strategy=[assignor])
               for _ in range(2)]
    try:
        owned = wait_balanced(members, 4)
        sent = {f"m{i}".encode() for i in range(40)}
        produce(bootstrap, topic, [{"value": f"m{i}".encode(), "partition": i % 4} for i in range(40)])
        wait_for(lambda: sum(len(m.records) for m in members) >= 40, 20, "40 messages")
        values = sorted(r.value for m in members for r in m.records)
        assert values == sorted(sent), "each message exactly once"
        for m, parts in zip(members, owned):
            assert m.records and {r.partition for r in m.records} <= set(parts)
        d = admin.describe_groups([group])[group]
        assert d["group_state"] == "Stable" and d["protocol_data"] == assignor.name
        assert len(d["members"]) == 2
    finally:
        for m in members:
            m.stop()
    # auto-commit on close: the group's offsets are at the end of each partition
    offs = admin.list_group_offsets({group: None})[group]
    assert {tp.partition: om.offset for tp, om in offs.items() if tp.topic == topic} == \
        {0: 10, 1: 10, 2: 10, 3: 10}


@pytest.mark.feature("group.static")
def test_static_member_rejoins(bootstrap, admin):
    """Static members (group_instance_id): one restarts within its session
    timeout and gets its partitions back; the other keeps its own and its
    generation (no rebalance)."""
    topic, group = create_topic(admin, partitions=4), unique("kp-static")
    a = MemberThread(bootstrap, group, topic, group_instance_id="kp-a")
    b = MemberThread(bootstrap, group, topic, group_instance_id="kp-b")
    try:
        owned = wait_balanced([a, b], 4)
        d = admin.describe_groups([group])[group]
        assert sorted(m["group_instance_id"] for m in d["members"]) == ["kp-a", "kp-b"]
        a.stop()                     # a static member does not leave on close
        assert len(admin.describe_groups([group])[group]["members"]) == 2
        gen = b.c._coordinator._generation.generation_id
        a = MemberThread(bootstrap, group, topic, group_instance_id="kp-a")
        assert wait_balanced([a, b], 4) == owned
        d = admin.describe_groups([group])[group]
        assert d["group_state"] == "Stable"
        assert sorted(m["group_instance_id"] for m in d["members"]) == ["kp-a", "kp-b"]
        # no rebalance, even when the restarted member was the leader (it is
        # answered as a follower before JoinGroup v9, so it runs no assignor)
        assert b.c._coordinator._generation.generation_id == gen
    finally:
        for m in (a, b):
            if m.is_alive():
                m.stop()


@pytest.mark.feature("group.commit")
def test_commit_and_resume(bootstrap, admin):
    topic, group = create_topic(admin), unique("kp-commit")
    produce(bootstrap, topic, [{"value": f"v{i}".encode()} for i in range(10)])
    tp = TopicPartition(topic, 0)
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", max_poll_records=3)
    got = []
    while len(got) < 3:
        for recs in c.poll(timeout_ms=200).values():
            got.extend(recs)
    assert [r.value for r in got] == [b"v0", b"v1", b"v2"]
    c.commit()
    assert c.committed(tp) == 3
    c.commit({tp: OffsetAndMetadata(7, "seven", -1)})
    assert c.committed(tp, metadata=True) == OffsetAndMetadata(7, "seven", -1)
    c.close()
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest")
    got = poll_n(c, 3)
    c.close()
    assert [(r.offset, r.value) for r in got] == [(7, b"v7"), (8, b"v8"), (9, b"v9")]


@pytest.mark.feature("admin.topics", "admin.partitions")
def test_admin_topics_and_partitions(admin):
    name = unique("kp-admin")
    admin.create_topics({name: {"num_partitions": 2, "replication_factor": 1}}, validate_only=True)
    assert name not in admin.list_topics()
    admin.create_topics({name: {"num_partitions": 2, "replication_factor": 1}}, wait_for_metadata=True)
    assert name in admin.list_topics()
    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics({name: {"num_partitions": 1, "replication_factor": 1}})
    (d,) = admin.describe_topics([name])
    assert d["error_code"] == 0 and not d["is_internal"]
    assert [(p["partition_index"], p["leader_id"], p["replica_nodes"], p["isr_nodes"]) for p in d["partitions"]] == \
        [(0, 0, [0], [0]), (1, 0, [0], [0])]

    admin.create_partitions({name: 4})
    wait_for(lambda: len(admin.describe_topics([name])[0]["partitions"]) == 4, 10, "4 partitions")
    with pytest.raises(InvalidPartitionsError):
        admin.create_partitions({name: 3})

    admin.delete_topics([name])
    wait_for(lambda: name not in admin.list_topics(), 10, "the topic to be deleted")
    with pytest.raises(UnknownTopicOrPartitionError):
        admin.delete_topics([name])


@pytest.mark.feature("admin.configs")
def test_admin_configs(admin):
    name = create_topic(admin, configs={"retention.ms": "3600000"})
    res = lambda: admin.describe_configs([ConfigResource("TOPIC", name)])["topic"][name]  # noqa: E731
    cfg = res()
    assert set(cfg) == {"retention.ms"}, "config_filter=modified: only what was set"
    assert cfg["retention.ms"]["value"] == "3600000"
    assert cfg["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"

    # IncrementalAlterConfigs: SET one key, DELETE another
    out = admin.alter_configs([ConfigResource("TOPIC", name, {"max.message.bytes": "65536",
                                                              "retention.ms": ("DELETE", None)})])
    assert out == {"topic": {name: "OK"}}
    cfg = res()
    assert set(cfg) == {"max.message.bytes"} and cfg["max.message.bytes"]["value"] == "65536"
    # the legacy AlterConfigs replaces the whole set: kafka-python sends the
    # other modified keys along (it reads them with DescribeConfigs first)
    admin.alter_configs([ConfigResource("TOPIC", name, {"segment.ms": "3600000"})], incremental=False)
    assert {k: v["value"] for k, v in res().items()} == {"segment.ms": "3600000", "max.message.bytes": "65536"}

    full = admin.describe_configs([ConfigResource("TOPIC", name)], config_filter="all")["topic"][name]
    assert full["cleanup.policy"]["value"] == "delete"
    assert full["cleanup.policy"]["config_source"] == "DEFAULT_CONFIG"
    b = admin.describe_configs([ConfigResource("BROKER", "0")], config_filter="all")["broker"]["0"]
    assert b["group.initial.rebalance.delay.ms"]["value"] == "0"


@pytest.mark.feature("admin.groups", "admin.offsets")
def test_admin_groups_and_offsets(bootstrap, admin):
    topic, group = create_topic(admin, partitions=2), unique("kp-admin-group")
    produce(bootstrap, topic, [{"value": b"x", "partition": p} for p in (0, 1) for _ in range(5)])
    m = MemberThread(bootstrap, group, topic, enable_auto_commit=False)
    try:
        wait_balanced([m], 2)
        listed = {g["group_id"]: g for g in admin.list_groups()}
        assert listed[group]["protocol_type"] == "consumer"
        assert group in [g["group_id"] for g in admin.list_groups(states_filter=["Stable"])]
        d = admin.describe_groups([group])[group]
        assert d["group_state"] == "Stable" and len(d["members"]) == 1
        (mem,) = d["members"]
        assert sorted(mem["member_assignment"]["assigned_partitions"][0]["partitions"]) == [0, 1]
        assert admin.delete_groups([group]) == {group: "NonEmptyGroupError"}
    finally:
        m.stop()

    tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    res = admin.alter_group_offsets(group, {tp0: OffsetAndMetadata(2, "a", -1),
                                            tp1: OffsetAndMetadata(4, "", -1)})
    assert {tp: e.errno for tp, e in res.items()} == {tp0: 0, tp1: 0}
    offs = admin.list_group_offsets({group: None})[group]
    assert {tp: (o.offset, o.metadata) for tp, o in offs.items()} == {tp0: (2, "a"), tp1: (4, "")}
    res = admin.delete_group_offsets(group, [tp0])
    assert {tp: e.errno for tp, e in res.items()} == {tp0: 0}
    assert set(admin.list_group_offsets({group: None})[group]) == {tp1}

    assert group in [g["group_id"] for g in admin.list_groups(states_filter=["Empty"])]
    assert admin.delete_groups([group]) == {group: "OK"}
    assert group not in [g["group_id"] for g in admin.list_groups()]
    assert admin.delete_groups([group]) == {group: "GroupIdNotFoundError"}


@pytest.mark.feature("admin.delete_records", "admin.list_offsets")
def test_admin_delete_records_and_list_offsets(bootstrap, admin):
    tp, base = timestamped_topic(bootstrap, admin)
    lo = admin.list_partition_offsets
    assert lo({tp: OffsetSpec.EARLIEST})[tp].offset == 0
    assert lo({tp: OffsetSpec.LATEST})[tp].offset == 10
    r = lo({tp: OffsetSpec.MAX_TIMESTAMP})[tp]
    assert (r.offset, r.timestamp) == (9, base + 9000)
    assert lo({tp: base + 3500})[tp].offset == 4

    assert admin.delete_records({tp: 4})[tp]["low_watermark"] == 4
    assert lo({tp: OffsetSpec.EARLIEST})[tp].offset == 4
    c = assigned_consumer(bootstrap, [tp], auto_offset_reset="earliest")
    got = poll_n(c, 6)
    c.close()
    assert [(r.offset, r.value) for r in got] == [(i, f"v{i}".encode()) for i in range(4, 10)]


@pytest.mark.feature("admin.describe_cluster")
def test_admin_describe_cluster(broker, admin):
    d = admin.describe_cluster()
    assert d["cluster_id"] and d["controller_id"] == 0
    assert [(b["broker_id"], b["host"], b["port"]) for b in d["brokers"]] == [(0, "127.0.0.1", broker.port)]


@pytest.mark.feature("admin.log_dirs")
def test_admin_describe_log_dirs(broker, bootstrap, admin):
    if 35 not in {int(k) for k in admin.api_versions()}:
        pytest.skip("the broker's ApiVersions lacks DescribeLogDirs (key 35)")
    topic = create_topic(admin, partitions=2)
    produce(bootstrap, topic, [{"value": b"x" * 100, "partition": 1}])
    (res,) = admin.describe_log_dirs(topic_partitions=[topic])
    assert res["broker"] == 0
    (d,) = res["log_dirs"]
    assert d["error_code"] == 0 and d["log_dir"] == str(broker.workdir / "data")
    assert d["total_bytes"] >= d["usable_bytes"] > 0
    (t,) = d["topics"]
    sizes = {p["partition_index"]: p["partition_size"] for p in t["partitions"]}
    on_disk = sum(f.stat().st_size for f in (broker.workdir / "data" / f"{topic}-1").glob("*.log"))
    assert t["name"] == topic and sizes == {0: 0, 1: on_disk} and on_disk > 100
