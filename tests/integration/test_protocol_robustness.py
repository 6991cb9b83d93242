"""Protocol robustness: the issue's list of bad input, over raw sockets, each
checked against the documented response (docs/protocol-coverage.md,
"Behaviour notes"; docs/storage-format.md section 6), while a normal client
(the Bystander of test_malformed_requests) keeps producing and consuming.

Covered in test_malformed_requests.py (not repeated here): zero and negative
frame sizes, sizes over socket.request.max.bytes, three truncated-header
shapes, an unknown API key and an unsupported ApiVersions version, lying
counts in Metadata/CreateTopics/Produce, a bad batch CRC, a batch over
message.max.bytes, random bodies. test_limits.py covers a request of exactly
socket.request.max.bytes and one byte more. This file adds:

* unparseable requests - more truncated headers (including the flexible
  header v2), unknown API keys and versions outside the table, lying array
  counts in seven APIs (classic and compact arrays), bad varints in
  flexible fields - must close the connection with the documented WARN line
  naming the peer, API, version and correlation id;
* record batches with a wrong magic byte (0/1 -> INVALID_RECORD, others ->
  CORRUPT_MESSAGE) and bad varints inside records (CORRUPT_MESSAGE, with the
  batch CRC right, so the record framing check is what catches them), with
  nothing appended and the connection still usable.
"""

import re
import socket
import struct

import pytest

import kproto
from conftest import raw_conn
from test_malformed_requests import MSG_MAX, REQ_MAX, after, env  # noqa: F401  (fixture)

INVALID_RECORD = 87


def expect_closed_with_warn(b, c, corr, api_name, version, log_from):
    """The documented answer to an unparseable request: the connection is
    closed and one WARN line names the peer, API, version and correlation id."""
    assert c.wait_closed(5), "the broker did not close the connection"
    peer = "127.0.0.1:%d" % c.sock.getsockname()[1]
    pat = (r"WARN .*closing connection %s: %s v%d request \(correlation id %d\)"
           % (re.escape(peer), re.escape(api_name), version, corr))
    b.wait_for_log(pat, timeout=5, since=log_from)


# --- truncated headers -------------------------------------------------------------------
@pytest.mark.parametrize("payload", [
    struct.pack(">hhi", 3, 1, 7),                          # no client id length
    struct.pack(">hhi", 3, 1, 7) + b"\x00",                # half the client id length
    struct.pack(">hhih", 3, 1, 7, 5) + b"ab",              # client id cut short
    struct.pack(">hhih", 3, 9, 7, 2) + b"ab",              # flexible header: no tagged fields
    struct.pack(">hhih", 3, 9, 7, 2) + b"ab" + b"\x01",    # 1 tagged field, nothing after
    struct.pack(">hhih", 3, 9, 7, 2) + b"ab" + b"\x01\x00\x7f",  # tag longer than the frame
    struct.pack(">hhih", 3, 9, 7, 2) + b"ab" + b"\xff" * 6,      # tag count: bad varint
], ids=["no-client-id-len", "half-client-id-len", "short-client-id", "v2-no-tags",
        "v2-tag-missing", "v2-tag-too-long", "v2-tag-count-bad-varint"])
def test_truncated_header_variants(env, payload):
    b, by, _ = env
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        c.send_frame(payload)
        assert c.wait_closed(5), f"truncated header {payload.hex()} did not close the connection"
    # the WARN line names what could be read of the header
    b.wait_for_log(r"WARN .*closing connection 127\.0\.0\.1:\d+: .*"
                   r"(malformed request header|request shorter than its header)",
                   timeout=5, since=log0)
    after(b, by)


def test_header_only_no_body(env):
    b, by, _ = env
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        corr = c.send_request(kproto.METADATA, 1, b"")  # Metadata v1 needs a topics array
        expect_closed_with_warn(b, c, corr, "Metadata", 1, log0)
    after(b, by)


# --- unknown API keys and versions ---------------------------------------------------------
def test_unknown_api_keys_close_with_warn(env):
    b, by, _ = env
    with raw_conn(b) as c:
        known = set(c.versions())
    # keys past the table, negative, and gaps inside it (named but not served)
    unknown = [k for k in (1000, 32767, -1) if k not in known]
    unknown += [k for k in range(0, 80) if k not in known][:3]
    for key in unknown:
        log0 = len(b.log_text())
        with raw_conn(b) as c:
            corr = c.send_request(key, 0, b"\x00" * 16, flexible=False)
            assert c.wait_closed(5), f"api key {key}: connection not closed"
            peer = "127.0.0.1:%d" % c.sock.getsockname()[1]
        b.wait_for_log(r"WARN .*closing connection %s: \S+ v0 request \(correlation id %d\): "
                       r"unknown or unsupported API key" % (re.escape(peer), corr),
                       timeout=5, since=log0)
    after(b, by)


