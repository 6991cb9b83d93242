"""Replication's data path with real processes (docs/replication.md), before
the controller exists: LeaderAndIsr (the test hook) makes broker A (node 0)
the leader of t-0 with replicas and ISR [0, 1], and broker B (node 1) its
follower. B's fetcher truncates (C8) and copies A's log byte for byte; A
tracks B's position and moves the high watermark with it (C6), so acks=-1
produces complete only once B has the data."""

import threading
import time

import confluent_kafka as ck

import kproto
from conftest import (admin, create_topic, free_port, producer, raw_conn, unique_topic,
                      wait_until)

HOOKS = {"samsa.test.hooks.enable": "true"}
REQUEST_TIMED_OUT = 7
A_ID, B_ID = 0, 1


def state(leader, epoch, isr, replicas=(A_ID, B_ID)):
    return {"partition": 0, "leader": leader, "leader_epoch": epoch,
            "replicas": list(replicas), "isr": list(isr)}


def lisr(broker, t, st, live):
    with raw_conn(broker) as c:
        res = kproto.leader_and_isr(c, 1, {t: [st]}, live_leaders=live)
    assert res == {"error_code": 0, "partitions": {(t, 0): 0}}, res


def live(*brokers):
    return [(b.node, "127.0.0.1", b.port) for b in brokers]


def start_pair(broker_factory, request):
    a = broker_factory({**HOOKS, "node.id": A_ID}, name="A")
    b = broker_factory({**HOOKS, "node.id": B_ID, "replica.fetch.backoff.ms": 200}, name="B")
    a.node, b.node = A_ID, B_ID
    t = unique_topic(request)
    create_topic(a.bootstrap, t, 1)
    # B's replica: B creates the topic itself (the controller will create
    # replicas from LeaderAndIsr later); B leads it until told otherwise.
    adm = admin(b.bootstrap)
    adm.create_topics([ck.admin.NewTopic(t, 1, 1)], request_timeout=15)[t].result(15)
    with raw_conn(b) as c:
        wait_until(lambda: kproto.metadata(c, [t], version=8)["topics"][t]["partitions"]
                   [0]["leader"] == B_ID, desc="B's replica of t-0")
    return a, b, t


def lead(a, b, t, epoch=1, isr=(A_ID, B_ID)):
    lisr(a, t, state(A_ID, epoch, isr), live(a, b))


def follow(b, a, t, epoch=1):
    lisr(b, t, state(A_ID, epoch, (A_ID, B_ID)), live(a))


def log_bytes(broker, t):
    return [(base, p.read_bytes()) for base, p in broker.segments(t, 0)]


def wait_identical(a, b, t, timeout=20):
    wait_until(lambda: log_bytes(a, t) == log_bytes(b, t), timeout=timeout,
               desc="B's segments byte-for-byte equal to A's")
    segs = log_bytes(a, t)
    assert segs and sum(len(d) for _, d in segs) > 0
    return segs


def high_watermark(broker, t):
    with raw_conn(broker) as c:
        return kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP)["offset"]


def batch(i):
    return kproto.record_batch([b"v%d-%d" % (i, k) for k in range(3)])


