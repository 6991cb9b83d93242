"""Minimal raw Kafka wire-protocol client for integration tests.

Used where the real clients can't reach (malformed input, exact error codes,
APIs confluent-kafka 1.7 lacks). Encodes request frames (size + header v1/v2 +
body), decodes responses, builds and parses v2 record batches (magic 2).

Every encoder takes `flexible`; in flexible versions strings/bytes/arrays use
compact (uvarint length + 1) forms and structs end in tagged fields.
Field layouts follow Kafka's clients/src/main/resources/common/message/*.json.
"""

import gzip
import select
import socket
import struct
import time
import zlib

# --- API keys and error codes used by the tests ----------------------------
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS = 18, 19, 20, 21
INIT_PRODUCER_ID, DESCRIBE_CONFIGS, ALTER_CONFIGS = 22, 32, 33
INCREMENTAL_ALTER_CONFIGS, DESCRIBE_CLUSTER = 44, 60
ALTER_PARTITION_REASSIGNMENTS, LIST_PARTITION_REASSIGNMENTS = 45, 46
CONTROLLED_SHUTDOWN, ELECT_LEADERS = 7, 43
DESCRIBE_LOG_DIRS = 35
DESCRIBE_CLIENT_QUOTAS, ALTER_CLIENT_QUOTAS = 48, 49
DESCRIBE_USER_SCRAM_CREDENTIALS, ALTER_USER_SCRAM_CREDENTIALS = 50, 51
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36

# First flexible version of each API we speak (header v2 / response header v1).
FLEX_FROM = {
    PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, METADATA: 9, API_VERSIONS: 3,
    CREATE_TOPICS: 5, DELETE_TOPICS: 4, DELETE_RECORDS: 2, INIT_PRODUCER_ID: 2,
    DESCRIBE_CONFIGS: 4, ALTER_CONFIGS: 2, INCREMENTAL_ALTER_CONFIGS: 1,
    DESCRIBE_CLUSTER: 0, ALTER_PARTITION_REASSIGNMENTS: 0, LIST_PARTITION_REASSIGNMENTS: 0,
    CONTROLLED_SHUTDOWN: 3, ELECT_LEADERS: 2, DESCRIBE_LOG_DIRS: 2, SASL_AUTHENTICATE: 2,
    DESCRIBE_CLIENT_QUOTAS: 1, ALTER_CLIENT_QUOTAS: 1,
    DESCRIBE_USER_SCRAM_CREDENTIALS: 0, ALTER_USER_SCRAM_CREDENTIALS: 0,
}

NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
DUPLICATE_SEQUENCE_NUMBER = 46
INVALID_PRODUCER_EPOCH = 47

LATEST_TIMESTAMP, EARLIEST_TIMESTAMP, MAX_TIMESTAMP = -1, -2, -3


def is_flexible(api_key, version):
    return version >= FLEX_FROM.get(api_key, 1 << 30)


# --- CRC32C (Castagnoli), as used by record batches --------------------------
def _crc32c_table():
    tbl = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        tbl.append(c)
    return tbl


