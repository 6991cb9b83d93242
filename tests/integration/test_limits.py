"""Resource limits, each with a figure (printed; run with -s to see them):

* 2,000 concurrent connections, each doing ApiVersions + Metadata, while a
  normal client keeps producing: every request answered, broker RSS and fd
  count before / with the connections open / after they close.
* slow clients sending their requests one byte at a time: each is answered
  correctly; a normal client's produce latency with and without them.
* a client that pipelines Fetch/Metadata requests and never reads: the broker
  stops reading it, its RSS stays bounded (< +64 MB, release build), other
  clients keep working, and once the client reads it gets every response, in
  order.
* requests exactly at and one byte over socket.request.max.bytes.
* max.connections and max.connections.per.ip (+ overrides).

Wall-clock figures are reported, never asserted; the assertions are
correctness with generous deadlines.
"""

import functools
import os
import resource
import select
import socket
import struct
import threading
import time

import confluent_kafka as ck
import pytest

import kproto
from conftest import (BROKER_BIN, consume_exact, create_topic, produce_all, producer, raw_conn,
                      unique_topic, wait_until, watermarks)


# --- helpers ---------------------------------------------------------------------------
def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


@functools.lru_cache(None)
def sanitized_build():
    with open(BROKER_BIN, "rb") as f:
        return b"__asan_init" in f.read()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def lat_summary(xs):
    return (f"p50 {pct(xs, 0.5) * 1000:.1f} ms, p99 {pct(xs, 0.99) * 1000:.1f} ms, "
            f"max {max(xs) * 1000:.1f} ms (n={len(xs)})")


class Probe:
    """A normal client: one message in flight at a time (acks=all), latency
    recorded per message, tagged with the current phase."""

    def __init__(self, bs, topic):
        self.bs, self.topic = bs, topic
        self.phase = "baseline"
        self.lat = {}
        self.sent = 0
        self.errors = []
        self.stop_ev = threading.Event()
        self.th = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.th.start()
        return self

    def _run(self):
        p = ck.Producer({"bootstrap.servers": self.bs, "acks": "all", "linger.ms": 0,
                         "message.timeout.ms": 60000})
        done = threading.Event()
        res = {}

        def dr(err, msg):
            res["err"] = err
            done.set()

        while not self.stop_ev.is_set():
            done.clear()
            phase = self.phase
            t0 = time.monotonic()
            p.produce(self.topic, b"probe-%08d" % self.sent, partition=0, on_delivery=dr)
            while not done.is_set():
                p.poll(0.001)
            if res["err"] is not None:
                self.errors.append(res["err"])
                continue
            self.lat.setdefault(phase, []).append(time.monotonic() - t0)
            self.sent += 1
        p.flush(30)

    def count(self, phase):
        return len(self.lat.get(phase, []))

    def measure(self, phase, n=100, timeout=120):
        """Switch to `phase` and wait for n acknowledged messages in it."""
        self.phase = phase
        wait_until(lambda: self.count(phase) >= n, timeout, desc=f"{n} probe messages ({phase})")
        return self.lat[phase]

    def stop_and_check(self):
        self.stop_ev.set()
        self.th.join(60)
        assert not self.errors, self.errors[:5]
        got = consume_exact(self.bs, self.topic, {0: self.sent})[0]
        assert [m.value() for m in got] == [b"probe-%08d" % i for i in range(self.sent)]


def frame(api_key, version, corr, body, client_id="limits"):
    hdr = struct.pack(">hhi", api_key, version, corr) + struct.pack(">h", len(client_id)) + \
        client_id.encode()
    payload = hdr + body
    return struct.pack(">i", len(payload)) + payload


def metadata_v1_body(topics):
    return kproto.W().array(topics, lambda w, t: w.string(t)).done()


