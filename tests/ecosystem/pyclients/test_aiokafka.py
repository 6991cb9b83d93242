"""aiokafka from PyPI (asyncio) against Samsa: AIOKafkaProducer (idempotent,
acks=all, headers, every codec), AIOKafkaConsumer groups (two members as
tasks, eager assignors; static membership), commit and resume, seeks,
offsets for times, and AIOKafkaAdminClient's basics (topics, configs,
partitions, groups and their offsets, records deletion, cluster)."""

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import InvalidPartitionsError
from aiokafka.structs import OffsetAndMetadata

from conftest import unique

pytestmark = pytest.mark.client("aiokafka")


@pytest.fixture
async def admin(bootstrap):
    a = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await a.start()
    yield a
    await a.close()


async def create_topic(admin, partitions=1, configs=None, prefix="aio"):
    name = unique(prefix)
    resp = await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or {})])
    assert [(t[0], t[1]) for t in resp.topic_errors] == [(name, 0)], resp
    return name


async def produce(bootstrap, topic, records, **conf):
    """Send records (dicts of AIOKafkaProducer.send keyword arguments); the
    RecordMetadata of each, in order."""
    p = AIOKafkaProducer(**{"bootstrap_servers": bootstrap, "acks": "all", "linger_ms": 5, **conf})
    await p.start()
    try:
        futs = [await p.send(topic, **r) for r in records]
        return [await f for f in futs]
    finally:
        await p.stop()


