"""The differential harness: one Samsa broker and one Apache Kafka broker,
the same requests sent to both over raw sockets (kcodec), the decoded
responses compared field by field.

    o.call(api, version, body)        one request to both, compared
    o.flow(fn)                        fn(side) runs on each broker (its own
                                      member ids, producer ids...) and returns
                                      a list of responses; the lists are compared
    o.side("samsa").call(...)         one broker, not compared (setup)

Comparison (compare()): arrays whose elements have key fields (the schema's
mapKey) are matched by key, others by index. Fields matched by a "normalise"
rule of allowlist.json (ids, ports, timestamps: values that must differ) are
compared by their shape only: null, empty, zero, -1, or "some value". A
remaining difference fails the scenario unless an "allow" rule (scenario,
path, reason) lists it. Paths read like Metadata.topics[t].partitions[0].leader_id;
rules use * as a wildcard.
"""

import json
import os
import re
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from kcodec import ZERO_UUID, DecodeError, Schemas

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "integration"))
import kproto  # noqa: E402  record batches and CRC32C, shared with the integration tests

# API keys used by the scenarios
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP = 8, 9, 10, 11
HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 12, 13, 14, 15, 16
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS = 18, 19, 20, 21
INIT_PRODUCER_ID, OFFSET_FOR_LEADER_EPOCH = 22, 23
DESCRIBE_CONFIGS, ALTER_CONFIGS, DESCRIBE_LOG_DIRS = 32, 33, 35
CREATE_PARTITIONS, DELETE_GROUPS, INCREMENTAL_ALTER_CONFIGS = 37, 42, 44
OFFSET_DELETE, DESCRIBE_CLUSTER = 47, 60


class Stats:
    scenarios = 0
    fields = 0
    normalised = 0
    allowlisted = 0
    differences = 0          # not allowlisted (failures)
    allow_hits = {}          # rule index -> count


# --- connections ---------------------------------------------------------------
class Side:
    """A raw connection to one broker."""

    def __init__(self, name, port, schemas, versions=None):
        self.name, self.port, self.s = name, port, schemas
        self.sock = None
        self.corr = 0
        self.versions = versions or {}
        self.state = {}
        self.extra = []          # further connections opened by conn()

    def connect(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    def conn(self):
        """Another connection to the same broker (a second group member...)."""
        c = Side(self.name, self.port, self.s, self.versions).connect()
        self.extra.append(c)
        return c

    def close(self):
        for c in self.extra:
            c.close()
        self.extra = []
        if self.sock:
            self.sock.close()
            self.sock = None

    def send(self, api, version, body, client_id="samsa-diff"):
        self.corr += 1
        payload = self.s.encode_request(api, version, self.corr, client_id, body)
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        return self.corr

    def send_raw(self, api, version, body_bytes, client_id="samsa-diff"):
        """A request whose body the caller encoded (malformed input)."""
        self.corr += 1
        payload = self.s.encode_header(api, version, self.corr, client_id) + body_bytes
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)
        return self.corr

    def _exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise TimeoutError(f"{self.name}: no response within the deadline") from None
            if not chunk:
                raise ConnectionError(f"{self.name}: connection closed")
            buf += chunk
        return bytes(buf)

    def recv(self, api, version, corr, timeout=30):
        deadline = time.monotonic() + timeout
        size = struct.unpack(">i", self._exact(4, deadline))[0]
        payload = self._exact(size, deadline)
        got, body = self.s.decode_response(api, version, payload)
        if got != corr:
            raise AssertionError(f"{self.name}: correlation id {got}, expected {corr}")
        return body

    def call(self, api, version, body, timeout=30):
        return self.recv(api, version, self.send(api, version, body), timeout)

    def closed_after(self, timeout=5):
        """True when the broker closes the connection (no response) in time."""
        deadline = time.monotonic() + timeout
        try:
            self._exact(1, deadline)
        except ConnectionError:
            return True
        except TimeoutError:
            return False
        return False

    def topic_id(self, name):
        m = self.call(METADATA, 12, {"topics": [{"name": name}],
                                     "allow_auto_topic_creation": False})
        return m["topics"][0]["topic_id"]

    def max_version(self, api):
        return self.versions.get(api, (None, -1))[1]