_CRC_TBL = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    tbl = _CRC_TBL
    for b in data:
        crc = tbl[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --- encoding ----------------------------------------------------------------
def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


class W:
    """Byte writer; `flexible` selects compact strings/arrays + tagged fields."""

    def __init__(self, flexible=False):
        self.b = bytearray()
        self.flex = flexible

    def raw(self, data):
        self.b += data
        return self

    def i8(self, v):
        self.b += struct.pack(">b", v)
        return self

    def bool(self, v):
        return self.i8(1 if v else 0)

    def i16(self, v):
        self.b += struct.pack(">h", v)
        return self

    def i32(self, v):
        self.b += struct.pack(">i", v)
        return self

    def u32(self, v):
        self.b += struct.pack(">I", v)
        return self

    def i64(self, v):
        self.b += struct.pack(">q", v)
        return self

    def uvarint(self, v):
        self.b += uvarint(v)
        return self

    def string(self, s):
        if s is None:
            return self.uvarint(0) if self.flex else self.i16(-1)
        data = s.encode() if isinstance(s, str) else s
        if self.flex:
            self.uvarint(len(data) + 1)
        else:
            self.i16(len(data))
        self.b += data
        return self

    def bytes(self, data):
        if data is None:
            return self.uvarint(0) if self.flex else self.i32(-1)
        if self.flex:
            self.uvarint(len(data) + 1)
        else:
            self.i32(len(data))
        self.b += data
        return self

    def array(self, items, fn):
        if items is None:
            return self.uvarint(0) if self.flex else self.i32(-1)
        if self.flex:
            self.uvarint(len(items) + 1)
        else:
            self.i32(len(items))
        for it in items:
            fn(self, it)
        return self

    def tags(self):
        if self.flex:
            self.uvarint(0)
        return self

    def done(self):
        return bytes(self.b)


class ProtocolError(Exception):
    pass


class R:
    """Byte reader mirroring W."""

    def __init__(self, data, flexible=False):
        self.d = memoryview(bytes(data))
        self.p = 0
        self.flex = flexible

    def _take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise ProtocolError(f"short read: need {n} at {self.p}/{len(self.d)}")
        v = self.d[self.p:self.p + n]
        self.p += n
        return bytes(v)

    def remaining(self):
        return len(self.d) - self.p

    def i8(self):
        return struct.unpack(">b", self._take(1))[0]

    def bool(self):
        return self.i8() != 0

    def i16(self):
        return struct.unpack(">h", self._take(2))[0]

    def i32(self):
        return struct.unpack(">i", self._take(4))[0]

    def u32(self):
        return struct.unpack(">I", self._take(4))[0]

    def i64(self):
        return struct.unpack(">q", self._take(8))[0]

    def uvarint(self):
        shift = n = 0
        while True:
            b = self._take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift > 63:
                raise ProtocolError("varint too long")

    def varint(self):
        n = self.uvarint()
        return (n >> 1) ^ -(n & 1)

    def string(self):
        n = self.uvarint() - 1 if self.flex else self.i16()
        if n < 0:
            return None
        return self._take(n).decode("utf-8", "replace")

    def bytes(self):
        n = self.uvarint() - 1 if self.flex else self.i32()
        if n < 0:
            return None
        return self._take(n)

    def array(self, fn):
        n = self.uvarint() - 1 if self.flex else self.i32()
        if n < 0:
            return None
        if n > self.remaining():  # each element is at least one byte
            raise ProtocolError(f"array count {n} exceeds remaining bytes")
        return [fn(self) for _ in range(n)]

    def tags(self):
        if not self.flex:
            return {}
        out = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            out[tag] = self._take(self.uvarint())
        return out


# --- record batches (magic v2) -------------------------------------------------
def record(value, key=None, headers=(), offset_delta=0, timestamp_delta=0):
    body = W()
    body.i8(0)
    body.raw(varint(timestamp_delta))
    body.raw(varint(offset_delta))
    for part in (key, value):
        if part is None:
            body.raw(varint(-1))
        else:
            body.raw(varint(len(part))).raw(part)
    body.raw(varint(len(headers)))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body.raw(varint(len(hk))).raw(hk)
        if hv is None:
            body.raw(varint(-1))
        else:
            body.raw(varint(len(hv))).raw(hv)
    data = body.done()
    return varint(len(data)) + data


def record_batch(values, keys=None, base_offset=0, producer_id=-1, producer_epoch=-1,
                 base_sequence=-1, base_timestamp=None, attributes=0,
                 partition_leader_epoch=-1, corrupt_crc=False):
    """A v2 batch of uncompressed records (values: list of bytes)."""
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    keys = keys or [None] * len(values)
    recs = b"".join(record(v, key=k, offset_delta=i) for i, (k, v) in enumerate(zip(keys, values)))
    after_crc = (W().i16(attributes).i32(len(values) - 1).i64(base_timestamp)
                 .i64(base_timestamp).i64(producer_id).i16(producer_epoch)
                 .i32(base_sequence).i32(len(values)).raw(recs).done())
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    batch_len = 4 + 1 + 4 + len(after_crc)
    return (W().i64(base_offset).i32(batch_len).i32(partition_leader_epoch).i8(2)
            .u32(crc).raw(after_crc).done())


BATCH_HEADER_LEN = 61  # baseOffset..recordsCount


def parse_batch_headers(data):
    """Yield (position, base_offset, batch_length_total, header dict) for each
    complete batch in `data` (e.g. a .log segment); stops at a partial one."""
    pos = 0
    while pos + 12 <= len(data):
        base_offset, blen = struct.unpack_from(">qi", data, pos)
        total = 12 + blen
        if blen < BATCH_HEADER_LEN - 12 or pos + total > len(data):
            return
        (leader_epoch, magic, crc, attrs, last_delta, base_ts, max_ts, pid, pepoch,
         base_seq, count) = struct.unpack_from(">ibIhiqqqhii", data, pos + 12)
        yield pos, base_offset, total, dict(
            magic=magic, crc=crc, attributes=attrs, last_offset_delta=last_delta,
            base_timestamp=base_ts, max_timestamp=max_ts, producer_id=pid,
            producer_epoch=pepoch, base_sequence=base_seq, count=count)
        pos += total


def _decompress(codec, data):
    if codec == 0:
        return data
    if codec == 1:
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else zlib.decompress(data)
    raise ProtocolError(f"codec {codec} not supported by this test helper")


def parse_records(data):
    """Decode every complete batch in `data` into a list of dicts
    {offset, timestamp, key, value, headers, batch: header dict}."""
    out = []
    for pos, base_offset, total, hdr in parse_batch_headers(data):
        if hdr["magic"] != 2:
            raise ProtocolError(f"magic {hdr['magic']} at {pos}")
        body = data[pos + 21:pos + total]
        if crc32c(body) != hdr["crc"]:
            raise ProtocolError(f"bad CRC in batch at offset {base_offset}")
        if hdr["attributes"] & 0x20:  # control batch
            continue
        recs = R(_decompress(hdr["attributes"] & 7, data[pos + BATCH_HEADER_LEN:pos + total]))
        for _ in range(hdr["count"]):
            ln = recs.varint()
            rr = R(recs._take(ln))
            rr.i8()
            ts_delta = rr.varint()
            off_delta = rr.varint()
            kl = rr.varint()
            key = rr._take(kl) if kl >= 0 else None
            vl = rr.varint()
            value = rr._take(vl) if vl >= 0 else None
            headers = []
            for _ in range(rr.varint()):
                hk = rr._take(rr.varint()).decode()
                hl = rr.varint()
                headers.append((hk, rr._take(hl) if hl >= 0 else None))
            out.append(dict(offset=base_offset + off_delta,
                            timestamp=hdr["base_timestamp"] + ts_delta,
                            key=key, value=value, headers=headers, batch=hdr))
    return out


# --- connection ----------------------------------------------------------------
class Conn:
    """One TCP connection speaking framed Kafka requests."""

    def __init__(self, host, port, timeout=10.0, client_id="samsa-it-raw"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.client_id = client_id
        self.corr = 0
        self._versions = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- bytes level
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _recv_exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete response within {self.timeout}s "
                                   f"(got {len(buf)}/{n} bytes)")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None if not buf else bytes(buf)
            buf += chunk
        return bytes(buf)

    def recv_frame(self, timeout=None):
        """Next response frame payload, or None if the peer closed first."""
        deadline = time.monotonic() + (timeout or self.timeout)
        hdr = self._recv_exact(4, deadline)
        if hdr is None or len(hdr) < 4:
            return None
        (n,) = struct.unpack(">i", hdr)
        if n < 4:
            raise ProtocolError(f"response frame size {n}")
        body = self._recv_exact(n, deadline)
        if body is None or len(body) < n:
            return None
        return body

    def wait_closed(self, timeout=5.0):
        """True if the peer closes (EOF/RST) within timeout; data received
        before that is discarded."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                if not self.sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True

    # -- request level
    def header(self, api_key, version, corr, flexible=None, client_id=None):
        if flexible is None:
            flexible = is_flexible(api_key, version)
        w = W().i16(api_key).i16(version).i32(corr)
        w.string(self.client_id if client_id is None else client_id)  # never compact
        if flexible:
            w.uvarint(0)
        return w.done()

    def send_request(self, api_key, version, body, flexible=None):
        self.corr += 1
        self.send_frame(self.header(api_key, version, self.corr, flexible) + body)
        return self.corr

    def recv_response(self, api_key, version, corr, timeout=None):
        """Reader positioned at the response body; raises if closed."""
        payload = self.recv_frame(timeout)
        if payload is None:
            raise ConnectionError(f"broker closed the connection instead of answering "
                                  f"api {api_key} v{version}")
        flex = is_flexible(api_key, version)
        r = R(payload, flexible=flex)
        got = r.i32()
        if got != corr:
            raise ProtocolError(f"correlation id {got}, expected {corr}")
        if flex and api_key != API_VERSIONS:  # ApiVersions responses use header v0
            r.tags()
        return r

    def call(self, api_key, version, body, timeout=None):
        corr = self.send_request(api_key, version, body)
        return self.recv_response(api_key, version, corr, timeout)

    # -- ApiVersions
    def api_versions(self, version=0):
        body = b""
        if version >= 3:
            body = W(True).string("samsa-it").string("1.0").tags().done()
        r = self.call(API_VERSIONS, version, body)
        return parse_api_versions(r, version)

    def versions(self):
        if self._versions is None:
            res = self.api_versions(0)
            assert res["error_code"] == 0, res
            self._versions = res["api_keys"]
        return self._versions

    def pick(self, api_key, lo, hi):
        """Highest version in [lo, hi] the broker supports, or AssertionError."""
        v = self.versions()
        assert api_key in v, f"broker does not advertise api key {api_key}"
        bmin, bmax = v[api_key]
        best = min(hi, bmax)
        assert best >= max(lo, bmin), (
            f"api {api_key}: broker supports v{bmin}-v{bmax}, helper speaks v{lo}-v{hi}")
        return best


def parse_api_versions(r, version):
    res = {"error_code": r.i16()}
    r.flex = version >= 3

    def key(rr):
        k, lo, hi = rr.i16(), rr.i16(), rr.i16()
        rr.tags()
        return k, (lo, hi)

    res["api_keys"] = dict(r.array(key) or [])
    if version >= 1 and r.remaining() >= 4:
        res["throttle_time_ms"] = r.i32()
    return res


# --- typed calls ------------------------------------------------------------------
def produce(conn, topic, partition, records, acks=-1, timeout_ms=10000, version=None,
            transactional_id=None):
    """Send one partition's record bytes; return the partition response dict."""
    v = version if version is not None else conn.pick(PRODUCE, 3, 9)
    flex = is_flexible(PRODUCE, v)
    w = W(flex).string(transactional_id).i16(acks).i32(timeout_ms)
    w.array([topic], lambda w, t: w.string(t).array(
        [partition], lambda w, p: w.i32(p).bytes(records).tags()).tags())
    w.tags()
    corr = conn.send_request(PRODUCE, v, w.done())
    if acks == 0:
        return None
    r = conn.recv_response(PRODUCE, v, corr)

    def part(r):
        d = {"partition": r.i32(), "error_code": r.i16(), "base_offset": r.i64(),
             "log_append_time_ms": r.i64()}
        if v >= 5:
            d["log_start_offset"] = r.i64()
        if v >= 8:
            d["record_errors"] = r.array(lambda r: (r.i32(), r.string(), r.tags())[:2])
            d["error_message"] = r.string()
        d["tags"] = r.tags()
        if 0 in d["tags"]:  # v10+ CurrentLeader (KIP-951)
            d["current_leader"] = parse_leader_id_and_epoch(d["tags"][0])
        return d

    topics = r.array(lambda r: (r.string(), r.array(part), r.tags())[:2])
    assert len(topics) == 1 and len(topics[0][1]) == 1, topics
    res = topics[0][1][0]
    if v >= 1:
        r.i32()  # throttle_time_ms
    top = r.tags()
    if 0 in top:  # v10+ NodeEndpoints
        res["node_endpoints"] = parse_node_endpoints(top[0])
    return res


def parse_leader_id_and_epoch(data):
    """A CurrentLeader tagged struct (Produce v10+ / Fetch v12+)."""
    r = R(data, flexible=True)
    return {"leader_id": r.i32(), "leader_epoch": r.i32()}


def parse_node_endpoints(data):
    """A NodeEndpoints tagged array (Produce v10+ / Fetch v16+)."""
    r = R(data, flexible=True)
    return r.array(lambda r: ({"node_id": r.i32(), "host": r.string(), "port": r.i32(),
                               "rack": r.string()}, r.tags())[0])


def init_producer_id(conn, transactional_id=None, timeout_ms=60000, version=None):
    v = version if version is not None else conn.pick(INIT_PRODUCER_ID, 0, 4)
    flex = is_flexible(INIT_PRODUCER_ID, v)
    w = W(flex).string(transactional_id).i32(timeout_ms)
    if v >= 3:
        w.i64(-1).i16(-1)
    w.tags()
    r = conn.call(INIT_PRODUCER_ID, v, w.done())
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "producer_id": r.i64(),
            "producer_epoch": r.i16()}


