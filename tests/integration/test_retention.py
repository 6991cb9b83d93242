"""Retention by time and by size, and DeleteRecords: old segments are
deleted from disk, the log start offset advances, the active segment and
everything after the new start stay readable."""

import time

import kproto
from conftest import (consume_exact, create_topic, produce_all, producer, raw_conn,
                      unique_topic, wait_until, watermarks)

SEGMENT = 8192
VALUE = b"r" * 90
COMMON = {"log.segment.bytes": SEGMENT, "log.retention.check.interval.ms": 500,
          "log.segment.delete.delay.ms": 0}


def produce_batches(bs, t, n_batches, per_batch=10, ts=None, start=0):
    """n_batches produce calls of per_batch messages each (one batch per flush)."""
    p = producer(bs, **{"linger.ms": 0, "batch.num.messages": per_batch})
    seq = start
    for _ in range(n_batches):
        msgs = [dict(value=b"%08d" % (seq + j) + VALUE, partition=0,
                     timestamp=ts) for j in range(per_batch)]
        produce_all(p, t, msgs)
        seq += per_batch
    return seq


def seg_files(b, t):
    d = b.partition_dir(t, 0)
    return sorted(p.name for p in d.iterdir()
                  if p.name.split(".")[0].isdigit() and ".log" in p.name)


def check_tail_readable(bs, t, lo, hi):
    got = consume_exact(bs, t, {0: hi - lo}, start={0: lo})[0]
    assert [m.offset() for m in got] == list(range(lo, hi))
    assert [int(m.value()[:8]) for m in got] == list(range(lo, hi))


def test_retention_by_time(broker_factory, request):
    b = broker_factory({**COMMON, "log.retention.ms": 60000})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    now = int(time.time() * 1000)
    # 300 messages stamped a day ago (expired), then 30 current ones
    old_end = produce_batches(bs, t, 30, ts=now - 86_400_000)
    end = produce_batches(bs, t, 3, ts=None, start=old_end)
    segs = b.segments(t, 0)
    # the segment holding the first current message, and everything after, must stay
    keep_from = max(base for base, _ in segs if base <= old_end)
    assert keep_from > 0, f"test needs several segments: {segs}"

    wait_until(lambda: watermarks(bs, t, 0)[0] == keep_from, 20,
               desc=f"log start offset to reach {keep_from} (segments {segs})")
    wait_until(lambda: all(int(n.split(".")[0]) >= keep_from for n in seg_files(b, t)), 10,
               desc="expired segment files removed")
    names = seg_files(b, t)
    assert f"{keep_from:020d}.log" in names
    bases = [base for base, _ in b.segments(t, 0)]
    assert bases == [base for base, _ in segs if base >= keep_from], (bases, segs)
    for base in bases:
        for ext in (".index", ".timeindex"):
            assert (b.partition_dir(t, 0) / f"{base:020d}{ext}").exists()
    assert watermarks(bs, t, 0) == (keep_from, end)
    check_tail_readable(bs, t, keep_from, end)
    # reading below the start is out of range
    with raw_conn(b) as c:
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert f["error_code"] == kproto.OFFSET_OUT_OF_RANGE, f
        # as Apache Kafka (the differential suite): no offsets with the error
        assert f["log_start_offset"] == -1 and f["high_watermark"] == -1, f


def test_retention_expires_everything_but_keeps_log_usable(broker_factory, request):
    b = broker_factory({**COMMON, "log.retention.ms": 60000})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    old = int(time.time() * 1000) - 86_400_000
    end = produce_batches(bs, t, 20, ts=old)
    wait_until(lambda: watermarks(bs, t, 0) == (end, end), 20,
               desc=f"all {end} expired records removed")
    assert len(b.segments(t, 0)) >= 1, "a partition always keeps an active segment"
    out = produce_all(producer(bs), t, [dict(value=b"fresh", partition=0)])
    assert out[0].offset() == end
    got = consume_exact(bs, t, {0: 1}, start={0: end})[0]
    assert got[0].value() == b"fresh"