def exchange_all(socks, make_request, check, timeout=120):
    """Send one request on every socket, then read one response from each
    (selectors, one thread). check(i, payload) validates the answer."""
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.sendall(make_request(i))
        s.setblocking(False)
    bufs = {s.fileno(): bytearray() for s in socks}
    index = {s.fileno(): i for i, s in enumerate(socks)}
    pending = {s.fileno(): s for s in socks}
    deadline = time.monotonic() + timeout
    while pending:
        left = deadline - time.monotonic()
        assert left > 0, f"{len(pending)} of {len(socks)} connections got no response"
        chunk = list(pending.values())[:1000]  # select() handles < 1024 fds
        pl = select.poll()
        for s in pending.values():
            pl.register(s, select.POLLIN)
        for fd, ev in pl.poll(min(left, 1.0) * 1000):
            s = pending[fd]
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            assert data, f"connection {index[fd]} closed by the broker"
            b = bufs[fd]
            b += data
            if len(b) >= 4:
                (n,) = struct.unpack_from(">i", b)
                if len(b) >= 4 + n:
                    check(index[fd], bytes(b[4:4 + n]))
                    del pending[fd]
        del chunk


@pytest.fixture
def nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2000 + 500
    if soft < want:
        if hard < want:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {want}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --- 2,000 concurrent connections -------------------------------------------------------
N_CONNS = 2000


def test_2000_concurrent_connections(nofile, broker_factory, request):
    b = broker_factory()  # inherits the raised RLIMIT_NOFILE
    limits = open(f"/proc/{b.pid}/limits").read()
    assert any(ln.startswith("Max open files") and int(ln.split()[3]) >= N_CONNS + 100
               for ln in limits.splitlines()), limits
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    probe = Probe(bs, t).start()
    base_lat = probe.measure("baseline")
    rss0, fds0 = rss_mb(b.pid), fd_count(b.pid)

    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(N_CONNS):
            socks.append(socket.create_connection(("127.0.0.1", b.port), timeout=30))
        t_connect = time.monotonic() - t0
        probe.phase = "2000-open"

        def check_av(i, payload):
            r = kproto.R(payload)
            assert r.i32() == i, f"conn {i}: correlation id"
            res = kproto.parse_api_versions(r, 0)
            assert res["error_code"] == 0 and kproto.METADATA in res["api_keys"], res

        def check_md(i, payload):
            r = kproto.R(payload)
            assert r.i32() == 100000 + i
            brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
            assert brokers and brokers[0][2] == b.port, brokers
            r.i32()  # controller
            topics = r.array(lambda r: (r.i16(), r.string(), r.bool(), r.array(
                lambda r: (r.i16(), r.i32(), r.i32(), r.array(lambda r: r.i32()),
                           r.array(lambda r: r.i32())))))
            assert topics[0][0] == 0 and topics[0][1] == t and topics[0][3][0][2] == 0, topics

        t1 = time.monotonic()
        exchange_all(socks, lambda i: frame(kproto.API_VERSIONS, 0, i, b""), check_av)
        exchange_all(socks, lambda i: frame(kproto.METADATA, 1, 100000 + i,
                                            metadata_v1_body([t])), check_md)
        t_serve = time.monotonic() - t1
        fds_open = fd_count(b.pid)
        rss_open = rss_mb(b.pid)
        assert fds_open >= fds0 + N_CONNS, (fds0, fds_open)
        open_lat = probe.measure("2000-open", n=50)
        # a second round while the probe keeps going
        exchange_all(socks, lambda i: frame(kproto.API_VERSIONS, 0, i, b""), check_av)
        rss_peak = rss_mb(b.pid)
    finally:
        for s in socks:
            s.close()
    wait_until(lambda: fd_count(b.pid) <= fds0 + 5, 30, desc="broker closing the connections")
    rss_after = rss_mb(b.pid)
    after_lat = probe.measure("after", n=50)
    probe.stop_and_check()
    assert b.running()
    per_conn_kb = (rss_peak - rss0) * 1024 / N_CONNS
    print(f"\n2000 connections: connected in {t_connect:.2f}s; ApiVersions+Metadata on all "
          f"answered in {t_serve:.2f}s; broker fds {fds0} -> {fds_open} -> "
          f"{fd_count(b.pid)}; RSS {rss0:.1f} MB -> {rss_open:.1f} MB open, "
          f"{rss_peak:.1f} MB after a 2nd round ({per_conn_kb:.1f} KB/conn) -> "
          f"{rss_after:.1f} MB after close; probe produce latency baseline "
          f"{lat_summary(base_lat)}; with 2000 open {lat_summary(open_lat)}; after "
          f"{lat_summary(after_lat)}")
    if not sanitized_build():
        assert rss_peak - rss0 < 256, f"RSS grew {rss_peak - rss0:.1f} MB for {N_CONNS} conns"