def fetch(conn, topic, partition, offset, max_wait_ms=500, min_bytes=1,
          max_bytes=50 << 20, partition_max_bytes=10 << 20, version=None, timeout=None,
          current_leader_epoch=-1, replica_id=-1, isolation=0):
    """One partition's fetch (v4-12); replica_id >= 0 is a follower's fetch;
    isolation 1 = read_committed."""
    v = version if version is not None else conn.pick(FETCH, 4, 12)
    flex = is_flexible(FETCH, v)
    w = W(flex).i32(replica_id).i32(max_wait_ms).i32(min_bytes).i32(max_bytes).i8(isolation)
    if v >= 7:
        w.i32(0).i32(-1)  # no fetch session

    def part(w, p):
        w.i32(p)
        if v >= 9:
            w.i32(current_leader_epoch)
        w.i64(offset)
        if v >= 12:
            w.i32(-1)
        if v >= 5:
            w.i64(-1)
        w.i32(partition_max_bytes).tags()

    w.array([topic], lambda w, t: w.string(t).array([partition], part).tags())
    if v >= 7:
        w.array([], None)
    if v >= 11:
        w.string("")
    w.tags()
    r = conn.call(FETCH, v, w.done(),
                  timeout=timeout or max(conn.timeout, max_wait_ms / 1000 + 10))
    res = {"throttle_time_ms": r.i32()}
    if v >= 7:
        res["error_code"] = r.i16()
        res["session_id"] = r.i32()

    def presp(r):
        d = {"partition": r.i32(), "error_code": r.i16(), "high_watermark": r.i64(),
             "last_stable_offset": r.i64()}
        if v >= 5:
            d["log_start_offset"] = r.i64()
        d["aborted"] = r.array(lambda r: (r.i64(), r.i64(), r.tags())[:2])
        if v >= 11:
            d["preferred_read_replica"] = r.i32()
        d["records"] = r.bytes() or b""
        d["tags"] = r.tags()
        if 1 in d["tags"]:  # v12+ CurrentLeader (KIP-951)
            d["current_leader"] = parse_leader_id_and_epoch(d["tags"][1])
        return d

    topics = r.array(lambda r: (r.string(), r.array(presp), r.tags())[:2])
    assert len(topics) == 1 and len(topics[0][1]) == 1, topics
    res.update(topics[0][1][0])
    return res


def list_offsets(conn, topic, partition, timestamp, version=None, lo=1, current_leader_epoch=-1,
                 isolation=0):
    v = version if version is not None else conn.pick(LIST_OFFSETS, lo, 8)
    flex = is_flexible(LIST_OFFSETS, v)
    w = W(flex).i32(-1)
    if v >= 2:
        w.i8(isolation)

    def part(w, p):
        w.i32(p)
        if v >= 4:
            w.i32(current_leader_epoch)
        w.i64(timestamp).tags()

    w.array([topic], lambda w, t: w.string(t).array([partition], part).tags()).tags()
    r = conn.call(LIST_OFFSETS, v, w.done())
    if v >= 2:
        r.i32()

    def presp(r):
        d = {"partition": r.i32(), "error_code": r.i16(), "timestamp": r.i64(),
             "offset": r.i64()}
        if v >= 4:
            d["leader_epoch"] = r.i32()
        r.tags()
        return d

    topics = r.array(lambda r: (r.string(), r.array(presp), r.tags())[:2])
    return topics[0][1][0]


def delete_records(conn, topic, partition, offset, timeout_ms=10000, version=None):
    v = version if version is not None else conn.pick(DELETE_RECORDS, 0, 2)
    flex = is_flexible(DELETE_RECORDS, v)
    w = W(flex)
    w.array([topic], lambda w, t: w.string(t).array(
        [partition], lambda w, p: w.i32(p).i64(offset).tags()).tags())
    w.i32(timeout_ms).tags()
    r = conn.call(DELETE_RECORDS, v, w.done())
    r.i32()
    topics = r.array(lambda r: (r.string(), r.array(
        lambda r: ({"partition": r.i32(), "low_watermark": r.i64(),
                    "error_code": r.i16()}, r.tags())[0]), r.tags())[:2])
    return topics[0][1][0]