@pytest.mark.parametrize("api,name,version", [
    (kproto.METADATA, "Metadata", 999), (kproto.PRODUCE, "Produce", 2),
    (kproto.FETCH, "Fetch", 3), (kproto.LIST_OFFSETS, "ListOffsets", 99),
    (kproto.CREATE_TOPICS, "CreateTopics", 500)],
    ids=["metadata-v999", "produce-v2", "fetch-v3", "listoffsets-v99", "createtopics-v500"])
def test_version_outside_the_table(env, api, name, version):
    b, by, _ = env
    with raw_conn(b) as c:
        lo, hi = c.versions()[api]
    assert not lo <= version <= hi
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        corr = c.send_request(api, version, b"\x00" * 12, flexible=False)
        expect_closed_with_warn(b, c, corr, name, version, log0)
    b.wait_for_log(r"correlation id %d\): unsupported API version" % corr, since=log0)
    after(b, by)


# --- lying array counts ---------------------------------------------------------------------
BIG = 0x7FFFFFFF


def lying_requests(victim):
    W = kproto.W
    return {
        # Fetch v4: topics count 2^31-1
        "fetch-topics": (kproto.FETCH, "Fetch", 4,
                         W().i32(-1).i32(0).i32(1).i32(1 << 20).i8(0).i32(BIG).done()),
        # Fetch v4: 1 topic, partitions count 2^31-1
        "fetch-partitions": (kproto.FETCH, "Fetch", 4,
                             W().i32(-1).i32(0).i32(1).i32(1 << 20).i8(0).i32(1)
                             .string(victim).i32(BIG).i32(0).done()),
        # ListOffsets v1: 1 topic, partitions count 2^31-1
        "listoffsets-partitions": (kproto.LIST_OFFSETS, "ListOffsets", 1,
                                   W().i32(-1).i32(1).string(victim).i32(BIG).done()),
        # DeleteTopics v1: names count 2^31-1
        "deletetopics-names": (kproto.DELETE_TOPICS, "DeleteTopics", 1,
                               W().i32(BIG).string(victim).done()),
        # DescribeConfigs v1: resources count 2^31-1
        "describeconfigs-resources": (kproto.DESCRIBE_CONFIGS, "DescribeConfigs", 1,
                                      W().i32(BIG).i8(2).string(victim).i32(-1).done()),
        # OffsetCommit v2: 1 topic, partitions count 2^31-1
        "offsetcommit-partitions": (8, "OffsetCommit", 2,
                                    W().string("g").i32(-1).string("").i64(-1).i32(1)
                                    .string(victim).i32(BIG).done()),
        # CreateTopics v2: 1 topic, configs count 2^31-1
        "createtopics-configs": (kproto.CREATE_TOPICS, "CreateTopics", 2,
                                 W().i32(1).string(victim + "-x").i32(1).i16(1).i32(0)
                                 .i32(BIG).done()),
        # Produce v3: topics count -2 (only -1 means null, and this one is not nullable)
        "produce-negative": (kproto.PRODUCE, "Produce", 3,
                             W().string(None).i16(1).i32(1000).i32(-2).done()),
        # Metadata v9 (flexible): compact topics array claiming 2^32-2 entries
        "metadata-compact": (kproto.METADATA, "Metadata", 9,
                             kproto.uvarint(0xFFFFFFFF) + b"\x00\x00\x00"),
        # CreateTopics v5 (flexible): 1000 topics announced, one present
        "createtopics-compact": (kproto.CREATE_TOPICS, "CreateTopics", 5,
                                 kproto.uvarint(1001) + W(True).string(victim + "-y").i32(1)
                                 .i16(1).array([], None).array([], None).tags().done()),
    }


