"""Controlled shutdown (issue 14): SIGTERM of a cluster broker first asks the
controller to move its leaderships away (ControlledShutdown), then leaves.
Producers see only retriable errors and lose nothing; the controller itself
can be shut down this way; an unreachable controller cannot hold SIGTERM
beyond its bound (controlled.shutdown.max.retries x (controller.socket.timeout.ms
+ controlled.shutdown.retry.backoff.ms))."""
import os
import signal
import time

from cluster import (FAILOVER_TIMEOUT, SeqProducer, cluster, cluster_factory,  # noqa: F401
                     cluster_zk, read_values)
from conftest import unique_topic, wait_until

MIN_ISR_2 = {"min.insync.replicas": "2"}


def check_exactly_once(cluster, t, sp):
    assert not sp.errors, f"delivery errors: {sp.errors[:5]}"
    assert sp.fatal is None
    acked = sorted(seq for seq, _, _ in sp.acked)
    assert acked == list(range(sp.sent)), "not every produced message was acknowledged"
    log = read_values(cluster.bootstrap, t)
    assert log == [sp.value(s) for s in range(sp.sent)], f"log has {len(log)} for {sp.sent}"


def test_sigterm_of_a_leader_moves_leadership_first(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config=MIN_ISR_2)
    cluster.wait_isr(t, 0, n=3)
    before = cluster.partition(t, 0)
    old = before["leader"]
    ctl = cluster.controller()

    sp = SeqProducer(cluster.bootstrap, t).start()
    try:
        sp.wait_acked(200)
        cluster.stop(old)
        n = sp.n_acked()
        sp.wait_acked(n + 300)
    finally:
        sp.stop()
    check_exactly_once(cluster, t, sp)

    st = cluster.wait_leader(t, 0, not_in=[old])
    # one leader change, made by the controlled shutdown while the broker was
    # still registered: its registration going later changed nothing more
    assert st["leader_epoch"] == before["leader_epoch"] + 1, (before, st)
    assert old not in st["isr"], st
    log = cluster.brokers[old].log_text()
    assert "controlled shutdown succeeded" in log
    assert log.index("controlled shutdown succeeded") < log.index("left the cluster")
    who = ctl if ctl != old else None
    if who is not None:
        assert f"controlled shutdown of broker {old}: 1 leaderships moved, 0 remaining" in \
            cluster.brokers[who].log_text()


def test_controlled_shutdown_of_the_controller_itself(cluster, request):
    t = unique_topic(request)
    ctl = cluster.controller()
    # a partition the controller leads: replicas start with it
    cluster.create_topic(t, partitions=3, rf=3)
    led = [p for p in range(3) if cluster.leader_of(t, p) == ctl]
    assert led, "the controller leads one of three partitions (round-robin placement)"
    epochs = {p: cluster.partition(t, p)["leader_epoch"] for p in led}
    cluster.stop(ctl)
    assert "controlled shutdown succeeded (controller %d, this broker" % ctl in \
        cluster.brokers[ctl].log_text()
    cluster.wait_controller(not_in=[ctl])
    for p in led:
        st = cluster.wait_leader(t, p, not_in=[ctl])
        assert st["leader_epoch"] == epochs[p] + 1, st


def test_unreachable_controller_bounds_the_shutdown(cluster_factory, request):
    c = cluster_factory(overrides={"controlled.shutdown.max.retries": 2,
                                   "controlled.shutdown.retry.backoff.ms": 300,
                                   "controller.socket.timeout.ms": 1000})
    t = unique_topic(request)
    c.create_topic(t, partitions=1, rf=3)
    ctl = c.controller()
    victim = next(i for i in range(3) if i != ctl)
    os.kill(c.brokers[ctl].proc.pid, signal.SIGSTOP)      # reachable port, no answer
    try:
        t0 = time.monotonic()
        c.stop(victim, timeout=20)
        took = time.monotonic() - t0
    finally:
        os.kill(c.brokers[ctl].proc.pid, signal.SIGCONT)
    log = c.brokers[victim].log_text()
    assert "controlled shutdown did not complete after 2 attempts" in log
    # bound: 2 x (1 s call + 0.3 s backoff) plus the rest of the shutdown
    assert took < 15, took


def test_last_replica_leaves_without_retrying_in_vain(cluster_factory, request):
    """Brokers stopped one by one: the last leads partitions no other live
    replica could take, and does not wait retries x backoff for nothing."""
    c = cluster_factory(overrides={"controlled.shutdown.retry.backoff.ms": 5000})
    t = unique_topic(request)
    c.create_topic(t, partitions=3, rf=3)
    for p in range(3):
        c.wait_isr(t, p, n=3)
    c.stop(0)
    c.stop(1)
    c.stop(2, timeout=20)
    log = c.brokers[2].log_text()
    assert "remain led here with no other live replica; leaving without retrying" in log
    assert "controlled shutdown attempt" not in log


def test_a_broker_in_controlled_shutdown_is_not_chosen_until_it_registers_again(cluster, request):
    """ControlledShutdown sent by hand (raw, as the broker would) for broker x,
    which keeps running: it leads nothing and is in no ISR (C31), a new topic
    does not get it as leader even where it is the first replica and a
    preferred election refuses it (C30), until it registers again."""
    import kproto
    t = unique_topic(request)
    cluster.create_topic(t, partitions=3, rf=3)
    ctl = cluster.controller()
    x = next(i for i in range(3) if i != ctl)
    epoch = cluster.zk_client().exists(f"{cluster.chroot}/brokers/ids/{x}").czxid
    with kproto.Conn("127.0.0.1", cluster.broker_port(ctl), timeout=30) as conn:
        assert kproto.controlled_shutdown(conn, x, epoch + 1)[0] == 77     # STALE_BROKER_EPOCH
        assert kproto.controlled_shutdown(conn, x, epoch) == (0, [])
    other = next(i for i in range(3) if i not in (ctl, x))
    with kproto.Conn("127.0.0.1", cluster.broker_port(other), timeout=30) as conn:
        assert kproto.controlled_shutdown(conn, x, epoch)[0] == 41         # NOT_CONTROLLER
    for p in range(3):
        st = cluster.wait_isr(t, p, n=2)
        assert st["leader"] != x and x not in st["isr"], st
    t2 = t + "-new"
    from conftest import admin
    from confluent_kafka.admin import NewTopic
    a = admin(cluster.bootstrap)        # not create_topic: x never joins an ISR now
    a.create_topics([NewTopic(t2, 3, 3)])[t2].result(timeout=20)
    for p in range(3):
        st = cluster.wait_leader(t2, p)
        assert st["leader"] != x and x not in st["isr"], st   # C30, even as first replica; C31
    mine = next(p for p in range(3) if cluster.partition(t2, p)["replicas"][0] == x)
    with kproto.Conn("127.0.0.1", cluster.broker_port(ctl), timeout=30) as conn:
        top, res = kproto.elect_leaders(conn, 0, {t2: [mine]})
    assert res[(t2, mine)][0] == 80, res            # PREFERRED_LEADER_NOT_AVAILABLE
    # registered again (a new broker epoch): eligible again
    cluster.restart(x)
    cluster.wait_isr(t2, mine, n=3)
    with kproto.Conn("127.0.0.1", cluster.broker_port(cluster.controller()), timeout=30) as conn:
        top, res = kproto.elect_leaders(conn, 0, {t2: [mine]})
    assert res[(t2, mine)][0] == 0, res
    cluster.wait_leader(t2, mine, not_in=[i for i in range(3) if i != x])