LEADER_AND_ISR = 4
FLEX_FROM[LEADER_AND_ISR] = 4
NOT_LEADER_OR_FOLLOWER = 6
STALE_CONTROLLER_EPOCH = 11
STALE_BROKER_EPOCH = 77
NOT_COORDINATOR = 16
FENCED_LEADER_EPOCH = 74
UNKNOWN_LEADER_EPOCH = 75


def leader_and_isr(conn, controller_epoch, topics, live_leaders=(), controller_id=0,
                   version=4, broker_epoch=-1):
    """LeaderAndIsr v2-7 (a Samsa test hook). topics: {name: [partition state
    dicts: partition, leader, leader_epoch, isr, replicas, optional
    partition_epoch / controller_epoch]}; live_leaders: [(id, host, port)].
    Returns {"error_code", "partitions": {(topic or topic id, partition): error}}."""
    v = version
    flex = is_flexible(LEADER_AND_ISR, v)
    w = W(flex).i32(controller_id)
    if v >= 7:
        w.bool(False)
    w.i32(controller_epoch).i64(broker_epoch)
    if v >= 5:
        w.i8(0)

    def pstate(w, ps):
        w.i32(ps["partition"]).i32(ps.get("controller_epoch", controller_epoch))
        w.i32(ps["leader"]).i32(ps["leader_epoch"])
        w.array(ps["isr"], lambda w, x: w.i32(x)).i32(ps.get("partition_epoch", 0))
        w.array(ps["replicas"], lambda w, x: w.i32(x))
        if v >= 3:
            w.array([], None).array([], None)
        w.bool(False)
        if v >= 6:
            w.i8(0)
        w.tags()

    def tstate(w, item):
        name, parts = item
        w.string(name)
        if v >= 5:
            w.raw(b"\0" * 16)
        w.array(parts, pstate).tags()

    w.array(sorted(topics.items()), tstate)
    w.array(list(live_leaders), lambda w, ll: w.i32(ll[0]).string(ll[1]).i32(ll[2]).tags())
    w.tags()
    r = conn.call(LEADER_AND_ISR, v, w.done())
    res = {"error_code": r.i16(), "partitions": {}}
    if v < 5:
        for name, p, err in r.array(lambda r: (r.string(), r.i32(), r.i16(), r.tags())[:3]):
            res["partitions"][(name, p)] = err
    else:
        for tid, parts in r.array(lambda r: (r._take(16), r.array(
                lambda r: (r.i32(), r.i16(), r.tags())[:2]), r.tags())[:2]):
            for p, err in parts:
                res["partitions"][(tid, p)] = err
    r.tags()
    return res


ALTER_PARTITION = 56
FLEX_FROM[ALTER_PARTITION] = 0
NOT_ENOUGH_REPLICAS = 19
NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
NOT_CONTROLLER = 41


def alter_partition(conn, broker_id, broker_epoch, topics, version=1):
    """AlterPartition v0-2 (an inter-broker API). topics: {name (v0-1) or
    16-byte id (v2): [(partition, leader_epoch, new_isr, partition_epoch)]}.
    Returns {"error_code", "partitions": {(topic, partition): {error_code,
    leader_id, leader_epoch, isr, partition_epoch}}}."""
    v = version
    w = W(True).i32(broker_id).i64(broker_epoch)

    def part(w, pt):
        w.i32(pt[0]).i32(pt[1]).array(list(pt[2]), lambda w, x: w.i32(x))
        if v >= 1:
            w.i8(0)
        w.i32(pt[3]).tags()

    def top(w, item):
        key, parts = item
        if v >= 2:
            w.raw(key)
        else:
            w.string(key)
        w.array(parts, part).tags()

    w.array(sorted(topics.items()), top).tags()
    r = conn.call(ALTER_PARTITION, v, w.done())
    r.i32()  # throttle_time_ms
    res = {"error_code": r.i16(), "partitions": {}}

    def rpart(r):
        d = {"partition": r.i32(), "error_code": r.i16(), "leader_id": r.i32(),
             "leader_epoch": r.i32(), "isr": r.array(lambda r: r.i32())}
        if v >= 1:
            r.i8()
        d["partition_epoch"] = r.i32()
        r.tags()
        return d

    for key, parts in r.array(lambda r: ((r._take(16) if v >= 2 else r.string()),
                                         r.array(rpart), r.tags())[:2]):
        for d in parts:
            res["partitions"][(key, d.pop("partition"))] = d
    r.tags()
    return res


OFFSET_FOR_LEADER_EPOCH = 23
FLEX_FROM[OFFSET_FOR_LEADER_EPOCH] = 4


def offset_for_leader_epoch(conn, topic, partition, leader_epoch, current_leader_epoch=-1,
                            version=None):
    """One partition's {error_code, leader_epoch, end_offset} (v2-4)."""
    v = version if version is not None else conn.pick(OFFSET_FOR_LEADER_EPOCH, 2, 4)
    w = W(is_flexible(OFFSET_FOR_LEADER_EPOCH, v))
    if v >= 3:
        w.i32(-1)  # replica id: a consumer
    w.array([topic], lambda w, t: w.string(t).array(
        [partition], lambda w, p: w.i32(p).i32(current_leader_epoch).i32(leader_epoch).tags()).tags())
    w.tags()
    r = conn.call(OFFSET_FOR_LEADER_EPOCH, v, w.done())
    r.i32()
    topics = r.array(lambda r: (r.string(), r.array(
        lambda r: ({"error_code": r.i16(), "partition": r.i32(), "leader_epoch": r.i32(),
                    "end_offset": r.i64()}, r.tags())[0]), r.tags())[:2])
    return topics[0][1][0]


# IncrementalAlterConfigs ops
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3
RESOURCE_TOPIC, RESOURCE_BROKER = 2, 4


def incremental_alter_configs(conn, resource_type, name, ops, validate_only=False,
                              version=None):
    """ops: list of (config_name, op, value). Returns (error_code, message)."""
    v = version if version is not None else conn.pick(INCREMENTAL_ALTER_CONFIGS, 0, 1)
    flex = is_flexible(INCREMENTAL_ALTER_CONFIGS, v)
    w = W(flex)
    w.array([(resource_type, name)], lambda w, res: w.i8(res[0]).string(res[1]).array(
        ops, lambda w, o: w.string(o[0]).i8(o[1]).string(o[2]).tags()).tags())
    w.bool(validate_only).tags()
    r = conn.call(INCREMENTAL_ALTER_CONFIGS, v, w.done())
    r.i32()
    resps = r.array(lambda r: (r.i16(), r.string(), r.i8(), r.string(), r.tags())[:4])
    assert len(resps) == 1, resps
    return resps[0][0], resps[0][1]


