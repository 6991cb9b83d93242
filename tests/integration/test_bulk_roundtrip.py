"""1,000,000 small messages through a 3-partition topic: exact counts and
per-partition order (each value carries its partition's sequence number)."""

import os
import time

import confluent_kafka as ck
import pytest

from conftest import consumer, create_topic, producer, unique_topic, watermarks

TOTAL = int(os.environ.get("SAMSA_BULK_MESSAGES", "1000000"))
PARTS = 3


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_million_messages_roundtrip(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, PARTS)

    errors = []
    p = producer(bs, **{
        "linger.ms": 20, "batch.num.messages": 10000, "batch.size": 1_000_000,
        "queue.buffering.max.messages": 500_000, "acks": "1",
        "delivery.report.only.error": True, "message.timeout.ms": 120_000,
        "on_delivery": lambda err, msg: errors.append(err),
    })
    t0 = time.monotonic()
    seq = [0] * PARTS
    produce = p.produce
    for i in range(TOTAL):
        part = i % PARTS
        v = b"%d:%09d" % (part, seq[part])
        while True:
            try:
                produce(t, v, partition=part)
                break
            except BufferError:
                p.poll(0.01)
        seq[part] += 1
    left = p.flush(120)
    t_prod = time.monotonic() - t0
    assert left == 0, f"{left} messages undelivered after flush"
    assert not errors, f"{len(errors)} delivery errors, first: {errors[:3]}"
    for part in range(PARTS):
        assert watermarks(bs, t, part) == (0, seq[part]), f"partition {part}"

    t1 = time.monotonic()
    c = consumer(bs, **{"fetch.max.bytes": 52428800, "queued.min.messages": 200000})
    try:
        c.assign([ck.TopicPartition(t, part, 0) for part in range(PARTS)])
        nxt = [0] * PARTS
        prefixes = [b"%d:" % part for part in range(PARTS)]
        have = 0
        deadline = time.monotonic() + 180
        while have < TOTAL:
            assert time.monotonic() < deadline, f"consumed {have}/{TOTAL}: {nxt}"
            for m in c.consume(num_messages=20000, timeout=0.5):
                err = m.error()
                if err is not None:
                    if err.code() == ck.KafkaError._PARTITION_EOF:
                        continue
                    raise AssertionError(f"consumer error: {err}")
                part = m.partition()
                n = nxt[part]
                # offset == sequence number: dense, ordered, no dups, no loss
                if m.offset() != n or m.value() != prefixes[part] + b"%09d" % n:
                    raise AssertionError(
                        f"partition {part}: expected offset/seq {n}, got offset "
                        f"{m.offset()} value {m.value()!r}")
                nxt[part] = n + 1
                have += 1
        assert nxt == seq
        # nothing beyond what we produced
        extra = [m for m in c.consume(num_messages=100, timeout=0.5) if m.error() is None]
        assert not extra, f"{len(extra)} unexpected extra messages"
    finally:
        c.close()
    t_cons = time.monotonic() - t1
    print(f"\n{TOTAL} msgs: produce+flush {t_prod:.1f}s ({TOTAL / t_prod:,.0f}/s), "
          f"consume {t_cons:.1f}s ({TOTAL / t_cons:,.0f}/s)")