def api_versions(side):
    resp = side.call(API_VERSIONS, 3, {"client_software_name": "samsa-diff",
                                        "client_software_version": "1"})
    return {k["api_key"]: (k["min_version"], k["max_version"]) for k in resp["api_keys"]}


# --- records -------------------------------------------------------------------
def batch(values, keys=None, base_timestamp=1_700_000_000_000, **kw):
    """A v2 record batch (fixed timestamp so both brokers store the same bytes)."""
    values = [v.encode() if isinstance(v, str) else v for v in values]
    return kproto.record_batch(values, keys=keys, base_timestamp=base_timestamp, **kw)


def parse_batches(data):
    """A records field, decoded: one dict per batch (header fields, records)."""
    if data is None:
        return None
    out, pos = [], 0
    while pos < len(data):
        if pos + 12 > len(data):
            out.append({"partial_tail_bytes": len(data) - pos})
            break
        base_offset, blen = struct.unpack_from(">qi", data, pos)
        if pos + 12 + blen > len(data) or blen < 49:
            out.append({"partial_tail_bytes": len(data) - pos, "base_offset": base_offset})
            break
        (epoch, magic, crc, attrs, last_delta, base_ts, max_ts, pid, pepoch, base_seq,
         count) = struct.unpack_from(">ibIhiqqqhii", data, pos + 12)
        b = dict(base_offset=base_offset, batch_length=blen, partition_leader_epoch=epoch,
                 magic=magic, crc_ok=kproto.crc32c(data[pos + 21:pos + 12 + blen]) == crc,
                 attributes=attrs, last_offset_delta=last_delta, base_timestamp=base_ts,
                 max_timestamp=max_ts, producer_id=pid, producer_epoch=pepoch,
                 base_sequence=base_seq, records_count=count)
        if magic == 2 and attrs & 7 == 0:
            b["records"] = [dict(offset=r["offset"], timestamp=r["timestamp"], key=r["key"],
                                 value=r["value"], headers=r["headers"])
                            for r in kproto.parse_records(data[pos:pos + 12 + blen])]
        out.append(b)
        pos += 12 + blen
    return out


# --- allowlist -----------------------------------------------------------------
def _glob(pat):
    return re.compile("^" + ".*".join(re.escape(p) for p in pat.split("*")) + "$")


class Allowlist:
    def __init__(self, path=HERE / "allowlist.json"):
        data = json.loads(Path(path).read_text())
        self.normalise = [dict(r, _re=_glob(r["path"])) for r in data["normalise"]]
        self.allow = [dict(r, _re=_glob(r["path"]), _sre=_glob(r["scenario"]))
                      for r in data["allow"]]
        for r in self.normalise + self.allow:
            assert r.get("reason"), f"allowlist rule without a reason: {r}"

    def normalised(self, path):
        return any(r["_re"].match(path) for r in self.normalise)

    def allowed(self, scenario, path):
        for i, r in enumerate(self.allow):
            if r["_sre"].match(scenario) and r["_re"].match(path):
                Stats.allow_hits[i] = Stats.allow_hits.get(i, 0) + 1
                return r
        return None


def shape(v):
    """What is left of a normalised value: its kind, not its content."""
    if v is None or v == "" or v == b"" or v == 0 or v == -1 or v == ZERO_UUID or v == []:
        return v
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return "<positive>" if v > 0 else "<negative>"
    return f"<{type(v).__name__}>"


# --- comparison ----------------------------------------------------------------
def _key_fields(fields):
    """How array elements are matched: the schema's mapKey fields, else a
    name, else by index."""
    if not fields:
        return []
    keys = [f.name for f in fields if f.map_key]
    if keys:
        return keys
    names = [f.name for f in fields]
    for k in ("name", "resource_name", "group_id", "api_key"):
        if k in names:
            return [k] + (["resource_type"] if k == "resource_name" and
                          "resource_type" in names else [])
    return []


def _label(item, keys, idx):
    if keys and isinstance(item, dict):
        return ",".join(str(item.get(k)) for k in keys)
    return str(idx)