def alter_partition_reassignments(conn, reassignments, timeout_ms=60000):
    """reassignments: {(topic, partition): [replicas] or None (cancel)}.
    Returns (error_code, error_message, {(topic, partition): (error_code, message)})."""
    by_topic = {}
    for (t, p), reps in reassignments.items():
        by_topic.setdefault(t, []).append((p, reps))
    w = W(True).i32(timeout_ms)
    w.array(list(by_topic.items()), lambda w, t: w.string(t[0]).array(
        t[1], lambda w, pr: w.i32(pr[0]).array(pr[1], lambda w, b: w.i32(b)).tags()).tags())
    w.tags()
    r = conn.call(ALTER_PARTITION_REASSIGNMENTS, 0, w.done())
    r.i32()
    err, msg = r.i16(), r.string()
    out = {}
    for name, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.i16(), r.string(), r.tags())[:3]), r.tags())[:2]):
        for p, e, m in parts:
            out[(name, p)] = (e, m)
    r.tags()
    return err, msg, out


def list_partition_reassignments(conn, partitions=None, timeout_ms=60000):
    """partitions: [(topic, partition)] or None (all).  Returns (error_code,
    {(topic, partition): {"replicas", "adding", "removing"}})."""
    w = W(True).i32(timeout_ms)
    if partitions is None:
        w.array(None, None)
    else:
        by_topic = {}
        for t, p in partitions:
            by_topic.setdefault(t, []).append(p)
        w.array(list(by_topic.items()), lambda w, t: w.string(t[0]).array(
            t[1], lambda w, p: w.i32(p)).tags())
    w.tags()
    r = conn.call(LIST_PARTITION_REASSIGNMENTS, 0, w.done())
    r.i32()
    err, _msg = r.i16(), r.string()
    ids = lambda r: r.i32()  # noqa: E731
    out = {}
    for name, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.array(ids), r.array(ids), r.array(ids), r.tags())[:4]),
            r.tags())[:2]):
        for p, reps, add, rem in parts:
            out[(name, p)] = {"replicas": reps, "adding": add, "removing": rem}
    r.tags()
    return err, out


def describe_cluster(conn, version=None):
    v = version if version is not None else conn.pick(DESCRIBE_CLUSTER, 0, 1)
    w = W(True).bool(False)
    if v >= 1:
        w.i8(1)  # endpoint type: brokers
    w.tags()
    r = conn.call(DESCRIBE_CLUSTER, v, w.done())
    res = {"throttle_time_ms": r.i32(), "error_code": r.i16(), "error_message": r.string()}
    if v >= 1:
        res["endpoint_type"] = r.i8()
    res["cluster_id"] = r.string()
    res["controller_id"] = r.i32()
    res["brokers"] = r.array(lambda r: ({"node_id": r.i32(), "host": r.string(),
                                         "port": r.i32(), "rack": r.string()}, r.tags())[0])
    res["cluster_authorized_operations"] = r.i32()
    r.tags()
    return res


def describe_log_dirs(conn, topics=None, version=None):
    """DescribeLogDirs v0-5. topics: None (all) or {name: [partitions]}.
    Returns {"throttle_time_ms", "error_code" (v3+, else None), "results":
    [{"error_code", "log_dir", "topics": {name: {partition: {"size",
    "offset_lag", "is_future"}}}, "total_bytes", "usable_bytes" (v4+, else
    None), "is_cordoned" (v5+, else None)}]}."""
    v = version if version is not None else conn.pick(DESCRIBE_LOG_DIRS, 0, 5)
    flex = is_flexible(DESCRIBE_LOG_DIRS, v)
    w = W(flex)
    w.array(None if topics is None else list(topics.items()),
            lambda w, t: w.string(t[0]).array(list(t[1]), lambda w, p: w.i32(p)).tags())
    w.tags()
    r = conn.call(DESCRIBE_LOG_DIRS, v, w.done())
    res = {"throttle_time_ms": r.i32(), "error_code": r.i16() if v >= 3 else None}

    def part(r):
        d = (r.i32(), {"size": r.i64(), "offset_lag": r.i64(), "is_future": r.bool()})
        r.tags()
        return d

    def topic(r):
        d = (r.string(), dict(r.array(part)))
        r.tags()
        return d

    def result(r):
        d = {"error_code": r.i16(), "log_dir": r.string(), "topics": dict(r.array(topic)),
             "total_bytes": None, "usable_bytes": None, "is_cordoned": None}
        if v >= 4:
            d["total_bytes"], d["usable_bytes"] = r.i64(), r.i64()
        if v >= 5:
            d["is_cordoned"] = r.bool()
        r.tags()
        return d

    res["results"] = r.array(result)
    r.tags()
    assert r.remaining() == 0, f"{r.remaining()} bytes left in a DescribeLogDirs v{v} response"
    return res


def metadata(conn, topics=None, version=None, allow_auto_create=False):
    """Topics -> {name: {"error_code", "partitions": {idx: leader}}} + brokers."""
    v = version if version is not None else conn.pick(METADATA, 1, 8)
    w = W(False)
    w.array(topics, lambda w, t: w.string(t))
    if v >= 4:
        w.bool(allow_auto_create)
    if v >= 8:
        w.bool(False).bool(False)
    r = conn.call(METADATA, v, w.done())
    if v >= 3:
        r.i32()
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    if v >= 2:
        r.string()
    controller = r.i32()

    def part(r):
        d = {"error_code": r.i16(), "partition": r.i32(), "leader": r.i32()}
        if v >= 7:
            d["leader_epoch"] = r.i32()
        d["replicas"] = r.array(lambda r: r.i32())
        d["isr"] = r.array(lambda r: r.i32())
        if v >= 5:
            d["offline"] = r.array(lambda r: r.i32())
        return d

    def topic(r):
        err, name = r.i16(), r.string()
        r.bool()  # is_internal
        parts = r.array(part)
        if v >= 8:
            r.i32()
        return name, {"error_code": err, "partitions": {p["partition"]: p for p in parts}}

    topics = r.array(topic)
    return {"brokers": brokers, "controller_id": controller, "topics": dict(topics),
            "topic_count": len(topics)}


# --- consumer groups ----------------------------------------------------------------
# Field layouts from Kafka's FindCoordinator/JoinGroup/SyncGroup/Heartbeat/
# LeaveGroup/OffsetCommit/OffsetFetch/DescribeGroups/ListGroups/DeleteGroups/
# OffsetDelete *.json message specs.
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP = 8, 9, 10, 11
HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 12, 13, 14, 15, 16
DELETE_GROUPS, OFFSET_DELETE = 42, 47

FLEX_FROM.update({
    OFFSET_COMMIT: 8, OFFSET_FETCH: 6, FIND_COORDINATOR: 3, JOIN_GROUP: 6, HEARTBEAT: 4,
    LEAVE_GROUP: 4, SYNC_GROUP: 4, DESCRIBE_GROUPS: 5, LIST_GROUPS: 3, DELETE_GROUPS: 2,
})

COORDINATOR_NOT_AVAILABLE = 15
OFFSET_METADATA_TOO_LARGE = 12
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
INVALID_GROUP_ID = 24
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82
GROUP_SUBSCRIBED_TO_TOPIC = 86


