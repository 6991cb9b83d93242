"""Topic administration: CreateTopics/DeleteTopics/CreatePartitions,
Describe/Alter/IncrementalAlterConfigs, Metadata, DescribeCluster - through
confluent-kafka's AdminClient, kafka-python's KafkaAdminClient, kcat and the
raw protocol where confluent-kafka 1.7 lacks the API."""

import json
import subprocess

import confluent_kafka as ck
import pytest
from confluent_kafka.admin import ConfigResource, ConfigSource, NewPartitions, NewTopic

import kproto
from conftest import (admin, create_topic, produce_all, producer, raw_conn, unique_topic,
                      wait_topic, wait_until, consume_exact)

TOPIC = ConfigResource.Type.TOPIC
BROKER = ConfigResource.Type.BROKER


def describe(a, restype, name):
    res = ConfigResource(restype, name)
    return a.describe_configs([res], request_timeout=10)[res].result(timeout=15)


def source(entry):
    s = entry.source
    return s if isinstance(s, ConfigSource) else ConfigSource(s)


def create_error(a, topic, timeout=15, **kw):
    """Error code (int) of a CreateTopics for `topic`, or None on success."""
    kw.setdefault("operation_timeout", 10)
    fut = a.create_topics([topic], request_timeout=timeout, **kw)[topic.topic]
    try:
        fut.result(timeout=timeout)
        return None
    except ck.KafkaException as e:
        return e.args[0].code()


def topic_names(a):
    return set(a.list_topics(timeout=10).topics)