class Diff:
    def __init__(self, scenario, allow):
        self.scenario, self.al = scenario, allow
        self.fails, self.allowed = [], []
        self.fields = 0

    def leaf(self, path, a, b):
        self.fields += 1
        if self.al.normalised(path):
            Stats.normalised += 1
            a, b = shape(a), shape(b)
        if a == b:
            return
        rule = self.al.allowed(self.scenario, path)
        if rule:
            self.allowed.append((path, a, b, rule["reason"]))
        else:
            self.fails.append((path, a, b))

    def value(self, path, a, b, fields=None):
        if isinstance(a, dict) and isinstance(b, dict):
            sub = {f.name: f for f in fields or []}
            for k in list(a) + [k for k in b if k not in a]:
                if k == "records" and (isinstance(a.get(k), (bytes, type(None))) and
                                       isinstance(b.get(k), (bytes, type(None)))):
                    self.value(f"{path}.records", parse_batches(a.get(k)),
                               parse_batches(b.get(k)))
                    continue
                f = sub.get(k)
                self.value(f"{path}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>"),
                           f.fields if f else None)
        elif isinstance(a, list) and isinstance(b, list):
            keys = _key_fields(fields)
            la = [_label(x, keys, i) for i, x in enumerate(a)]
            lb = [_label(x, keys, i) for i, x in enumerate(b)]
            if keys:
                ma, mb = dict(zip(la, a)), dict(zip(lb, b))
                order = la + [k for k in lb if k not in ma]
                for k in order:
                    self.value(f"{path}[{k}]", ma.get(k, "<missing>"), mb.get(k, "<missing>"),
                               fields)
            else:
                if not fields and len(a) != len(b):
                    self.leaf(f"{path}", a, b)
                    return
                for i in range(max(len(a), len(b))):
                    self.value(f"{path}[{i}]", a[i] if i < len(a) else "<missing>",
                               b[i] if i < len(b) else "<missing>", fields)
        else:
            self.leaf(path, a, b)

    def report(self):
        def fmt(v):
            s = repr(v)
            return s if len(s) <= 120 else s[:117] + "..."
        lines = [f"{len(self.fails)} difference(s) not in allowlist.json "
                 f"({self.fields} fields compared, {len(self.allowed)} allowlisted):",
                 f"  {'field':60} {'samsa':>30}   kafka"]
        for p, a, b in self.fails:
            lines.append(f"  {p:60} {fmt(a):>30}   {fmt(b)}")
        return "\n".join(lines)


