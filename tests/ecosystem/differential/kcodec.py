"""A generic, schema-driven Kafka wire codec for the differential suite.

The schemas are Apache Kafka's own message definitions, read at run time
from the pinned kafka-clients jar that tests/ecosystem/kafka/deps.sh puts in
build/kafka/<version>/libs (common/message/*.json inside the jar): the very
definitions the oracle broker is generated from. Nothing is copied into this
repository, and nothing is independent of Samsa's own transcription in
src/proto/messages (a shared mistake would hide itself).

    s = Schemas.load()
    body = s.encode_request(3, 12, {"topics": None, "allow_auto_topic_creation": False})
    resp = s.decode_response(3, 12, payload)     # nested dicts, snake_case names

Field names are the schema's, in snake_case ("ErrorCode" -> "error_code").
Missing request fields take the schema default. Tagged fields are written
when they differ from their default; decoded ones absent on the wire take
their default. Unknown tags are kept under "_unknown_tags".
"""

import json
import re
import struct
import uuid
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _snake(name):
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


def _strip_comments(text):
    """Drop // comments outside string literals (the schema files use them)."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif c == "/" and text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Versions:
    """A version range: "3", "1-4", "2+", "none"."""

    def __init__(self, spec):
        spec = (spec or "none").strip()
        if spec == "none":
            self.lo, self.hi = 1, 0
        elif spec.endswith("+"):
            self.lo, self.hi = int(spec[:-1]), 1 << 15
        elif "-" in spec:
            a, b = spec.split("-")
            self.lo, self.hi = int(a), int(b)
        else:
            self.lo = self.hi = int(spec)

    def __contains__(self, v):
        return self.lo <= v <= self.hi

    def __repr__(self):
        return f"{self.lo}-{self.hi}"


PRIMS = {"bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64",
         "string", "bytes", "records", "uuid"}
ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA"


class Field:
    def __init__(self, spec, structs):
        self.name = _snake(spec["name"])
        self.type = spec["type"]
        self.versions = Versions(spec.get("versions"))
        self.nullable = Versions(spec.get("nullableVersions"))
        self.tagged = Versions(spec.get("taggedVersions"))
        self.tag = spec.get("tag")
        self.flex_override = Versions(spec["flexibleVersions"]) if "flexibleVersions" in spec else None
        self.map_key = bool(spec.get("mapKey"))
        self.default_spec = spec.get("default")
        self.is_array = self.type.startswith("[]")
        base = self.type[2:] if self.is_array else self.type
        self.base = base
        self.fields = None
        if base not in PRIMS:
            sub = spec.get("fields")
            if sub is None:
                sub = structs[base]  # a commonStruct
            self.fields = [Field(f, structs) for f in sub]

    def default(self):
        d = self.default_spec
        if self.is_array:
            return []
        if self.fields is not None:
            return None if d == "null" else {f.name: f.default() for f in self.fields}
        if d == "null":
            return None
        t = self.base
        if t == "bool":
            return d == "true" if isinstance(d, str) else bool(d)
        if t in ("string",):
            return d if d is not None else ""
        if t == "bytes":
            return b""
        if t == "records":
            return None
        if t == "uuid":
            return ZERO_UUID
        if t == "float64":
            return float(d) if d is not None else 0.0
        if d is None or d == "":
            return 0
        return int(d, 0) if isinstance(d, str) else int(d)


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


def uuid_to_b64(raw):
    import base64
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64_to_uuid(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


_FMT = {"bool": ">?", "int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
        "uint32": ">I", "int64": ">q", "float64": ">d"}


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.d = bytes(data)
        self.p = 0

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise DecodeError(f"short read: need {n} at {self.p}/{len(self.d)}")
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def uvarint(self):
        shift = n = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift > 35:
                raise DecodeError("uvarint too long")


class Message:
    def __init__(self, spec, structs):
        self.name = spec["name"]
        self.api_key = spec.get("apiKey")
        self.valid = Versions(spec.get("validVersions"))
        self.flex = Versions(spec.get("flexibleVersions"))
        self.fields = [Field(f, structs) for f in spec.get("fields", [])]

    # --- encoding ---------------------------------------------------------
    def encode(self, version, value):
        out = bytearray()
        self._enc_struct(out, self.fields, value or {}, version, version in self.flex)
        return bytes(out)

    def _enc_struct(self, out, fields, value, v, flex):
        tagged = []
        for f in fields:
            if v not in f.versions:
                continue
            val = value.get(f.name, f.default()) if isinstance(value, dict) else f.default()
            if flex and v in f.tagged:
                if val != f.default():
                    buf = bytearray()
                    self._enc_field(buf, f, val, v, flex)
                    tagged.append((f.tag, bytes(buf)))
                continue
            fflex = flex and (f.flex_override is None or v in f.flex_override)
            self._enc_field(out, f, val, v, fflex)
        if flex:
            extra = value.get("_unknown_tags", []) if isinstance(value, dict) else []
            tagged += [(t, bytes.fromhex(h)) for t, h in extra]
            tagged.sort()
            out += uvarint(len(tagged))
            for tag, data in tagged:
                out += uvarint(tag) + uvarint(len(data)) + data

    def _len(self, out, n, flex, wide):
        if flex:
            out += uvarint(n + 1)
        else:
            out += struct.pack(">i" if wide else ">h", n)

    def _enc_field(self, out, f, val, v, flex):
        if f.is_array:
            if val is None:
                out += uvarint(0) if flex else struct.pack(">i", -1)
                return
            self._len(out, len(val), flex, True)
            for item in val:
                self._enc_one(out, f, item, v, flex)
            return
        self._enc_one(out, f, val, v, flex)

    def _enc_one(self, out, f, val, v, flex):
        t = f.base
        if f.fields is not None:
            if v in f.nullable and not f.is_array:  # a nullable struct: -1 null, 1 present
                out += struct.pack(">b", -1 if val is None else 1)
                if val is None:
                    return
            self._enc_struct(out, f.fields, val, v, flex)
        elif t in _FMT:
            out += struct.pack(_FMT[t], val)
        elif t == "uuid":
            out += b64_to_uuid(val) if isinstance(val, str) else bytes(val)
        elif t == "string":
            if val is None:
                out += uvarint(0) if flex else struct.pack(">h", -1)
            else:
                data = val.encode()
                self._len(out, len(data), flex, False)
                out += data
        else:  # bytes, records
            if val is None:
                out += uvarint(0) if flex else struct.pack(">i", -1)
            else:
                self._len(out, len(val), flex, True)
                out += val

    # --- decoding ---------------------------------------------------------
    def decode(self, version, data):
        r = Reader(data)
        value = self._dec_struct(r, self.fields, version, version in self.flex)
        if r.p != len(r.d):
            value["_trailing_bytes"] = len(r.d) - r.p
        return value

    def _dec_struct(self, r, fields, v, flex):
        value = {}
        for f in fields:
            if v not in f.versions:
                continue
            if flex and v in f.tagged:
                value[f.name] = f.default()
                continue
            fflex = flex and (f.flex_override is None or v in f.flex_override)
            value[f.name] = self._dec_field(r, f, v, fflex)
        if flex:
            by_tag = {f.tag: f for f in fields if v in f.versions and v in f.tagged}
            unknown = []
            for _ in range(r.uvarint()):
                tag, size = r.uvarint(), r.uvarint()
                data = r.take(size)
                if tag in by_tag:
                    sub = Reader(data)
                    value[by_tag[tag].name] = self._dec_field(sub, by_tag[tag], v, flex)
                else:
                    unknown.append([tag, data.hex()])
            if unknown:
                value["_unknown_tags"] = unknown
        return value

    def _rlen(self, r, flex, wide):
        if flex:
            return r.uvarint() - 1
        return struct.unpack(">i" if wide else ">h", r.take(4 if wide else 2))[0]

    def _dec_field(self, r, f, v, flex):
        if f.is_array:
            n = self._rlen(r, flex, True)
            if n < 0:
                return None
            if n > len(r.d):
                raise DecodeError(f"{f.name}: array of {n}")
            return [self._dec_one(r, f, v, flex) for _ in range(n)]
        return self._dec_one(r, f, v, flex)

    def _dec_one(self, r, f, v, flex):
        t = f.base
        if f.fields is not None:
            if (v in f.nullable and not f.is_array
                    and struct.unpack(">b", r.take(1))[0] < 0):
                return None
            return self._dec_struct(r, f.fields, v, flex)
        if t in _FMT:
            fmt = _FMT[t]
            return struct.unpack(fmt, r.take(struct.calcsize(fmt)))[0]
        if t == "uuid":
            return uuid_to_b64(r.take(16))
        n = self._rlen(r, flex, t != "string")
        if n < 0:
            return None
        data = r.take(n)
        return data.decode(errors="replace") if t == "string" else data


class Schemas:
    """Every request/response/header message of the pinned kafka-clients jar."""

    def __init__(self, jar):
        self.jar = Path(jar)
        self.requests, self.responses, self.headers = {}, {}, {}
        with zipfile.ZipFile(self.jar) as z:
            for name in z.namelist():
                if not (name.startswith("common/message/") and name.endswith(".json")):
                    continue
                spec = json.loads(_strip_comments(z.read(name).decode()))
                structs = {s["name"]: s["fields"] for s in spec.get("commonStructs", [])}
                kind = spec.get("type")
                if kind not in ("request", "response", "header"):
                    continue
                msg = Message(spec, structs)
                if kind == "header":
                    self.headers[msg.name] = msg
                elif kind == "request":
                    self.requests[msg.api_key] = msg
                else:
                    self.responses[msg.api_key] = msg

    @classmethod
    def load(cls):
        libs = sorted((ROOT / "build" / "kafka").glob("*/libs/kafka-clients-*.jar"))
        if not libs:
            raise RuntimeError("kafka-clients jar missing: run tests/ecosystem/kafka/deps.sh")
        return cls(libs[-1])

    def name(self, api_key):
        return self.requests[api_key].name[:-len("Request")]

    def request_flexible(self, api_key, version):
        return version in self.requests[api_key].flex

    def encode_header(self, api_key, version, corr, client_id):
        flex = version in self.requests[api_key].flex
        return self.headers["RequestHeader"].encode(2 if flex else 1, {
            "request_api_key": api_key, "request_api_version": version,
            "correlation_id": corr, "client_id": client_id})

    def encode_request(self, api_key, version, corr, client_id, body):
        return (self.encode_header(api_key, version, corr, client_id)
                + self.requests[api_key].encode(version, body))

    def decode_response(self, api_key, version, payload):
        """payload: the frame after the size. Returns (correlation_id, body)."""
        resp = self.responses[api_key]
        # ApiVersions responses always use header v0 (clients may not yet know
        # the broker's flexible versions).
        flex_hdr = version in resp.flex and api_key != 18
        r = Reader(payload)
        corr = struct.unpack(">i", r.take(4))[0]
        if flex_hdr:
            for _ in range(r.uvarint()):
                r.uvarint()
                r.take(r.uvarint())
        return corr, resp.decode(version, payload[r.p:])
