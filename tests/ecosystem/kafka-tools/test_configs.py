"""kafka-configs against one Samsa broker: a topic's configs (--alter
--add-config, --describe with synonyms, --delete-config), a broker's own
dynamic config (--entity-name 0) and the cluster-wide default
(--entity-default).  Values are read back with DescribeConfigs (confluent-kafka)."""

import kproto
import pytest
from confluent_kafka.admin import ConfigResource
from conftest import admin, make_topic, unique
from tools import kt

pytestmark = pytest.mark.tool("kafka-configs")


def configs(b, rtype, name):
    """{key: (value, source)} of a resource (confluent-kafka AdminClient,
    DescribeConfigs): source 1 topic, 2 broker, 3 cluster default, 5 default."""
    res = ConfigResource(rtype, name)
    a = admin(b.bootstrap)        # kept alive until the result is in
    got = a.describe_configs([res], request_timeout=15)[res].result(timeout=15)
    return {k: (e.value, int(e.source)) for k, e in got.items()}


def test_configs_topic(samsa, request):
    bs = samsa.bootstrap
    t = make_topic(samsa, unique(request))
    out = kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics",
             "--entity-name", t, "--alter",
             "--add-config", "retention.ms=3600000,cleanup.policy=compact").stdout
    assert f"Completed updating config for topic {t}." in out
    out = kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics",
             "--entity-name", t, "--describe").stdout
    lines = sorted(ln.strip() for ln in out.splitlines()[1:] if ln.strip())
    assert out.splitlines()[0] == f"Dynamic configs for topic {t} are:", out
    assert lines == [
        "cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy="
        "compact, DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms="
        "3600000, DEFAULT_CONFIG:log.retention.hours=168}"], out
    kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "topics", "--entity-name", t,
       "--alter", "--delete-config", "cleanup.policy")
    left = {k: v for k, (v, src) in configs(samsa, "topic", t).items() if src == 1}
    assert left == {"retention.ms": "3600000"}


def test_configs_broker_and_default(samsa):
    bs = samsa.bootstrap
    try:
        kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "brokers",
           "--entity-name", 0, "--alter", "--add-config", "log.cleaner.backoff.ms=20000")
        out = kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "brokers",
                 "--entity-name", 0, "--describe").stdout
        assert out.splitlines()[0] == "Dynamic configs for broker 0 are:", out
        assert ("log.cleaner.backoff.ms=20000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:"
                "log.cleaner.backoff.ms=20000, DEFAULT_CONFIG:log.cleaner.backoff.ms=15000}"
                in [ln.strip() for ln in out.splitlines()]), out

        out = kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "brokers",
                 "--entity-default", "--alter", "--add-config",
                 "log.retention.ms=604800001").stdout
        assert "Completed updating default config for brokers in the cluster." in out
        out = kt("kafka-configs", "--bootstrap-server", bs, "--entity-type", "brokers",
                 "--entity-default", "--describe").stdout
        assert [ln.strip() for ln in out.splitlines()] == [
            "Default configs for brokers in the cluster are:",
            "log.retention.ms=604800001 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:"
            "log.retention.ms=604800001}"], out
        eff = configs(samsa, "broker", "0")
        assert eff["log.retention.ms"] == ("604800001", 3)
        assert eff["log.cleaner.backoff.ms"] == ("20000", 2)
    finally:
        with kproto.Conn(samsa.host, samsa.port) as c:   # put the shared broker back
            kproto.incremental_alter_configs(c, 4, "0", [("log.cleaner.backoff.ms", 1, None)])
            kproto.incremental_alter_configs(c, 4, "", [("log.retention.ms", 1, None)])


def test_configs_users_scram_and_quotas(samsa):
    """kafka-configs --entity-type users|clients (AlterUserScramCredentials,
    AlterClientQuotas and their Describe): SCRAM credentials with
    iterations, a user+client-id quota and the default client id."""
    bs = samsa.bootstrap
    base = ("kafka-configs", "--bootstrap-server", bs)
    out = kt(*base, "--alter", "--add-config",
             "SCRAM-SHA-256=[iterations=8192,password=kt-secret],SCRAM-SHA-512=[password=kt-secret]",
             "--entity-type", "users", "--entity-name", "kt-user").stdout
    assert "Completed updating config for user kt-user." in out
    out = kt(*base, "--alter", "--add-config", "producer_byte_rate=1024,consumer_byte_rate=2048",
             "--entity-type", "users", "--entity-name", "kt-user",
             "--entity-type", "clients", "--entity-name", "kt-app").stdout
    assert "Completed updating config for user kt-user." in out
    out = kt(*base, "--describe", "--entity-type", "users", "--entity-name", "kt-user").stdout
    assert ("SCRAM credential configs for user-principal 'kt-user' are SCRAM-SHA-256=iterations=8192, "
            "SCRAM-SHA-512=iterations=4096") in out, out
    out = kt(*base, "--describe", "--entity-type", "users", "--entity-name", "kt-user",
             "--entity-type", "clients").stdout
    assert ("Quota configs for user-principal 'kt-user', client-id 'kt-app' are "
            "consumer_byte_rate=2048.0, producer_byte_rate=1024.0") in out, out
    out = kt(*base, "--alter", "--add-config", "request_percentage=50", "--entity-type", "clients",
             "--entity-default").stdout
    assert "Completed updating default config for clients in the cluster." in out
    out = kt(*base, "--describe", "--entity-type", "clients", "--entity-default").stdout
    assert "Quota configs for the default client-id are request_percentage=50.0" in out, out
    # Put the shared broker back: no quota left for the other tests.
    kt(*base, "--alter", "--delete-config", "request_percentage", "--entity-type", "clients",
       "--entity-default")
    kt(*base, "--alter", "--delete-config", "producer_byte_rate,consumer_byte_rate",
       "--entity-type", "users", "--entity-name", "kt-user", "--entity-type", "clients",
       "--entity-name", "kt-app")
    kt(*base, "--alter", "--delete-config", "SCRAM-SHA-256,SCRAM-SHA-512", "--entity-type", "users",
       "--entity-name", "kt-user")
    out = kt(*base, "--describe", "--entity-type", "users", "--entity-name", "kt-user").stdout
    assert "SCRAM" not in out and "=" not in out, out