class Oracle:
    def __init__(self, samsa_port, kafka_port, schemas, allow):
        self.s, self.allow = schemas, allow
        self.samsa = Side("samsa", samsa_port, schemas).connect()
        self.kafka = Side("kafka", kafka_port, schemas).connect()
        self.samsa.versions = api_versions(self.samsa)
        self.kafka.versions = api_versions(self.kafka)
        self.scenario = None
        self.diff = None

    def sides(self):
        return (self.samsa, self.kafka)

    def begin(self, scenario):
        self.scenario = scenario
        self.diff = Diff(scenario, self.allow)
        for side in self.sides():
            side.state = {}
            side.connect()   # a fresh connection: a failed scenario leaves nothing behind

    def end(self):
        for side in self.sides():
            for c in side.extra:
                c.close()
            side.extra = []

    def newest(self, api):
        """The newest version both brokers and the codec serve."""
        return min(self.samsa.max_version(api), self.kafka.max_version(api),
                   self.s.requests[api].valid.hi)

    def serves(self, api, version):
        lo, hi = self.samsa.versions.get(api, (0, -1))
        return lo <= version <= hi

    def compare(self, name, a, b, api=None):
        fields = self.s.responses[api].fields if api is not None else None
        self.diff.value(name, a, b, fields)

    def check(self):
        """Fail the scenario on differences not allowlisted."""
        Stats.fields += self.diff.fields
        Stats.allowlisted += len(self.diff.allowed)
        Stats.differences += len(self.diff.fails)
        if self.diff.fails:
            raise AssertionError(self.diff.report())

    def call(self, api, version, body, check=True, timeout=30):
        """One request to both brokers (in parallel), responses compared."""
        out = {}

        def run(side):
            try:
                b = body(side) if callable(body) else body
                out[side.name] = side.call(api, version, b, timeout)
            except Exception as e:  # noqa: BLE001  reported below, per side
                out[side.name] = e
        self._both(run)
        for side in self.sides():
            if isinstance(out[side.name], Exception):
                side.close()
                raise AssertionError(f"{side.name}: {self.s.name(api)} v{version}: "
                                     f"{out[side.name]!r}")
        if check:
            self.compare(self.s.name(api), out["samsa"], out["kafka"], api)
            self.check()
        return out["samsa"], out["kafka"]

    def flow(self, fn, check=True):
        """fn(side) -> list of (api, response) or values; run on both, compared."""
        out = {}

        def run(side):
            try:
                out[side.name] = fn(side)
            except Exception as e:  # noqa: BLE001
                out[side.name] = e
        self._both(run)
        for side in self.sides():
            if isinstance(out[side.name], Exception):
                raise AssertionError(f"{side.name}: flow failed") from out[side.name]
        a, b = out["samsa"], out["kafka"]
        assert len(a) == len(b), f"flow steps: samsa {len(a)}, kafka {len(b)}"
        for i, (sa, sb) in enumerate(zip(a, b)):
            if isinstance(sa, tuple):
                self.compare(f"{self.s.name(sa[0])}#{i}", sa[1], sb[1], sa[0])
            else:
                self.compare(f"step#{i}", sa, sb)
        if check:
            self.check()
        return a, b

    def _both(self, run):
        threads = [threading.Thread(target=run, args=(side,)) for side in self.sides()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # --- setup helpers (not compared) ------------------------------------------
    def name(self, suffix=""):
        """A topic/group name unique to the running scenario."""
        base = re.sub(r"[^A-Za-z0-9._-]", "_", self.scenario.replace("test_", "d-", 1))
        return f"{base}{suffix}"[:200]

    def create_topic(self, name, partitions=1, configs=None):
        for side in self.sides():
            create_topic(side, name, partitions, configs)
        return name


def wait_until(cond, timeout=15, desc="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {desc}")
        time.sleep(0.02)


def create_topic(side, name, partitions=1, configs=None):
    """CreateTopics on one broker, then wait until every partition has a leader."""
    v = min(side.max_version(CREATE_TOPICS), 7)
    r = side.call(CREATE_TOPICS, v, {"topics": [{
        "name": name, "num_partitions": partitions, "replication_factor": 1,
        "configs": [{"name": k, "value": str(val)} for k, val in (configs or {}).items()]}],
        "timeout_ms": 30000})
    err = r["topics"][0]["error_code"]
    assert err == 0, f"{side.name}: create {name}: error {err}"

    def ready():
        m = side.call(METADATA, 9, {"topics": [{"name": name}],
                                    "allow_auto_topic_creation": False})
        t = m["topics"][0]
        if not (t["error_code"] == 0 and len(t["partitions"]) == partitions
                and all(p["error_code"] == 0 and p["leader_id"] >= 0 for p in t["partitions"])):
            return False
        # Kafka publishes the leader in its metadata before its replica
        # manager serves the partition (a produce then gets
        # NOT_LEADER_OR_FOLLOWER): ListOffsets answers only once it does.
        lo = side.call(LIST_OFFSETS, 1, {"replica_id": -1, "topics": [{
            "name": name, "partitions": [{"partition_index": i, "timestamp": -1}
                                         for i in range(partitions)]}]})
        return all(p["error_code"] == 0 for p in lo["topics"][0]["partitions"])
    wait_until(ready, desc=f"{side.name}: leaders of {name}")


def wait_coordinator(side, group, key_type=0):
    """FindCoordinator until the coordinator answers (offsets topic loaded)."""
    def ready():
        r = side.call(FIND_COORDINATOR, 4, {"key_type": key_type, "coordinator_keys": [group]})
        return r["coordinators"][0]["error_code"] == 0
    wait_until(ready, timeout=30, desc=f"{side.name}: coordinator of {group}")


def env_port_base():
    return int(os.environ.get("SAMSA_ECO_PORT_BASE", os.environ.get("SAMSA_TEST_PORT_BASE",
                                                                     "30500")))


__all__ = ["Oracle", "Side", "Stats", "Allowlist", "Schemas", "DecodeError", "batch",
           "parse_batches", "create_topic", "wait_coordinator", "wait_until"]