def consumer_subscription(topics, user_data=None, owned=None, version=0):
    """ConsumerProtocolSubscription bytes (v0; v1 adds owned partitions)."""
    w = W().i16(version).array(list(topics), lambda w, t: w.string(t)).bytes(user_data)
    if version >= 1:
        w.array(sorted((owned or {}).items()),
                lambda w, tp: w.string(tp[0]).array(list(tp[1]), lambda w, p: w.i32(p)))
    return w.done()


def consumer_assignment(assigned, user_data=None, version=0):
    """ConsumerProtocolAssignment bytes; assigned: {topic: [partitions]}."""
    return (W().i16(version).array(sorted(assigned.items()), lambda w, tp: w.string(tp[0]).array(
        list(tp[1]), lambda w, p: w.i32(p))).bytes(user_data).done())


def parse_consumer_subscription(data):
    r = R(data)
    d = {"version": r.i16(), "topics": r.array(lambda r: r.string())}
    d["user_data"] = r.bytes() if r.remaining() >= 4 else None
    if d["version"] >= 1 and r.remaining() >= 4:
        d["owned"] = dict(r.array(lambda r: (r.string(), r.array(lambda r: r.i32()))))
    return d


def parse_consumer_assignment(data):
    """{"version", "assigned": {topic: [partitions]}, "user_data"}; empty bytes -> {}."""
    if not data:
        return {"version": None, "assigned": {}, "user_data": None}
    r = R(data)
    d = {"version": r.i16(),
         "assigned": dict(r.array(lambda r: (r.string(), r.array(lambda r: r.i32()))) or [])}
    d["user_data"] = r.bytes() if r.remaining() >= 4 else None
    return d


def find_coordinator(conn, key, key_type=0, version=None):
    v = version if version is not None else conn.pick(FIND_COORDINATOR, 0, 4)
    flex = is_flexible(FIND_COORDINATOR, v)
    w = W(flex)
    if v >= 4:
        w.i8(key_type).array([key], lambda w, k: w.string(k))
    else:
        w.string(key)
        if v >= 1:
            w.i8(key_type)
    w.tags()
    r = conn.call(FIND_COORDINATOR, v, w.done())
    if v >= 1:
        r.i32()
    if v >= 4:
        cs = r.array(lambda r: ({"key": r.string(), "node_id": r.i32(), "host": r.string(),
                                 "port": r.i32(), "error_code": r.i16(),
                                 "error_message": r.string()}, r.tags())[0])
        return cs[0]
    d = {"error_code": r.i16()}
    d["error_message"] = r.string() if v >= 1 else None
    d.update(node_id=r.i32(), host=r.string(), port=r.i32())
    return d


def join_group(conn, group_id, member_id="", protocols=(("range", b""),),
               protocol_type="consumer", session_timeout_ms=30000, rebalance_timeout_ms=30000,
               group_instance_id=None, reason=None, version=None, timeout=None):
    """protocols: [(name, metadata bytes)]. Returns the response dict (members:
    [{member_id, group_instance_id, metadata}], only the leader's is non-empty)."""
    corr, v = send_join_group(conn, group_id, member_id, protocols, protocol_type,
                              session_timeout_ms, rebalance_timeout_ms, group_instance_id,
                              reason, version)
    return recv_join_group(conn, corr, v, timeout)


def send_join_group(conn, group_id, member_id="", protocols=(("range", b""),),
                    protocol_type="consumer", session_timeout_ms=30000,
                    rebalance_timeout_ms=30000, group_instance_id=None, reason=None,
                    version=None):
    """Send only (JoinGroup may be parked for a while); returns (corr, version)."""
    v = version if version is not None else conn.pick(JOIN_GROUP, 0, 9)
    flex = is_flexible(JOIN_GROUP, v)
    w = W(flex).string(group_id).i32(session_timeout_ms)
    if v >= 1:
        w.i32(rebalance_timeout_ms)
    w.string(member_id)
    if v >= 5:
        w.string(group_instance_id)
    w.string(protocol_type)
    w.array(list(protocols), lambda w, p: w.string(p[0]).bytes(p[1]).tags())
    if v >= 8:
        w.string(reason)
    w.tags()
    return conn.send_request(JOIN_GROUP, v, w.done()), v


def recv_join_group(conn, corr, v, timeout=None):
    r = conn.recv_response(JOIN_GROUP, v, corr, timeout)
    d = {"throttle_time_ms": r.i32() if v >= 2 else 0, "error_code": r.i16(),
         "generation_id": r.i32()}
    d["protocol_type"] = r.string() if v >= 7 else None
    d["protocol_name"] = r.string()
    d["leader"] = r.string()
    d["skip_assignment"] = r.bool() if v >= 9 else False
    d["member_id"] = r.string()

    def member(r):
        m = {"member_id": r.string()}
        m["group_instance_id"] = r.string() if v >= 5 else None
        m["metadata"] = r.bytes()
        r.tags()
        return m

    d["members"] = r.array(member)
    r.tags()
    return d


def sync_group(conn, group_id, generation_id, member_id, assignments=None,
               group_instance_id=None, protocol_type=None, protocol_name=None, version=None,
               timeout=None):
    """assignments: {member_id: bytes} (leader) or None/{} (followers)."""
    corr, v = send_sync_group(conn, group_id, generation_id, member_id, assignments,
                              group_instance_id, protocol_type, protocol_name, version)
    return recv_sync_group(conn, corr, v, timeout)


def send_sync_group(conn, group_id, generation_id, member_id, assignments=None,
                    group_instance_id=None, protocol_type=None, protocol_name=None,
                    version=None):
    v = version if version is not None else conn.pick(SYNC_GROUP, 0, 5)
    flex = is_flexible(SYNC_GROUP, v)
    w = W(flex).string(group_id).i32(generation_id).string(member_id)
    if v >= 3:
        w.string(group_instance_id)
    if v >= 5:
        w.string(protocol_type).string(protocol_name)
    w.array(sorted((assignments or {}).items()),
            lambda w, a: w.string(a[0]).bytes(a[1]).tags())
    w.tags()
    return conn.send_request(SYNC_GROUP, v, w.done()), v


def recv_sync_group(conn, corr, v, timeout=None):
    r = conn.recv_response(SYNC_GROUP, v, corr, timeout)
    d = {"throttle_time_ms": r.i32() if v >= 1 else 0, "error_code": r.i16()}
    if v >= 5:
        d["protocol_type"] = r.string()
        d["protocol_name"] = r.string()
    d["assignment"] = r.bytes()
    r.tags()
    return d


def heartbeat(conn, group_id, generation_id, member_id, group_instance_id=None, version=None):
    """Returns the error code."""
    v = version if version is not None else conn.pick(HEARTBEAT, 0, 4)
    flex = is_flexible(HEARTBEAT, v)
    w = W(flex).string(group_id).i32(generation_id).string(member_id)
    if v >= 3:
        w.string(group_instance_id)
    w.tags()
    r = conn.call(HEARTBEAT, v, w.done())
    if v >= 1:
        r.i32()
    err = r.i16()
    r.tags()
    return err


