"""Durability: clean restarts keep everything (data, topics, partitions,
configs); kill -9 during acks=all produce with log.flush.interval.messages=1
loses no acknowledged message, and the log stays readable and writable."""

import threading

from confluent_kafka.admin import ConfigResource, NewPartitions

from conftest import (DeliveryLog, admin, consume_exact, create_topic, produce_all, producer,
                      unique_topic, wait_topic, wait_until, watermarks)


def test_restart_keeps_all_data(broker_factory, request):
    # small segments so the data spans many segment files
    b = broker_factory({"log.segment.bytes": 16384})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 3, config={"retention.ms": "86400000"})
    t_empty = unique_topic(request, "-empty")
    create_topic(bs, t_empty, 2)
    sent = {p: [] for p in range(3)}
    for codec in ("none", "gzip", "lz4", "zstd", "snappy"):
        msgs = [dict(value=b"%s-%d-" % (codec.encode(), i) + b"x" * (i % 300),
                     key=b"k%d" % i, partition=i % 3, headers=[("codec", codec.encode())])
                for i in range(600)]
        # batches must fit a segment (else RECORD_LIST_TOO_LARGE, as in Kafka)
        produce_all(producer(bs, **{"compression.codec": codec, "batch.size": 8000}), t, msgs)
        for m in msgs:
            sent[m["partition"]].append((m["key"], m["value"]))
    assert len(b.segments(t, 0)) > 2, "expected the data to span several segments"
    marks = {p: watermarks(bs, t, p) for p in range(3)}

    for round_ in range(2):
        b.restart()
        assert {p: watermarks(bs, t, p) for p in range(3)} == marks, f"after restart {round_ + 1}"
        got = consume_exact(bs, t, {p: len(v) for p, v in sent.items()})
        for p in range(3):
            assert [(m.key(), m.value()) for m in got[p]] == sent[p], f"partition {p}"
            assert [m.offset() for m in got[p]] == list(range(len(sent[p])))

    md = admin(bs).list_topics(timeout=10)
    assert len(md.topics[t_empty].partitions) == 2
    assert watermarks(bs, t_empty, 1) == (0, 0)
    res = ConfigResource(ConfigResource.Type.TOPIC, t)
    a = admin(bs)  # keep the client alive while its future is pending
    cfg = a.describe_configs([res])[res].result(15)
    assert cfg["retention.ms"].value == "86400000"

    # writes continue at the right offsets
    out = produce_all(producer(bs), t, [dict(value=b"after", partition=p) for p in range(3)])
    assert sorted((m.partition(), m.offset()) for m in out) == \
        [(p, len(sent[p])) for p in range(3)]


def test_restart_keeps_added_partitions_and_deletions(broker, request):
    bs = broker.bootstrap
    t1, t2 = unique_topic(request, "-grown"), unique_topic(request, "-deleted")
    create_topic(bs, t1, 1)
    create_topic(bs, t2, 1)
    a = admin(bs)
    a.create_partitions([NewPartitions(t1, 4)])[t1].result(15)
    wait_topic(bs, t1, 4)
    produce_all(producer(bs), t1, [dict(value=b"x", partition=3)])
    a.delete_topics([t2], operation_timeout=10)[t2].result(15)
    wait_until(lambda: t2 not in a.list_topics(timeout=10).topics, 10)
    broker.restart()
    md = admin(bs).list_topics(timeout=10)
    assert len(md.topics[t1].partitions) == 4
    assert t2 not in md.topics
    assert watermarks(bs, t1, 3) == (0, 1)


def test_kill9_during_produce_keeps_acknowledged(broker_factory, request):
    b = broker_factory({"log.flush.interval.messages": 1, "log.segment.bytes": 65536})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    dl = DeliveryLog()
    p = producer(bs, **{"acks": "all", "linger.ms": 2, "batch.num.messages": 50,
                        "enable.idempotence": False, "retries": 0,
                        "message.timeout.ms": 10000, "socket.timeout.ms": 5000})
    stop = threading.Event()
    produced = [0]

    def run():
        i = 0
        while not stop.is_set():
            try:
                p.produce(t, b"%09d" % i, partition=i % 2, on_delivery=dl)
                i += 1
            except BufferError:
                pass
            p.poll(0.001 if i % 100 == 0 else 0)
        produced[0] = i

    th = threading.Thread(target=run, daemon=True)
    th.start()
    try:
        wait_until(lambda: len(dl.ok) >= 3000, 60, desc="3000 acknowledged messages")
        b.kill9()
    finally:
        stop.set()
        th.join(10)
    p.purge()
    p.flush(15)
    acked = {(m.partition(), m.offset()): m.value() for m in dl.ok}
    assert len(acked) >= 3000

    b.start()
    for part in (0, 1):
        lo, hi = watermarks(bs, t, part)
        assert lo == 0
        mine = sorted((o, v) for (pp, o), v in acked.items() if pp == part)
        assert hi >= (mine[-1][0] + 1 if mine else 0), \
            f"partition {part}: high watermark {hi} below acknowledged offset {mine[-1][0]}"
        got = consume_exact(bs, t, {part: hi})[part]
        log = {m.offset(): m.value() for m in got}
        missing = [(o, v) for o, v in mine if log.get(o) != v]
        assert not missing, f"partition {part}: {len(missing)} acknowledged messages lost or " \
                            f"changed, first {missing[:3]}"
        vals = [int(m.value()) for m in got]
        assert vals == sorted(vals) and len(set(vals)) == len(vals), \
            f"partition {part}: log out of order / duplicated after crash"
        assert all(v % 2 == part for v in vals)

    # the recovered log accepts writes at its end
    out = produce_all(producer(bs), t, [dict(value=b"post-crash", partition=0)])
    hi0 = watermarks(bs, t, 0)[1]
    assert out[0].offset() == hi0 - 1
    got = consume_exact(bs, t, {0: 1}, start={0: hi0 - 1})[0]
    assert got[0].value() == b"post-crash"

