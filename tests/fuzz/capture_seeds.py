#!/usr/bin/python3
"""Capture fuzzing seed corpora from real client traffic.

Starts a Samsa broker (tests/integration/conftest.py's Broker class) on
127.0.0.1 behind a small TCP proxy; the broker advertises the proxy's port, so
every client connection, bootstrap and data alike, goes through it. The proxy
records every request frame (client -> broker) and every response frame, then
traffic from the real clients is run through it:

  kcat            metadata, produce with each codec, keys and headers, consume
  confluent-kafka producers (each codec, idempotent), group consumer with
                  commits, AdminClient (create/delete topics, partitions,
                  describe/alter configs, list groups)
  kafka-python    producer (each codec) and group consumer (its own, older
                  protocol versions), KafkaAdminClient
  kafkajs         producer (gzip), group consumer, admin ops (node script
                  capture_kafkajs.cjs)
  kproto          the integration tests' raw client, once per supported
                  version of the APIs it speaks (version spread)

Then the broker is stopped cleanly and seeds are written (deduplicated,
size-capped, deterministic selection) to tests/fuzz/corpus/<target>/:

  fuzz_frame           [chunk selector][size][frame]... single frames and the
                       first frames of some connections
  fuzz_request_decode  [key][version][0 = request | 1 = response][body]
  fuzz_record_batch    [flags][batch] from produced and stored batches
  fuzz_config          config/server.properties and variants
  fuzz_recovery        real partition dirs (.log/.index/.timeindex/epoch
                       file/snapshot), packed as the harness expects

Usage: tests/fuzz/capture_seeds.py [--out tests/fuzz/corpus] [--keep-old]
Needs build/samsa-broker (or $SAMSA_BROKER) and the integration test clients
(scripts/deps.sh). Takes about a minute. Existing seeds are replaced unless
--keep-old.
"""

import argparse
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from conftest import Broker, free_port  # noqa: E402
import kproto  # noqa: E402

MAX_SEED = 64 << 10          # bytes per seed file
PER_VERSION = 3              # frames kept per (api key, version) for fuzz_frame
PER_VERSION_DECODE = 2       # bodies per (api key, version): requests; responses get 1
PER_TARGET_MAX = 400


def log(*a):
    print("capture:", *a, flush=True)


# --- protocol facts from the C schema (src/proto/messages) --------------------
def flex_table():
    """{api_key: first flexible version} parsed from the message headers."""
    msgs = ROOT / "src" / "proto" / "messages"
    keys = dict((m.group(3), int(m.group(1))) for m in
                re.finditer(r"X\((\d+),\s*(\w+),\s*(\w+)\)", (msgs / "all.h").read_text()))
    flex = {}
    for h in msgs.glob("*.h"):
        for m in re.finditer(r"#define\s+(\w+)_FLEX_FROM\s+(\d+)", h.read_text()):
            if m.group(1) in keys:
                flex[keys[m.group(1)]] = int(m.group(2))
    return flex


FLEX = flex_table()


def is_flex(key, ver):
    return ver >= FLEX.get(key, 1 << 30)


