"""SASL helpers for the integration tests (issue 17): a raw SaslHandshake /
SaslAuthenticate client over kproto.Conn with PLAIN, SCRAM-SHA-256/512
(RFC 5802 in pure Python: hashlib.pbkdf2_hmac + hmac) and OAUTHBEARER
unsecured JWTs, and the JAAS properties of a SASL broker."""

import base64
import hashlib
import hmac
import json
import os
import struct
import time

import kproto
from kproto import W

SASL_AUTHENTICATION_FAILED = 58
UNSUPPORTED_SASL_MECHANISM = 33
ILLEGAL_SASL_STATE = 34

PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
OAUTH_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"


def sasl_broker_props(listener="SASL_PLAINTEXT", users=None, mechanisms=("PLAIN",),
                      oauth_options="", reauth_ms=None):
    """Broker properties enabling `mechanisms` on `listener` with PLAIN users
    {name: password} (JAAS user_<name>)."""
    l = listener.lower()
    props = {"sasl.enabled.mechanisms": ",".join(mechanisms)}
    for m in mechanisms:
        if m == "PLAIN":
            opts = " ".join(f'user_{u}="{p}"' for u, p in (users or {}).items())
            props[f"listener.name.{l}.plain.sasl.jaas.config"] = f"{PLAIN_MODULE} required {opts};"
        elif m.startswith("SCRAM"):
            props[f"listener.name.{l}.{m.lower()}.sasl.jaas.config"] = f"{SCRAM_MODULE} required;"
        elif m == "OAUTHBEARER":
            props[f"listener.name.{l}.oauthbearer.sasl.jaas.config"] = \
                f"{OAUTH_MODULE} required {oauth_options};"
    if reauth_ms is not None:
        props["connections.max.reauth.ms"] = str(reauth_ms)
    return props


# ---- the wire ------------------------------------------------------------------------------
def handshake(conn, mechanism, version=1):
    """SaslHandshake: (error_code, [mechanisms])."""
    r = conn.call(kproto.SASL_HANDSHAKE, version, W().string(mechanism).done())
    err = r.i16()
    mechs = r.array(lambda rr: rr.string())
    return err, mechs


def authenticate(conn, token, version=1):
    """SaslAuthenticate: (error_code, error_message, auth_bytes, session_lifetime_ms)."""
    flex = version >= 2
    r = conn.call(kproto.SASL_AUTHENTICATE, version, W(flex).bytes(token).tags().done()
                  if flex else W().bytes(token).done())
    err = r.i16()
    msg = r.string()
    data = r.bytes()
    life = r.i64() if version >= 1 else None
    return err, msg, data, life


def legacy_token(conn, token):
    """v0 exchange: a raw size-prefixed token; the raw answer, or None if closed."""
    conn.send_frame(token)
    deadline = time.monotonic() + conn.timeout
    hdr = conn._recv_exact(4, deadline)
    if hdr is None or len(hdr) < 4:
        return None
    (n,) = struct.unpack(">i", hdr)
    body = conn._recv_exact(n, deadline) if n else b""
    return None if body is None or len(body) < n else body


# ---- mechanisms ----------------------------------------------------------------------------
def plain_token(user, password, authzid=""):
    return f"{authzid}\0{user}\0{password}".encode()


class ScramClient:
    def __init__(self, mechanism, user, password):
        self.h = "sha256" if mechanism == "SCRAM-SHA-256" else "sha512"
        self.user, self.password = user, password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.bare = f"n={name},r={self.nonce}"

    def first(self):
        return ("n,," + self.bare).encode()

    def final(self, server_first):
        sf = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in sf.split(","))
        assert attrs["r"].startswith(self.nonce), sf
        salted = hashlib.pbkdf2_hmac(self.h, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        ck = hmac.new(salted, b"Client Key", self.h).digest()
        sk = hashlib.new(self.h, ck).digest()
        without = f"c=biws,r={attrs['r']}"
        am = f"{self.bare},{sf},{without}".encode()
        sig = hmac.new(sk, am, self.h).digest()
        proof = bytes(a ^ b for a, b in zip(ck, sig))
        self.server_sig = hmac.new(hmac.new(salted, b"Server Key", self.h).digest(), am,
                                   self.h).digest()
        return f"{without},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final):
        assert server_final.decode() == "v=" + base64.b64encode(self.server_sig).decode()


def b64url(d):
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


def unsecured_jwt(claims=None, sub="alice", lifetime_s=3600, header=None):
    now = int(time.time())
    c = {"sub": sub, "iat": now, "exp": now + lifetime_s}
    c.update(claims or {})
    c = {k: v for k, v in c.items() if v is not None}
    h = header or {"alg": "none"}
    return f"{b64url(json.dumps(h).encode())}.{b64url(json.dumps(c).encode())}."


def oauth_token(jwt, authzid=""):
    a = f"a={authzid}" if authzid else ""
    return f"n,{a},\x01auth=Bearer {jwt}\x01\x01".encode()


def login(conn, mechanism, user=None, password=None, jwt=None, version=1):
    """A whole v1 exchange; returns (error_code, message, session_lifetime_ms)."""
    err, mechs = handshake(conn, mechanism)
    if err:
        return err, None, None
    if mechanism == "PLAIN":
        e, m, _, life = authenticate(conn, plain_token(user, password), version)
        return e, m, life
    if mechanism == "OAUTHBEARER":
        e, m, data, life = authenticate(conn, oauth_token(jwt), version)
        if e == 0 and data:            # an error status: answer %x01, get the failure
            e, m, _, life = authenticate(conn, b"\x01", version)
        return e, m, life
    sc = ScramClient(mechanism, user, password)
    e, m, data, life = authenticate(conn, sc.first(), version)
    if e:
        return e, m, life
    e, m, data, life = authenticate(conn, sc.final(data), version)
    if e == 0:
        sc.verify(data)
    return e, m, life
