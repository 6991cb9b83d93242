"""Malformed, hostile and oversized requests over a raw socket. Each must get
an error response or a closed connection - never a crash, hang or a broken
broker: a well-behaved client keeps producing and consuming throughout, and
every test checks it made progress after the bad input."""

import random
import socket
import struct
import threading
import time

import confluent_kafka as ck
import pytest

import kproto
from conftest import consumer, create_topic, port_open, raw_conn, unique_topic, wait_until

REQ_MAX = 1 << 20  # socket.request.max.bytes for these tests
MSG_MAX = 10000    # message.max.bytes


class Bystander:
    """A normal client producing (acks=all) and consuming (assign) in the
    background, counting what it confirmed end to end."""

    def __init__(self, bs, topic):
        self.bs, self.topic = bs, topic
        self.acked = 0
        self.consumed = 0
        self.errors = []
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._produce, daemon=True),
                        threading.Thread(target=self._consume, daemon=True)]

    def start(self):
        for th in self.threads:
            th.start()
        return self

    def _dr(self, err, msg):
        with self.lock:
            if err is None:
                self.acked += 1
            else:
                self.errors.append(("produce", err))

    def _produce(self):
        p = ck.Producer({"bootstrap.servers": self.bs, "acks": "all", "linger.ms": 1,
                         "message.timeout.ms": 20000})
        i = 0
        while not self.stop_ev.is_set():
            if i - self.acked < 50:  # bounded in-flight, a few hundred msgs/s
                p.produce(self.topic, b"bystander-%08d" % i, partition=0, on_delivery=self._dr)
                i += 1
            p.poll(0.005)
        p.flush(20)

    def _consume(self):
        c = consumer(self.bs, **{"fetch.wait.max.ms": 100})
        c.assign([ck.TopicPartition(self.topic, 0, 0)])
        try:
            while not self.stop_ev.is_set():
                for m in c.consume(num_messages=500, timeout=0.1):
                    if m.error():
                        self.errors.append(("consume", m.error()))
                        continue
                    if m.value() != b"bystander-%08d" % self.consumed or \
                            m.offset() != self.consumed:
                        self.errors.append(("order", m.offset(), m.value()))
                    self.consumed += 1
        finally:
            c.close()

    def assert_progress(self, timeout=15):
        """Both directions advance by at least 20 messages from now."""
        a0, c0 = self.acked, self.consumed
        wait_until(lambda: self.acked >= a0 + 20 and self.consumed >= c0 + 20, timeout,
                   desc=f"bystander progress (acked {a0}->{self.acked}, "
                        f"consumed {c0}->{self.consumed})")
        assert not self.errors, self.errors[:5]

    def stop(self):
        self.stop_ev.set()
        for th in self.threads:
            th.join(30)


@pytest.fixture
def env(broker_factory, request):
    b = broker_factory({"socket.request.max.bytes": REQ_MAX, "message.max.bytes": MSG_MAX})
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    victim = unique_topic(request, "-victim")
    create_topic(b.bootstrap, victim, 1)
    by = Bystander(b.bootstrap, t).start()
    by.assert_progress()
    yield b, by, victim
    by.stop()
    assert not by.errors, by.errors[:5]
    assert b.running(), "broker died"


def after(b, by):
    assert b.running(), f"broker exited with {b.proc.returncode}"
    assert port_open(b.port)
    with raw_conn(b) as c:  # a fresh connection still gets answers
        assert kproto.API_VERSIONS in c.versions()
    by.assert_progress()


def closed_or_error(c, corr=None, timeout=5):
    """The broker either closes or answers (with the given correlation id)."""
    try:
        payload = c.recv_frame(timeout)
    except (TimeoutError, ConnectionError):
        raise AssertionError("broker neither answered nor closed the connection")
    if payload is None:
        return "closed"
    if corr is not None:
        assert struct.unpack(">i", payload[:4])[0] == corr
    return payload


@pytest.mark.parametrize("size", [0, -1, -(1 << 31)], ids=["zero", "minus1", "int-min"])
def test_bad_frame_size(env, size):
    b, by, _ = env
    with raw_conn(b) as c:
        c.send_raw(struct.pack(">i", size))
        assert c.wait_closed(5), f"connection not closed after frame size {size}"
    after(b, by)


