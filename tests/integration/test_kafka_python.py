"""kafka-python 2.0.2 (pure-Python protocol implementation, its own version
negotiation): producer with acks=1 and acks=all, KafkaConsumer with assign()
reading back; cross-client checks with librdkafka."""

import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from conftest import consume_exact, create_topic, produce_all, producer, unique_topic


def kp_consume(bs, topic, partitions, want, timeout=30, start=None):
    """assign() + poll until `want` records; returns {partition: [records]}."""
    c = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", client_id="samsa-it-kafka-python",
                      request_timeout_ms=30000, fetch_max_wait_ms=200)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        c.assign(tps)
        for tp in tps:
            if start and tp.partition in start:
                c.seek(tp, start[tp.partition])
            else:
                c.seek_to_beginning(tp)
        got = {p: [] for p in partitions}
        n = 0
        deadline = time.monotonic() + timeout
        while n < want:
            assert time.monotonic() < deadline, f"kafka-python consumed {n}/{want}"
            for tp, recs in c.poll(timeout_ms=200).items():
                got[tp.partition].extend(recs)
                n += len(recs)
        assert n == want, f"consumed {n}, expected {want}"
        return got
    finally:
        c.close()


@pytest.mark.parametrize("acks", [1, "all"])
def test_kafka_python_produce_and_consume(broker, request, acks):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    kp = KafkaProducer(bootstrap_servers=bs, acks=acks, linger_ms=5, retries=0,
                       client_id="samsa-it-kafka-python", request_timeout_ms=15000)
    sent = []
    try:
        futs = []
        for i in range(300):
            m = dict(key=b"k%d" % (i % 13), value=b"kp-%d-" % i + bytes([i % 256]) * (i % 40),
                     headers=[("i", b"%d" % i)], partition=i % 3)
            sent.append(m)
            futs.append(kp.send(t, **m))
        kp.flush(timeout=30)
        meta = [f.get(timeout=30) for f in futs]
    finally:
        kp.close(timeout=10)
    per = {p: [m for m in sent if m["partition"] == p] for p in range(3)}
    for p in range(3):
        offs = [md.offset for md, m in zip(meta, sent) if m["partition"] == p]
        assert offs == list(range(len(per[p]))), f"partition {p} offsets {offs[:10]}"
        assert all(md.partition == m["partition"] for md, m in zip(meta, sent))

    got = kp_consume(bs, t, [0, 1, 2], len(sent))
    for p in range(3):
        assert [(r.offset, r.key, r.value, list(r.headers)) for r in got[p]] == \
            [(i, m["key"], m["value"], m["headers"]) for i, m in enumerate(per[p])]
    # librdkafka reads kafka-python's batches identically
    got2 = consume_exact(bs, t, {p: len(per[p]) for p in range(3)})
    for p in range(3):
        assert [(m.key(), m.value(), m.headers()) for m in got2[p]] == \
            [(m["key"], m["value"], m["headers"]) for m in per[p]]


# No zstd here: kafka-python 2.0.2 always fetches with Fetch v4, and Kafka
# refuses zstd data to Fetch < v10 (UNSUPPORTED_COMPRESSION_TYPE).
@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_kafka_python_consumes_librdkafka_batches(broker, request, codec):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    msgs = [dict(value=b"rd-%s-%d" % (codec.encode(), i) * (1 + i % 5), key=b"%d" % i,
                 partition=0, timestamp=1_700_000_000_000 + i) for i in range(500)]
    produce_all(producer(bs, **{"compression.codec": codec, "linger.ms": 20}), t, msgs)
    got = kp_consume(bs, t, [0], len(msgs))[0]
    assert [(r.offset, r.key, r.value, r.timestamp) for r in got] == \
        [(i, m["key"], m["value"], m["timestamp"]) for i, m in enumerate(msgs)]


def test_kafka_python_seek_middle(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    produce_all(producer(bs), t, [dict(value=b"%d" % i, partition=0) for i in range(50)])
    got = kp_consume(bs, t, [0], 10, start={0: 40})[0]
    assert [(r.offset, r.value) for r in got] == [(i, b"%d" % i) for i in range(40, 50)]
