"""Cluster mode with three real brokers and a real ZooKeeper (cluster.py):
a replicated topic is seen alike by every broker, acks=all with
min.insync.replicas=2 is readable through every broker's view, the
controller's death is survived, and acks=all is refused with
NOT_ENOUGH_REPLICAS once two of three brokers are gone (issue 13, "What it
must show")."""
import json

import confluent_kafka as ck
import pytest
from confluent_kafka.admin import NewTopic

import kproto
from cluster import cluster, cluster_factory, cluster_zk, read_values  # noqa: F401 (fixtures)
from conftest import admin, produce_all, producer, unique_topic, wait_until

NOT_ENOUGH_REPLICAS = 19
INVALID_REPLICATION_FACTOR = 38


def test_rf3_topic_is_visible_with_its_isr_on_every_broker(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=3, rf=3)

    ctrl = cluster.controller()
    assert ctrl in (0, 1, 2), f"/controller names {ctrl}"
    views = {}
    for i in range(3):
        md = cluster.metadata(i, [t])
        assert sorted((b[0], b[2]) for b in md["brokers"]) == \
            sorted((j, cluster.broker_port(j)) for j in range(3)), f"broker {i}: {md['brokers']}"
        assert md["controller_id"] == ctrl, f"broker {i} names controller {md['controller_id']}"
        assert md["topics"][t]["error_code"] == 0, md["topics"][t]
        parts = md["topics"][t]["partitions"]
        assert sorted(parts) == [0, 1, 2]
        for p, st in parts.items():
            assert st["error_code"] == 0, (i, p, st)
            assert sorted(st["replicas"]) == [0, 1, 2], (i, p, st)
            assert sorted(st["isr"]) == [0, 1, 2], (i, p, st)
            assert st["leader"] in st["isr"] and st["offline"] == [], (i, p, st)
        views[i] = {p: (st["leader"], st["leader_epoch"], st["replicas"], sorted(st["isr"]))
                    for p, st in parts.items()}
        with kproto.Conn("127.0.0.1", cluster.broker_port(i)) as c:
            dc = kproto.describe_cluster(c)
        assert sorted(b["node_id"] for b in dc["brokers"]) == [0, 1, 2], (i, dc)
        assert dc["controller_id"] == ctrl, (i, dc)
    assert views[0] == views[1] == views[2], views
    # Kafka's placement: consecutive partitions start on consecutive brokers
    assert sorted(v[0] for v in views[0].values()) == [0, 1, 2], views[0]

    # ZooKeeper holds Kafka's layout for it
    assign = json.loads(cluster.zk_get(f"/brokers/topics/{t}"))
    assert {int(p): r for p, r in assign["partitions"].items()} == \
        {p: v[2] for p, v in views[0].items()}, assign
    for p, (leader, epoch, _, isr) in views[0].items():
        st = json.loads(cluster.zk_get(f"/brokers/topics/{t}/partitions/{p}/state"))
        assert (st["leader"], st["leader_epoch"], sorted(st["isr"])) == (leader, epoch, isr), st
    assert sorted(cluster.zk_children("/brokers/ids")) == ["0", "1", "2"]


def test_acks_all_min_insync_2_consumed_through_every_broker(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=2, rf=3, config={"min.insync.replicas": "2"})
    msgs = [{"value": b"v%05d" % i, "key": b"k%d" % (i % 7), "partition": i % 2}
            for i in range(1000)]
    p = producer(cluster.bootstrap, acks="all", **{"enable.idempotence": True})
    produce_all(p, t, msgs)
    for i in range(3):
        bs = f"127.0.0.1:{cluster.broker_port(i)}"    # this broker's Metadata only
        for part in (0, 1):
            assert read_values(bs, t, part) == \
                [m["value"] for m in msgs if m["partition"] == part], (i, part)


def test_controller_killed_another_takes_over(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=3, rf=3)
    old = cluster.controller()
    epoch = cluster.controller_epoch()
    cluster.kill(old)

    new = cluster.wait_controller(not_in=[old])
    # The winner creates /controller, then bumps /controller_epoch (Kafka's
    # order): the bump may land a moment after the node is seen.
    wait_until(lambda: cluster.controller_epoch() > epoch, 10,
               desc=f"/controller_epoch above {epoch}")
    for p in range(3):
        st = cluster.wait_isr(t, p, members=[i for i in range(3) if i != old])
        assert st["leader"] != old
    for i in cluster.live():
        assert cluster.metadata(i)["controller_id"] == new, f"broker {i}"

    # topic admin goes on under the new controller; RF 3 needs 3 live brokers
    a = admin(cluster.bootstrap)
    t2 = t + "-after"
    a.create_topics([NewTopic(t2, 2, 2)], request_timeout=15)[t2].result(20)
    for p in range(2):
        st = cluster.wait_isr(t2, p, n=2)
        assert old not in st["replicas"], st
    with pytest.raises(ck.KafkaException) as ei:
        a.create_topics([NewTopic(t + "-rf3", 1, 3)], request_timeout=15)[t + "-rf3"].result(20)
    assert ei.value.args[0].code() == INVALID_REPLICATION_FACTOR, ei.value

    # the old controller comes back as an ordinary broker and rejoins every ISR
    cluster.start(old)
    assert cluster.controller() == new
    for p in range(3):
        cluster.wait_isr(t, p, n=3)
    produce_all(producer(cluster.bootstrap), t2, [{"value": b"x", "partition": 1}])


def test_not_enough_replicas_with_two_brokers_down(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
    leader = cluster.leader_of(t, 0)
    followers = [i for i in range(3) if i != leader]
    produce_all(producer(cluster.bootstrap), t, [{"value": b"before"}])

    for f in followers:
        cluster.kill(f)
    cluster.wait_isr(t, 0, members=[leader])

    batch = kproto.record_batch([b"lonely"])
    with kproto.Conn("127.0.0.1", cluster.broker_port(leader)) as c:
        r = kproto.produce(c, t, 0, batch, acks=-1)
        assert r["error_code"] == NOT_ENOUGH_REPLICAS, r
        r = kproto.produce(c, t, 0, batch, acks=1)     # min.insync only binds acks=all
        assert r["error_code"] == 0, r

    cluster.start(followers[0])
    cluster.wait_isr(t, 0, members=[leader, followers[0]])
    with kproto.Conn("127.0.0.1", cluster.broker_port(leader)) as c:
        r = kproto.produce(c, t, 0, kproto.record_batch([b"after"]), acks=-1)
        assert r["error_code"] == 0, r
    wait_until(lambda: read_values(cluster.bootstrap, t) == [b"before", b"lonely", b"after"],
               timeout=10, desc="the three accepted records")