def test_frame_over_socket_request_max_bytes(env):
    b, by, _ = env
    with raw_conn(b) as c:
        # claim 2x the limit, send only the header: the broker must not wait
        # for (or allocate) the body
        hdr = c.header(kproto.METADATA, 1, 1)
        c.send_raw(struct.pack(">i", 2 * REQ_MAX) + hdr)
        assert c.wait_closed(5), "oversized frame did not close the connection"
    with raw_conn(b) as c:
        c.send_raw(struct.pack(">i", 0x7FFFFFFF))
        assert c.wait_closed(5)
    after(b, by)


@pytest.mark.parametrize("payload", [b"\x00\x12", b"\x00\x12\x00\x00\x00", b"\x00"],
                         ids=["key+version", "no-corr-id", "one-byte"])
def test_truncated_header(env, payload):
    b, by, _ = env
    with raw_conn(b) as c:
        c.send_frame(payload)
        assert closed_or_error(c) == "closed"
    after(b, by)


def test_header_client_id_longer_than_frame(env):
    b, by, _ = env
    with raw_conn(b) as c:
        c.send_frame(struct.pack(">hhih", kproto.METADATA, 1, 7, 30000) + b"abc")
        closed_or_error(c, 7)
    after(b, by)


def test_unknown_api_key(env):
    b, by, _ = env
    with raw_conn(b) as c:
        corr = c.send_request(9999, 0, b"")
        closed_or_error(c, corr)
    with raw_conn(b) as c:
        corr = c.send_request(-5, 0, b"\x00" * 10)
        closed_or_error(c, corr)
    after(b, by)


def test_unsupported_api_versions_version(env):
    b, by, _ = env
    with raw_conn(b) as c:
        corr = c.send_request(kproto.API_VERSIONS, 99,
                              kproto.W(True).string("x").string("1").tags().done(), flexible=True)
        payload = c.recv_frame(5)
        assert payload is not None, "closed instead of answering UNSUPPORTED_VERSION"
        r = kproto.R(payload)
        assert r.i32() == corr
        res = kproto.parse_api_versions(r, 0)  # v0 body
        assert res["error_code"] == kproto.UNSUPPORTED_VERSION, res
        assert kproto.API_VERSIONS in res["api_keys"], res
        lo, hi = res["api_keys"][kproto.API_VERSIONS]
        assert lo == 0 and hi >= 3
        # the connection stays usable
        assert c.api_versions(0)["error_code"] == 0
    after(b, by)


def test_unsupported_version_of_other_api(env):
    b, by, victim = env
    with raw_conn(b) as c:
        corr = c.send_request(kproto.METADATA, 999, b"\x00" * 8)
        closed_or_error(c, corr)
    after(b, by)


@pytest.mark.parametrize("case", ["array-count", "string-length", "bytes-length",
                                  "negative-array", "nested-array"])
def test_lying_lengths(env, case):
    b, by, victim = env
    with raw_conn(b) as c:
        if case == "array-count":  # Metadata v1: 2^31-1 topics, none present
            corr = c.send_request(kproto.METADATA, 1, struct.pack(">i", 0x7FFFFFFF))
        elif case == "string-length":
            corr = c.send_request(kproto.METADATA, 1,
                                  struct.pack(">ih", 1, 32000) + b"short")
        elif case == "negative-array":
            corr = c.send_request(kproto.CREATE_TOPICS, 2, struct.pack(">i", -7) + b"\0" * 8)
        elif case == "nested-array":  # Produce: 1 topic, 2^31-1 partitions
            v = c.pick(kproto.PRODUCE, 3, 8)
            body = (kproto.W().string(None).i16(-1).i32(5000).i32(1).string(victim)
                    .i32(0x7FFFFFFF).i32(0).done())
            corr = c.send_request(kproto.PRODUCE, v, body)
        else:  # bytes-length: Produce records claiming 1 GB
            v = c.pick(kproto.PRODUCE, 3, 8)
            body = (kproto.W().string(None).i16(-1).i32(5000).i32(1).string(victim)
                    .i32(1).i32(0).i32(1 << 30).done() + b"\0" * 64)
            corr = c.send_request(kproto.PRODUCE, v, body)
        closed_or_error(c, corr)
    after(b, by)
    with raw_conn(b) as c:
        f = kproto.fetch(c, victim, 0, 0, max_wait_ms=0)
        assert f["high_watermark"] == 0, "garbage made it into the log"