def uvarint_at(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def skip_tags(b, i):
    n, i = uvarint_at(b, i)
    for _ in range(n):
        _, i = uvarint_at(b, i)
        size, i = uvarint_at(b, i)
        i += size
    return i


def split_request(frame):
    """(key, version, corr, body) of a request frame (without size)."""
    key, ver, corr = struct.unpack(">hhi", frame[:8])
    i = 8
    if not (key == 7 and ver == 0):
        n = struct.unpack(">h", frame[i:i + 2])[0]
        i += 2 + max(n, 0)
        if is_flex(key, ver):
            i = skip_tags(frame, i)
    return key, ver, corr, frame[i:]


def split_response(frame, key, ver):
    i = 4
    if key != 18 and is_flex(key, ver):
        i = skip_tags(frame, i)
    return frame[i:]


# --- Produce request body -> record sets ----------------------------------------
class Rd:
    def __init__(self, b, flex):
        self.b, self.i, self.flex = b, 0, flex

    def take(self, n):
        v = self.b[self.i:self.i + n]
        if len(v) != n:
            raise ValueError("short")
        self.i += n
        return v

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uv(self):
        v, self.i = uvarint_at(self.b, self.i)
        return v

    def length(self, width):
        if self.flex:
            return self.uv() - 1
        return self.i16() if width == 2 else self.i32()

    def string(self):
        n = self.length(2)
        return None if n < 0 else self.take(n)

    def bytes_(self):
        n = self.length(4)
        return None if n < 0 else self.take(n)

    def tags(self):
        if self.flex:
            self.i = skip_tags(self.b, self.i)


def produce_record_sets(body, ver):
    r = Rd(body, is_flex(0, ver))
    r.string()                      # transactional id
    r.i16()
    r.i32()
    out = []
    for _ in range(r.length(4)):
        r.string()
        for _ in range(r.length(4)):
            r.i32()
            recs = r.bytes_()
            if recs:
                out.append(recs)
            r.tags()
        r.tags()
    return out


# --- the proxy ----------------------------------------------------------------
class Proxy:
    """127.0.0.1:port -> broker; records (conn, direction, frame) in order."""

    def __init__(self, target_port):
        self.target = target_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.frames = []            # (conn_id, "req"|"resp", bytes without size)
        self.nconn = 0
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.nconn += 1
                cid = self.nconn
            threading.Thread(target=self._pump, args=(c, s, cid, "req"), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, cid, "resp"), daemon=True).start()

    def _pump(self, src, dst, cid, direction):
        buf = b""
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                buf += d
                while len(buf) >= 4:
                    n = struct.unpack(">i", buf[:4])[0]
                    if n < 0 or len(buf) < 4 + n:
                        break
                    with self.lock:
                        self.frames.append((cid, direction, buf[4:4 + n]))
                    buf = buf[4 + n:]
                dst.sendall(d)
        except OSError:
            pass
        finally:
            for x in (src, dst):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.sock.close()


# --- traffic --------------------------------------------------------------------
def step(name, fn):
    t0 = time.monotonic()
    try:
        fn()
        log(f"{name}: ok ({time.monotonic() - t0:.1f} s)")
    except Exception as e:  # keep going: a seed corpus with gaps beats none
        log(f"{name}: FAILED: {type(e).__name__}: {e}")


def run(cmd, input_=None, timeout=30):
    p = subprocess.run(cmd, input=input_, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exit {p.returncode}: {p.stderr.decode(errors='replace')[-300:]}")
    return p.stdout


def traffic_kcat(bs):
    run(["kcat", "-b", bs, "-L"])
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        lines = "".join(f"k{i}:value-{codec}-{i}-" + "x" * (i * 7 % 50) + "\n" for i in range(40))
        run(["kcat", "-b", bs, "-P", "-t", f"kc-{codec}", "-z", codec, "-K:", "-H", "h1=v1",
             "-X", "linger.ms=50"], lines.encode())
    for codec in ("none", "zstd"):
        run(["kcat", "-b", bs, "-C", "-t", f"kc-{codec}", "-o", "beginning", "-e", "-q"])
    run(["kcat", "-b", bs, "-C", "-t", "kc-gzip", "-o", "-5", "-e", "-q", "-f", "%k %s %h\n"])
    run(["kcat", "-b", bs, "-Q", "-t", "kc-none:0:0"])


def traffic_confluent(bs):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,
                                       NewTopic)
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic("ck-a", 3, 1), NewTopic("ck-b", 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "16384", "retention.ms": "3600000"})])
    for f in fs.values():
        f.result(15)
    a.create_partitions([NewPartitions("ck-a", 4)])["ck-a"].result(15)
    res = ConfigResource("topic", "ck-a")
    a.describe_configs([res])[res].result(15)
    a.alter_configs([ConfigResource("topic", "ck-a", set_config={"retention.ms": "7200000"})])
    br = ConfigResource("broker", "0")
    a.describe_configs([br])[br].result(15)
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        p = Producer({"bootstrap.servers": bs, "compression.type": codec, "linger.ms": 20,
                      "enable.idempotence": codec in ("none", "lz4")})
        for i in range(60):
            p.produce("ck-a", key=b"k%d" % (i % 7), value=(b"c-%s-%d-" % (codec.encode(), i)) * (1 + i % 5),
                      headers=[("i", b"%d" % i)], partition=i % 4)
        p.flush(15)
    p = Producer({"bootstrap.servers": bs, "linger.ms": 5})
    for i in range(200):
        p.produce("ck-b", key=b"key-%d" % (i % 20), value=None if i % 17 == 0 else b"v%d" % i)
    p.flush(15)
    # Small segments: multi-segment partition dirs for the recovery seeds.
    a.create_topics([NewTopic("ck-seg", 1, 1, config={"segment.bytes": "4096",
                                                      "segment.index.bytes": "4096"})])["ck-seg"].result(15)
    for i in range(24):
        p.produce("ck-seg", key=b"s%d" % i, value=b"segment-%d-" % i + b"z" * 400)
        p.flush(15)
    c = Consumer({"bootstrap.servers": bs, "group.id": "ck-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": 6000})
    c.subscribe(["ck-a"])
    got, deadline = 0, time.monotonic() + 20
    while got < 300 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got += 1
            if got % 50 == 0:
                c.commit(m, asynchronous=False)
    c.committed([TopicPartition("ck-a", p) for p in range(4)], timeout=10)
    c.close()
    a.list_groups(timeout=10)