async def consume_n(c, n, timeout=20.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        for recs in (await c.getmany(timeout_ms=200, max_records=n - len(got))).values():
            got.extend(recs)
    assert len(got) == n, f"consumed {len(got)} of {n}"
    return sorted(got, key=lambda r: (r.partition, r.offset))


async def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not (v := cond()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)
    return v


@pytest.mark.feature("produce", "produce.idempotent", "produce.headers", "consume")
async def test_idempotent_producer_headers(bootstrap, admin):
    topic = await create_topic(admin, partitions=2)
    md = await produce(bootstrap, topic, [
        {"key": f"k{i}".encode(), "value": f"v{i}".encode(), "partition": i % 2,
         "headers": [("seq", str(i).encode()), ("dup", b"1"), ("dup", b"2")]} for i in range(20)],
        enable_idempotence=True)
    assert [(m.partition, m.offset) for m in md] == [(i % 2, i // 2) for i in range(20)]
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await c.start()
    try:
        c.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        got = await consume_n(c, 20)
    finally:
        await c.stop()
    by_key = {r.key: r for r in got}
    for i in range(20):
        r = by_key[f"k{i}".encode()]
        assert (r.value, r.partition, r.offset) == (f"v{i}".encode(), i % 2, i // 2)
        assert list(r.headers) == [("seq", str(i).encode()), ("dup", b"1"), ("dup", b"2")]


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
async def test_compression(request, broker, bootstrap, admin, codec):
    request.node.add_marker(pytest.mark.feature("produce", f"produce.{codec}"))
    topic = await create_topic(admin, prefix=f"aio-{codec}")
    n = 300
    value = lambda i: (f"aiokafka {i:05d} " * 10).encode()   # noqa: E731
    md = await produce(bootstrap, topic, [{"value": value(i), "key": b"k%d" % i} for i in range(n)],
                       compression_type=codec, linger_ms=50, max_batch_size=1 << 20,
                       enable_idempotence=True)
    assert [m.offset for m in md] == list(range(n))
    on_disk = sum(f.stat().st_size for f in (broker.workdir / "data" / f"{topic}-0").glob("*.log"))
    raw = sum(len(value(i)) for i in range(n))
    assert 0 < on_disk < raw / 4, f"{codec}: {on_disk} bytes on disk for {raw} bytes of values"
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await c.start()
    try:
        c.assign([TopicPartition(topic, 0)])
        got = await consume_n(c, n)
    finally:
        await c.stop()
    assert [(r.offset, r.key, r.value) for r in got] == [(i, b"k%d" % i, value(i)) for i in range(n)]


@pytest.mark.feature("consume.seek", "consume.offsets_for_times")
async def test_seek_and_offsets_for_times(bootstrap, admin):
    topic = await create_topic(admin)
    base = int(time.time() * 1000) - 60_000
    await produce(bootstrap, topic, [{"value": f"v{i}".encode(), "timestamp_ms": base + 1000 * i}
                                     for i in range(10)])
    tp = TopicPartition(topic, 0)
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    try:
        c.assign([tp])
        assert await c.beginning_offsets([tp]) == {tp: 0}
        assert await c.end_offsets([tp]) == {tp: 10}
        c.seek(tp, 6)
        assert [(r.offset, r.value) for r in await consume_n(c, 2)] == [(6, b"v6"), (7, b"v7")]
        assert await c.position(tp) == 8
        await c.seek_to_beginning(tp)
        assert (await consume_n(c, 1))[0].offset == 0
        await c.seek_to_end(tp)
        assert await c.position(tp) == 10
        found = (await c.offsets_for_times({tp: base + 2500}))[tp]
        assert (found.offset, found.timestamp) == (3, base + 3000)
        assert (await c.offsets_for_times({tp: base + 100_000}))[tp] is None
        c.seek(tp, found.offset)
        r = (await consume_n(c, 1))[0]
    finally:
        await c.stop()
    assert (r.offset, r.value, r.timestamp) == (3, b"v3", base + 3000)


class Member:
    """One AIOKafkaConsumer group member, polled by its own task."""

    def __init__(self, bootstrap, group, topic, **conf):
        self.c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                  auto_offset_reset="earliest", heartbeat_interval_ms=300,
                                  session_timeout_ms=6000, **conf)
        self.records = []
        self.task = None

    async def start(self):
        await self.c.start()
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self):
        while True:
            for recs in (await self.c.getmany(timeout_ms=50)).values():
                self.records.extend(recs)

    def owned(self):
        return sorted(tp.partition for tp in self.c.assignment())

    async def stop(self):
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        await self.c.stop()


async def balanced(members, partitions):
    def check():
        for m in members:
            if m.task.done():
                m.task.result()          # raises what the member's task raised
        owned = [m.owned() for m in members]
        return owned if all(owned) and sorted(sum(owned, [])) == list(range(partitions)) else None
    return await wait_for(check, 30, f"{len(members)} members to share {partitions} partitions")


@pytest.mark.parametrize("assignor", [RangePartitionAssignor, RoundRobinPartitionAssignor])
@pytest.mark.feature("group.eager", "group.commit")
async def test_group_two_members(bootstrap, admin, assignor):
    """Two members split four partitions, each message is delivered once to
    its partition's owner, and the offsets auto-committed on stop are the ends."""
    topic, group = await create_topic(admin, partitions=4), unique("aio-group")
    members = [await Member(bootstrap, group, topic, partition_assignment_strategy=(assignor,)).start()
               for _ in range(2)]
    try:
        owned = await balanced(members, 4)
        await produce(bootstrap, topic, [{"value": f"m{i}".encode(), "partition": i % 4} for i in range(40)])
        await wait_for(lambda: sum(len(m.records) for m in members) >= 40, 20, "40 messages")
        assert sorted(r.value for m in members for r in m.records) == sorted(f"m{i}".encode() for i in range(40))
        for m, parts in zip(members, owned):
            assert m.records and {r.partition for r in m.records} <= set(parts)
        (d,) = await admin.describe_consumer_groups([group])
        (g,) = d.groups
        assert (g[0], g[1], g[2], g[4], g[3]) == (0, group, "Stable", assignor.name, "consumer")
        assert len(g[5]) == 2
    finally:
        for m in members:
            await m.stop()
    offs = await admin.list_consumer_group_offsets(group)
    assert {tp.partition: om.offset for tp, om in offs.items()} == {0: 10, 1: 10, 2: 10, 3: 10}


@pytest.mark.feature("group.static")
async def test_static_member_rejoins(bootstrap, admin):
    """A static member (group_instance_id) that restarts within its session
    timeout gets its partitions back and the other member keeps its own."""
    topic, group = await create_topic(admin, partitions=4), unique("aio-static")
    a = await Member(bootstrap, group, topic, group_instance_id="aio-a").start()
    b = await Member(bootstrap, group, topic, group_instance_id="aio-b").start()
    try:
        owned = await balanced([a, b], 4)
        (d,) = await admin.describe_consumer_groups([group])   # DescribeGroups v3: no instance ids,
        ids = sorted(m[0] for m in d.groups[0][5])              # but a static member's id starts with it
        assert [i.split("-")[:2] for i in ids] == [["aio", "a"], ["aio", "b"]], ids
        gen = b.c._coordinator.generation
        await a.stop()               # a static member does not leave the group on stop
        (d,) = await admin.describe_consumer_groups([group])
        assert len(d.groups[0][5]) == 2
        a = await Member(bootstrap, group, topic, group_instance_id="aio-a").start()
        again = await balanced([a, b], 4)
        assert again == owned
        assert b.c._coordinator.generation == gen, "the other member was rebalanced"
    finally:
        for m in (a, b):
            await m.stop()


@pytest.mark.feature("group.commit")
async def test_commit_and_resume(bootstrap, admin):
    topic, group = await create_topic(admin), unique("aio-commit")
    await produce(bootstrap, topic, [{"value": f"v{i}".encode()} for i in range(10)])
    tp = TopicPartition(topic, 0)
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         auto_offset_reset="earliest")
    await c.start()
    try:
        got = await consume_n(c, 4)
        assert [r.value for r in got] == [b"v0", b"v1", b"v2", b"v3"]
        await c.commit()
        assert await c.committed(tp) == 4
        await c.commit({tp: OffsetAndMetadata(6, "six")})
        assert await c.committed(tp) == 6
    finally:
        await c.stop()
    assert (await admin.list_consumer_group_offsets(group))[tp] == OffsetAndMetadata(6, "six")
    c = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         auto_offset_reset="earliest")
    await c.start()
    try:
        got = await consume_n(c, 4)
    finally:
        await c.stop()
    assert [(r.offset, r.value) for r in got] == [(6, b"v6"), (7, b"v7"), (8, b"v8"), (9, b"v9")]


