"""The CLI over secured listeners (docs/security.md, "The CLI over secured
listeners"): the commands that send their own requests (cluster info's
Metadata v7, txn, user, quota; src/cli/conn.c) speak TLS and SASL PLAIN /
SCRAM with librdkafka's property names, from -X or --command-config.

One broker for the module with a SASL_SSL listener (PLAIN: admin;
SCRAM-SHA-512 for the users the CLI creates) and an SSL one.
"""
import json

import pytest

from conftest import Broker, free_port
from security import broker_overrides, certs  # noqa: F401
from test_cli_common import run_cli

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


@pytest.fixture(scope="module")
def sb(tmp_path_factory, certs):  # noqa: F811
    d = tmp_path_factory.mktemp("clisec")
    b = Broker(d, name="clisec")
    ssl_port = free_port()
    ov = broker_overrides(certs, "SASL_SSL", b.port)
    ov["listeners"] += f",SSL://127.0.0.1:{ssl_port}"
    ov.update({
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
        "listener.name.sasl_ssl.plain.sasl.jaas.config":
            f'{PLAIN} required user_admin="admin-secret";',
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": f"{SCRAM} required;",
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "transaction.state.log.num.partitions": 1,
    })
    b.overrides.update({k: str(v) for k, v in ov.items()})
    b.ssl_bootstrap = f"127.0.0.1:{ssl_port}"
    b.certs = certs
    b.start()
    yield b
    if b.running():
        b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()


def sasl_x(sb, mech, user, password, ca="ca"):
    return ["-X", "security.protocol=SASL_SSL", "-X", f"ssl.ca.location={sb.certs.ca(ca)}",
            "-X", f"sasl.mechanisms={mech}", "-X", f"sasl.username={user}",
            "-X", f"sasl.password={password}"]


def test_user_create_with_command_config_then_scram_login(sb, tmp_path):
    cc = tmp_path / "admin.properties"
    cc.write_text("# the CLI's settings, as librdkafka names them\n"
                  "security.protocol = SASL_SSL\n"
                  f"ssl.ca.location={sb.certs.ca()}\n"
                  "sasl.mechanisms=PLAIN\nsasl.username=admin\nsasl.password=admin-secret\n")
    r = run_cli(["--command-config", cc, "user", "create", "carol", "--password", "carol-secret",
                 "--mechanism", "SCRAM-SHA-512"], brokers=sb.bootstrap)
    assert r.rc == 0, r
    r = run_cli(["--command-config", cc, "--json", "user", "list"], brokers=sb.bootstrap)
    assert r.rc == 0, r
    assert "carol" in r.out and "SCRAM-SHA-512" in r.out, r
    # carol logs in with SCRAM (the server's signature checked) for the
    # CLI's own Metadata v7: leader epochs known, no fallback warning.
    r = run_cli([*sasl_x(sb, "SCRAM-SHA-512", "carol", "carol-secret"), "--json",
                 "topic", "describe", "__nothing__"], brokers=sb.bootstrap)
    assert r.rc == 4, r                                   # unknown topic, after logging in
    r = run_cli([*sasl_x(sb, "SCRAM-SHA-512", "carol", "carol-secret"), "--json", "cluster", "info"],
                brokers=sb.bootstrap)
    assert r.rc == 0, r
    assert "unknown" not in r.err, r                      # the own-wire snapshot, not the fallback
    assert json.loads(r.out)["brokers"][0]["port"] == sb.port
    # txn list: ListTransactions through the same login.
    r = run_cli([*sasl_x(sb, "SCRAM-SHA-512", "carol", "carol-secret"), "--json", "txn", "list"],
                brokers=sb.bootstrap)
    assert r.rc == 0, r
    assert json.loads(r.out)["transactions"] == []


def test_wrong_password_and_untrusted_ca_are_refused(sb):
    r = run_cli([*sasl_x(sb, "PLAIN", "admin", "wrong-pass"), "user", "list"], brokers=sb.bootstrap,
                timeout=30)
    assert r.rc != 0, r
    assert "SASL PLAIN authentication failed: SASL_AUTHENTICATION_FAILED" in r.err, r
    assert "wrong-pass" not in r.err + r.out
    r = run_cli([*sasl_x(sb, "PLAIN", "admin", "admin-secret", ca="ca2"), "user", "list"],
                brokers=sb.bootstrap, timeout=30)
    assert r.rc != 0, r
    assert "TLS handshake failed: certificate verify failed" in r.err, r
    # A mechanism the CLI's own connections lack: a clear refusal, no request.
    r = run_cli([*sasl_x(sb, "OAUTHBEARER", "admin", "x"), "user", "list"], brokers=sb.bootstrap,
                timeout=30)
    assert r.rc != 0 and "PLAIN or SCRAM-SHA-256/512" in r.err, r


def test_ssl_listener_without_sasl(sb):
    r = run_cli(["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={sb.certs.ca()}",
                 "--json", "cluster", "info"], brokers=sb.ssl_bootstrap)
    assert r.rc == 0, r
    assert "unknown" not in r.err, r
    # Plain TCP to the TLS port: the CLI's request gets no Kafka answer.
    r = run_cli(["user", "list"], brokers=sb.ssl_bootstrap, timeout=30)
    assert r.rc != 0, r