def test_leader_tracks_a_follower_fetch(broker_factory, request):
    """Leader side alone, with raw follower fetches: they read past the HW,
    move it to their fetch offset (C6), wake a parked acks=-1 produce, and
    are refused from a broker that is not a replica or at a wrong epoch."""
    a = broker_factory(HOOKS)
    t = unique_topic(request)
    create_topic(a.bootstrap, t, 1)
    with raw_conn(a) as c:
        res = kproto.leader_and_isr(c, 1, {t: [state(A_ID, 1, (A_ID, B_ID))]},
                                    live_leaders=[(B_ID, "127.0.0.1", free_port())])
        assert res["partitions"] == {(t, 0): 0}, res
        assert kproto.produce(c, t, 0, batch(0), acks=1)["error_code"] == 0
        cons = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert (cons["error_code"], cons["high_watermark"], cons["records"]) == (0, 0, b"")
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0, replica_id=B_ID, current_leader_epoch=1)
        assert f["error_code"] == 0 and f["records"], f       # to the log end
        assert f["high_watermark"] == 0, f                     # B's LEO is still 0
        f = kproto.fetch(c, t, 0, 3, max_wait_ms=0, replica_id=B_ID, current_leader_epoch=1)
        assert (f["error_code"], f["high_watermark"], f["records"]) == (0, 3, b""), f
        cons = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert cons["high_watermark"] == 3 and cons["records"], cons
        for rid, epoch, err in ((7, 1, kproto.NOT_LEADER_OR_FOLLOWER),
                                (B_ID, 0, kproto.FENCED_LEADER_EPOCH),
                                (B_ID, 2, kproto.UNKNOWN_LEADER_EPOCH)):
            f = kproto.fetch(c, t, 0, 3, max_wait_ms=0, replica_id=rid,
                             current_leader_epoch=epoch)
            assert f["error_code"] == err, (rid, epoch, f)

    # A parked acks=-1 produce completes when the follower fetches past it.
    out = {}

    def produce_all_acks():
        with raw_conn(a, timeout=30) as c:
            start = time.monotonic()
            out["r"] = kproto.produce(c, t, 0, batch(1), acks=-1, timeout_ms=20000)
            out["took"] = time.monotonic() - start

    th = threading.Thread(target=produce_all_acks)
    th.start()
    time.sleep(0.5)
    assert "r" not in out, out
    with raw_conn(a) as c:
        f = kproto.fetch(c, t, 0, 3, max_wait_ms=0, replica_id=B_ID, current_leader_epoch=1)
        assert f["records"], f
        kproto.fetch(c, t, 0, 6, max_wait_ms=0, replica_id=B_ID, current_leader_epoch=1)
    th.join(25)
    assert out["r"]["error_code"] == 0 and out["took"] < 10, out
    assert high_watermark(a, t) == 6


def test_follower_replicates_byte_for_byte(broker_factory, request):
    """(i) acks=-1 waits for B; (ii) B's segments equal A's byte for byte."""
    a, b, t = start_pair(broker_factory, request)
    lead(a, b, t)
    with raw_conn(a) as c:
        # No follower yet: the ISR member B never fetched, the HW stays.
        r = kproto.produce(c, t, 0, batch(0), acks=-1, timeout_ms=1000)
        assert r["error_code"] == REQUEST_TIMED_OUT, r
    assert high_watermark(a, t) == 0
    follow(b, a, t)
    wait_until(lambda: high_watermark(a, t) == 3, timeout=15, desc="A's HW moved by B")

    p = producer(a.bootstrap, acks="all", **{"linger.ms": 5})
    errors = []
    for i in range(300):
        p.produce(t, b"m%05d" % i, partition=0, on_delivery=lambda e, m: errors.append(e))
    assert p.flush(30) == 0
    assert errors == [None] * 300
    # Everything acknowledged is on B already (its fetch offset reached the
    # end, C6), so the files are equal at once, without waiting.
    assert log_bytes(a, t) == log_bytes(b, t)
    segs = wait_identical(a, b, t)
    assert high_watermark(a, t) == 303
    with raw_conn(a) as c:
        lo = kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP, version=4)
        assert lo["leader_epoch"] == 1, lo
    # B serves nothing: it follows.
    with raw_conn(b) as c:
        assert kproto.fetch(c, t, 0, 0, max_wait_ms=0)["error_code"] == \
            kproto.NOT_LEADER_OR_FOLLOWER
    assert len(segs) >= 1


def test_acks_all_times_out_while_follower_is_down(broker_factory, request):
    """(iii) With B stopped and the ISR still {A, B} (no shrink without a
    controller), acks=-1 times out; acks=1 is unaffected. B restarted and
    told to follow again catches up, and the produce that timed out becomes
    committed."""
    a, b, t = start_pair(broker_factory, request)
    lead(a, b, t)
    follow(b, a, t)
    with raw_conn(a) as c:
        assert kproto.produce(c, t, 0, batch(0), acks=-1, timeout_ms=15000)["error_code"] == 0
    wait_identical(a, b, t)
    b.stop()
    with raw_conn(a) as c:
        start = time.monotonic()
        r = kproto.produce(c, t, 0, batch(1), acks=-1, timeout_ms=1500)
        assert r["error_code"] == REQUEST_TIMED_OUT, r
        assert time.monotonic() - start >= 1.4
        assert kproto.produce(c, t, 0, batch(2), acks=1)["error_code"] == 0
    assert high_watermark(a, t) == 3
    b.start()
    follow(b, a, t)
    wait_until(lambda: high_watermark(a, t) == 9, timeout=15, desc="HW after B caught up")
    wait_identical(a, b, t)