# --- slow clients -------------------------------------------------------------------------
N_SLOW = 40


def test_slow_one_byte_at_a_time_clients(broker_factory, request):
    b = broker_factory()
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    slow_t = unique_topic(request, "-slow")
    create_topic(bs, slow_t, 1)
    probe = Probe(bs, t).start()
    base_lat = probe.measure("baseline", n=200)

    # Each slow client sends ApiVersions, Metadata and a Produce (acks=1),
    # every byte in its own send(), round-robin over the clients.
    with raw_conn(b) as c:
        pv = c.pick(kproto.PRODUCE, 3, 8)

    def produce_body(i):
        batch = kproto.record_batch([b"slow-%03d" % i])
        return (kproto.W().string(None).i16(1).i32(30000)
                .array([slow_t], lambda w, tt: w.string(tt).array(
                    [0], lambda w, p: w.i32(p).bytes(batch))).done())

    streams = []
    for i in range(N_SLOW):
        data = (frame(kproto.API_VERSIONS, 0, 1, b"") +
                frame(kproto.METADATA, 1, 2, metadata_v1_body([slow_t])) +
                frame(kproto.PRODUCE, pv, 3, produce_body(i)))
        s = socket.create_connection(("127.0.0.1", b.port), timeout=30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        streams.append((s, data))
    total = sum(len(d) for _, d in streams)
    probe.phase = "slow"
    t0 = time.monotonic()
    try:
        longest = max(len(d) for _, d in streams)
        for pos in range(longest):
            for s, d in streams:
                if pos < len(d):
                    s.send(d[pos:pos + 1])
            # pace: ~2 ms between bytes of one client (poll on nothing)
            select.select([], [], [], 0.002)
        t_send = time.monotonic() - t0
        slow_lat = list(probe.lat.get("slow", []))
        # every slow client gets its three answers, in order
        for i, (s, _) in enumerate(streams):
            c = wrap(s, 30)
            r = c.recv_response(kproto.API_VERSIONS, 0, 1)
            assert r.i16() == 0
            r = c.recv_response(kproto.METADATA, 1, 2)
            r = c.recv_response(kproto.PRODUCE, pv, 3)
            topics = r.array(lambda r: (r.string(), r.array(
                lambda r: (r.i32(), r.i16(), r.i64()))))
            assert topics[0][1][0][1] == 0, f"slow client {i}: produce {topics}"
    finally:
        for s, _ in streams:
            s.close()
    assert watermarks(bs, slow_t, 0) == (0, N_SLOW)
    if len(slow_lat) < 20:
        slow_lat = probe.measure("slow", n=20)
    probe.stop_and_check()
    print(f"\n{N_SLOW} slow clients: {total} bytes sent one byte per send() over "
          f"{t_send:.1f}s (ApiVersions + Metadata + Produce each, all answered); probe "
          f"produce latency baseline {lat_summary(base_lat)}; during {lat_summary(slow_lat)}")
    assert max(slow_lat) < 10, "a normal client stalled behind slow clients"


# --- a client that never reads ---------------------------------------------------------
def never_reader(b, topic, metadata_topics, cap=6000):
    """Connect with tiny socket buffers and pipeline Fetch (~200 KB of data
    each) and Metadata (~15 KB) requests without reading, until the broker
    stops reading (our send blocks for 3 s) - or `cap` requests, which would
    mean it never did. Returns (socket, [(api, corr)])."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    s.connect(("127.0.0.1", b.port))
    fetch_body = (kproto.W().i32(-1).i32(0).i32(1).i32(200_000).i8(0)
                  .array([topic], lambda w, t: w.string(t).array(
                      [0], lambda w, p: w.i32(p).i64(0).i64(-1).i32(200_000))).done())
    md_body = metadata_v1_body(metadata_topics)
    sent = []
    s.setblocking(False)
    pending = b""
    corr = 0
    while True:
        if not pending:
            assert corr < cap, f"the broker read {cap} requests from a client that never reads"
            corr += 1
            if corr % 2:
                pending = frame(kproto.FETCH, 5, corr, fetch_body)
                sent.append((kproto.FETCH, corr))
            else:
                pending = frame(kproto.METADATA, 1, corr, md_body)
                sent.append((kproto.METADATA, corr))
        _, w, _ = select.select([], [s], [], 3.0)
        if not w:  # the broker stopped reading us
            # a request only partly sent gets no answer
            return s, sent[:-1] if pending else sent
        try:
            n = s.send(pending)
            pending = pending[n:]
        except BlockingIOError:
            continue


def drain_responses(s, sent, timeout=30):
    """Read every response, check the correlation ids come in order."""
    s.setblocking(True)
    c = wrap(s, timeout)
    for i, (api, corr) in enumerate(sent):
        try:
            payload = c.recv_frame(timeout)
        except TimeoutError as e:
            raise AssertionError(f"no response {i} of {len(sent)} (corr {corr}): {e}")
        assert payload is not None, f"closed before the response to {corr}"
        assert struct.unpack(">i", payload[:4])[0] == corr


@pytest.mark.slow
def test_client_that_never_reads(broker_factory, request):
    b = broker_factory({"message.max.bytes": 2 << 20})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    # data for 1 MB fetch responses, and 150 topics for ~15 KB metadata ones
    produce_all(producer(bs, **{"batch.size": 150_000, "linger.ms": 0}), t,
                [dict(value=os.urandom(100_000), partition=0) for _ in range(30)])
    md_topics = [unique_topic(request, f"-md{i:03d}-" + "x" * 60) for i in range(150)]
    from confluent_kafka.admin import NewTopic
    from conftest import admin
    a = admin(bs)
    for f in a.create_topics([NewTopic(n, 1, 1) for n in md_topics],
                             request_timeout=60).values():
        f.result(60)
    probe = Probe(bs, unique_topic(request, "-probe"))
    create_topic(bs, probe.topic, 1)
    probe.start()
    base_lat = probe.measure("baseline", n=50)
    rss0 = rss_mb(b.pid)

    s, sent = never_reader(b, t, md_topics)
    probe.phase = "stalled"
    samples = [rss_mb(b.pid)]
    stalled_lat = probe.measure("stalled", n=100)  # other clients keep working
    samples.append(rss_mb(b.pid))
    # three more never-readers at once
    more = [never_reader(b, t, md_topics) for _ in range(3)]
    probe.phase = "stalled4"
    four_lat = probe.measure("stalled4", n=50)
    samples4 = rss_mb(b.pid)
    # the clients start reading: every response arrives, in order
    drain_responses(s, sent)
    for s2, sent2 in more:
        drain_responses(s2, sent2)
    s.close()
    for s2, _ in more:
        s2.close()
    probe.stop_and_check()
    rss_end = rss_mb(b.pid)
    growth = max(samples) - rss0
    print(f"\nnever-reading client: {len(sent)} pipelined requests (Fetch of ~200 KB / "
          f"~15 KB Metadata) sent before the broker stopped reading it (most of them still "
          f"in kernel socket buffers); broker RSS "
          f"{rss0:.1f} MB -> max {max(samples):.1f} MB (+{growth:.1f} MB); with 4 such "
          f"clients {samples4:.1f} MB (+{samples4 - rss0:.1f} MB); {rss_end:.1f} MB after "
          f"they read everything and closed; probe latency baseline {lat_summary(base_lat)}, "
          f"1 stalled client {lat_summary(stalled_lat)}, 4 {lat_summary(four_lat)}")
    limit = 64 if not sanitized_build() else 256
    assert growth < limit, f"broker RSS grew {growth:.1f} MB for one never-reading client"


# --- socket.request.max.bytes -------------------------------------------------------------
REQ_MAX = 1 << 20


def produce_frame_of_size(topic, version, corr, total_payload):
    """A Produce request whose frame payload (the size field's value) is
    exactly total_payload bytes: one record whose value is sized to fit."""
    pad = total_payload - 200
    for _ in range(10):
        batch = kproto.record_batch([b"\x00" * pad])
        body = (kproto.W().string(None).i16(1).i32(30000)
                .array([topic], lambda w, t: w.string(t).array(
                    [0], lambda w, p: w.i32(p).bytes(batch))).done())
        f = frame(kproto.PRODUCE, version, corr, body)
        diff = total_payload - (len(f) - 4)
        if diff == 0:
            return f
        pad += diff
    raise AssertionError("could not size the request")


def test_request_at_and_over_socket_request_max_bytes(broker_factory, request):
    b = broker_factory({"socket.request.max.bytes": REQ_MAX, "message.max.bytes": 2 << 20})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    with raw_conn(b) as c:
        v = c.pick(kproto.PRODUCE, 3, 8)
        f = produce_frame_of_size(t, v, 7, REQ_MAX)
        assert struct.unpack(">i", f[:4])[0] == REQ_MAX
        c.send_raw(f)
        r = c.recv_response(kproto.PRODUCE, v, 7, timeout=30)
        topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16(), r.i64()))))
        assert topics[0][1][0][1] == 0, f"request of exactly {REQ_MAX} bytes: {topics}"
        # the connection stays usable
        assert c.api_versions(0)["error_code"] == 0
    assert watermarks(bs, t, 0) == (0, 1)
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        f = produce_frame_of_size(t, v, 8, REQ_MAX + 1)
        assert struct.unpack(">i", f[:4])[0] == REQ_MAX + 1
        try:
            c.send_raw(f)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: fine
        assert c.wait_closed(10), "a request one byte over the limit was not refused"
    assert watermarks(bs, t, 0) == (0, 1), "the oversized request was appended"
    print("\nsocket.request.max.bytes=%d: a %d-byte request is served, a %d-byte one closes "
          "the connection; broker log: %s" % (
              REQ_MAX, REQ_MAX, REQ_MAX + 1,
              " | ".join(ln[25:] for ln in b.log_text()[log0:].splitlines()
                         if "WARN" in ln)[:300]))
    with raw_conn(b) as c:
        assert c.api_versions(0)["error_code"] == 0


# --- max.connections / max.connections.per.ip ----------------------------------------------
def connect(b, src=None):
    return socket.create_connection(("127.0.0.1", b.port), timeout=10,
                                    source_address=(src, 0) if src else None)


def answers(s, corr=1, timeout=10):
    """Send ApiVersions v0; True if answered, False if closed, None if no
    answer within timeout."""
    s.sendall(frame(kproto.API_VERSIONS, 0, corr, b""))
    c = wrap(s, timeout)
    try:
        payload = c.recv_frame(timeout)
    except TimeoutError:
        return None
    except OSError:
        return False
    return payload is not None and struct.unpack(">i", payload[:4])[0] == corr


def wrap(s, timeout=10):
    """A kproto.Conn over an already connected socket."""
    c = kproto.Conn.__new__(kproto.Conn)
    c.sock, c.timeout, c.client_id, c.corr, c._versions = s, timeout, "limits", 100, None
    return c


def served(b, src=None):
    """A fresh connection gets an answer (then is closed)."""
    with connect(b, src) as s:
        return answers(s, timeout=2)


def closed_by_broker(s, timeout=10):
    return wrap(s).wait_closed(timeout)


def open_served(b, src=None, timeout=30):
    """A new connection that the broker serves (retrying while closes of
    earlier connections, e.g. the fixture's readiness probe, are still being
    processed). Stays open."""
    def attempt():
        s = connect(b, src)
        if answers(s, timeout=2):
            return s
        s.close()
        return None
    return wait_until(attempt, timeout, desc=f"a served connection from {src or '127.0.0.1'}")


def test_max_connections(broker_factory):
    b = broker_factory({"max.connections": 10})
    held = [open_served(b) for _ in range(10)]
    # the 11th is accepted and closed; the broker stops accepting
    extra = connect(b)
    assert closed_by_broker(extra), "connection over max.connections was not closed"
    extra.close()
    b.wait_for_log(r"max\.connections \(10\) reached")
    # the next one waits in the listen backlog, unanswered...
    waiting = connect(b)
    assert answers(waiting, timeout=1.0) is None, "broker over max.connections answered"
    # ...until a slot frees
    held.pop().close()
    payload = wrap(waiting).recv_frame(10)
    assert payload is not None and struct.unpack(">i", payload[:4])[0] == 1
    held.append(waiting)
    # full again: one closed, one parked in the backlog
    extra = connect(b)
    assert closed_by_broker(extra)
    extra.close()
    parked = connect(b)
    assert answers(parked, timeout=1.0) is None
    # raising the limit at runtime (cluster-wide dynamic config) lets the
    # parked connection in without any other closing
    err, msg = kproto.incremental_alter_configs(wrap(held[0]), kproto.RESOURCE_BROKER, "",
                                                [("max.connections", kproto.OP_SET, "12")])
    assert err == 0, (err, msg)
    payload = wrap(parked).recv_frame(10)
    assert payload is not None, "max.connections raised, but the parked connection was not served"
    held.append(parked)
    held.append(open_served(b))
    over = connect(b)
    assert closed_by_broker(over), "connection over the raised max.connections not closed"
    over.close()
    for s in held:
        s.close()
    # once below the limit again, new clients are served
    wait_until(lambda: served(b), 30, desc="accepting again")
    print("\nmax.connections=10: 10 served, the 11th closed, the 12th waited in the backlog "
          "and was served when one closed; raised to 12 at runtime while full: the parked "
          "connection was served at once, 12 held, the 13th closed")


def test_max_connections_per_ip(broker_factory):
    b = broker_factory({"max.connections.per.ip": 3,
                        "max.connections.per.ip.overrides": "127.0.0.2:6"})
    held = {}
    for ip, limit in (("127.0.0.1", 3), ("127.0.0.2", 6), ("127.0.0.3", 3)):
        held[ip] = [open_served(b, ip) for _ in range(limit)]
        over = connect(b, ip)
        assert closed_by_broker(over), f"{ip}: connection {limit + 1} not closed at accept"
        over.close()
    b.wait_for_log(r"refusing a connection from 127\.0\.0\.\d: max\.connections\.per\.ip")
    # a runtime change of the overrides applies to the next connection
    err, msg = kproto.incremental_alter_configs(
        wrap(held["127.0.0.2"][0]), kproto.RESOURCE_BROKER, "",
        [("max.connections.per.ip.overrides", kproto.OP_SET, "127.0.0.2:6,127.0.0.3:4")])
    assert err == 0, (err, msg)
    held["127.0.0.3"].append(open_served(b, "127.0.0.3"))
    over = connect(b, "127.0.0.3")
    assert closed_by_broker(over), "127.0.0.3: connection 5 not closed after the override"
    over.close()
    # a freed slot is reusable; other addresses are unaffected meanwhile
    held["127.0.0.1"].pop().close()
    wait_until(lambda: served(b, "127.0.0.1"), 30,
               desc="127.0.0.1 below its limit again")
    s4 = connect(b, "127.0.0.4")
    assert answers(s4)
    s4.close()
    for ss in held.values():
        for s in ss:
            s.close()
    print("\nmax.connections.per.ip=3 with override 127.0.0.2:6: 127.0.0.1 and 127.0.0.3 "
          "held 3 each, 127.0.0.2 held 6; the next from each was closed at accept; an "
          "override 127.0.0.3:4 set at runtime let a 4th in and closed the 5th")
