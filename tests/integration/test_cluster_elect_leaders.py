"""ElectLeaders (API 43, v0-2) and the automatic leader rebalance (issue 14),
with raw requests (kproto) as Kafka's AdminClient and kafka-leader-election.sh
send them: preferred elections move leadership back after a restart, each
per-partition error Kafka answers, NOT_CONTROLLER from another broker,
unclean election of an offline partition, and auto.leader.rebalance.enable
with a short leader.imbalance.check.interval.seconds."""
import kproto
from cluster import cluster, cluster_factory, cluster_zk  # noqa: F401
from conftest import produce_all, producer, stop_process, unique_topic, wait_until

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
NOT_CONTROLLER = 41
INVALID_REQUEST = 42
PREFERRED_LEADER_NOT_AVAILABLE = 80
ELIGIBLE_LEADERS_NOT_AVAILABLE = 83
ELECTION_NOT_NEEDED = 84
PREFERRED, UNCLEAN = 0, 1
NO_REBALANCE = {"auto.leader.rebalance.enable": "false"}


def elect(c, etype, parts, version=2, via=None):
    via = c.controller() if via is None else via
    with kproto.Conn("127.0.0.1", c.broker_port(via), timeout=30) as conn:
        return kproto.elect_leaders(conn, etype, parts, version=version)


def preferred_of(c, t, p):
    return c.partition(t, p)["replicas"][0]


def test_preferred_election_moves_leadership_back_after_a_restart(cluster_factory, request):
    c = cluster_factory(overrides=NO_REBALANCE)
    t = unique_topic(request)
    c.create_topic(t, partitions=1, rf=3)
    pref = preferred_of(c, t, 0)
    assert c.leader_of(t, 0) == pref
    c.restart(pref)
    c.wait_isr(t, 0, n=3)
    assert c.leader_of(t, 0) != pref                  # no rebalance: it stays moved
    for version in (0, 1, 2):
        top, res = elect(c, PREFERRED, {t: [0]}, version=version)
        assert top == (None if version == 0 else NONE)
        want = NONE if version == 0 else ELECTION_NOT_NEEDED
        assert res == {(t, 0): (want, None if want == NONE else res[(t, 0)][1])}, res
    st = c.wait_leader(t, 0)
    assert st["leader"] == pref


def test_errors_kafka_answers(cluster_factory, request):
    c = cluster_factory(overrides=NO_REBALANCE)
    t = unique_topic(request)
    c.create_topic(t, partitions=2, rf=3)
    ctl = c.controller()
    other = next(i for i in range(3) if i != ctl)
    # not the controller: top level (v1+), every partition asked (v0)
    assert elect(c, PREFERRED, {t: [0]}, via=other) == (NOT_CONTROLLER, {})
    top, res = elect(c, PREFERRED, {t: [0, 1]}, version=0, via=other)
    assert top is None and {e for e, _ in res.values()} == {NOT_CONTROLLER}
    # unknown topic or partition; a leader already preferred / live
    top, res = elect(c, PREFERRED, {t: [0, 7], "no-such-topic": [0]})
    assert top == NONE
    assert res[(t, 0)][0] == ELECTION_NOT_NEEDED
    assert res[(t, 7)][0] == UNKNOWN_TOPIC_OR_PARTITION
    assert res[("no-such-topic", 0)][0] == UNKNOWN_TOPIC_OR_PARTITION
    assert res[(t, 7)][1]                               # messages say why
    top, res = elect(c, UNCLEAN, {t: [0]})
    assert res[(t, 0)][0] == ELECTION_NOT_NEEDED
    # an unknown election type
    assert elect(c, 7, {t: [0]})[0] == INVALID_REQUEST
    # null = every partition of every topic, each answered
    top, res = elect(c, PREFERRED, None)
    assert top == NONE and {(t, 0), (t, 1)} <= set(res), res
    # the preferred replica down: PREFERRED_LEADER_NOT_AVAILABLE
    p = next(p for p in (0, 1) if preferred_of(c, t, p) != ctl)
    pref = preferred_of(c, t, p)
    c.stop(pref)
    top, res = elect(c, PREFERRED, {t: [p]})
    assert res[(t, p)][0] == PREFERRED_LEADER_NOT_AVAILABLE, res