def test_create_three_partitions_and_describe(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3, config={"retention.ms": "3600000"})
    md = admin(bs).list_topics(timeout=10)
    assert md.controller_id == 0
    assert {b.id: (b.host, b.port) for b in md.brokers.values()} == {0: ("127.0.0.1", broker.port)}
    tm = md.topics[t]
    assert tm.error is None
    assert sorted(tm.partitions) == [0, 1, 2]
    for p in tm.partitions.values():
        assert p.error is None
        assert p.leader == 0
        assert list(p.replicas) == [0]
        assert list(p.isrs) == [0]
    cfg = describe(admin(bs), TOPIC, t)
    assert cfg["retention.ms"].value == "3600000"
    assert source(cfg["retention.ms"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert cfg["cleanup.policy"].value == "delete"
    assert source(cfg["cleanup.policy"]) in (ConfigSource.DEFAULT_CONFIG,
                                             ConfigSource.STATIC_BROKER_CONFIG)
    assert not cfg["cleanup.policy"].is_read_only


def test_topic_is_on_disk_in_kafka_layout(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 3)
    for p in range(3):
        d = broker.partition_dir(t, p)
        assert d.is_dir(), f"{d} missing; log dir has {sorted(x.name for x in broker.logdir.iterdir())}"
        produce_all(producer(broker.bootstrap), t, [dict(value=b"x", partition=p)])
        names = {f.name for f in d.iterdir()}
        assert "00000000000000000000.log" in names, names
        assert "00000000000000000000.index" in names, names
        assert "00000000000000000000.timeindex" in names, names


def test_alter_configs_replaces_dynamic_set(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1, config={"retention.ms": "3600000"})
    a = admin(bs)
    res = ConfigResource(TOPIC, t, set_config={"retention.ms": "7200000",
                                               "max.message.bytes": "65536"})
    a.alter_configs([res], request_timeout=10)[res].result(timeout=15)
    cfg = describe(a, TOPIC, t)
    assert cfg["retention.ms"].value == "7200000"
    assert source(cfg["retention.ms"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert cfg["max.message.bytes"].value == "65536"
    assert source(cfg["max.message.bytes"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    # AlterConfigs (non-incremental) replaces the whole dynamic set.
    res = ConfigResource(TOPIC, t, set_config={"segment.bytes": "1048576"})
    a.alter_configs([res], request_timeout=10)[res].result(timeout=15)
    cfg = describe(a, TOPIC, t)
    assert cfg["segment.bytes"].value == "1048576"
    assert source(cfg["segment.bytes"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert source(cfg["retention.ms"]) != ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert cfg["retention.ms"].value != "7200000"


def test_incremental_alter_configs_topic(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1, config={"retention.ms": "3600000"})
    with raw_conn(broker) as c:
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_TOPIC, t, [("max.message.bytes", kproto.OP_SET, "65536")])
        assert err == 0, msg
        cfg = describe(admin(bs), TOPIC, t)
        assert cfg["max.message.bytes"].value == "65536"
        assert source(cfg["max.message.bytes"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG
        # untouched key keeps its dynamic value (that's what "incremental" means)
        assert cfg["retention.ms"].value == "3600000"
        assert source(cfg["retention.ms"]) == ConfigSource.DYNAMIC_TOPIC_CONFIG

        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_TOPIC, t, [("retention.ms", kproto.OP_DELETE, None)])
        assert err == 0, msg
        cfg = describe(admin(bs), TOPIC, t)
        assert source(cfg["retention.ms"]) != ConfigSource.DYNAMIC_TOPIC_CONFIG
        assert cfg["max.message.bytes"].value == "65536"

        # validate_only changes nothing
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_TOPIC, t, [("max.message.bytes", kproto.OP_SET, "1000")],
            validate_only=True)
        assert err == 0, msg
        assert describe(admin(bs), TOPIC, t)["max.message.bytes"].value == "65536"

        # bad value -> INVALID_CONFIG (40), nothing changed
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_TOPIC, t, [("retention.ms", kproto.OP_SET, "soon")])
        assert err == 40, (err, msg)


def test_broker_configs_describe_and_incremental_alter(broker):
    bs = broker.bootstrap
    cfg = describe(admin(bs), BROKER, "0")
    for key in ("log.segment.bytes", "log.retention.ms", "num.partitions", "message.max.bytes"):
        assert key in cfg, f"broker config {key} not described; got {sorted(cfg)[:40]}"
    assert cfg["num.partitions"].value == "1"
    with raw_conn(broker) as c:
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_BROKER, "0", [("log.retention.ms", kproto.OP_SET, "5400000")])
        assert err == 0, msg
    cfg = describe(admin(bs), BROKER, "0")
    assert cfg["log.retention.ms"].value == "5400000"
    assert source(cfg["log.retention.ms"]) == ConfigSource.DYNAMIC_BROKER_CONFIG


def test_alter_configs_unimplemented_dynamic_kafka_key(broker):
    """Issue 12: AlterConfigs with a Kafka broker key Samsa does not implement
    but Kafka changes at runtime (sasl.kerberos.min.time.before.relogin) is
    accepted as Kafka accepts it: stored, described as a dynamic broker
    config, kept across a restart and logged as not acted on. Keys Kafka
    cannot change at runtime get Kafka's error; typos stay refused."""
    bs, key = broker.bootstrap, "sasl.kerberos.min.time.before.relogin"
    a = admin(bs)
    res = ConfigResource(BROKER, "0", set_config={key: "58000"})
    a.alter_configs([res], request_timeout=10)[res].result(timeout=15)
    cfg = describe(a, BROKER, "0")
    assert cfg[key].value == "58000"
    assert source(cfg[key]) == ConfigSource.DYNAMIC_BROKER_CONFIG
    assert not cfg[key].is_read_only
    broker.wait_for_log(rf"dynamic broker config {key}: a Kafka config that Samsa does not "
                        r"implement; stored", 5)
    with raw_conn(broker) as c:
        # IncrementalAlterConfigs: a cluster-wide key at the cluster default
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_BROKER, "", [("background.threads", kproto.OP_SET, "4")])
        assert err == 0, msg
        # a per-broker key at the cluster default: Kafka's refusal
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_BROKER, "", [(key, kproto.OP_SET, "1")])
        assert err == kproto.INVALID_REQUEST and "broker id must be specified" in msg, (err, msg)
        # read-only in Kafka
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_BROKER, "0", [("zookeeper.sync.time.ms", kproto.OP_SET, "1")])
        assert (err, msg) == (kproto.INVALID_REQUEST,
                              "Cannot update these configs dynamically: Set(zookeeper.sync.time.ms)")
        # a typo
        err, msg = kproto.incremental_alter_configs(
            c, kproto.RESOURCE_BROKER, "0", [(key[:-1], kproto.OP_SET, "1")])
        assert err == 40 and "Unknown broker config name" in msg, (err, msg)
    broker.restart()
    cfg = describe(admin(bs), BROKER, "0")
    assert cfg[key].value == "58000"
    assert cfg["background.threads"].value == "4"
    assert source(cfg["background.threads"]) == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG


def test_create_twice_is_topic_already_exists(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    assert create_error(admin(bs), NewTopic(t, 1, 1)) == ck.KafkaError.TOPIC_ALREADY_EXISTS


def test_validate_only_creates_nothing(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    a = admin(bs)
    assert create_error(a, NewTopic(t, 3, 1), validate_only=True) is None
    assert t not in topic_names(a)
    assert not broker.partition_dir(t, 0).exists()
    # ... and validation still validates
    assert create_error(a, NewTopic(t, 1, 1, config={"cleanup.policy": "bogus"}),
                        validate_only=True) == ck.KafkaError.INVALID_CONFIG


@pytest.mark.parametrize("config", [
    {"retention.ms": "notanumber"},
    {"cleanup.policy": "bogus"},
    {"no.such.topic.config": "1"},
], ids=["bad-number", "bad-enum", "unknown-key"])
def test_invalid_config_is_invalid_config(broker, request, config):
    bs, t = broker.bootstrap, unique_topic(request)
    a = admin(bs)
    assert create_error(a, NewTopic(t, 1, 1, config=config)) == ck.KafkaError.INVALID_CONFIG
    assert t not in topic_names(a)


def test_invalid_create_requests(broker, request):
    a = admin(broker.bootstrap)
    base = unique_topic(request)
    assert create_error(a, NewTopic(base + "-p0", 0, 1)) == ck.KafkaError.INVALID_PARTITIONS
    assert create_error(a, NewTopic(base + "-rf3", 1, 3)) == ck.KafkaError.INVALID_REPLICATION_FACTOR
    for bad in ("bad/name", "..", "a" * 250, "space name"):
        assert create_error(a, NewTopic(bad, 1, 1)) == ck.KafkaError.TOPIC_EXCEPTION, bad
    names = topic_names(a)
    assert not any(n.startswith(base) for n in names), names


def test_create_partitions_3_to_5(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    a = admin(bs)
    a.create_partitions([NewPartitions(t, 5)], request_timeout=10)[t].result(timeout=15)
    wait_topic(bs, t, 5)
    p = producer(bs)
    msgs = produce_all(p, t, [dict(value=b"to-%d" % i, partition=i) for i in range(5)])
    assert sorted((m.partition(), m.offset()) for m in msgs) == [(i, 0) for i in range(5)]
    got = consume_exact(bs, t, {i: 1 for i in range(5)})
    assert [got[i][0].value() for i in range(5)] == [b"to-%d" % i for i in range(5)]
    # shrinking is refused
    with pytest.raises(ck.KafkaException) as ei:
        a.create_partitions([NewPartitions(t, 4)], request_timeout=10)[t].result(timeout=15)
    assert ei.value.args[0].code() == ck.KafkaError.INVALID_PARTITIONS
    assert len(a.list_topics(t, timeout=10).topics[t].partitions) == 5


def test_delete_topic(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    a = admin(bs)
    a.delete_topics([t], operation_timeout=10, request_timeout=15)[t].result(timeout=15)
    wait_until(lambda: t not in topic_names(a), 10, desc=f"{t} gone from metadata")
    # deleting again -> UNKNOWN_TOPIC_OR_PART
    with pytest.raises(ck.KafkaException) as ei:
        a.delete_topics([t], operation_timeout=10, request_timeout=15)[t].result(timeout=15)
    assert ei.value.args[0].code() == ck.KafkaError.UNKNOWN_TOPIC_OR_PART
    # the name can be reused, and the new topic starts empty
    create_topic(bs, t, 1)
    with raw_conn(broker) as c:
        assert kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP)["offset"] == 0


def test_auto_create_on_produce_uses_num_partitions(broker_factory, request):
    b = broker_factory({"num.partitions": 4})
    t = unique_topic(request)
    produce_all(producer(b.bootstrap), t, [dict(value=b"hello")])
    md = admin(b.bootstrap).list_topics(t, timeout=10).topics[t]
    assert md.error is None
    assert len(md.partitions) == 4


def test_auto_create_disabled(broker_factory, request):
    b = broker_factory({"auto.create.topics.enable": "false"})
    t = unique_topic(request)
    with raw_conn(b) as c:
        md = kproto.metadata(c, [t], allow_auto_create=True)
        assert md["topics"][t]["error_code"] == kproto.UNKNOWN_TOPIC_OR_PARTITION
    assert t not in topic_names(admin(b.bootstrap))


def test_describe_cluster_raw(broker):
    with raw_conn(broker) as c:
        res = kproto.describe_cluster(c)
    assert res["error_code"] == 0, res
    assert res["cluster_id"]
    assert res["controller_id"] == 0
    assert [(x["node_id"], x["host"], x["port"]) for x in res["brokers"]] == \
        [(0, "127.0.0.1", broker.port)]
    # Metadata reports the same cluster id
    assert admin(broker.bootstrap).list_topics(timeout=10).cluster_id == res["cluster_id"]


def _metadata_v12(c, topics):
    """Metadata v12 for [(topic_id bytes, name)]: [(error, name, id bytes, nparts)]."""
    w = kproto.W(True)
    w.array(topics, lambda w, t: (w.raw(t[0]), w.string(t[1]), w.tags()))
    w.bool(False).bool(False).tags()
    r = c.call(kproto.METADATA, 12, w.done())
    r.i32()
    r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string(), r.tags()))
    r.string()
    r.i32()

    def part(r):
        d = (r.i16(), r.i32(), r.i32(), r.i32(), r.array(lambda r: r.i32()),
             r.array(lambda r: r.i32()), r.array(lambda r: r.i32()))
        r.tags()
        return d

    def topic(r):
        err, name, tid = r.i16(), r.string(), r._take(16)
        r.bool()
        parts = r.array(part)
        r.i32()
        r.tags()
        return err, name, tid, len(parts)

    return r.array(topic)


def test_metadata_v12_by_topic_id(broker, request):
    """v12 by topic id, as the Java client 4.x sends it (an empty name beside
    each id): only the ids count; an unknown id is UNKNOWN_TOPIC_ID (100) with
    a null name, and nothing is auto-created from the empty names."""
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 2)
    with raw_conn(broker) as c:
        [(err, name, tid, n)] = _metadata_v12(c, [(bytes(16), t)])
        assert (err, name, n) == (0, t, 2) and tid != bytes(16)
        unknown = bytes(range(1, 17))
        got = _metadata_v12(c, [(tid, ""), (unknown, ""), (tid, "")])
        assert got == [(0, t, tid, 2), (100, None, unknown, 0)], got


def test_kafka_python_admin_create_describe_delete(broker, request):
    from kafka.admin import ConfigResource as KConfigResource, ConfigResourceType, \
        KafkaAdminClient, NewTopic as KNewTopic
    t = unique_topic(request)
    ka = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15000,
                          client_id="samsa-it-kafka-python")
    try:
        ka.create_topics([KNewTopic(t, 3, 1, topic_configs={"retention.ms": "3600000"})])
        wait_topic(broker.bootstrap, t, 3)
        desc = ka.describe_topics([t])
        assert len(desc) == 1 and desc[0]["topic"] == t and desc[0]["error_code"] == 0, desc
        parts = sorted(desc[0]["partitions"], key=lambda p: p["partition"])
        assert [p["partition"] for p in parts] == [0, 1, 2]
        assert all(p["leader"] == 0 and p["replicas"] == [0] for p in parts), parts
        resp = ka.describe_configs([KConfigResource(ConfigResourceType.TOPIC, t)])
        res = resp[0].resources[0]
        assert res[0] == 0, res[:2]  # error_code
        entries = {e[0]: e[1] for e in res[4]}
        assert entries.get("retention.ms") == "3600000", entries
        ka.delete_topics([t])
        wait_until(lambda: t not in ka.list_topics(), 10, desc="topic deleted")
    finally:
        ka.close()


def test_kcat_metadata_lists_topics(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    out = subprocess.run(["kcat", "-b", bs, "-L", "-J", "-m", "10"], capture_output=True,
                         timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr.decode()
    md = json.loads(out.stdout)
    assert [(b["id"], b["name"]) for b in md["brokers"]] == [(0, bs)]
    topics = {x["topic"]: x for x in md["topics"]}
    assert t in topics, sorted(topics)
    assert sorted(p["partition"] for p in topics[t]["partitions"]) == [0, 1, 2]
    assert all(p["leader"] == 0 for p in topics[t]["partitions"])
    # plain -L too
    out = subprocess.run(["kcat", "-b", bs, "-L", "-t", t, "-m", "10"], capture_output=True,
                         timeout=30, stdin=subprocess.DEVNULL, text=True)
    assert out.returncode == 0, out.stderr
    assert f'topic "{t}" with 3 partitions' in out.stdout, out.stdout


@pytest.mark.slow
def test_metadata_of_a_topic_with_2000_partitions(broker, request):
    """A large topic comes back whole (the response is sized by the broker's
    state, not capped by the small request), and a topic named twice in one
    request is answered once, like Kafka's set of names."""
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 2000, timeout=60)
    out = subprocess.run(["kcat", "-b", bs, "-L", "-t", t, "-m", "10"], capture_output=True,
                         timeout=30, stdin=subprocess.DEVNULL, text=True)
    assert out.returncode == 0, out.stderr
    assert f'topic "{t}" with 2000 partitions' in out.stdout, out.stdout[:300]
    with raw_conn(broker) as c:
        raw = kproto.metadata(c, [t, t])
        assert list(raw["topics"]) == [t] and raw["topic_count"] == 1, raw["topic_count"]
        parts = raw["topics"][t]["partitions"]
        assert sorted(parts) == list(range(2000))
        everything = kproto.metadata(c, None)
        assert len(everything["topics"][t]["partitions"]) == 2000
