"""SASL (issue 17): SASL_PLAINTEXT and SASL_SSL listeners with PLAIN,
SCRAM-SHA-256/512 and OAUTHBEARER, from kcat, confluent-kafka, kafka-python
and raw frames; refusals with Kafka's error codes and messages, the gate
before authentication, the legacy v0 exchange, the frame bound.  One broker
for the module (SASL_PLAINTEXT + SASL_SSL + a PLAINTEXT listener for setup).
kafkajs: tests/integration/node/test/sasl.test.mjs; re-authentication:
test_sasl_reauth.py."""

import os
import struct
import subprocess
import time

import confluent_kafka as ck
import pytest

import kproto
import sasl_util as su
from conftest import (BROKER_BIN, Broker, consume_exact, create_topic, free_port, produce_all,
                      producer, run_broker_expect_exit)
from security import certs, confluent_conf, kafka_python_conf, kcat_args  # noqa: F401

CLI_BIN = os.path.abspath(os.environ.get("SAMSA_CLI") or
                          os.path.join(os.path.dirname(__file__), "..", "..", "build", "samsa"))

PLAIN_USERS = {"alice": "alice-secret", "bob": "bob-secret"}
SCRAM_USERS = {"SCRAM-SHA-256": ("carol", "carol-256"), "SCRAM-SHA-512": ("dave", "dave-512")}
MECHS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


