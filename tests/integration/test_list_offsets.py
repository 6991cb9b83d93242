"""ListOffsets: by timestamp (offsets_for_times), earliest/latest
(get_watermark_offsets), max timestamp (raw, v7+)."""

import confluent_kafka as ck

import kproto
from conftest import consumer, create_topic, produce_all, producer, raw_conn, unique_topic

BASE = 1_700_000_000_000


def offsets_for_times(bs, t, queries):
    """queries: {partition: timestamp} -> {partition: offset}"""
    c = consumer(bs)
    try:
        res = c.offsets_for_times([ck.TopicPartition(t, p, ts) for p, ts in queries.items()],
                                  timeout=10)
        for tp in res:
            assert tp.error is None, tp
        return {tp.partition: tp.offset for tp in res}
    finally:
        c.close()


def test_offsets_for_times_exact(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    # partition 0: one message per batch; partition 1: all in one batch
    p = producer(bs, **{"linger.ms": 0})
    for i in range(10):
        produce_all(p, t, [dict(value=b"p0-%d" % i, partition=0, timestamp=BASE + i * 1000)])
    produce_all(producer(bs, **{"linger.ms": 50}), t,
                [dict(value=b"p1-%d" % i, partition=1, timestamp=BASE + i * 1000)
                 for i in range(10)])
    for part in (0, 1):
        cases = {BASE - 5000: 0, BASE: 0, BASE + 1: 1, BASE + 3500: 4, BASE + 5000: 5,
                 BASE + 9000: 9, BASE + 9001: -1}
        for ts, want in cases.items():
            got = offsets_for_times(bs, t, {part: ts})[part]
            assert got == want, f"partition {part}: timestamp {ts - BASE:+d}: offset {got}, want {want}"
    # both partitions in one request
    assert offsets_for_times(bs, t, {0: BASE + 2000, 1: BASE + 7000}) == {0: 2, 1: 7}


def test_offsets_for_times_non_monotonic(broker, request):
    """Kafka: the earliest offset whose timestamp >= target (in offset order)."""
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    tss = [BASE + 5000, BASE + 1000, BASE + 7000, BASE + 2000]
    p = producer(bs, **{"linger.ms": 0})
    for i, ts in enumerate(tss):
        produce_all(p, t, [dict(value=b"m%d" % i, partition=0, timestamp=ts)])
    assert offsets_for_times(bs, t, {0: BASE + 3000})[0] == 0
    assert offsets_for_times(bs, t, {0: BASE + 6000})[0] == 2
    assert offsets_for_times(bs, t, {0: BASE + 7001})[0] == -1


def test_watermarks_earliest_latest(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    produce_all(producer(bs), t, [dict(value=b"v", partition=i % 2) for i in range(25)])
    c = consumer(bs)
    try:
        assert c.get_watermark_offsets(ck.TopicPartition(t, 0), timeout=10) == (0, 13)
        assert c.get_watermark_offsets(ck.TopicPartition(t, 1), timeout=10) == (0, 12)
        assert c.get_watermark_offsets(ck.TopicPartition(t, 2), timeout=10) == (0, 0)
        # OFFSET_BEGINNING / OFFSET_END through offsets_for_times use ListOffsets -2 / -1
        res = c.offsets_for_times([ck.TopicPartition(t, 0, ck.OFFSET_END),
                                   ck.TopicPartition(t, 1, ck.OFFSET_BEGINNING)], timeout=10)
        assert [(r.partition, r.offset) for r in res] == [(0, 13), (1, 0)]
    finally:
        c.close()
    with raw_conn(broker) as rc:
        assert kproto.list_offsets(rc, t, 0, kproto.EARLIEST_TIMESTAMP)["offset"] == 0
        assert kproto.list_offsets(rc, t, 0, kproto.LATEST_TIMESTAMP)["offset"] == 13
        r = kproto.list_offsets(rc, t, 7, kproto.LATEST_TIMESTAMP)
        assert r["error_code"] == kproto.UNKNOWN_TOPIC_OR_PARTITION, r


def test_raw_max_timestamp(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    tss = [BASE + 1000, BASE + 9000, BASE + 3000, BASE + 9000, BASE + 2000]
    p = producer(bs, **{"linger.ms": 0})
    for i, ts in enumerate(tss):
        produce_all(p, t, [dict(value=b"m%d" % i, partition=0, timestamp=ts)])
    with raw_conn(broker) as c:
        r = kproto.list_offsets(c, t, 0, kproto.MAX_TIMESTAMP, lo=7)
        assert r["error_code"] == 0, r
        # first offset carrying the max timestamp
        assert (r["offset"], r["timestamp"]) == (1, BASE + 9000), r
        r = kproto.list_offsets(c, t, 0, BASE + 2500, lo=7)
        assert (r["offset"], r["timestamp"]) == (1, BASE + 9000), r
