"""Failover in a three-broker cluster (cluster.py): kill -9 of a partition
leader under an idempotent producer loses and duplicates nothing; the killed
broker restarts, truncates a divergent tail, catches up and rejoins the ISR;
committed consumer-group offsets survive the loss of the coordinator's broker
(issue 13, "What it must show")."""
import os
import signal

import confluent_kafka as ck
import pytest

import kproto
from cluster import (FAILOVER_TIMEOUT, SeqProducer, cluster, cluster_factory,  # noqa: F401
                     cluster_zk, read_values)
from conftest import consumer, produce_all, producer, stop_process, unique_topic, wait_until

MIN_ISR_2 = {"min.insync.replicas": "2"}


def make_leader(cluster, topic, i):
    """Leave broker i as the only live replica of topic-0 by stopping the
    others cleanly (SIGTERM: controlled shutdown moves leadership first)."""
    for j in cluster.live():
        if j != i:
            cluster.stop(j)
    return cluster.wait_leader(topic, 0)


def test_kill9_leader_under_idempotent_producer_then_rejoin(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config=MIN_ISR_2)
    old = cluster.leader_of(t, 0)

    sp = SeqProducer(cluster.bootstrap, t).start()
    try:
        sp.wait_acked(200)
        cluster.kill(old)
        n_at_kill = sp.n_acked()
        st = cluster.wait_leader(t, 0, not_in=[old])
        sp.wait_acked(n_at_kill + 300)          # acknowledged by the new leader
    finally:
        sp.stop()
    assert not sp.errors, f"delivery errors: {sp.errors[:5]}"
    assert st["leader"] != old and old not in st["isr"], st

    # every acknowledged message exactly once, in order, nothing else
    acked = sorted(seq for seq, _, _ in sp.acked)
    assert acked == list(range(sp.sent)), "not every produced message was acknowledged"
    log = read_values(cluster.bootstrap, t)
    assert log == [sp.value(s) for s in range(sp.sent)], (
        f"log has {len(log)} records for {sp.sent} produced; first difference at "
        f"{next((k for k, (a, b) in enumerate(zip(log, map(sp.value, range(sp.sent)))) if a != b), None)}")
    offsets = {seq: off for seq, off, _ in sp.acked}
    assert [offsets[s] for s in range(sp.sent)] == sorted(offsets.values())

    # the killed broker comes back, catches up and rejoins the ISR ...
    cluster.start(old)
    cluster.wait_isr(t, 0, n=3)
    # ... with the same log: left alone, it serves exactly what the others did
    make_leader(cluster, t, old)
    assert cluster.leader_of(t, 0) == old
    assert read_values(f"127.0.0.1:{cluster.broker_port(old)}", t) == log


def test_returning_leader_truncates_its_divergent_tail(cluster, request):
    """The leader takes acks=1 writes its followers cannot fetch (they are
    SIGSTOPped), then dies. A follower becomes leader and takes other writes;
    the old leader comes back and must end with the new leader's log, not its
    own tail (C8)."""
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config=MIN_ISR_2)
    produce_all(producer(cluster.bootstrap), t, [{"value": b"common-%d" % i} for i in range(100)])
    old = cluster.leader_of(t, 0)
    followers = [i for i in range(3) if i != old]

    stopped = []
    try:
        for f in followers:
            stop_process(cluster.brokers[f].pid)
            stopped.append(f)
        with kproto.Conn("127.0.0.1", cluster.broker_port(old)) as c:
            for k in range(20):
                r = kproto.produce(c, t, 0, kproto.record_batch([b"tail-%d" % k]), acks=1)
                assert r["error_code"] == 0, r
        cluster.kill(old)
    finally:
        for f in stopped:
            os.kill(cluster.brokers[f].pid, signal.SIGCONT)

    st = cluster.wait_leader(t, 0, not_in=[old])
    new = st["leader"]
    produce_all(producer(cluster.bootstrap), t, [{"value": b"new-%d" % i} for i in range(50)])
    log = read_values(cluster.bootstrap, t)
    assert log[:100] == [b"common-%d" % i for i in range(100)]
    assert log[-50:] == [b"new-%d" % i for i in range(50)]

    cluster.start(old)
    cluster.wait_isr(t, 0, n=3)
    assert cluster.leader_of(t, 0) == new     # the returning broker does not take over
    make_leader(cluster, t, old)
    assert read_values(f"127.0.0.1:{cluster.broker_port(old)}", t) == log


def test_acks_all_parked_across_a_follower_death_is_answered_once(cluster, request):
    """A follower dies while an acks=all produce waits for it. The leader
    stays leader; once the controller drops the follower from the ISR the
    high watermark covers the batch and the produce succeeds (Kafka's
    DelayedProduce). An error here makes every non-idempotent client write
    the batch a second time (seen with `samsa produce` in make cluster)."""
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config=MIN_ISR_2)
    leader = cluster.leader_of(t, 0)
    follower = next(i for i in range(3) if i != leader)
    with kproto.Conn("127.0.0.1", cluster.broker_port(leader), timeout=60) as c:
        assert kproto.produce(c, t, 0, kproto.record_batch([b"first"]))["error_code"] == 0
        cluster.kill(follower)
        r = kproto.produce(c, t, 0, kproto.record_batch([b"parked"]), acks=-1,
                           timeout_ms=45000)
    st = cluster.wait_isr(t, 0, n=2)
    assert st["leader"] == leader, st
    assert r["error_code"] == 0, r
    assert read_values(cluster.bootstrap, t) == [b"first", b"parked"]


