"""Incremental fetch sessions (KIP-227), over the raw protocol.

The Debian clients never open sessions (librdkafka 2.0.2, kafka-python and
kafkajs send session id 0, epoch -1); the Java consumer always does. These
tests drive the session protocol directly: creation, incremental fetches
that omit unchanged partitions, forgotten topics, topic ids (v13+), the
session errors and closing a session.
"""

import uuid

from conftest import create_topic, produce_all, producer, raw_conn, unique_topic
from kproto import FETCH, METADATA, W, is_flexible

FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71


def fetch_session(conn, v, session_id, epoch, parts, forgotten=(), max_wait_ms=0, min_bytes=0):
    """parts: [(topic_or_id, partition, offset)], forgotten: [(topic_or_id, [partitions])].
    Returns (error, session_id, {(topic_or_id, partition): (error, hw, nbytes)})."""
    flex = is_flexible(FETCH, v)
    by_id = v >= 13
    w = W(flex)
    if v <= 14:
        w.i32(-1)
    w.i32(max_wait_ms).i32(min_bytes).i32(50 << 20).i8(0).i32(session_id).i32(epoch)
    topics = {}
    for t, p, off in parts:
        topics.setdefault(t, []).append((p, off))

    def part(w, po):
        p, off = po
        w.i32(p).i32(-1).i64(off)
        if v >= 12:
            w.i32(-1)
        w.i64(-1).i32(1 << 20).tags()

    def topic(w, item):
        t, ps = item
        if by_id:
            w.raw(t)
        else:
            w.string(t)
        w.array(ps, part).tags()

    w.array(list(topics.items()), topic)

    def forget(w, item):
        t, ps = item
        if by_id:
            w.raw(t)
        else:
            w.string(t)
        w.array(ps, lambda w, p: w.i32(p)).tags()

    w.array(list(forgotten), forget)
    w.string("")
    w.tags()
    r = conn.call(FETCH, v, w.done(), timeout=10 + max_wait_ms / 1000)
    r.i32()
    err, sid = r.i16(), r.i32()
    out = {}

    def presp(r, t):
        p, e, hw = r.i32(), r.i16(), r.i64()
        r.i64()
        r.i64()
        r.array(lambda r: (r.i64(), r.i64(), r.tags()))
        r.i32()
        recs = r.bytes() or b""
        r.tags()
        out[(t, p)] = (e, hw, len(recs))

    def tresp(r):
        t = r._take(16) if by_id else r.string()
        r.array(lambda r: presp(r, t))
        r.tags()

    r.array(tresp)
    return err, sid, out


def topic_id(conn, name):
    r = conn.call(METADATA, 12, W(True).array([name], lambda w, t: w.raw(b"\0" * 16).string(t).tags())
                  .bool(False).bool(False).tags().done())
    r.i32()
    r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string(), r.tags()))
    r.string()
    r.i32()

    def topic(r):
        r.i16()
        n = r.string()
        tid = r._take(16)
        r.bool()
        r.array(lambda r: (r.i16(), r.i32(), r.i32(), r.i32(), r.array(lambda r: r.i32()),
                           r.array(lambda r: r.i32()), r.array(lambda r: r.i32()), r.tags()))
        r.i32()
        r.tags()
        return n, tid

    return dict(r.array(topic))[name]


def test_session_created_and_incremental_fetch_omits_unchanged(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 2)
    produce_all(producer(broker.bootstrap), t, [dict(value=b"a", partition=0),
                                                dict(value=b"b", partition=1)])
    with raw_conn(broker) as c:
        err, sid, parts = fetch_session(c, 11, 0, 0, [(t, 0, 0), (t, 1, 0)])
        assert err == 0 and sid != 0
        assert set(parts) == {(t, 0), (t, 1)}            # full response
        assert all(e == 0 and hw == 1 and n > 0 for e, hw, n in parts.values())

        # Positions advanced: nothing new -> an empty incremental response.
        err, sid2, parts = fetch_session(c, 11, sid, 1, [(t, 0, 1), (t, 1, 1)])
        assert (err, sid2) == (0, sid)
        assert parts == {}

        produce_all(producer(broker.bootstrap), t, [dict(value=b"c", partition=1)])
        # Incremental fetch naming no partitions: the session remembers them.
        err, _, parts = fetch_session(c, 11, sid, 2, [])
        assert err == 0
        assert set(parts) == {(t, 1)}, parts              # only the one that changed
        assert parts[(t, 1)][1] == 2 and parts[(t, 1)][2] > 0


def test_session_errors_and_close(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    with raw_conn(broker) as c:
        err, sid, _ = fetch_session(c, 11, 0, 0, [(t, 0, 0)])
        assert err == 0 and sid
        err, _, parts = fetch_session(c, 11, sid, 5, [])
        assert err == INVALID_FETCH_SESSION_EPOCH and parts == {}
        err, _, _ = fetch_session(c, 11, sid + 1 if sid < 0x7fffffff else 1, 1, [])
        assert err == FETCH_SESSION_ID_NOT_FOUND
        # The session still works at the right epoch.
        err, _, _ = fetch_session(c, 11, sid, 1, [])
        assert err == 0
        # Epoch -1 closes it (a sessionless full fetch answers).
        err, sid_after, parts = fetch_session(c, 11, sid, -1, [(t, 0, 0)])
        assert err == 0 and sid_after == 0 and (t, 0) in parts
        err, _, _ = fetch_session(c, 11, sid, 2, [])
        assert err == FETCH_SESSION_ID_NOT_FOUND


def test_forgotten_partitions_leave_the_session(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 2)
    with raw_conn(broker) as c:
        err, sid, _ = fetch_session(c, 11, 0, 0, [(t, 0, 0), (t, 1, 0)])
        assert err == 0
        err, _, _ = fetch_session(c, 11, sid, 1, [], forgotten=[(t, [0])])
        assert err == 0
        produce_all(producer(broker.bootstrap), t, [dict(value=b"x", partition=0),
                                                    dict(value=b"y", partition=1)])
        err, _, parts = fetch_session(c, 11, sid, 2, [])
        assert err == 0 and set(parts) == {(t, 1)}, parts


def test_session_with_topic_ids_v13(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    produce_all(producer(broker.bootstrap), t, [dict(value=b"v", partition=0)])
    with raw_conn(broker) as c:
        tid = topic_id(c, t)
        assert tid != b"\0" * 16
        err, sid, parts = fetch_session(c, 13, 0, 0, [(tid, 0, 0)])
        assert err == 0 and sid and parts[(tid, 0)][0] == 0 and parts[(tid, 0)][2] > 0
        unknown = uuid.uuid4().bytes
        err, _, parts = fetch_session(c, 13, 0, -1, [(unknown, 0, 0)])
        assert err == 0 and parts[(unknown, 0)][0] == 100   # UNKNOWN_TOPIC_ID


def test_long_poll_in_session_wakes_on_append(broker, request):
    import threading
    import time
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    with raw_conn(broker) as c:
        err, sid, _ = fetch_session(c, 11, 0, 0, [(t, 0, 0)])
        assert err == 0
        timer = threading.Timer(0.3, lambda: produce_all(producer(broker.bootstrap), t,
                                                         [dict(value=b"late", partition=0)]))
        timer.start()
        t0 = time.monotonic()
        err, _, parts = fetch_session(c, 11, sid, 1, [], max_wait_ms=10000, min_bytes=1)
        took = time.monotonic() - t0
        timer.join()
        assert err == 0 and parts[(t, 0)][2] > 0
        assert took < 5, f"long poll did not wake on append ({took:.2f}s)"
