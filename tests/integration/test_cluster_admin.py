"""Admin APIs on any broker of a cluster (issue 13, docs/cluster.md §5):
CreatePartitions through one broker is seen with leaders through every
broker; topic and dynamic broker configs written through one broker are in
ZooKeeper and applied by the others; DescribeCluster names every broker and
the controller; replicas are placed over racks when every broker has
`broker.rack`; producer ids are unique across brokers (blocks from
/latest_producer_id_block)."""

import json

import confluent_kafka as ck
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic

import kproto
from cluster import cluster, cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import admin, wait_until


def admin_via(c, i):
    return admin(f"127.0.0.1:{c.brokers[i].port}")


def test_create_partitions_and_configs_through_one_broker_reach_all(cluster):
    c = cluster
    t = "grown"
    c.create_topic(t, partitions=2, rf=3)
    a0 = admin_via(c, 0)
    a0.create_partitions([NewPartitions(t, 5)], request_timeout=15)[t].result(20)
    for p in range(5):
        st = c.wait_leader(t, p)             # every live broker agrees on a live leader
        assert sorted(st["replicas"]) == [0, 1, 2], st
    assignment = json.loads(c.zk_get(f"/brokers/topics/{t}"))
    assert sorted(assignment["partitions"]) == [str(p) for p in range(5)], assignment

    admins = [admin_via(c, i) for i in range(3)]   # kept alive while their futures run
    res = ConfigResource("topic", t, set_config={"retention.ms": "123456"})
    admins[1].alter_configs([res])[res].result(20)
    assert json.loads(c.zk_get(f"/config/topics/{t}"))["config"] == {"retention.ms": "123456"}

    def seen_by(i):
        r = ConfigResource("topic", t)
        return admins[i].describe_configs([r])[r].result(20)["retention.ms"].value == "123456"
    for i in range(3):
        wait_until(lambda: seen_by(i), 10, desc=f"retention.ms on broker {i}")

    # A cluster-wide dynamic broker default (resource "") set through
    # broker 2 is in /config/brokers/<default> and applied by broker 0.
    with kproto.Conn("127.0.0.1", c.brokers[2].port, timeout=10) as conn:
        err, msg = kproto.incremental_alter_configs(conn, 4, "", [("log.retention.ms", 0, "7777777")])
        assert err == 0, msg
    assert json.loads(c.zk_get("/config/brokers/<default>"))["config"] == \
        {"log.retention.ms": "7777777"}

    def broker0_default():
        r = ConfigResource("broker", "0")
        return admins[0].describe_configs([r])[r].result(20)["log.retention.ms"].value
    wait_until(lambda: broker0_default() == "7777777", 10, desc="broker 0 took the default")


def test_describe_cluster_and_producer_ids_on_every_broker(cluster):
    c = cluster
    ids = set()
    for i in range(3):
        with kproto.Conn("127.0.0.1", c.brokers[i].port, timeout=10) as conn:
            d = kproto.describe_cluster(conn)
            assert d["error_code"] == 0, d
            assert d["controller_id"] == c.controller(), d
            assert sorted(b["node_id"] for b in d["brokers"]) == [0, 1, 2], d
            for _ in range(3):
                r = kproto.init_producer_id(conn)
                assert r["error_code"] == 0, r
                ids.add(r["producer_id"])
    assert len(ids) == 9, f"producer ids handed out twice: {sorted(ids)}"
    block = json.loads(c.zk_get("/latest_producer_id_block"))
    assert int(block["block_end"]) >= max(ids), block


def test_replicas_spread_over_racks(cluster_factory):
    racks = {0: "a", 1: "a", 2: "b", 3: "b"}
    c = cluster_factory(4, broker_overrides={i: {"broker.rack": r} for i, r in racks.items()})
    t = "racked"
    a = admin_via(c, 0)
    a.create_topics([NewTopic(t, 8, 2)], request_timeout=15)[t].result(20)
    for p in range(8):
        st = c.wait_leader(t, p)
        assert {racks[r] for r in st["replicas"]} == {"a", "b"}, (p, st)
    # A factor above the live brokers is refused with Kafka's error.
    fut = a.create_topics([NewTopic("too-many", 1, 5)], request_timeout=15)["too-many"]
    try:
        fut.result(20)
        raise AssertionError("replication factor 5 on 4 brokers was accepted")
    except ck.KafkaException as e:
        assert e.args[0].code() == ck.KafkaError.INVALID_REPLICATION_FACTOR, e
        assert "larger than available brokers: 4" in e.args[0].str(), e
