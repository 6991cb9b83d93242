"""Idempotent producer: librdkafka with enable.idempotence=true (including
retries across a broker restart), and the raw protocol rules:
InitProducerId, duplicate batch -> same base offset stored once, sequence
gap -> OUT_OF_ORDER_SEQUENCE_NUMBER (45)."""

import threading

import kproto
from conftest import (DeliveryLog, consume_exact, create_topic, producer, raw_conn,
                      unique_topic, wait_until, watermarks)


def idem_producer(bs, **kw):
    return producer(bs, **{"enable.idempotence": True, "acks": "all",
                           "linger.ms": 5, "batch.num.messages": 200,
                           "message.timeout.ms": 60000, **kw})


def check_exactly_once(bs, t, counts):
    got = consume_exact(bs, t, counts)
    for part, n in counts.items():
        vals = [m.value() for m in got[part]]
        want = [b"p%d-%07d" % (part, i) for i in range(n)]
        if vals != want:
            dups = len(vals) - len(set(vals))
            first = next(i for i, (a, b) in enumerate(zip(vals, want)) if a != b)
            raise AssertionError(f"partition {part}: first mismatch at offset {first}: "
                                 f"{vals[first]!r} != {want[first]!r}; {dups} duplicates")
        assert watermarks(bs, t, part)[1] == n, f"partition {part}: log holds extra records"


def test_idempotent_producer_exactly_once_in_order(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    n = 20000
    dl = DeliveryLog()
    p = idem_producer(bs)
    for i in range(n):
        part = i % 3
        p.produce(t, b"p%d-%07d" % (part, i // 3), partition=part, on_delivery=dl)
        p.poll(0)
    assert p.flush(60) == 0
    assert not dl.errors, dl.errors[:5]
    check_exactly_once(bs, t, {0: 6667, 1: 6667, 2: 6666})


def test_idempotent_producer_survives_broker_restart(broker, request):
    """Produce while the broker is stopped and restarted: the producer retries
    whatever was in flight; the restarted broker must recognise batches it
    already wrote (producer state restored from the log) - every message
    exactly once, in order, no delivery errors."""
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    n_per = 15000
    dl = DeliveryLog()
    p = idem_producer(bs, **{"retry.backoff.ms": 50, "reconnect.backoff.ms": 20,
                             "reconnect.backoff.max.ms": 200})
    stop = threading.Event()

    def run():
        # produce steadily (so the restart hits requests in flight), then keep
        # serving delivery callbacks until told to stop
        for i in range(n_per):
            for part in (0, 1):
                while True:
                    try:
                        p.produce(t, b"p%d-%07d" % (part, i), partition=part, on_delivery=dl)
                        break
                    except BufferError:
                        p.poll(0.01)
            p.poll(0.001 if i % 20 == 0 else 0)
        while not stop.is_set():
            p.poll(0.05)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        wait_until(lambda: len(dl.ok) >= 4000, 60, desc="4000 acknowledged messages")
        broker.stop()
        broker.start()
        wait_until(lambda: len(dl.ok) + len(dl.errors) >= 2 * n_per, 90,
                   desc="all deliveries reported after the restart")
    finally:
        stop.set()
        th.join(10)
    assert p.flush(30) == 0
    assert not dl.errors, dl.errors[:5]
    assert len(dl.ok) == 2 * n_per
    check_exactly_once(bs, t, {0: n_per, 1: n_per})


def test_raw_duplicate_batch_and_sequence_gap(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    with raw_conn(broker) as c:
        ip = kproto.init_producer_id(c)
        assert ip["error_code"] == 0, ip
        pid, epoch = ip["producer_id"], ip["producer_epoch"]
        assert pid >= 0 and epoch >= 0

        def batch(seq, n, tag):
            return kproto.record_batch([b"%s-%d" % (tag, i) for i in range(n)],
                                       producer_id=pid, producer_epoch=epoch,
                                       base_sequence=seq)

        b0 = batch(0, 5, b"a")
        r = kproto.produce(c, t, 0, b0)
        assert r["error_code"] == 0, r
        base = r["base_offset"]
        assert base == 0
        # exact resend (e.g. lost response): same base offset, stored once
        r = kproto.produce(c, t, 0, b0)
        assert r["error_code"] == 0, r
        assert r["base_offset"] == base

        r = kproto.produce(c, t, 0, batch(5, 3, b"b"))
        assert r["error_code"] == 0, r
        assert r["base_offset"] == 5
        # duplicate of an older batch (still among the last 5) is recognised too
        r = kproto.produce(c, t, 0, b0)
        assert r["error_code"] == 0, r
        assert r["base_offset"] == base

        # gap: next expected sequence is 8
        r = kproto.produce(c, t, 0, batch(20, 2, b"gap"))
        assert r["error_code"] == kproto.OUT_OF_ORDER_SEQUENCE_NUMBER, r

        # the log holds each accepted record exactly once
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert f["error_code"] == 0 and f["high_watermark"] == 8, f
        recs = kproto.parse_records(f["records"])
        assert [(x["offset"], x["value"]) for x in recs] == \
            [(i, b"a-%d" % i) for i in range(5)] + [(5 + i, b"b-%d" % i) for i in range(3)]
        assert all(x["batch"]["producer_id"] == pid for x in recs)

        # the right next sequence still works after the rejected gap
        r = kproto.produce(c, t, 0, batch(8, 1, b"c"))
        assert r["error_code"] == 0 and r["base_offset"] == 8, r

        # a stale epoch is fenced
        if epoch > 0:
            stale = kproto.record_batch([b"old"], producer_id=pid, producer_epoch=epoch - 1,
                                        base_sequence=9)
            r = kproto.produce(c, t, 0, stale)
            assert r["error_code"] == kproto.INVALID_PRODUCER_EPOCH, r

    # the clients agree
    got = consume_exact(bs, t, {0: 9})[0]
    assert [m.value() for m in got][-1] == b"c-0"


def test_raw_producer_state_survives_restart(broker, request):
    """After a clean restart the broker still knows the producer's last
    sequence: a resend is deduplicated and a gap is rejected."""
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    with raw_conn(broker) as c:
        ip = kproto.init_producer_id(c)
        pid, epoch = ip["producer_id"], ip["producer_epoch"]
        b0 = kproto.record_batch([b"x0", b"x1"], producer_id=pid, producer_epoch=epoch,
                                 base_sequence=0)
        assert kproto.produce(c, t, 0, b0)["base_offset"] == 0
    broker.restart()
    with raw_conn(broker) as c:
        r = kproto.produce(c, t, 0, b0)
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
        r = kproto.produce(c, t, 0, kproto.record_batch(
            [b"gap"], producer_id=pid, producer_epoch=epoch, base_sequence=7))
        assert r["error_code"] == kproto.OUT_OF_ORDER_SEQUENCE_NUMBER, r
        r = kproto.produce(c, t, 0, kproto.record_batch(
            [b"x2"], producer_id=pid, producer_epoch=epoch, base_sequence=2))
        assert r["error_code"] == 0 and r["base_offset"] == 2, r
    assert watermarks(bs, t, 0) == (0, 3)