def traffic_kafka_python(bs):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
    adm = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=15000)
    adm.create_topics([NewTopic("kp-a", 2, 1)])
    adm.create_partitions({"kp-a": NewPartitions(3)})
    adm.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-a")])
    adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-a", configs={"retention.ms": "60000"})])
    for codec in (None, "gzip", "snappy", "lz4", "zstd"):
        p = KafkaProducer(bootstrap_servers=bs, compression_type=codec, linger_ms=20, acks=1)
        for i in range(40):
            p.send("kp-a", key=b"k%d" % i, value=b"kp-%s-%d" % (str(codec).encode(), i) * (1 + i % 3),
                   headers=[("h", b"x")])
        p.flush(15)
        p.close(5)
    c = KafkaConsumer("kp-a", bootstrap_servers=bs, group_id="kp-group", auto_offset_reset="earliest",
                      enable_auto_commit=True, auto_commit_interval_ms=200, consumer_timeout_ms=4000)
    n = sum(1 for _ in c)
    c.close()
    log(f"kafka-python consumed {n}")
    adm.list_consumer_groups()
    adm.describe_consumer_groups(["kp-group"])
    adm.list_consumer_group_offsets("kp-group")
    adm.delete_topics(["kp-a"])
    adm.close()


def traffic_kafkajs(bs):
    node_dir = ROOT / "tests" / "integration" / "node" / "node_modules" / "kafkajs"
    if not node_dir.is_dir():
        raise RuntimeError("kafkajs not installed (scripts/deps.sh)")
    run(["node", str(Path(__file__).with_name("capture_kafkajs.cjs")), bs], timeout=90)


def offset_for_leader_epoch_body(v):
    """kproto has no helper for OffsetForLeaderEpoch: topics [name, partitions
    [partition, (current_leader_epoch v2+), leader_epoch]], replica_id v3+."""
    flex = v >= 4
    w = kproto.W(flex)
    if v >= 3:
        w.i32(-1)

    def part(w, p):
        w.i32(p)
        if v >= 2:
            w.i32(-1)
        w.i32(0)
        if flex:
            w.tags()

    def topic(w, t):
        w.string(t).array([0], part)
        if flex:
            w.tags()

    w.array(["kq"], topic)
    if flex:
        w.tags()
    return w.done()