def leave_group(conn, group_id, members, version=None):
    """members: [(member_id, group_instance_id)] (v0-2: exactly one, instance
    ignored). Returns {"error_code", "members": [(member_id, instance, error)]}."""
    v = version if version is not None else conn.pick(LEAVE_GROUP, 0, 5)
    flex = is_flexible(LEAVE_GROUP, v)
    w = W(flex).string(group_id)
    if v >= 3:
        def mem(w, m):
            w.string(m[0]).string(m[1])
            if v >= 5:
                w.string(None)
            w.tags()
        w.array(list(members), mem)
    else:
        assert len(members) == 1
        w.string(members[0][0])
    w.tags()
    r = conn.call(LEAVE_GROUP, v, w.done())
    if v >= 1:
        r.i32()
    d = {"error_code": r.i16(), "members": []}
    if v >= 3:
        d["members"] = r.array(lambda r: (r.string(), r.string(), r.i16(), r.tags())[:3])
    r.tags()
    return d


def offset_commit(conn, group_id, offsets, generation_id=-1, member_id="",
                  group_instance_id=None, retention_time_ms=-1, version=None, send_only=False):
    """offsets: {(topic, partition): offset or (offset, metadata) or
    (offset, metadata, leader_epoch)}. Returns {(topic, partition): error_code}
    (send_only: the correlation id and version, for pipelining)."""
    v = version if version is not None else conn.pick(OFFSET_COMMIT, 0, 9)
    flex = is_flexible(OFFSET_COMMIT, v)
    w = W(flex).string(group_id)
    if v >= 1:
        w.i32(generation_id).string(member_id)
    if v >= 7:
        w.string(group_instance_id)
    if 2 <= v <= 4:
        w.i64(retention_time_ms)
    by_topic = {}
    for (t, p), o in offsets.items():
        if not isinstance(o, tuple):
            o = (o,)
        by_topic.setdefault(t, []).append((p,) + tuple(o))

    def part(w, e):
        p, off = e[0], e[1]
        meta = e[2] if len(e) > 2 else ""
        epoch = e[3] if len(e) > 3 else -1
        w.i32(p).i64(off)
        if v >= 6:
            w.i32(epoch)
        if v == 1:
            w.i64(-1)
        w.string(meta).tags()

    w.array(sorted(by_topic.items()), lambda w, t: w.string(t[0]).array(t[1], part).tags())
    w.tags()
    corr = conn.send_request(OFFSET_COMMIT, v, w.done())
    if send_only:
        return corr, v
    return recv_offset_commit(conn, corr, v)


def recv_offset_commit(conn, corr, v, timeout=None):
    r = conn.recv_response(OFFSET_COMMIT, v, corr, timeout)
    if v >= 3:
        r.i32()
    out = {}
    for t, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.i16(), r.tags())[:2]), r.tags())[:2]):
        for p, err in parts:
            out[(t, p)] = err
    return out


def offset_fetch(conn, group_id, topics=None, require_stable=False, version=None):
    """topics: {topic: [partitions]} or None (all). v0-7 form. Returns
    {"error_code", "offsets": {(topic, partition): (offset, leader_epoch, metadata, error)}}."""
    v = version if version is not None else conn.pick(OFFSET_FETCH, 1, 7)
    assert v < 8, "use offset_fetch_groups for v8+"
    flex = is_flexible(OFFSET_FETCH, v)
    w = W(flex).string(group_id)
    w.array(None if topics is None else sorted(topics.items()),
            lambda w, t: w.string(t[0]).array(list(t[1]), lambda w, p: w.i32(p)).tags())
    if v >= 7:
        w.bool(require_stable)
    w.tags()
    r = conn.call(OFFSET_FETCH, v, w.done())
    if v >= 3:
        r.i32()
    offs = _parse_fetched_topics(r, v)
    err = r.i16() if v >= 2 else 0
    r.tags()
    return {"error_code": err, "offsets": offs}


def _parse_fetched_topics(r, v):
    out = {}

    def part(r):
        p, off = r.i32(), r.i64()
        epoch = r.i32() if v >= 5 else -1
        meta, err = r.string(), r.i16()
        r.tags()
        return p, (off, epoch, meta, err)

    for t, parts in r.array(lambda r: (r.string(), r.array(part), r.tags())[:2]) or []:
        for p, e in parts:
            out[(t, p)] = e
    return out


def offset_fetch_groups(conn, groups, require_stable=False, version=None):
    """v8+ multi-group form. groups: {group_id: {topic: [partitions]} or None}.
    Returns {group_id: {"error_code", "offsets": {...}}}."""
    v = version if version is not None else conn.pick(OFFSET_FETCH, 8, 9)
    w = W(True)

    def grp(w, g):
        w.string(g[0])
        if v >= 9:
            w.string(None).i32(-1)
        w.array(None if g[1] is None else sorted(g[1].items()),
                lambda w, t: w.string(t[0]).array(list(t[1]), lambda w, p: w.i32(p)).tags())
        w.tags()

    w.array(list(groups.items()), grp).bool(require_stable).tags()
    r = conn.call(OFFSET_FETCH, v, w.done())
    r.i32()
    out = {}
    for _ in range(r.uvarint() - 1):
        gid = r.string()
        offs = _parse_fetched_topics(r, v)
        err = r.i16()
        r.tags()
        out[gid] = {"error_code": err, "offsets": offs}
    r.tags()
    return out


def describe_groups(conn, groups, version=None):
    """Returns [{error_code, group_id, group_state, protocol_type, protocol_data,
    members: [{member_id, group_instance_id, client_id, client_host,
    member_metadata, member_assignment}]}]."""
    v = version if version is not None else conn.pick(DESCRIBE_GROUPS, 0, 5)
    flex = is_flexible(DESCRIBE_GROUPS, v)
    w = W(flex).array(list(groups), lambda w, g: w.string(g))
    if v >= 3:
        w.bool(False)
    w.tags()
    r = conn.call(DESCRIBE_GROUPS, v, w.done())
    if v >= 1:
        r.i32()

    def member(r):
        m = {"member_id": r.string()}
        m["group_instance_id"] = r.string() if v >= 4 else None
        m.update(client_id=r.string(), client_host=r.string(), member_metadata=r.bytes(),
                 member_assignment=r.bytes())
        r.tags()
        return m

    def group(r):
        g = {"error_code": r.i16(), "group_id": r.string(), "group_state": r.string(),
             "protocol_type": r.string(), "protocol_data": r.string(),
             "members": r.array(member)}
        if v >= 3:
            g["authorized_operations"] = r.i32()
        r.tags()
        return g

    out = r.array(group)
    r.tags()
    return out


def list_groups(conn, states=None, types=None, version=None):
    """Returns {"error_code", "groups": {group_id: {protocol_type, group_state, group_type}}}."""
    v = version if version is not None else conn.pick(LIST_GROUPS, 0, 5)
    flex = is_flexible(LIST_GROUPS, v)
    w = W(flex)
    if v >= 4:
        w.array(list(states or []), lambda w, s: w.string(s))
    else:
        assert not states, "states filter needs ListGroups v4+"
    if v >= 5:
        w.array(list(types or []), lambda w, s: w.string(s))
    w.tags()
    r = conn.call(LIST_GROUPS, v, w.done())
    if v >= 1:
        r.i32()
    err = r.i16()

    def group(r):
        gid, ptype = r.string(), r.string()
        d = {"protocol_type": ptype}
        if v >= 4:
            d["group_state"] = r.string()
        if v >= 5:
            d["group_type"] = r.string()
        r.tags()
        return gid, d

    gs = dict(r.array(group) or [])
    r.tags()
    return {"error_code": err, "groups": gs}


