"""Produce / consume round trips across 3 partitions with keys, headers,
explicit timestamps, null/empty/binary/large values, for every compression
codec, produced by confluent-kafka (librdkafka) and by kafka-python, read back
by assign() and compared byte-exact (key, value, headers, partition, offset,
timestamp) in per-partition order."""

import functools
import random

import confluent_kafka as ck
import pytest

from conftest import consume_exact, create_topic, producer, unique_topic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
N = 300


def make_messages(n, ts_base, headers=True, null_values=True):
    rnd = random.Random(1234)
    out = []
    for i in range(n):
        key = None if i % 7 == 0 else b"key-%d" % (i % 11)
        kind = i % 50
        if kind == 0:
            value = b""
        elif kind == 1:
            value = bytes(range(256))
        elif kind == 2:
            value = b"compressible " * 800  # ~10 KB
        elif kind == 3 and null_values:
            value = None  # tombstone
        else:
            value = b"value-%06d-" % i + rnd.randbytes(rnd.randrange(0, 200))
        if key is None and value is None:
            key = b"tombstone-key"  # a record needs a key or a value (kafka-python insists)
        hdrs = None
        if headers:
            if i % 3 == 1:
                hdrs = [("h1", b"v%d" % i)]
            elif i % 3 == 2:
                hdrs = [("dup", b"a"), ("dup", b"b"), ("empty", b""), ("bin", bytes([0, 255, 10]))]
        # a third explicitly partitioned, the rest by key (or random when keyless)
        partition = i % 3 if i % 3 == 0 else None
        out.append(dict(key=key, value=value, headers=hdrs, partition=partition,
                        timestamp=ts_base + i))
    return out


def check_roundtrip(bs, topic, sent, placed):
    """sent[i] was acknowledged at placed[i] = (partition, offset)."""
    by_part = {p: [] for p in range(3)}
    for i, (p, off) in enumerate(placed):
        by_part[p].append((off, i))
    for p, lst in by_part.items():
        offs = [o for o, _ in lst]
        # per-partition produce order == offset order, offsets dense from 0
        assert offs == list(range(len(offs))), f"partition {p}: offsets {offs[:20]}..."
    got = consume_exact(bs, topic, {p: len(v) for p, v in by_part.items()})
    for p, lst in by_part.items():
        for (off, i), m in zip(lst, got[p]):
            s = sent[i]
            where = f"partition {p} offset {off} (message #{i})"
            assert m.offset() == off, where
            assert m.key() == s["key"], where
            assert m.value() == s["value"], where
            assert (m.headers() or []) == (s["headers"] or []), where
            assert m.timestamp() == (ck.TIMESTAMP_CREATE_TIME, s["timestamp"]), where


@pytest.mark.parametrize("codec", CODECS)
def test_confluent_kafka_roundtrip(broker, request, codec):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    sent = make_messages(N, 1_700_000_000_000)
    placed = [None] * len(sent)
    errors = []

    def dr(i, err, msg):
        if err is not None:
            errors.append((i, err))
        else:
            placed[i] = (msg.partition(), msg.offset())

    p = producer(bs, **{"compression.codec": codec, "linger.ms": 20,
                        "batch.num.messages": 64})
    for i, m in enumerate(sent):
        p.produce(t, on_delivery=functools.partial(dr, i),
                  **{k: v for k, v in m.items() if v is not None or k == "value"})
        p.poll(0)
    assert p.flush(30) == 0
    assert not errors, errors[:5]
    check_roundtrip(bs, t, sent, placed)


def kafka_python_codec_available(codec):
    import kafka.codec as kc
    return {"none": True, "gzip": kc.has_gzip(), "snappy": kc.has_snappy(),
            "lz4": kc.has_lz4(), "zstd": kc.has_zstd()}[codec]


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_producer_roundtrip(broker, request, codec):
    from kafka import KafkaProducer
    if not kafka_python_codec_available(codec):
        pytest.skip(f"kafka-python lacks {codec} (python3 module for it not installed)")
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    sent = make_messages(N, 1_700_000_100_000)
    kp = KafkaProducer(bootstrap_servers=bs, acks="all", linger_ms=20, retries=0,
                       compression_type=None if codec == "none" else codec,
                       client_id="samsa-it-kafka-python", request_timeout_ms=15000)
    try:
        futs = [kp.send(t, value=m["value"], key=m["key"], headers=m["headers"] or [],
                        partition=m["partition"], timestamp_ms=m["timestamp"])
                for m in sent]
        kp.flush(timeout=30)
        placed = []
        for f in futs:
            md = f.get(timeout=30)
            placed.append((md.partition, md.offset))
    finally:
        kp.close(timeout=10)
    check_roundtrip(bs, t, sent, placed)


def test_large_message_within_limits(broker, request):
    """A 900 KB value (below the 1 MB default message.max.bytes) survives."""
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    big = random.Random(7).randbytes(900_000)
    p = producer(bs, **{"message.max.bytes": 2_000_000})
    placed = []
    p.produce(t, value=big, key=b"big", partition=0,
              on_delivery=lambda err, msg: placed.append((err, msg.offset())))
    assert p.flush(30) == 0
    assert placed == [(None, 0)]
    got = consume_exact(bs, t, {0: 1})
    assert got[0][0].value() == big