def traffic_kproto(port):
    """Each API kproto speaks, once per version the broker advertises (a
    fresh connection per request: a helper that cannot parse some version's
    response must not desynchronise the next one)."""
    with kproto.Conn("127.0.0.1", port) as c:
        vers = c.versions()
    batch = kproto.record_batch([b"a", b"b" * 30, b""], keys=[b"k", None, b"k2"])
    calls = [
        (18, lambda c, v: c.api_versions(v)),
        (kproto.METADATA, lambda c, v: kproto.metadata(c, ["kq"], version=v, allow_auto_create=True)),
        (kproto.PRODUCE, lambda c, v: kproto.produce(c, "kq", 0, batch, version=v)),
        (kproto.FETCH, lambda c, v: kproto.fetch(c, "kq", 0, 0, max_wait_ms=10, version=v)),
        (kproto.LIST_OFFSETS, lambda c, v: kproto.list_offsets(c, "kq", 0, -1, version=v, lo=0)),
        (kproto.DESCRIBE_CLUSTER, lambda c, v: kproto.describe_cluster(c, version=v)),
        (kproto.INIT_PRODUCER_ID, lambda c, v: kproto.init_producer_id(c, version=v)),
        (kproto.INCREMENTAL_ALTER_CONFIGS, lambda c, v: kproto.incremental_alter_configs(
            c, 2, "kq", [("retention.ms", 0, "86400000")], version=v)),
        (10, lambda c, v: kproto.find_coordinator(c, "kq-group", version=v)),
        (16, lambda c, v: kproto.list_groups(c, version=v)),
        (15, lambda c, v: kproto.describe_groups(c, ["kq-group"], version=v)),
        (9, lambda c, v: kproto.offset_fetch(c, "kq-group", {"kq": [0]}, version=v) if v < 8
            else kproto.offset_fetch_groups(c, {"kq-group": None}, version=v)),
        (8, lambda c, v: kproto.offset_commit(c, "kq-group", {("kq", 0): 1}, version=v)),
        (47, lambda c, v: kproto.offset_delete(c, "kq-group", {"kq": [0]}, version=v)),
        (28, lambda c, v: kproto.txn_offset_commit(c, "kq-tx", "kq-group", 7, 0, {("kq", 0): (1, "m")},
                                                   version=v)),
        (42, lambda c, v: kproto.delete_groups(c, ["kq-nogroup"], version=v)),
        (kproto.DELETE_RECORDS, lambda c, v: kproto.delete_records(c, "kq", 0, 1, version=v)),
        (kproto.DESCRIBE_LOG_DIRS, lambda c, v: (kproto.describe_log_dirs(c, version=v),
                                                 kproto.describe_log_dirs(c, {"kq": [0, 9]},
                                                                          version=v))),
        (11, lambda c, v: kproto.join_group(c, "kq-jg", protocols=(("range", b"\0\1"),), version=v,
                                            timeout=2)),
        (14, lambda c, v: kproto.sync_group(c, "kq-jg", 1, "m-1", {"m-1": b"\0\0"}, version=v, timeout=2)),
        (12, lambda c, v: kproto.heartbeat(c, "kq-jg", 1, "m-1", version=v)),
        (13, lambda c, v: kproto.leave_group(c, "kq-jg", [("m-1", None)], version=v)),
        (23, lambda c, v: (c.send_request(23, v, offset_for_leader_epoch_body(v), flexible=v >= 4),
                           c.recv_frame(5))),
    ]
    for key, fn in calls:
        if key not in vers:
            continue
        lo, hi = vers[key]
        for v in range(lo, hi + 1):
            try:
                with kproto.Conn("127.0.0.1", port) as c:
                    fn(c, v)
            except Exception:
                pass      # kproto may not parse every version's answer; the frames are captured anyway


# --- seed selection ----------------------------------------------------------------
def pick(items, n):
    """Deterministic spread: smallest, largest and evenly spaced by size."""
    items = sorted(set(items), key=lambda b: (len(b), hashlib.sha1(b).digest()))
    if len(items) <= n:
        return items
    if n == 1:
        return items[-1:]
    idx = sorted({round(i * (len(items) - 1) / (n - 1)) for i in range(n)})
    return [items[i] for i in idx]


def write_seeds(d, seeds):
    d.mkdir(parents=True, exist_ok=True)
    n = 0
    for s in seeds:
        if len(s) > MAX_SEED:
            continue
        (d / hashlib.sha1(s).hexdigest()).write_bytes(s)
        n += 1
    return n


def frame_seeds(frames):
    by_kv = defaultdict(list)
    conns = defaultdict(list)
    for cid, direction, f in frames:
        if direction != "req" or len(f) < 8:
            continue
        key, ver = struct.unpack(">hh", f[:4])
        by_kv[(key, ver)].append(f)
        conns[cid].append(f)
    seeds = []
    for kv in sorted(by_kv):
        for f in pick(by_kv[kv], PER_VERSION):
            seeds.append(b"\x00" + struct.pack(">i", len(f)) + f)
    # Multi-frame streams: the start of some connections, cut in various ways.
    for i, cid in enumerate(sorted(conns)[:16]):
        stream = b"".join(struct.pack(">i", len(f)) + f for f in conns[cid][:6])
        seeds.append(bytes([1 + i % 15]) + stream[:MAX_SEED - 1])
    return seeds


def decode_seeds(frames):
    by_kvd = defaultdict(list)
    pending = {}
    for cid, direction, f in frames:
        try:
            if direction == "req":
                key, ver, corr, body = split_request(f)
                pending[(cid, corr)] = (key, ver)
                by_kvd[(key, ver, 0)].append(body)
            else:
                corr = struct.unpack(">i", f[:4])[0]
                if (cid, corr) not in pending:
                    continue
                key, ver = pending.pop((cid, corr))
                by_kvd[(key, ver, 1)].append(split_response(f, key, ver))
        except (struct.error, IndexError):
            continue
    seeds = []
    for (key, ver, d) in sorted(by_kvd):
        if not (0 <= key < 256 and 0 <= ver < 256):
            continue
        for b in pick(by_kvd[(key, ver, d)], PER_VERSION_DECODE if d == 0 else 1):
            seeds.append(bytes([key, ver, d]) + b)
    return seeds