def test_retention_by_bytes(broker_factory, request):
    limit = 3 * SEGMENT
    b = broker_factory({**COMMON, "log.retention.bytes": limit, "log.retention.ms": -1})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    end = produce_batches(bs, t, 60)

    def size_ok():
        segs = b.segments(t, 0)
        sizes = [p.stat().st_size for _, p in segs]
        # Kafka rule: delete oldest while (total - its size) >= retention.bytes
        return watermarks(bs, t, 0)[0] > 0 and sum(sizes) - sizes[0] < limit

    wait_until(size_ok, 20, desc=f"log trimmed to retention.bytes={limit}")
    lo, hi = watermarks(bs, t, 0)
    assert hi == end
    assert lo == b.segments(t, 0)[0][0], "log start offset != first segment base offset"
    total = sum(p.stat().st_size for _, p in b.segments(t, 0))
    assert total <= limit + SEGMENT, total
    check_tail_readable(bs, t, lo, hi)


def test_topic_level_retention_override(broker_factory, request):
    """retention.ms on one topic; the broker default (7 days) on another."""
    b = broker_factory(COMMON)
    bs = b.bootstrap
    short, long_ = unique_topic(request, "-short"), unique_topic(request, "-long")
    create_topic(bs, short, 1, config={"retention.ms": "60000"})
    create_topic(bs, long_, 1)
    ts = int(time.time() * 1000) - 3 * 86_400_000
    end_s = produce_batches(bs, short, 20, ts=ts)
    end_l = produce_batches(bs, long_, 20, ts=ts)
    wait_until(lambda: watermarks(bs, short, 0)[0] > 0, 20, desc="short topic trimmed")
    # the long topic went through the same checks and must be untouched
    with raw_conn(b) as c:
        assert kproto.list_offsets(c, long_, 0, kproto.EARLIEST_TIMESTAMP)["offset"] == 0
    assert watermarks(bs, long_, 0) == (0, end_l)
    assert watermarks(bs, short, 0)[1] == end_s


def test_delete_records(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    produce_all(producer(bs), t, [dict(value=b"%08d" % i, partition=0) for i in range(100)])
    produce_all(producer(bs), t, [dict(value=b"%08d" % i, partition=1) for i in range(10)])
    with raw_conn(broker) as c:
        r = kproto.delete_records(c, t, 0, 40)
        assert r == {"partition": 0, "low_watermark": 40, "error_code": 0}, r
        assert watermarks(bs, t, 0) == (40, 100)
        # reading below the new start is out of range; from the start is fine
        f = kproto.fetch(c, t, 0, 10, max_wait_ms=0)
        assert f["error_code"] == kproto.OFFSET_OUT_OF_RANGE, f
        assert kproto.list_offsets(c, t, 0, kproto.EARLIEST_TIMESTAMP)["offset"] == 40
        # a consumer starting at "beginning" starts at 40
        got = consume_exact(bs, t, {0: 60})[0]
        assert got[0].offset() == 40 and got[0].value() == b"%08d" % 40
        # moving backwards is a no-op, beyond the high watermark is an error
        r = kproto.delete_records(c, t, 0, 20)
        assert r["error_code"] == 0 and r["low_watermark"] == 40, r
        r = kproto.delete_records(c, t, 0, 101)
        assert r["error_code"] == kproto.OFFSET_OUT_OF_RANGE, r
        # -1 means "up to the high watermark"
        r = kproto.delete_records(c, t, 1, -1)
        assert r["error_code"] == 0 and r["low_watermark"] == 10, r
        assert watermarks(bs, t, 1) == (10, 10)
        # unknown partition
        r = kproto.delete_records(c, t, 9, 0)
        assert r["error_code"] == kproto.UNKNOWN_TOPIC_OR_PARTITION, r
    # the new start survives a restart
    broker.restart()
    assert watermarks(bs, t, 0) == (40, 100)
    assert watermarks(bs, t, 1) == (10, 10)
