"""Partition reassignment (issue 14, KIP-455; docs/controller.md
"Reassignment"): AlterPartitionReassignments and ListPartitionReassignments
sent raw (kproto) to the controller, as Kafka's AdminClient and
kafka-reassign-partitions.sh would; the data moves through ordinary
replication; the removed replicas' logs are deleted (C21); a controller
killed mid-way is resumed by the next one (C20)."""

import json
import os

import confluent_kafka as ck
import pytest

import kproto
from cluster import SeqProducer, cluster_factory, cluster_zk, read_values  # noqa: F401
from conftest import admin, wait_until

NOT_CONTROLLER = 41
INVALID_REPLICA_ASSIGNMENT = 39
NO_REASSIGNMENT_IN_PROGRESS = 85
REASSIGNMENT_IN_PROGRESS = 60


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


def throttle(c, topic, rate, side="follower"):
    """The cluster-wide default <side>.replication.throttled.rate and the
    topic's <side>.replication.throttled.replicas=*, as Kafka's tool sets them."""
    with ctl_conn(c) as conn:
        err, msg = kproto.incremental_alter_configs(
            conn, 4, "", [(f"{side}.replication.throttled.rate", 0, str(rate))])
        assert err == 0, msg
        err, msg = kproto.incremental_alter_configs(
            conn, 2, topic, [(f"{side}.replication.throttled.replicas", 0, "*")])
        assert err == 0, msg


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


def test_add_and_remove_replicas_errors_and_list(cluster_factory):
    c = cluster_factory(n=4)
    t = "addrm"
    c.create_topic(t, partitions=2, rf=2)
    a0 = assignment(c, t)["partitions"]["0"]
    produce_n(c, t, 100)
    # add: RF 2 -> 4
    full = a0 + [b for b in range(4) if b not in a0]
    assert reassign(c, {(t, 0): full}) == {(t, 0): (0, None)}
    wait_done(c, t, 0, full)
    # remove down to one replica, keeping the leader
    lead = c.wait_leader(t, 0)["leader"]
    assert reassign(c, {(t, 0): [lead]}) == {(t, 0): (0, None)}
    wait_done(c, t, 0, [lead])
    for i in range(4):
        if i != lead:
            wait_until(lambda: not os.path.exists(log_dir(c, i, t, 0)), 15,
                       desc=f"log of {t}-0 on broker {i} deleted")
    # errors, per partition, as Kafka's controller answers them
    out = reassign(c, {(t, 1): [], ("nope", 0): [0], (t, 7): [0], (t, 0): None,
                       ("addrm", 1): [0, 0]})
    assert out[(t, 1)][0] == INVALID_REPLICA_ASSIGNMENT, out
    assert out[("nope", 0)][0] == kproto.UNKNOWN_TOPIC_OR_PARTITION, out
    assert out[(t, 7)][0] == kproto.UNKNOWN_TOPIC_OR_PARTITION, out
    assert out[(t, 0)][0] == NO_REASSIGNMENT_IN_PROGRESS, out
    out = reassign(c, {(t, 1): [0, 9]})
    assert out[(t, 1)][0] == INVALID_REPLICA_ASSIGNMENT and "not alive" in out[(t, 1)][1], out
    # NOT_CONTROLLER from any other broker (top level)
    other = next(i for i in range(4) if i != c.wait_controller())
    with kproto.Conn("127.0.0.1", c.brokers[other].port) as conn:
        err, _, parts = kproto.alter_partition_reassignments(conn, {(t, 1): [0]})
        assert (err, parts) == (NOT_CONTROLLER, {})
        assert kproto.list_partition_reassignments(conn)[0] == NOT_CONTROLLER
    vals = read_values(c.bootstrap, t, 0)
    assert len(vals) >= 100


def test_cancel_while_new_replica_cannot_catch_up(cluster_factory):
    """A target replica throttled to 1 byte/s cannot join the ISR: the reassignment stays listed, then the
    cancel reverts to the original replicas and deletes the added log."""
    c = cluster_factory(n=4, overrides={"replica.fetch.max.bytes": 1024})
    t = "cancel"
    c.create_topic(t, partitions=1, rf=2)
    a0 = assignment(c, t)["partitions"]["0"]
    produce_n(c, t, 200)
    new = [b for b in range(4) if b not in a0][0]
    throttle(c, t, 1)                        # 1 byte/s: the new replica cannot catch up
    target = [new, a0[1]]
    assert reassign(c, {(t, 0): target}) == {(t, 0): (0, None)}
    got = ongoing(c)
    assert got == {(t, 0): {"replicas": [new, a0[1], a0[0]], "adding": [new],
                            "removing": [a0[0]]}}, got
    assert ongoing(c, [(t, 0), ("other", 3)]) == got
    wait_until(lambda: os.path.exists(log_dir(c, new, t, 0)), 15, desc="new replica's log")
    # Kafka refuses to add partitions while a reassignment runs
    from confluent_kafka.admin import NewPartitions
    a = admin(c.bootstrap)                   # kept alive while its future runs
    with pytest.raises(ck.KafkaException) as e:
        a.create_partitions([NewPartitions(t, 2)], request_timeout=15)[t].result(20)
    assert e.value.args[0].code() == REASSIGNMENT_IN_PROGRESS, e.value
    # cancel: back to the original replicas, the added log goes
    assert reassign(c, {(t, 0): None}) == {(t, 0): (0, None)}
    wait_done(c, t, 0, [a0[1], a0[0]])        # ORS = RS - adding, in RS order (Kafka's)
    wait_until(lambda: not os.path.exists(log_dir(c, new, t, 0)), 15,
               desc="added replica's log deleted")
    assert ongoing(c) == {}