@pytest.mark.parametrize("case", list(lying_requests("v")))
def test_lying_array_counts(env, case):
    b, by, victim = env
    api, name, version, body = lying_requests(victim)[case]
    with raw_conn(b) as c:
        lo, hi = c.versions()[api]
    if not lo <= version <= hi:
        pytest.skip(f"{name} v{version} not supported")
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        corr = c.send_request(api, version, body)
        expect_closed_with_warn(b, c, corr, name, version, log0)
    after(b, by)
    with raw_conn(b) as c:  # nothing created, nothing appended
        md = kproto.metadata(c, None)
        assert victim + "-x" not in md["topics"] and victim + "-y" not in md["topics"]
        assert kproto.fetch(c, victim, 0, 0, max_wait_ms=0)["high_watermark"] == 0


# --- bad varints in flexible request fields -----------------------------------------------------
@pytest.mark.parametrize("case", ["string-len-overlong", "string-len-5-bytes-overflow",
                                  "array-len-overlong", "tagged-count-overlong"])
def test_bad_varints_in_flexible_fields(env, case):
    b, by, victim = env
    # Metadata v9 body: topics (compact array of {compact string name, tags}),
    # allow_auto_topic_creation, include_cluster_ops, include_topic_ops, tags
    if case == "string-len-overlong":      # 11 continuation bytes
        body = b"\x02" + b"\xff" * 11 + b"\x01" + b"\x00\x00\x00\x00"
    elif case == "string-len-5-bytes-overflow":  # > 2^32
        body = b"\x02" + b"\xff\xff\xff\xff\x7f" + b"abc\x00\x00\x00\x00\x00"
    elif case == "array-len-overlong":
        body = b"\x80" * 12 + b"\x00\x00\x00\x00"
    else:                                  # topic's tagged-field count
        body = b"\x02" + b"\x02a" + b"\xff" * 10 + b"\x01\x00\x00\x00\x00"
    log0 = len(b.log_text())
    with raw_conn(b) as c:
        corr = c.send_request(kproto.METADATA, 9, body)
        expect_closed_with_warn(b, c, corr, "Metadata", 9, log0)
    after(b, by)


# --- record batches: magic byte, bad varints inside records --------------------------------------
def batch_with_raw_records(raw_records, count, magic=2):
    """A v2 batch whose records section is `raw_records` verbatim, with a
    correct CRC (so only the record framing can be blamed)."""
    import time as _t
    ts = int(_t.time() * 1000)
    after_crc = (kproto.W().i16(0).i32(count - 1).i64(ts).i64(ts).i64(-1).i16(-1).i32(-1)
                 .i32(count).raw(raw_records).done())
    crc = kproto.crc32c(after_crc)
    return (kproto.W().i64(0).i32(4 + 1 + 4 + len(after_crc)).i32(-1).i8(magic).u32(crc)
            .raw(after_crc).done())


def rec(body):
    return kproto.varint(len(body)) + body


GOOD_REC_BODY = b"\x00" + kproto.varint(0) + kproto.varint(0) + kproto.varint(-1) + \
    kproto.varint(3) + b"abc" + kproto.varint(0)

RECORD_CASES = {
    # record length: 11 continuation bytes
    "length-overlong": b"\xff" * 11 + b"\x01" + GOOD_REC_BODY,
    # record length claims more than the batch holds
    "length-too-big": kproto.varint(5000) + GOOD_REC_BODY,
    # record length negative
    "length-negative": kproto.varint(-7) + GOOD_REC_BODY,
    # key length -5 (only -1 means null)
    "key-length-negative": rec(b"\x00\x00\x00" + kproto.varint(-5) + kproto.varint(3) + b"abc"
                               + b"\x00"),
    # value length varint of 10 continuation bytes inside the record
    "value-length-overlong": rec(b"\x00\x00\x00" + kproto.varint(-1) + b"\x80" * 10 + b"\x01"),
    # value length past the record's end
    "value-past-record": rec(b"\x00\x00\x00" + kproto.varint(-1) + kproto.varint(100) + b"abc"
                             + b"\x00"),
    # 2^31 headers announced
    "header-count-huge": rec(b"\x00\x00\x00" + kproto.varint(-1) + kproto.varint(3) + b"abc"
                             + kproto.varint(1 << 31)),
    # header key length negative
    "header-key-negative": rec(b"\x00\x00\x00" + kproto.varint(-1) + kproto.varint(3) + b"abc"
                               + kproto.varint(1) + kproto.varint(-3) + b"k"
                               + kproto.varint(1) + b"v"),
    # timestamp delta: 5-byte int32 varint used for a 64-bit field with 11 bytes
    "timestamp-overlong": rec(b"\x00" + b"\xff" * 11 + b"\x00\x00" + kproto.varint(-1)
                              + kproto.varint(0) + b"\x00"),
    # offset delta varint overflowing int32
    "offset-delta-overflow": rec(b"\x00\x00" + b"\xff\xff\xff\xff\x7f" + kproto.varint(-1)
                                 + kproto.varint(0) + b"\x00"),
    # one good record, then trailing garbage inside the batch
    "trailing-bytes": rec(GOOD_REC_BODY) + b"\x00\x01\x02",
}


