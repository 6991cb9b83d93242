"""Partition reassignment (issue 14, KIP-455; docs/controller.md
"Reassignment"): AlterPartitionReassignments and ListPartitionReassignments
sent raw (kproto) to the controller, as Kafka's AdminClient and
kafka-reassign-partitions.sh would; the data moves through ordinary
replication; the removed replicas' logs are deleted (C21); a controller
killed mid-way is resumed by the next one (C20)."""

import json
import os
import time

import pytest

import kproto
from cluster import SeqProducer, cluster_factory, cluster_zk, read_values  # noqa: F401
from conftest import wait_until

NOT_CONTROLLER = 41
INVALID_REPLICA_ASSIGNMENT = 39
NO_REASSIGNMENT_IN_PROGRESS = 85


def ctl_conn(c):
    return kproto.Conn("127.0.0.1", c.brokers[c.wait_controller()].port, timeout=15)


def reassign(c, moves):
    with ctl_conn(c) as conn:
        err, msg, out = kproto.alter_partition_reassignments(conn, moves)
    assert err == 0, (err, msg)
    return out


def ongoing(c, parts=None):
    with ctl_conn(c) as conn:
        err, out = kproto.list_partition_reassignments(conn, parts)
    assert err == 0, err
    return out


def assignment(c, topic):
    return json.loads(c.zk_get(f"/brokers/topics/{topic}"))


def wait_done(c, topic, p, replicas, timeout=30):
    """Until ZooKeeper and every live broker's Metadata show exactly
    `replicas` (in order) with all of them in the ISR."""
    def ok():
        a = assignment(c, topic)
        if a["partitions"][str(p)] != replicas or a.get("adding_replicas") or \
                a.get("removing_replicas"):
            return False
        return c._agreed(topic, p, lambda st: st["replicas"] == replicas and
                         sorted(st["isr"]) == sorted(replicas))
    try:
        return wait_until(ok, timeout, interval=0.05, desc=f"{topic}-{p} reassigned to {replicas}")
    except AssertionError as e:
        raise AssertionError(f"{e}: now zk {assignment(c, topic)}, md "
                             f"{ {i: c.partition(topic, p, via=i) for i in c.live()} }") from None


def log_dir(c, i, topic, p):
    return os.path.join(str(c.brokers[i].logdir), f"{topic}-{p}")


def produce_n(c, topic, n, p=0, tag="v"):
    prod = SeqProducer(c.bootstrap, topic, partition=p, tag=tag, interval=0)
    prod.start()
    prod.wait_acked(n)
    prod.stop()
    return prod


def test_move_one_replica_and_read_back(cluster_factory):
    c = cluster_factory(n=4)
    t = "mv1"
    c.create_topic(t, partitions=1, rf=3)
    a = assignment(c, t)["partitions"]["0"]
    prod = produce_n(c, t, 300)
    new = [b for b in range(4) if b not in a][0]
    target = [new] + a[1:]                   # replace the leader's... the first replica
    out = reassign(c, {(t, 0): target})
    assert out == {(t, 0): (0, None)}, out
    st = wait_done(c, t, 0, target)
    assert st["leader"] in target
    assert ongoing(c) == {}
    # the removed replica's log is gone; the new one has the data
    wait_until(lambda: not os.path.exists(log_dir(c, a[0], t, 0)), 15,
               desc="removed replica's log deleted")
    vals = read_values(c.bootstrap, t, 0)
    assert vals == [prod.value(s) for s in range(len(vals))] and len(vals) >= 300
