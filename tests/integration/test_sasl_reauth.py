"""SASL re-authentication (KIP-368, issue 17): connections.max.reauth.ms on
a SASL_PLAINTEXT listener.  SaslAuthenticate v1+ answers the session
lifetime; a client that re-runs SaslHandshake + SaslAuthenticate in time
keeps its connection; one that does not is closed at its next request; a
re-authentication may not change the principal.  kafkajs re-authenticating
by itself: node/test/sasl.test.mjs.  The waits are the session lifetime
itself (what is tested is time-based)."""

import time

import pytest

import kproto
import sasl_util as su
from conftest import Broker, free_port

REAUTH_MS = 1000
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("sasl-reauth")
    port, plain = free_port(), free_port()
    ov = {"listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},PLAINTEXT://127.0.0.1:{plain}",
          "inter.broker.listener.name": "PLAINTEXT"}
    ov.update(su.sasl_broker_props("SASL_PLAINTEXT", USERS, ("PLAIN", "OAUTHBEARER"),
                                   reauth_ms=REAUTH_MS))
    # The listener's own list, written with a blank as operators do.
    ov["sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
    ov["listener.name.sasl_plaintext.sasl.enabled.mechanisms"] = "PLAIN, OAUTHBEARER"
    b = Broker(d, port=port, overrides=ov, name="reauth").start()
    yield b
    b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()[:5]


def metadata_ok(c):
    r = c.call(kproto.METADATA, 1, kproto.W().i32(-1).done())
    return r.array(lambda rr: (rr.i32(), rr.string(), rr.i32(), rr.string()))[0][0] == 0


def past(t0, ms):
    """Wait until `ms` after t0 (monotonic): the session's own clock."""
    left = t0 + ms / 1000 - time.monotonic()
    if left > 0:
        time.sleep(left)


def test_lifetime_answered_and_expired_session_closed(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        t0 = time.monotonic()
        err, _, life = su.login(c, "PLAIN", "alice", "alice-secret")
        assert (err, life) == (0, REAUTH_MS)
        assert metadata_ok(c)
        past(t0, REAUTH_MS + 100)
        c.send_request(kproto.METADATA, 1, kproto.W().i32(-1).done())
        assert c.recv_frame(timeout=5) is None, "served a request after the session expired"
    assert "SASL session expired" in broker.log_path.read_text()


def test_reauthentication_keeps_the_connection(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        t0 = time.monotonic()
        assert su.login(c, "PLAIN", "alice", "alice-secret")[0] == 0
        past(t0, REAUTH_MS // 2)
        t1 = time.monotonic()
        err, _, life = su.login(c, "PLAIN", "alice", "alice-secret")    # KIP-368
        assert (err, life) == (0, REAUTH_MS)
        past(t0, REAUTH_MS + 100)                 # the first session is over, not the second
        assert time.monotonic() < t1 + REAUTH_MS / 1000
        assert metadata_ok(c)


def test_reauthentication_cannot_change_principal(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        assert su.login(c, "PLAIN", "alice", "alice-secret")[0] == 0
        err, msg, _ = su.login(c, "PLAIN", "bob", "bob-secret")
        assert (err, msg) == (su.SASL_AUTHENTICATION_FAILED, "Cannot change principals during "
                              "re-authentication from User:alice: User:bob")
        assert c.wait_closed(5)


def test_listener_mechanism_list_wins(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        assert su.handshake(c, "SCRAM-SHA-512") == (su.UNSUPPORTED_SASL_MECHANISM,
                                                    ["PLAIN", "OAUTHBEARER"])


def test_reauthentication_cannot_change_mechanism(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        assert su.login(c, "PLAIN", "alice", "alice-secret")[0] == 0
        assert su.handshake(c, "OAUTHBEARER")[0] == su.ILLEGAL_SASL_STATE
        assert c.wait_closed(5)


def test_v0_authenticate_client_cannot_reauthenticate(broker):
    """SaslAuthenticate v0 has no session lifetime: such a client cannot
    re-authenticate (KafkaApis answers ILLEGAL_SASL_STATE) and is closed
    at expiry all the same."""
    with kproto.Conn("127.0.0.1", broker.port) as c:
        t0 = time.monotonic()
        assert su.login(c, "PLAIN", "alice", "alice-secret", version=0)[0] == 0
        assert su.handshake(c, "PLAIN")[0] == su.ILLEGAL_SASL_STATE
        assert metadata_ok(c)
        past(t0, REAUTH_MS + 100)
        c.send_request(kproto.METADATA, 1, kproto.W().i32(-1).done())
        assert c.recv_frame(timeout=5) is None


def test_token_shorter_than_reauth_sets_lifetime(broker):
    with kproto.Conn("127.0.0.1", broker.port) as c:
        # exp is in seconds: a token ending in ~0.5 s caps the 1 s session.
        jwt = su.unsecured_jwt({"exp": time.time() + 0.5}, sub="erin")
        err, _, life = su.login(c, "OAUTHBEARER", jwt=jwt)
        assert err == 0 and 0 <= life < REAUTH_MS, life