def batches_in(data):
    out, i = [], 0
    while i + 12 <= len(data):
        n = struct.unpack(">i", data[i + 8:i + 12])[0]
        if n < 49 or i + 12 + n > len(data):
            break
        out.append(data[i:i + 12 + n])
        i += 12 + n
    return out


def codec_of(batch):
    return struct.unpack(">h", batch[21:23])[0] & 7 if len(batch) >= 23 else -1


def record_batch_seeds(frames, stored):
    sets = []
    for _cid, direction, f in frames:
        if direction != "req" or len(f) < 8:
            continue
        try:
            key, ver, _corr, body = split_request(f)
            if key == 0:
                sets.extend(produce_record_sets(body, ver))
        except (ValueError, struct.error, IndexError):
            continue
    by_codec = defaultdict(list)
    for s in sets:
        by_codec[(codec_of(s), "produced")].append(s)
    for b in stored:
        by_codec[(codec_of(b), "stored")].append(b)
    seeds = []
    for k in sorted(by_codec):
        for s in pick(by_codec[k], 10):
            seeds.append(b"\x00" + s)
            seeds.append(b"\x01" + s[:-1])         # truncated record, CRC fixed up
    return seeds


CONFIG_VARIANTS = [
    "node.id=0\nlisteners=PLAINTEXT://127.0.0.1:9092\nlog.dirs=/tmp/samsa-data\n",
    "broker.id=3\nnode.id=3\nlisteners=PLAINTEXT://:9092,INTERNAL://127.0.0.1:9093\n"
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT\n"
    "advertised.listeners=PLAINTEXT://example.com:9092,INTERNAL://127.0.0.1:9093\n",
    "log.retention.hours=24\nlog.retention.minutes=30\nlog.retention.ms=1000\nlog.roll.hours=1\n"
    "log.segment.bytes=1048576\nlog.cleanup.policy=compact,delete\n",
    "# continuation and escapes\nlog.dirs = /a,\\\n   /b , /c\nmessage.max.bytes : 1000012\n"
    "key\\ with\\ spaces=v\\u00e9\\tx\n! comment\nnum.network.threads 3\n",
    "\xef\xbb\xbfnode.id=1\r\nauto.create.topics.enable=false\r\ndelete.topic.enable=true\r\n",
    "zookeeper.connect=localhost:2181\nnum.recovery.threads.per.data.dir=1\n"
    "offsets.topic.replication.factor=1\ntransaction.state.log.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n",
    "node.id=-1\nsocket.request.max.bytes=0\nlog.retention.ms=-2\nlisteners=PLAINTEXT://[::1]:99999\n",
    "compression.type=zstd\ncompression.zstd.level=19\nlog.message.timestamp.type=LogAppendTime\n"
    "log.message.timestamp.before.max.ms=3600000\nmin.insync.replicas=1\n",
    "log.flush.interval.messages=1\nlog.flush.interval.ms=1000\nlog.cleaner.enable=true\n"
    "log.cleaner.threads=2\nlog.cleaner.min.cleanable.ratio=0.1\nlog.cleaner.delete.retention.ms=1\n",
    "connections.max.idle.ms=60000\nmax.connections=100\nmax.connections.per.ip=10\n"
    "max.connections.per.ip.overrides=127.0.0.1:5,::1:7\nqueued.max.requests=500\n",
]


def config_seeds():
    seeds = [(ROOT / "config" / "server.properties").read_bytes()]
    seeds += [v.encode("latin-1") if not v.isascii() else v.encode() for v in CONFIG_VARIANTS]
    return seeds


def pack_recovery(files, split=0, flags=0):
    idx = files.get("index", b"")[:0xFFFF]
    tidx = files.get("timeindex", b"")[:0xFFFF]
    epoch = files.get("epoch", b"")[:0xFFFF]
    snap = files.get("snapshot", b"")[:0xFFFF]
    hdr = struct.pack(">BHHHHI", flags | (1 if split else 0), len(idx), len(tidx), len(epoch),
                      len(snap), split)
    return hdr + idx + tidx + epoch + snap + files["log"]