@pytest.mark.feature("admin.topics", "admin.partitions", "admin.configs")
async def test_admin_topics_partitions_configs(admin):
    name = await create_topic(admin, partitions=2, configs={"retention.ms": "3600000"})
    assert name in await admin.list_topics()
    resp = await admin.create_topics([NewTopic(name, 1, 1)])
    assert resp.topic_errors[0][1] == 36          # TOPIC_ALREADY_EXISTS
    (d,) = await admin.describe_topics([name])
    assert d["error_code"] == 0 and d["topic"] == name
    assert sorted((p["partition"], p["leader"], p["replicas"]) for p in d["partitions"]) == \
        [(0, 0, [0]), (1, 0, [0])]

    resp = await admin.create_partitions({name: NewPartitions(3)})
    assert [(r[0], r[1]) for r in resp.topic_errors] == [(name, 0)]
    with pytest.raises(InvalidPartitionsError):
        await admin.create_partitions({name: NewPartitions(2)})
    (d,) = await admin.describe_topics([name])
    assert len(d["partitions"]) == 3

    (resp,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    ((err, _msg, rtype, rname, entries),) = resp.resources
    cfg = {e[0]: e[1] for e in entries}
    assert (err, rname, cfg["retention.ms"], cfg["cleanup.policy"]) == (0, name, "3600000", "delete")
    (resp,) = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name,
                                                        {"retention.ms": "7200000"})])
    assert [(r[0], r[3]) for r in resp.resources] == [(0, name)]
    (resp,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})])
    assert [(e[0], e[1]) for e in resp.resources[0][4]] == [("retention.ms", "7200000")]

    resp = await admin.delete_topics([name])
    assert [(t[0], t[1]) for t in resp.topic_error_codes] == [(name, 0)]
    assert name not in await admin.list_topics()


@pytest.mark.feature("admin.groups", "admin.delete_records", "admin.describe_cluster")
async def test_admin_groups_records_cluster(broker, bootstrap, admin):
    topic, group = await create_topic(admin), unique("aio-admin-group")
    await produce(bootstrap, topic, [{"value": f"v{i}".encode()} for i in range(10)])
    m = await Member(bootstrap, group, topic, enable_auto_commit=False).start()
    try:
        await balanced([m], 1)
        listed = await admin.list_consumer_groups()
        assert (group, "consumer") in [(g[0], g[1]) for g in listed]
    finally:
        await m.stop()
    (d,) = await admin.describe_consumer_groups([group])
    assert (d.groups[0][1], d.groups[0][2], d.groups[0][5]) == (group, "Empty", [])

    tp = TopicPartition(topic, 0)
    assert await admin.delete_records({tp: RecordsToDelete(before_offset=7)}) == {tp: 7}
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await c.start()
    try:
        c.assign([tp])
        assert await c.beginning_offsets([tp]) == {tp: 7}
        got = await consume_n(c, 3)
    finally:
        await c.stop()
    assert [(r.offset, r.value) for r in got] == [(7, b"v7"), (8, b"v8"), (9, b"v9")]

    cl = await admin.describe_cluster()
    assert cl["cluster_id"] and cl["controller_id"] == 0
    assert [(b["node_id"], b["host"], b["port"]) for b in cl["brokers"]] == [(0, "127.0.0.1", broker.port)]


@pytest.mark.feature("group.cooperative")
def test_cooperative_rebalancing():
    pytest.skip("aiokafka 0.14 has no cooperative rebalance protocol (eager assignors only)")


@pytest.mark.feature("admin.log_dirs")
def test_describe_log_dirs():
    pytest.skip("AIOKafkaAdminClient 0.14 has no describe_log_dirs")