def test_divergent_follower_truncates(broker_factory, request):
    """(iv) B, restarted, leads at epoch 2 and takes writes A never sees; A
    takes writes too and leads at epoch 3. Told to follow A at epoch 3, B
    truncates its epoch-2 tail (OffsetForLeaderEpoch, C8) and ends identical
    to A."""
    a, b, t = start_pair(broker_factory, request)
    lead(a, b, t)
    follow(b, a, t)
    with raw_conn(a) as c:
        for i in range(4):
            assert kproto.produce(c, t, 0, batch(i), acks=-1, timeout_ms=15000)["error_code"] == 0
    wait_identical(a, b, t)
    b.restart()
    lisr(b, t, state(B_ID, 2, (B_ID,)), live(b))
    with raw_conn(b) as c:
        for i in range(3):
            r = kproto.produce(c, t, 0, batch(10 + i), acks=-1, timeout_ms=5000)
            assert r["error_code"] == 0, r
    with raw_conn(a) as c:
        for i in range(2):
            assert kproto.produce(c, t, 0, batch(20 + i), acks=1)["error_code"] == 0
    assert high_watermark(b, t) == 21
    lead(a, b, t, epoch=3)
    follow(b, a, t, epoch=3)
    b.wait_for_log(r"truncating from 21 to 12", timeout=15)
    wait_identical(a, b, t)
    with raw_conn(a) as c:
        assert kproto.produce(c, t, 0, batch(30), acks=-1, timeout_ms=15000)["error_code"] == 0
    segs = wait_identical(a, b, t)
    recs = [r for _, d in segs for r in kproto.parse_records(d)]
    assert [r["offset"] for r in recs] == list(range(21))
    expect = [b"v%d-%d" % (i, k) for i in (0, 1, 2, 3, 20, 21, 30) for k in range(3)]
    assert [r["value"] for r in recs] == expect   # B's epoch-2 batches (10-12) are gone


def test_consumer_reads_only_committed_data(broker_factory, request):
    """C6: a consumer of A never sees what B has not fetched yet."""
    a, b, t = start_pair(broker_factory, request)
    lead(a, b, t)
    with raw_conn(a) as c:
        assert kproto.produce(c, t, 0, batch(0), acks=1)["error_code"] == 0
    cons = ck.Consumer({"bootstrap.servers": a.bootstrap, "group.id": t, "enable.auto.commit": False})
    try:
        lo, hi = cons.get_watermark_offsets(ck.TopicPartition(t, 0), timeout=10)
        assert (lo, hi) == (0, 0)
    finally:
        cons.close()
    follow(b, a, t)
    wait_until(lambda: high_watermark(a, t) == 3, timeout=15, desc="HW after B fetched")


def test_fenced_follower_stops_and_survives_a_leader_restart(broker_factory, request):
    """A follower fenced by a newer leader epoch stops (logged) until told
    the new epoch; a restarted leader costs it a reconnect and retries
    (UNKNOWN_LEADER_EPOCH until the leader hears of its epoch again); made
    leader, it stops fetching and takes writes."""
    a, b, t = start_pair(broker_factory, request)
    lead(a, b, t)
    follow(b, a, t)
    with raw_conn(a) as c:
        assert kproto.produce(c, t, 0, batch(0), acks=-1, timeout_ms=15000)["error_code"] == 0
    lead(a, b, t, epoch=2)                     # B is not told: its epoch 1 is fenced
    b.wait_for_log(r"stopped fetching from leader 0 at epoch 1: FENCED_LEADER_EPOCH", timeout=15)
    with raw_conn(a) as c:
        r = kproto.produce(c, t, 0, batch(1), acks=-1, timeout_ms=1000)
        assert r["error_code"] == REQUEST_TIMED_OUT, r
    follow(b, a, t, epoch=2)
    wait_until(lambda: high_watermark(a, t) == 6, timeout=15, desc="HW once B follows epoch 2")

    a.restart()                                # comes back leading at its local epoch 0
    with raw_conn(a) as c:
        assert kproto.produce(c, t, 0, batch(2), acks=1)["error_code"] == 0
    time.sleep(1)                              # B retries: connection lost, then epoch unknown
    lead(a, b, t, epoch=2)
    wait_until(lambda: high_watermark(a, t) == 9, timeout=15, desc="HW after A's restart")
    wait_identical(a, b, t)

    lisr(b, t, state(B_ID, 3, (B_ID,)), live(b))   # B leads: its fetcher lets go first
    with raw_conn(b) as c:
        r = kproto.produce(c, t, 0, batch(3), acks=-1, timeout_ms=5000)
        assert (r["error_code"], r["base_offset"]) == (0, 9), r
    assert high_watermark(b, t) == 12