def recovery_seeds(logdir):
    """Partition dirs of the stopped broker -> harness inputs (<= MAX_SEED)."""
    seeds, stored = [], []
    for pdir in sorted(Path(logdir).iterdir()):
        if not pdir.is_dir() or "-" not in pdir.name:
            continue
        logs = sorted(pdir.glob("*.log"))
        for lg in logs:
            stored.extend(batches_in(lg.read_bytes()))
        if not logs or sum(p.stat().st_size for p in logs) == 0:
            continue
        base = logs[-1].name[:-4]
        files = {"log": b"".join(p.read_bytes() for p in logs)}
        for k, suffix in (("index", ".index"), ("timeindex", ".timeindex")):
            p = pdir / (base + suffix)
            if p.exists():
                files[k] = p.read_bytes()
        ep = pdir / "leader-epoch-checkpoint"
        if ep.exists():
            files["epoch"] = ep.read_bytes()
        snaps = sorted(pdir.glob("*.snapshot"))
        if snaps:
            files["snapshot"] = snaps[-1].read_bytes()
        room = MAX_SEED - 64 - sum(len(v) for k, v in files.items() if k != "log")
        if len(files["log"]) > room:   # cut at a batch boundary
            keep = b""
            for b in batches_in(files["log"]):
                if len(keep) + len(b) > room:
                    break
                keep += b
            files["log"] = keep
        if not files["log"]:
            continue
        split = 0
        if len(logs) > 1:
            split = logs[0].stat().st_size if logs[0].stat().st_size < len(files["log"]) else 0
        seeds.append(pack_recovery(files, split=split))     # indexes: the active segment's
        seeds.append(pack_recovery({"log": files["log"]}, flags=4))
        if len(files["log"]) > 100:       # a torn tail, as a crash leaves it
            seeds.append(pack_recovery({"log": files["log"][:-37], "index": files.get("index", b"")}))
    return seeds, stored


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "fuzz" / "corpus"))
    ap.add_argument("--keep-old", action="store_true", help="add to the corpus instead of replacing it")
    args = ap.parse_args()
    out = Path(args.out)

    work = Path(tempfile.mkdtemp(prefix="samsa-capture-"))
    bport = free_port()
    proxy = Proxy(bport)
    b = Broker(work, port=bport, overrides={
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}",
        "log.segment.bytes": 65536,          # several segments for the recovery seeds
        "offsets.topic.num.partitions": 2,
        "group.initial.rebalance.delay.ms": 0,
    })
    bs = f"127.0.0.1:{proxy.port}"
    log(f"broker {b.binary} on {bport}, proxy on {proxy.port}, data in {b.logdir}")
    b.start()
    try:
        step("kproto", lambda: traffic_kproto(proxy.port))
        step("kcat", lambda: traffic_kcat(bs))
        step("confluent-kafka", lambda: traffic_confluent(bs))
        step("kafka-python", lambda: traffic_kafka_python(bs))
        step("kafkajs", lambda: traffic_kafkajs(bs))
        time.sleep(0.5)
    finally:
        b.stop(signal.SIGTERM)
        proxy.close()
    with proxy.lock:
        frames = list(proxy.frames)
    log(f"{len(frames)} frames over {proxy.nconn} connections")
    seen = defaultdict(set)
    for _cid, direction, f in frames:
        if direction == "req" and len(f) >= 4:
            key, ver = struct.unpack(">hh", f[:4])
            seen[key].add(ver)
    log("request versions seen: " + ", ".join(
        f"{k}:v{min(v)}-{max(v)}({len(v)})" for k, v in sorted(seen.items())))

    rec_seeds, stored = recovery_seeds(b.logdir)
    targets = {
        "fuzz_frame": frame_seeds(frames),
        "fuzz_request_decode": decode_seeds(frames),
        "fuzz_record_batch": record_batch_seeds(frames, stored),
        "fuzz_config": config_seeds(),
        "fuzz_recovery": rec_seeds,
    }
    total = 0
    for t, seeds in targets.items():
        d = out / t
        if d.exists() and not args.keep_old:
            shutil.rmtree(d)
        seeds = seeds[:PER_TARGET_MAX]
        n = write_seeds(d, seeds)
        size = sum(p.stat().st_size for p in d.iterdir()) if d.exists() else 0
        total += size
        log(f"{t}: {n} seeds, {size / 1024:.0f} KiB")
    log(f"total {total / 1024:.0f} KiB in {out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