def _coordinator(cluster, group, via):
    with kproto.Conn("127.0.0.1", cluster.broker_port(via)) as c:
        return kproto.find_coordinator(c, group)


def test_group_offsets_survive_the_coordinators_broker(cluster_factory, request):
    cluster = cluster_factory(overrides={"offsets.topic.num.partitions": 3,
                                         "group.initial.rebalance.delay.ms": 0})
    t, g = unique_topic(request), unique_topic(request, "-group")
    cluster.create_topic(t, partitions=2, rf=3)
    produce_all(producer(cluster.bootstrap), t,
                [{"value": b"%d-%03d" % (i % 2, i // 2), "partition": i % 2} for i in range(200)])

    c = consumer(cluster.bootstrap, **{"group.id": g, "session.timeout.ms": 6000})
    c.subscribe([t])
    seen = []
    try:
        wait_until(lambda: seen.extend(m for m in c.consume(100, 0.2) if not m.error())
                   or len(seen) >= 60, timeout=FAILOVER_TIMEOUT, desc="60 records via the group")
        # commit exactly 30 per partition
        commit = [ck.TopicPartition(t, p, 30) for p in (0, 1)]
        c.commit(offsets=commit, asynchronous=False)
    finally:
        c.close()
    coord = wait_until(lambda: (lambda r: r["error_code"] == 0 and r)(
        _coordinator(cluster, g, 0)), timeout=FAILOVER_TIMEOUT, desc="coordinator of the group")
    dead = coord["node_id"]
    # the offsets partitions are replicated to every broker before the kill
    assert cluster.ensure_offsets_topic(g) == 3
    cluster.kill(dead)

    survivor = next(i for i in cluster.live())

    def moved():
        r = _coordinator(cluster, g, survivor)
        return r["error_code"] == 0 and r["node_id"] != dead and r
    coord2 = wait_until(moved, timeout=FAILOVER_TIMEOUT, desc="a new coordinator")
    assert coord2["node_id"] in cluster.live()

    c = consumer(cluster.bootstrap, **{"group.id": g, "session.timeout.ms": 6000})
    try:
        got = c.committed([ck.TopicPartition(t, p) for p in (0, 1)], timeout=FAILOVER_TIMEOUT)
        assert sorted((x.partition, x.offset) for x in got) == [(0, 30), (1, 30)], got
        c.subscribe([t])
        rest = []
        wait_until(lambda: rest.extend(m for m in c.consume(100, 0.2) if not m.error())
                   or len(rest) >= 140, timeout=FAILOVER_TIMEOUT, desc="the 140 uncommitted records")
        assert sorted(m.value() for m in rest) == \
            sorted(b"%d-%03d" % (p, k) for p in (0, 1) for k in range(30, 100))
    finally:
        c.close()


@pytest.mark.slow
def test_paused_leader_loses_its_session_is_fenced_and_rejoins(cluster_factory, request):
    """SIGSTOP of a partition leader for longer than zookeeper.session.timeout.ms
    (docs/cluster.md §2, §9): ZooKeeper expires its session, the controller
    elects another leader; on SIGCONT the broker finds its session gone,
    registers again with a new broker epoch (C3), follows, truncates (C8) and
    rejoins the ISR. Nothing the paused leader held is acknowledged after it
    lost leadership, and every acknowledged message is present exactly once."""
    c = cluster_factory(3, session_timeout_ms=3000)
    t = unique_topic(request)
    c.create_topic(t, partitions=1, rf=3, config=MIN_ISR_2)
    old = c.leader_of(t, 0)
    old_epoch = c.zk_client().get(f"{c.chroot}/brokers/ids/{old}")[1].czxid

    sp = SeqProducer(c.bootstrap, t).start()
    paused = False
    try:
        sp.wait_acked(200)
        stop_process(c.brokers[old].pid)
        paused = True
        other = next(i for i in range(3) if i != old)   # (the paused one cannot answer)

        def moved():
            p = c.partition(t, 0, via=other)
            return p if p and p["leader"] not in (-1, old) else None
        st = wait_until(moved, 30, desc="a new leader once the paused one's session expired")
        n = sp.n_acked()
        sp.wait_acked(n + 200)                        # the new leader acknowledges
        os.kill(c.brokers[old].pid, signal.SIGCONT)
        paused = False
        wait_until(lambda: old in c.registered() and
                   c.zk_client().get(f"{c.chroot}/brokers/ids/{old}")[1].czxid != old_epoch,
                   30, desc=f"broker {old} registered again with a new broker epoch")
        c.wait_isr(t, 0, n=3)
        sp.wait_acked(sp.n_acked() + 100)
    finally:
        if paused:
            os.kill(c.brokers[old].pid, signal.SIGCONT)
        sp.stop()
    assert not sp.errors, f"delivery errors: {sp.errors[:5]}"
    assert st["leader"] != old, st
    assert c.grep_logs("registered again as broker"), "no re-registration logged"
    log = read_values(c.bootstrap, t)
    assert log == [sp.value(s) for s in range(sp.sent)]
    # the ex-leader, left alone, serves exactly the same log
    make_leader(c, t, old)
    assert read_values(f"127.0.0.1:{c.broker_port(old)}", t) == log