def test_unclean_election_of_an_offline_partition(cluster_factory, request):
    c = cluster_factory(overrides=NO_REBALANCE)
    t = unique_topic(request)
    c.create_topic(t, partitions=1, rf=2)
    st = c.wait_isr(t, 0, n=2)
    a, b = st["leader"], next(r for r in st["replicas"] if r != st["leader"])
    c.stop(b)                                     # leaves the ISR: {a}
    c.wait_isr(t, 0, members=[a])
    p = producer(c.bootstrap)
    produce_all(p, t, [{"value": b"only-on-a-%d" % k} for k in range(5)])
    c.stop(a)                                     # the last ISR member: offline
    wait_until(lambda: c.partition(t, 0, via=next(iter(set(range(3)) - {a, b})))["leader"] == -1,
               30, desc="partition offline")
    c.start(b)
    ctl = c.controller()
    top, res = elect(c, PREFERRED, {t: [0]})
    assert res[(t, 0)][0] == PREFERRED_LEADER_NOT_AVAILABLE    # a is down
    assert c.partition(t, 0, via=ctl)["leader"] == -1          # clean: stays offline
    top, res = elect(c, UNCLEAN, {t: [0]})
    assert (top, res) == (NONE, {(t, 0): (NONE, None)}), res
    st = c.wait_leader(t, 0)
    assert st["leader"] == b and st["isr"] == [b], st
    assert c.grep_logs(r"unclean election \(ElectLeaders\): .*records may be lost")
    # nothing live at all: ELIGIBLE_LEADERS_NOT_AVAILABLE
    c.stop(b)
    wait_until(lambda: c.partition(t, 0, via=c.controller())["leader"] == -1, 30,
               desc="offline again")
    top, res = elect(c, UNCLEAN, {t: [0]})
    assert res[(t, 0)][0] == ELIGIBLE_LEADERS_NOT_AVAILABLE, res


def test_auto_rebalance_moves_leadership_back(cluster_factory, request):
    c = cluster_factory(overrides={"leader.imbalance.check.interval.seconds": 1})
    t = unique_topic(request)
    c.create_topic(t, partitions=3, rf=3)
    prefs = {p: preferred_of(c, t, p) for p in range(3)}
    victim = prefs[0]
    c.restart(victim)
    for p in range(3):
        c.wait_isr(t, p, n=3)
    # back to every preferred replica without anyone asking
    wait_until(lambda: all(c.leader_of(t, p) == prefs[p] for p in range(3)), 30,
               desc="leaders back on their preferred replicas")
    assert c.grep_logs(rf"leader imbalance of broker {victim} ")


def test_parked_produce_on_a_leader_that_loses_leadership_is_answered_at_once(cluster_factory,
                                                                              request):
    """C38: an acks=all produce parked on the leader (one follower paused, still
    in the ISR, so the high watermark cannot cover it) is answered
    NOT_LEADER_OR_FOLLOWER as soon as leadership moves to another broker, as
    Kafka's DelayedProduce does, not REQUEST_TIMED_OUT when the producer's
    timeout runs out (the new leader's high watermark waits for the paused
    member too, so nothing else would end the wait)."""
    import os
    import signal
    import threading
    c = cluster_factory(overrides={**NO_REBALANCE, "replica.lag.time.max.ms": "120000"})
    t = unique_topic(request)
    c.create_topic(t, partitions=1, rf=3)
    st = c.wait_isr(t, 0, n=3)
    leader = st["leader"]
    # the paused follower is not the controller, which must answer below
    paused, other = sorted((b for b in st["replicas"] if b != leader),
                           key=lambda b: b == c.controller())
    out = {}

    def send():
        with kproto.Conn("127.0.0.1", c.broker_port(leader), timeout=60) as conn:
            out["res"] = kproto.produce(conn, t, 0, kproto.record_batch([b"parked"]), acks=-1,
                                        timeout_ms=30000)

    stop_process(c.brokers[paused].pid)
    try:
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        # the batch is in the leader's log (its end offset for the current
        # epoch is 1) and waits for the paused member
        def appended():
            with kproto.Conn("127.0.0.1", c.broker_port(leader), timeout=10) as conn:
                r = kproto.offset_for_leader_epoch(conn, t, 0, st["leader_epoch"])
            return r["error_code"] == NONE and r["end_offset"] == 1
        wait_until(appended, 10)
        assert "res" not in out, out
        # `other` first in the replica list (the same replicas: nothing to
        # copy), then a preferred election moves the leadership to it
        with kproto.Conn("127.0.0.1", c.broker_port(c.controller()), timeout=30) as conn:
            err, _, res = kproto.alter_partition_reassignments(
                conn, {(t, 0): [other, leader, paused]})
        assert err == NONE and res[(t, 0)][0] == NONE, res
        wait_until(lambda: elect(c, PREFERRED, {t: [0]})[1].get((t, 0), (None,))[0]
                   in (NONE, ELECTION_NOT_NEEDED) and c.leader_of(t, 0, via=other) == other, 20)
        sender.join(20)                 # well before the produce's own 30 s timeout
        assert not sender.is_alive(), "the parked produce was not answered"
        assert out["res"]["error_code"] == kproto.NOT_LEADER_OR_FOLLOWER, out["res"]
    finally:
        os.kill(c.brokers[paused].pid, signal.SIGCONT)
    c.wait_isr(t, 0, n=3)