def test_move_leader_away_under_load_and_controller_failover(cluster_factory):
    """Every replica moves (the leader's too) while an idempotent producer
    runs; the controller is killed while the new replicas are throttled, and
    the next controller resumes from the topic znode (C20).  Nothing lost or
    duplicated."""
    c = cluster_factory(n=4, overrides={"replica.fetch.max.bytes": 1024})
    t = "moveall"
    c.create_topic(t, partitions=1, rf=2)
    a0 = assignment(c, t)["partitions"]["0"]
    prod = SeqProducer(c.bootstrap, t, tag="p").start()
    prod.wait_acked(200)
    ctl = c.wait_controller()
    # the target: the other two brokers, one of which is the controller if possible
    others = [b for b in range(4) if b not in a0]
    throttle(c, t, 1)
    assert reassign(c, {(t, 0): others}) == {(t, 0): (0, None)}
    assert (t, 0) in ongoing(c)
    # kill the controller (unless it holds the only ISR... it is a broker of
    # the cluster either way: the partition keeps a leader in the ISR)
    c.kill(ctl)
    new_ctl = c.wait_controller(not_in=(ctl,))
    # lift the throttle: the resumed reassignment completes
    with kproto.Conn("127.0.0.1", c.brokers[new_ctl].port, timeout=15) as conn:
        err, msg = kproto.incremental_alter_configs(
            conn, 4, "", [("follower.replication.throttled.rate", 1, "")])
        assert err == 0, msg
    if ctl in others:
        c.start(ctl)
    wait_done(c, t, 0, others, timeout=60)
    prod.wait_acked(prod.n_acked() + 100, timeout=60)
    prod.stop()
    assert prod.fatal is None and not [e for e in prod.errors if not e[1].retriable()]
    vals = read_values(c.bootstrap, t, 0)
    seqs = [int(v.rsplit(b"-", 1)[1]) for v in vals]
    assert seqs == list(range(len(seqs))), "lost or duplicated records"
    assert len(seqs) >= prod.n_acked()


def dir_bytes(path):
    try:
        return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
                   if f.endswith(".log"))
    except FileNotFoundError:
        return 0


def test_leader_throttle_holds_back_only_the_replica_out_of_the_isr(cluster_factory):
    """leader.replication.throttled.rate=1 with the topic's leader list "*":
    the added replica gets a first chunk, then nothing while the rate is
    over; the in-sync followers are not throttled (acks=all goes on); once
    the rate is removed the reassignment completes."""
    c = cluster_factory(n=4, overrides={"replica.fetch.max.bytes": 1024})
    t = "lthr"
    c.create_topic(t, partitions=1, rf=2)
    a0 = assignment(c, t)["partitions"]["0"]
    prod = produce_n(c, t, 300)
    throttle(c, t, 1, side="leader")
    new = [b for b in range(4) if b not in a0][0]
    assert reassign(c, {(t, 0): a0 + [new]}) == {(t, 0): (0, None)}
    wait_until(lambda: dir_bytes(log_dir(c, new, t, 0)) > 0, 15, desc="a first chunk copied")
    # still moving: the new replica is not in the ISR, the others are
    st = c.partition(t, 0, via=c.wait_controller())
    assert new not in st["isr"] and sorted(st["isr"]) == sorted(a0), st
    assert (t, 0) in ongoing(c)
    more = produce_n(c, t, 100, tag="w")      # acks=all: the ISR is not throttled
    assert more.n_acked() >= 100
    with ctl_conn(c) as conn:
        err, msg = kproto.incremental_alter_configs(
            conn, 4, "", [("leader.replication.throttled.rate", 1, "")])
        assert err == 0, msg
    wait_done(c, t, 0, a0 + [new])
    assert len(read_values(c.bootstrap, t, 0)) >= 400 and prod.n_acked() >= 300


