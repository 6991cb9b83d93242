"""User and client-id entities in cluster mode (issue 17, entity part):
kept in ZooKeeper as Kafka keeps them (/config/users/<user>,
/config/clients/<id>, /config/users/<user>/clients/<id>, each
{"version":1,"config":{...}}, with a /config/changes/config_change_N
notification {"version":2,"entity_path":...}), so a user created through one
broker logs in with SCRAM on another within a second, and a quota set
through one applies on every broker.  Two brokers, each with a PLAINTEXT
listener (inter-broker, admin) and a SASL_PLAINTEXT one with SCRAM."""

import json
import time

import kproto
import sasl_util as su
from cluster import cluster_factory, cluster_zk  # noqa: F401
from conftest import free_port, wait_until
from test_cli_common import run_cli
from test_entity_quotas import _request_throttle, alter_quotas, describe_quotas

NONE, SASL_AUTHENTICATION_FAILED = 0, 58


def _sasl_cluster(cluster_factory):  # noqa: F811
    c = cluster_factory(n=2, start=False)
    for b in c.brokers:
        b.sasl_port = free_port()
        b.overrides.update({
            "listeners": f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{b.sasl_port}",
            "inter.broker.listener.name": "PLAINTEXT",
        })
        b.overrides.update(su.sasl_broker_props("SASL_PLAINTEXT", mechanisms=("SCRAM-SHA-256",)))
    c.start_all()
    return c


def _login(b, user, password):
    with kproto.Conn("127.0.0.1", b.sasl_port, timeout=5) as conn:
        return su.login(conn, "SCRAM-SHA-256", user, password)[0]


def test_user_created_on_one_broker_logs_in_on_the_other(cluster_factory):  # noqa: F811
    c = _sasl_cluster(cluster_factory)
    b0, b1 = c.brokers
    assert _login(b1, "zed", "zed-pw") == SASL_AUTHENTICATION_FAILED     # no such user yet
    r = run_cli(["user", "create", "zed", "--password", "zed-pw"], brokers=b0.bootstrap)
    assert r.rc == 0, r
    t0 = time.monotonic()
    wait_until(lambda: _login(b1, "zed", "zed-pw") == NONE, timeout=1.0,
               desc="zed's SCRAM login on broker 1 within 1 s")
    took = time.monotonic() - t0
    assert _login(b1, "zed", "wrong") == SASL_AUTHENTICATION_FAILED
    # A user quota (set through broker 0) applies to zed's SASL connection
    # on broker 1: the principal is the user quotas are looked up by.
    with kproto.Conn("127.0.0.1", b0.port) as k:
        assert alter_quotas(k, [([("user", "zed")], [("request_percentage", 0.01, False)])]) \
            == [(NONE, None)]
    with kproto.Conn("127.0.0.1", b1.sasl_port, timeout=10) as k:
        assert su.login(k, "SCRAM-SHA-256", "zed", "zed-pw")[0] == NONE
        throttles = []
        deadline = time.monotonic() + 5
        while not any(throttles) and time.monotonic() < deadline:
            throttles.append(_request_throttle(k))
        assert any(throttles), f"{len(throttles)} requests, none throttled"
    with kproto.Conn("127.0.0.1", b1.port) as k:                # ANONYMOUS: no quota
        assert all(_request_throttle(k) == 0 for _ in range(50))
        assert alter_quotas(k, [([("user", "zed")], [("request_percentage", 0, True)])]) \
            == [(NONE, None)]
    # Kafka's layout: the credential in the user's config, a change notification.
    cfg = json.loads(c.zk_get("/config/users/zed"))
    assert cfg["version"] == 1
    cred = cfg["config"]["SCRAM-SHA-256"]
    assert cred.startswith("salt=") and cred.endswith(",iterations=4096") and "zed-pw" not in cred
    changes = [json.loads(c.zk_get(f"/config/changes/{n}"))
               for n in c.zk_children("/config/changes")]
    assert {"version": 2, "entity_path": "users/zed"} in changes
    # Deleted through broker 1: broker 0 refuses the login within a second.
    assert run_cli(["user", "delete", "zed"], brokers=b1.bootstrap).rc == 0
    wait_until(lambda: _login(b0, "zed", "zed-pw") == SASL_AUTHENTICATION_FAILED, timeout=1.0,
               desc="zed refused on broker 0 within 1 s")
    # A quota set through broker 1 is described (and applied) by broker 0;
    # a sanitized name: "a b" is users/a%20b.
    with kproto.Conn("127.0.0.1", b1.port) as k:
        assert alter_quotas(k, [([("user", "a b"), ("client-id", None)],
                                 [("producer_byte_rate", 5000.0, False)])]) == [(NONE, None)]
    assert json.loads(c.zk_get("/config/users/a%20b/clients/<default>")) == {
        "version": 1, "config": {"producer_byte_rate": "5000"}}

    def described():
        with kproto.Conn("127.0.0.1", b0.port) as k:
            return describe_quotas(k, [("user", 0, "a b")])[2]
    wait_until(lambda: described() == [((("client-id", None), ("user", "a b")),
                                         {"producer_byte_rate": 5000.0})],
               timeout=1.0, desc="the quota described by broker 0 within 1 s")
    print(f"login on the other broker after {took * 1000:.0f} ms")