@pytest.fixture(scope="module")
def sasl(tmp_path_factory, certs):  # noqa: F811
    d = tmp_path_factory.mktemp("sasl")
    port, ssl_port, plain_port = free_port(), free_port(), free_port()
    ov = {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{ssl_port},"
                     f"PLAINTEXT://127.0.0.1:{plain_port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "ssl.keystore.type": "PEM", "ssl.keystore.location": certs.path("broker-keystore.pem"),
        "ssl.truststore.type": "PEM", "ssl.truststore.location": certs.ca(),
    }
    for listener in ("SASL_PLAINTEXT", "SASL_SSL"):
        ov.update(su.sasl_broker_props(listener, PLAIN_USERS, MECHS))
    b = Broker(d, port=port, overrides=ov, name="sasl").start()
    b.ssl_port, b.plain_port = ssl_port, plain_port
    b.plain_bs = f"127.0.0.1:{plain_port}"
    b.ssl_bs = f"127.0.0.1:{ssl_port}"
    for mech, (user, pw) in SCRAM_USERS.items():
        r = subprocess.run([CLI_BIN, "-b", b.plain_bs, "user", "create", user, "--password", pw,
                            "--mechanism", mech], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    yield b
    b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()[:5]


def creds(mech):
    if mech == "PLAIN":
        return "alice", PLAIN_USERS["alice"]
    return SCRAM_USERS[mech]


def conn(b, port=None):
    return kproto.Conn("127.0.0.1", port or b.port, timeout=10)


# ---- real clients --------------------------------------------------------------------------
@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("tls", [False, True], ids=["sasl_plaintext", "sasl_ssl"])
def test_confluent_kafka_produce_consume(sasl, certs, mech, tls):  # noqa: F811
    user, pw = creds(mech)
    bs = sasl.ssl_bs if tls else sasl.bootstrap
    conf = confluent_conf(bs, certs, sasl={"mechanism": mech, "username": user, "password": pw},
                          tls=tls)
    conf.pop("bootstrap.servers")
    topic = f"ck-{mech.lower()}-{'ssl' if tls else 'plain'}"
    create_topic(sasl.plain_bs, topic)
    produce_all(producer(bs, **conf), topic, [{"value": f"v{i}".encode()} for i in range(20)])
    got = consume_exact(bs, topic, {0: 20}, timeout=30, **conf)
    assert [m.value() for m in got[0]] == [f"v{i}".encode() for i in range(20)]


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_kcat_produce_consume(sasl, certs, mech):  # noqa: F811
    user, pw = creds(mech)
    args = kcat_args(sasl.bootstrap, certs, sasl={"mechanism": mech, "username": user,
                                                 "password": pw}, tls=False)
    topic = f"kcat-{mech.lower()}"
    r = subprocess.run(["kcat", *args, "-t", topic, "-P", "-K:"], input="k1:one\nk2:two\n",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["kcat", *args, "-t", topic, "-C", "-e", "-o", "beginning", "-f", "%k=%s\n"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["k1=one", "k2=two"]


def test_kcat_wrong_password_fails_with_kafka_message(sasl, certs):  # noqa: F811
    args = kcat_args(sasl.bootstrap, certs, sasl={"mechanism": "PLAIN", "username": "alice",
                                                 "password": "nope"}, tls=False)
    r = subprocess.run(["kcat", *args, "-L", "-m", "1"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "Authentication failed: Invalid username or password" in r.stderr


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("tls", [False, True], ids=["sasl_plaintext", "sasl_ssl"])
def test_kafka_python_produce_consume(sasl, certs, mech, tls):  # noqa: F811
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    user, pw = creds(mech)
    bs = sasl.ssl_bs if tls else sasl.bootstrap
    conf = kafka_python_conf(bs, certs, sasl={"mechanism": mech, "username": user, "password": pw},
                             tls=tls)
    topic = f"kp-{mech.lower()}-{'ssl' if tls else 'plain'}"
    create_topic(sasl.plain_bs, topic)
    p = KafkaProducer(acks="all", api_version_auto_timeout_ms=10000, **conf)
    for i in range(10):
        p.send(topic, f"m{i}".encode())
    p.flush(30)
    p.close()
    c = KafkaConsumer(auto_offset_reset="earliest", consumer_timeout_ms=10000,
                      api_version_auto_timeout_ms=10000, **conf)
    c.assign([TopicPartition(topic, 0)])
    vals = []
    deadline = time.monotonic() + 30
    while len(vals) < 10 and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            vals += [r.value for r in recs]
    c.close()
    assert vals == [f"m{i}".encode() for i in range(10)]


def test_confluent_oauthbearer_unsecured_jwt(sasl):
    conf = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER",
            "enable.sasl.oauthbearer.unsecure.jwt": True,
            "sasl.oauthbearer.config": "principal=erin"}
    topic = "oauth-topic"
    create_topic(sasl.plain_bs, topic)
    produce_all(producer(sasl.bootstrap, **conf), topic, [{"value": b"jwt"}])
    got = consume_exact(sasl.bootstrap, topic, {0: 1}, timeout=30, **conf)
    assert got[0][0].value() == b"jwt"


# ---- refusals, raw -------------------------------------------------------------------------
GENERIC = "Authentication failed during authentication due to invalid credentials with SASL mechanism "


@pytest.mark.parametrize("mech,user,pw,msg", [
    ("PLAIN", "alice", "wrong", "Authentication failed: Invalid username or password"),
    ("PLAIN", "mallory", "x", "Authentication failed: Invalid username or password"),
    ("SCRAM-SHA-256", "carol", "wrong", GENERIC + "SCRAM-SHA-256"),
    ("SCRAM-SHA-512", "mallory", "x", GENERIC + "SCRAM-SHA-512"),
    ("SCRAM-SHA-512", "carol", "carol-256", GENERIC + "SCRAM-SHA-512"),  # carol has no 512
])
def test_wrong_password_or_unknown_user_answered_then_closed(sasl, mech, user, pw, msg):
    with conn(sasl) as c:
        err, got, _ = su.login(c, mech, user, pw)
        assert (err, got) == (su.SASL_AUTHENTICATION_FAILED, msg)
        assert c.wait_closed(5), "the connection stays open after a failed authentication"


def test_unsupported_mechanism_lists_enabled_ones_and_closes(sasl):
    with conn(sasl) as c:
        err, mechs = su.handshake(c, "GSSAPI")
        assert err == su.UNSUPPORTED_SASL_MECHANISM
        assert mechs == list(MECHS)
        assert c.wait_closed(5)


def test_request_before_authentication_closes(sasl):
    with conn(sasl) as c:
        assert c.api_versions(0)["error_code"] == 0      # allowed before authenticating
        c.send_request(kproto.METADATA, 1, kproto.W().i32(-1).done())
        assert c.recv_frame(timeout=5) is None, "answered a request before authentication"
    with conn(sasl) as c:                                  # the broker lives on
        assert su.login(c, "PLAIN", "bob", "bob-secret")[0] == 0


def test_authenticate_before_handshake_is_illegal_state_then_closed(sasl):
    with conn(sasl) as c:
        e, m, _, _ = su.authenticate(c, su.plain_token("alice", "alice-secret"), version=0)
        assert (e, m) == (su.ILLEGAL_SASL_STATE, "Unexpected SaslAuthenticate request")
        assert c.wait_closed(5)


def test_authenticated_client_gets_metadata_and_illegal_state_on_second_authenticate(sasl):
    with conn(sasl) as c:
        err, msg, life = su.login(c, "PLAIN", "alice", "alice-secret")
        assert (err, life) == (0, 0)
        r = c.call(kproto.METADATA, 1, kproto.W().i32(-1).done())
        assert r.array(lambda rr: (rr.i32(), rr.string(), rr.i32(), rr.string()))[0][0] == 0
        e, m, _, _ = su.authenticate(c, su.plain_token("alice", "alice-secret"))
        assert (e, m) == (su.ILLEGAL_SASL_STATE,
                          "SaslAuthenticate request received after successful authentication")


def test_sasl_requests_on_plaintext_listener_are_illegal_state(sasl):
    with conn(sasl, sasl.plain_port) as c:
        assert su.handshake(c, "PLAIN") == (su.ILLEGAL_SASL_STATE, [])
        e, _, _, _ = su.authenticate(c, su.plain_token("alice", "alice-secret"))
        assert e == su.ILLEGAL_SASL_STATE


def test_plain_authzid_must_match(sasl):
    with conn(sasl) as c:
        assert su.handshake(c, "PLAIN")[0] == 0
        e, m, _, _ = su.authenticate(c, su.plain_token("alice", "alice-secret", authzid="bob"))
        assert (e, m) == (su.SASL_AUTHENTICATION_FAILED, "Authentication failed: Client requested "
                          "an authorization id that is different from username")


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256"])
def test_legacy_v0_exchange(sasl, mech):
    user, pw = creds(mech)
    with conn(sasl) as c:
        assert su.handshake(c, mech, version=0) == (0, list(MECHS))
        if mech == "PLAIN":
            assert su.legacy_token(c, su.plain_token(user, pw)) == b""
        else:
            sc = su.ScramClient(mech, user, pw)
            sc.verify(su.legacy_token(c, sc.final(su.legacy_token(c, sc.first()))))
        r = c.call(kproto.METADATA, 1, kproto.W().i32(-1).done())
        assert r.array(lambda rr: (rr.i32(), rr.string(), rr.i32(), rr.string()))[0][0] == 0
    with conn(sasl) as c:                                   # a failure closes at once
        assert su.handshake(c, "PLAIN", version=0)[0] == 0
        assert su.legacy_token(c, su.plain_token("alice", "nope")) is None


def test_frame_bound_before_authentication(sasl):
    """sasl.server.max.receive.size (524288) bounds frames until authenticated."""
    with conn(sasl) as c:
        c.send_raw(struct.pack(">i", 524289) + b"\0" * 64)
        assert c.wait_closed(5)
    with conn(sasl) as c:                                   # afterwards: socket.request.max.bytes
        assert su.login(c, "PLAIN", "alice", "alice-secret")[0] == 0
        c.send_raw(struct.pack(">i", 600000) + b"\0" * 64)
        assert not c.wait_closed(0.5)


@pytest.mark.parametrize("claims,header,status", [
    ({"exp": int(time.time()) - 60, "iat": int(time.time()) - 120}, None, "invalid_token"),
    ({}, {"alg": "HS256"}, "invalid_token"),
    ({"sub": None}, None, "invalid_token"),
    ({"exp": None}, None, "invalid_token"),
])
def test_oauthbearer_bad_tokens(sasl, claims, header, status):
    with conn(sasl) as c:
        assert su.handshake(c, "OAUTHBEARER")[0] == 0
        e, m, data, _ = su.authenticate(c, su.oauth_token(su.unsecured_jwt(claims, header=header)))
        assert (e, data) == (0, b'{"status":"%s"}' % status.encode())
        e, m, _, _ = su.authenticate(c, b"\x01")
        assert (e, m) == (su.SASL_AUTHENTICATION_FAILED, '{"status":"%s"}' % status)
        assert c.wait_closed(5)


def test_oauthbearer_token_lifetime_is_session_lifetime(sasl):
    with conn(sasl) as c:
        err, _, life = su.login(c, "OAUTHBEARER", jwt=su.unsecured_jwt(sub="erin", lifetime_s=60))
        assert err == 0 and 55000 < life <= 60000, life


def test_kcat_scram_over_sasl_ssl(sasl, certs):  # noqa: F811
    user, pw = creds("SCRAM-SHA-512")
    args = kcat_args(sasl.ssl_bs, certs, sasl={"mechanism": "SCRAM-SHA-512", "username": user,
                                              "password": pw}, tls=True)
    r = subprocess.run(["kcat", *args, "-L", "-m", "10"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"sasl_ssl://{sasl.ssl_bs}" in r.stdout


def test_gssapi_default_refused_at_startup(tmp_path):
    port = free_port()
    rc, out = run_broker_expect_exit([BROKER_BIN, "--override",
                                      f"listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
                                      "--override", f"log.dirs={tmp_path}"])
    assert rc != 0
    assert "sasl.enabled.mechanisms=GSSAPI: GSSAPI (Kerberos) is not supported by Samsa" in out


@pytest.mark.parametrize("version", [0, 1, 2])
def test_authenticate_versions(sasl, version):
    """SaslAuthenticate v0 (no session lifetime), v1, v2 (flexible)."""
    with conn(sasl) as c:
        err, msg, life = su.login(c, "SCRAM-SHA-256", *creds("SCRAM-SHA-256"), version=version)
        assert (err, life) == (0, None if version == 0 else 0)
    with conn(sasl) as c:
        err, msg, _ = su.login(c, "PLAIN", "alice", "nope", version=version)
        assert (err, msg) == (su.SASL_AUTHENTICATION_FAILED,
                              "Authentication failed: Invalid username or password")


def test_failed_authentication_answer_is_delayed(sasl):
    """connection.failed.authentication.delay.ms (Kafka's 100 ms, KIP-306):
    the refusal comes no sooner, then the connection closes."""
    with conn(sasl) as c:
        assert su.handshake(c, "PLAIN")[0] == 0
        t0 = time.monotonic()
        e, _, _, _ = su.authenticate(c, su.plain_token("alice", "nope"))
        took = time.monotonic() - t0
        assert e == su.SASL_AUTHENTICATION_FAILED
        assert took >= 0.095, f"answered after {took * 1000:.0f} ms"
        assert c.wait_closed(5)


def test_zz_no_secret_in_the_broker_log(sasl):
    """S-SASL11: after every exchange above, the broker's own lines hold no
    password (the harness' first line echoes the command line: skipped)."""
    text = "\n".join(ln for ln in sasl.log_path.read_text().splitlines()
                     if not ln.startswith("==== start"))
    for secret in [*PLAIN_USERS.values(), *(pw for _, pw in SCRAM_USERS.values()), "nope"]:
        assert secret not in text, f"{secret!r} in the broker log"