def test_replacing_a_running_reassignment_drops_what_it_was_adding(cluster_factory):
    """A second AlterPartitionReassignments for a partition being moved:
    the original replicas stay the origin (Kafka's rule), the replica the
    first one was adding and the second drops is stopped and deleted."""
    c = cluster_factory(n=4, overrides={"replica.fetch.max.bytes": 1024})
    t = "replace"
    c.create_topic(t, partitions=1, rf=2)
    x, y = assignment(c, t)["partitions"]["0"]
    u, v = [b for b in range(4) if b not in (x, y)]
    produce_n(c, t, 200)
    throttle(c, t, 1)
    assert reassign(c, {(t, 0): [u, x]}) == {(t, 0): (0, None)}
    wait_until(lambda: os.path.exists(log_dir(c, u, t, 0)), 15, desc="u's log")
    assert reassign(c, {(t, 0): [v, x]}) == {(t, 0): (0, None)}
    got = ongoing(c)
    assert got == {(t, 0): {"replicas": [v, x, y], "adding": [v], "removing": [y]}}, got
    wait_until(lambda: not os.path.exists(log_dir(c, u, t, 0)), 15, desc="u's log deleted")
    with ctl_conn(c) as conn:
        err, msg = kproto.incremental_alter_configs(
            conn, 4, "", [("follower.replication.throttled.rate", 1, "")])
        assert err == 0, msg
    wait_done(c, t, 0, [v, x])


def test_new_replica_of_a_log_that_no_longer_starts_at_zero(cluster_factory):
    """DeleteRecords moved the log start: the new replica's first fetch is
    below it, so it restarts its empty log at the leader's log start
    (Kafka's truncateFullyAndStartAt) and the reassignment completes."""
    c = cluster_factory(n=3)
    t = "trimmed"
    c.create_topic(t, partitions=1, rf=1)
    (old,) = assignment(c, t)["partitions"]["0"]
    produce_n(c, t, 300)
    with kproto.Conn("127.0.0.1", c.brokers[old].port) as conn:
        res = kproto.delete_records(conn, t, 0, 200)
    assert res["error_code"] == 0 and res["low_watermark"] == 200, res
    new = (old + 1) % 3
    assert reassign(c, {(t, 0): [new]}) == {(t, 0): (0, None)}
    wait_done(c, t, 0, [new])
    seqs = [int(v.rsplit(b"-", 1)[1]) for v in read_values(c.bootstrap, t, 0)]
    assert seqs == list(range(200, 200 + len(seqs))) and len(seqs) >= 100   # from the log start


def test_single_broker_is_its_own_controller(broker):
    """Without ZooKeeper the broker is the controller Metadata names (as a
    single Kafka node is): List answers that nothing moves, Alter accepts
    the assignment a partition has ([0], done at once) and refuses the rest
    with the controller's errors.  kafka-topics --describe lists
    reassignments first and timed out on NOT_CONTROLLER before."""
    from conftest import create_topic
    create_topic(broker.bootstrap, "solo", partitions=2)
    with kproto.Conn(broker.host, broker.port) as conn:
        assert kproto.metadata(conn, ["solo"])["controller_id"] == 0
        assert kproto.list_partition_reassignments(conn) == (0, {})
        assert kproto.list_partition_reassignments(conn, [("solo", 0)]) == (0, {})
        err, msg, out = kproto.alter_partition_reassignments(conn, {
            ("solo", 0): [0], ("solo", 1): [1], ("solo", 5): [0], ("nope", 0): [0],
            ("solo", 7): None})
        assert (err, msg) == (0, None)
        assert out[("solo", 0)] == (0, None)
        assert out[("solo", 1)] == (INVALID_REPLICA_ASSIGNMENT, "Replica assignment has brokers "
                                    "that are not alive: broker 1 is not registered")
        assert out[("solo", 5)][0] == 3 and out[("nope", 0)][0] == 3   # UNKNOWN_TOPIC_OR_PARTITION
        assert out[("solo", 7)] == (NO_REASSIGNMENT_IN_PROGRESS,
                                    "No reassignment in progress for solo-7")
        err, _, out = kproto.alter_partition_reassignments(conn, {("solo", 1): None,
                                                                  ("solo", 0): [0, 0]})
        assert out[("solo", 1)] == (NO_REASSIGNMENT_IN_PROGRESS,
                                    "No reassignment in progress for solo-1")
        assert out[("solo", 0)] == (INVALID_REPLICA_ASSIGNMENT, "Duplicate replica ids in "
                                    "partition reassignment replica list: 0")
        assert kproto.metadata(conn, ["solo"])["topics"]["solo"]["partitions"][1]["replicas"] == [0]