def test_bad_record_batch_crc(env):
    b, by, victim = env
    with raw_conn(b) as c:
        r = kproto.produce(c, victim, 0, kproto.record_batch([b"bad"], corrupt_crc=True))
        assert r["error_code"] == kproto.CORRUPT_MESSAGE, r
        # good batch on the same connection still works
        r = kproto.produce(c, victim, 0, kproto.record_batch([b"good"]))
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
        f = kproto.fetch(c, victim, 0, 0, max_wait_ms=0)
        assert [x["value"] for x in kproto.parse_records(f["records"])] == [b"good"]
    after(b, by)


@pytest.mark.parametrize("case", ["short-records", "bad-magic", "count-mismatch",
                                  "length-mismatch"])
def test_malformed_record_batches(env, case):
    b, by, victim = env
    good = kproto.record_batch([b"one", b"two"])
    if case == "short-records":
        data = good[:30]
    elif case == "bad-magic":
        data = good[:16] + b"\x07" + good[17:]
    elif case == "count-mismatch":  # claims 5 records, has 2 (CRC recomputed)
        body = bytearray(good[21:])
        struct.pack_into(">i", body, 36, 5)
        data = good[:17] + struct.pack(">I", kproto.crc32c(bytes(body))) + bytes(body)
    else:  # batchLength says more than there is
        data = good[:8] + struct.pack(">i", len(good) + 100) + good[12:]
    with raw_conn(b) as c:
        try:
            r = kproto.produce(c, victim, 0, data)
        except ConnectionError:
            r = None  # closing the connection is acceptable
        if r is not None:
            # CORRUPT_MESSAGE, INVALID_REQUEST, UNSUPPORTED_FOR_MESSAGE_FORMAT, INVALID_RECORD
            assert r["error_code"] in (kproto.CORRUPT_MESSAGE, kproto.INVALID_REQUEST, 43, 87), r
    after(b, by)
    with raw_conn(b) as c:
        f = kproto.fetch(c, victim, 0, 0, max_wait_ms=0)
        assert f["high_watermark"] == 0, f"malformed batch ({case}) was appended"


def test_batch_over_message_max_bytes(env):
    b, by, victim = env
    with raw_conn(b) as c:
        big = kproto.record_batch([random.Random(1).randbytes(MSG_MAX + 1000)])
        r = kproto.produce(c, victim, 0, big)
        assert r["error_code"] == kproto.MESSAGE_TOO_LARGE, r
        r = kproto.produce(c, victim, 0, kproto.record_batch([b"small"]))
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
    after(b, by)


def test_half_sent_request_then_disconnect(env):
    b, by, _ = env
    for _ in range(20):
        with raw_conn(b) as c:
            c.send_raw(struct.pack(">i", 5000) + b"\x00\x03\x00\x01" + b"\x00" * 100)
    # slowloris-ish: many idle half-requests open at once, then a normal client
    socks = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
            s.sendall(struct.pack(">i", 100) + b"\x00")
            socks.append(s)
        after(b, by)
    finally:
        for s in socks:
            s.close()
    after(b, by)


def test_pipelined_requests_answered_in_order(env):
    b, by, _ = env
    with raw_conn(b) as c:
        corrs = [c.send_request(kproto.API_VERSIONS, 0, b"") for _ in range(50)]
        for want in corrs:
            r = c.recv_response(kproto.API_VERSIONS, 0, want)
            assert r.i16() == 0
    after(b, by)


def test_random_garbage_frames(env):
    """Deterministic fuzz: 300 well-framed requests with valid API keys and
    versions but random bodies, each on its own connection."""
    b, by, _ = env
    rnd = random.Random(20240601)
    with raw_conn(b) as c:
        versions = c.versions()
    # Fetch is left out: a random body that happens to parse is a legal
    # long poll of up to 2^31 ms.
    keys = sorted(k for k in versions if k != kproto.FETCH)
    deadline = time.monotonic() + 60
    for i in range(300):
        assert time.monotonic() < deadline, "fuzz loop too slow (broker hanging on garbage?)"
        key = rnd.choice(keys)
        lo, hi = versions[key]
        v = rnd.randint(lo, hi)
        body = rnd.randbytes(rnd.choice([0, 1, 3, 8, 17, 64, 300]))
        with raw_conn(b) as c:
            corr = c.send_request(key, v, body)
            try:
                closed_or_error(c, corr)
            except AssertionError as e:
                raise AssertionError(f"api {key} v{v} body {body.hex()}: {e}")
        if i % 50 == 49:
            assert b.running(), f"broker died on fuzz case {i}: api {key} v{v} {body.hex()}"
    after(b, by)