def delete_groups(conn, groups, version=None):
    """Returns {group_id: error_code}."""
    v = version if version is not None else conn.pick(DELETE_GROUPS, 0, 2)
    flex = is_flexible(DELETE_GROUPS, v)
    w = W(flex).array(list(groups), lambda w, g: w.string(g)).tags()
    r = conn.call(DELETE_GROUPS, v, w.done())
    r.i32()
    out = dict(r.array(lambda r: (r.string(), r.i16(), r.tags())[:2]))
    r.tags()
    return out


def offset_delete(conn, group_id, topics, version=0):
    """topics: {topic: [partitions]}. Returns {"error_code",
    "partitions": {(topic, partition): error_code}}."""
    w = W(False).string(group_id)
    w.array(sorted(topics.items()),
            lambda w, t: w.string(t[0]).array(list(t[1]), lambda w, p: w.i32(p)))
    r = conn.call(OFFSET_DELETE, version, w.done())
    d = {"error_code": r.i16()}
    r.i32()
    d["partitions"] = {}
    for t, parts in r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16())))):
        for p, err in parts:
            d["partitions"][(t, p)] = err
    return d


def elect_leaders(conn, election_type, partitions, version=2, timeout_ms=60000):
    """ElectLeaders: partitions {topic: [p, ...]} or None (= all).  Returns
    (top-level error or None for v0, {(topic, p): (error, message)})."""
    flex = is_flexible(ELECT_LEADERS, version)
    w = W(flex)
    if version >= 1:
        w.i8(election_type)
    items = None if partitions is None else list(partitions.items())
    w.array(items, lambda w, tp: w.string(tp[0]).array(tp[1], lambda w, p: w.i32(p)).tags())
    w.i32(timeout_ms).tags()
    r = conn.call(ELECT_LEADERS, version, w.done())
    r.i32()
    top = r.i16() if version >= 1 else None
    out = {}

    def part(r, topic):
        pid, err, msg = r.i32(), r.i16(), r.string()
        r.tags()
        out[(topic, pid)] = (err, msg)

    def topic(r):
        name = r.string()
        r.array(lambda r: part(r, name))
        r.tags()
    r.array(topic)
    r.tags()
    return top, out


def controlled_shutdown(conn, broker_id, broker_epoch=-1, version=3):
    """ControlledShutdown.  Returns (error, [(topic, partition) remaining])."""
    w = W(is_flexible(CONTROLLED_SHUTDOWN, version)).i32(broker_id)
    if version >= 2:
        w.i64(broker_epoch)
    w.tags()
    r = conn.call(CONTROLLED_SHUTDOWN, version, w.done())
    err = r.i16()
    rem = r.array(lambda r: (r.string(), r.i32(), r.tags())[:2])
    return err, rem


# --- transactions, partition side (WriteTxnMarkers, DescribeProducers) ----------
WRITE_TXN_MARKERS, DESCRIBE_PRODUCERS = 27, 61
FLEX_FROM[WRITE_TXN_MARKERS] = 1
FLEX_FROM[DESCRIBE_PRODUCERS] = 0
INVALID_TXN_STATE = 48
TRANSACTION_COORDINATOR_FENCED = 52


def write_txn_markers(conn, markers, version=None, timeout=None):
    """markers: [(producer_id, producer_epoch, commit, coordinator_epoch,
    {topic: [partitions]})].  Returns {(producer_id, topic, partition): error}."""
    v = version if version is not None else conn.pick(WRITE_TXN_MARKERS, 0, 1)
    w = W(is_flexible(WRITE_TXN_MARKERS, v))

    def marker(w, m):
        pid, epoch, commit, ce, topics = m
        w.i64(pid).i16(epoch).bool(commit)
        w.array(sorted(topics.items()),
                lambda w, tp: w.string(tp[0]).array(tp[1], lambda w, p: w.i32(p)).tags())
        w.i32(ce).tags()

    w.array(markers, marker).tags()
    r = conn.call(WRITE_TXN_MARKERS, v, w.done(), timeout=timeout)
    out = {}

    def rmarker(r):
        pid = r.i64()

        def rtopic(r):
            name = r.string()

            def rpart(r):
                p, e = r.i32(), r.i16()
                r.tags()
                out[(pid, name, p)] = e
            r.array(rpart)
            r.tags()
        r.array(rtopic)
        r.tags()

    r.array(rmarker)
    return out


def describe_producers(conn, topic, partitions):
    """{partition: (error_code, [producer dicts])} (v0)."""
    w = W(True)
    w.array([topic], lambda w, t: w.string(t).array(partitions, lambda w, p: w.i32(p)).tags()).tags()
    r = conn.call(DESCRIBE_PRODUCERS, 0, w.done())
    r.i32()
    out = {}

    def prod(r):
        d = {"producer_id": r.i64(), "producer_epoch": r.i32(), "last_sequence": r.i32(),
             "last_timestamp": r.i64(), "coordinator_epoch": r.i32(),
             "current_txn_start_offset": r.i64()}
        r.tags()
        return d

    def part(r):
        p, e, _msg = r.i32(), r.i16(), r.string()
        out[p] = (e, r.array(prod))
        r.tags()

    r.array(lambda r: (r.string(), r.array(part), r.tags()))
    return out


# --- transactional offset commits (TxnOffsetCommit, key 28) -------------------------
TXN_OFFSET_COMMIT = 28
FLEX_FROM[TXN_OFFSET_COMMIT] = 3
UNSTABLE_OFFSET_COMMIT = 88


def txn_offset_commit(conn, transactional_id, group_id, producer_id, producer_epoch, offsets,
                      generation_id=-1, member_id="", group_instance_id=None, version=None):
    """offsets: {(topic, partition): offset or (offset, metadata)}. Returns
    {(topic, partition): error_code}."""
    v = version if version is not None else conn.pick(TXN_OFFSET_COMMIT, 0, 4)
    w = W(is_flexible(TXN_OFFSET_COMMIT, v))
    w.string(transactional_id).string(group_id).i64(producer_id).i16(producer_epoch)
    if v >= 3:
        w.i32(generation_id).string(member_id).string(group_instance_id)
    by_topic = {}
    for (t, p), o in offsets.items():
        o = o if isinstance(o, tuple) else (o, "")
        by_topic.setdefault(t, []).append((p,) + o)

    def part(w, e):
        w.i32(e[0]).i64(e[1])
        if v >= 2:
            w.i32(-1)
        w.string(e[2]).tags()

    w.array(sorted(by_topic.items()), lambda w, t: w.string(t[0]).array(t[1], part).tags())
    w.tags()
    r = conn.call(TXN_OFFSET_COMMIT, v, w.done())
    r.i32()
    out = {}
    for t, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.i16(), r.tags())[:2]), r.tags())[:2]):
        for p, err in parts:
            out[(t, p)] = err
    r.tags()
    return out