@pytest.mark.parametrize("case", list(RECORD_CASES))
def test_bad_varints_inside_records(env, case):
    b, by, victim = env
    data = batch_with_raw_records(RECORD_CASES[case], 1)
    with raw_conn(b) as c:
        v = c.pick(kproto.PRODUCE, 3, 9)
        r = kproto.produce(c, victim, 0, data, version=v)
        assert r["error_code"] == kproto.CORRUPT_MESSAGE, f"{case}: {r}"
        # the same connection goes on working
        r = kproto.produce(c, victim, 0, kproto.record_batch([b"good"]), version=v)
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
    after(b, by)
    with raw_conn(b) as c:
        f = kproto.fetch(c, victim, 0, 0, max_wait_ms=0)
        assert f["high_watermark"] == 1
        assert [x["value"] for x in kproto.parse_records(f["records"])] == [b"good"]


def test_good_raw_record_is_accepted(env):
    """Control for the cases above: the hand-built record framing is right."""
    b, by, victim = env
    with raw_conn(b) as c:
        r = kproto.produce(c, victim, 0, batch_with_raw_records(rec(GOOD_REC_BODY), 1))
        assert r["error_code"] == 0, r
        f = kproto.fetch(c, victim, 0, 0, max_wait_ms=0)
        assert [x["value"] for x in kproto.parse_records(f["records"])] == [b"abc"]


@pytest.mark.parametrize("magic,code", [(0, INVALID_RECORD), (1, INVALID_RECORD),
                                        (3, INVALID_RECORD), (0x7F, INVALID_RECORD),
                                        (-1, INVALID_RECORD)],
                         ids=["magic0", "magic1", "magic3", "magic127", "magic-1"])
def test_wrong_magic_byte(env, magic, code):
    """Any magic but 2 in Produce v3+ is INVALID_RECORD before the log sees
    it, as Kafka 4's ProduceRequest validation answers (the differential
    suite compares it with Apache Kafka)."""
    b, by, victim = env
    good = kproto.record_batch([b"one", b"two"])
    data = good[:16] + struct.pack(">b", magic) + good[17:]
    with raw_conn(b) as c:
        r = kproto.produce(c, victim, 0, data)
        assert r["error_code"] == code, f"magic {magic}: {r}"
        r = kproto.produce(c, victim, 0, kproto.record_batch([b"good"]))
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
    after(b, by)


def test_batch_exactly_at_message_max_bytes(env):
    """The boundary of MESSAGE_TOO_LARGE: a batch of exactly
    message.max.bytes is accepted, one byte more is refused."""
    b, by, victim = env

    def batch_of(total):
        pad = total - 80
        for _ in range(10):
            data = kproto.record_batch([b"\x00" * pad])
            if len(data) == total:
                return data
            pad += total - len(data)
        raise AssertionError("could not size the batch")

    with raw_conn(b) as c:
        r = kproto.produce(c, victim, 0, batch_of(MSG_MAX + 1))
        assert r["error_code"] == kproto.MESSAGE_TOO_LARGE, r
        r = kproto.produce(c, victim, 0, batch_of(MSG_MAX))
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
    after(b, by)


# --- the peer resets the connection before the answer -------------------------------------
def test_client_gone_before_the_answer(broker):
    """A client that sends a request and resets the connection at once: the
    answer meets EPIPE/ECONNRESET, so the connection closes while its request
    is still being handled.  The request handler then must not touch the
    client again (it did: a use-after-free, found by the sanitizer pass during
    a test's teardown; this loop makes the window routine).  Under ASan any
    such access is a report in the broker log, which fails the teardown."""
    w = kproto.W()
    w.array(None, lambda w, t: w.string(t))           # Metadata v1: all topics
    body = w.done()
    linger_rst = struct.pack("ii", 1, 0)
    for _ in range(300):
        c = raw_conn(broker)
        c.send_request(kproto.METADATA, 1, body)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_rst)
        c.close()                                      # RST, not FIN
    assert broker.running(), "broker died"
    with raw_conn(broker) as c:                        # and it still answers
        assert kproto.API_VERSIONS in c.versions()
