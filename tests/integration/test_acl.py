"""ACLs on a single broker (docs/security.md, issue 17): the ACL APIs with
kafka-python's admin client, and Kafka's checks as clients see them.

One broker for the module, authorizer on, allow.everyone.if.no.acl.found=true,
no SASL: every client is User:ANONYMOUS, so a resource is open until an ACL
names it, and each test closes its own resources with ACLs (the principal
User:ANONYMOUS or User:* with LITERAL or PREFIXED patterns). The last test
restarts the broker with super.users=User:ANONYMOUS: the ACLs survive the
restart (samsa-acls.json) and no longer bind the super user.
"""

import json
import subprocess
import time

import confluent_kafka as ck
import pytest
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, ResourcePattern, ResourcePatternFilter, ResourceType)
from kafka.errors import InvalidRequestError, SecurityDisabledError

from conftest import ROOT, Broker, create_topic, producer, wait_until

AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
ANON = "User:ANONYMOUS"
BASE = {"authorizer.class.name": AUTHORIZER, "allow.everyone.if.no.acl.found": "true",
        "auto.create.topics.enable": "true"}


@pytest.fixture(scope="module")
def ab(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("acl"), overrides=BASE, name="acl")
    b.start()
    yield b
    if b.running():
        b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()


@pytest.fixture(scope="module")
def adm(ab):
    a = KafkaAdminClient(bootstrap_servers=ab.bootstrap, request_timeout_ms=10000)
    yield a
    a.close()


def acl(principal, op, perm, rtype, name, pattern=ACLResourcePatternType.LITERAL, host="*"):
    return ACL(principal, host, op, perm, ResourcePattern(rtype, name, pattern))


def allow(principal, op, rtype, name, pattern=ACLResourcePatternType.LITERAL):
    return acl(principal, op, ACLPermissionType.ALLOW, rtype, name, pattern)


def deny(principal, op, rtype, name, pattern=ACLResourcePatternType.LITERAL):
    return acl(principal, op, ACLPermissionType.DENY, rtype, name, pattern)


def create_acls(adm, acls):
    res = adm.create_acls(acls)
    assert not res["failed"], res["failed"]
    assert len(res["succeeded"]) == len(acls)


def acls_on(adm, rtype, name):
    flt = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                    ResourcePatternFilter(rtype, name, ACLResourcePatternType.ANY))
    found, err = adm.describe_acls(flt)
    assert err.errno == 0, err
    return {(a.principal, a.operation, a.permission_type, a.resource_pattern.pattern_type)
            for a in found}


def produce_one(bs, topic, timeout=15):
    """Produce one record; the delivery error code (None = delivered)."""
    p = producer(bs, **{"message.timeout.ms": 10000, "retries": 0})
    out = []
    p.produce(topic, b"v", on_delivery=lambda err, msg: out.append(err))
    p.flush(timeout)
    assert out, "no delivery report"
    return out[0].code() if out[0] else None


def fetch_error(bs, topic, timeout=15):
    """Consume by assign(); the first consumer error code, or None once a
    record arrives."""
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "acl-assign",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    continue
                return m.error().code()
            return None
        raise AssertionError(f"neither a record nor an error from {topic} in {timeout}s")
    finally:
        c.close()


def test_acl_apis_and_kafkas_validation(ab, adm):
    create_acls(adm, [allow("User:alice", ACLOperation.READ, ResourceType.TOPIC, "apis-t"),
                      allow("User:alice", ACLOperation.READ, ResourceType.GROUP, "apis-g-",
                            ACLResourcePatternType.PREFIXED)])
    assert acls_on(adm, ResourceType.TOPIC, "apis-t") == {
        ("User:alice", ACLOperation.READ, ACLPermissionType.ALLOW, ACLResourcePatternType.LITERAL)}
    # Kafka refuses a Cluster resource not named kafka-cluster, per binding.
    res = adm.create_acls([allow("User:alice", ACLOperation.ALTER, ResourceType.CLUSTER, "c")])
    assert len(res["failed"]) == 1 and res["failed"][0][1] is InvalidRequestError
    # Delete by filter: every group ACL, listed in the answer.
    flt = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                    ResourcePatternFilter(ResourceType.GROUP, None, ACLResourcePatternType.ANY))
    [(_, matched, err)] = adm.delete_acls([flt])
    assert err.errno == 0
    assert [(m.resource_pattern.resource_name, m.resource_pattern.pattern_type)
            for m, _ in matched] == [("apis-g-", ACLResourcePatternType.PREFIXED)]
    assert acls_on(adm, ResourceType.GROUP, "apis-g-") == set()
    # Persisted in Samsa's file under the first log dir.
    data = json.loads((ab.logdir / "samsa-acls.json").read_text())
    assert {(r["resourceType"], r["name"]) for r in data["resources"]} >= {("Topic", "apis-t")}


def test_many_acls_listed_and_deleted(ab, adm):
    # More ACLs than a small request's memory cap would hold (the answer is
    # built outside the request's arena).
    many = [allow("User:many", ACLOperation.READ, ResourceType.TOPIC, f"many-{i:04d}")
            for i in range(1500)]
    create_acls(adm, many)
    flt = ACLFilter("User:many", None, ACLOperation.ANY, ACLPermissionType.ANY,
                    ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
    found, err = adm.describe_acls(flt)
    assert err.errno == 0 and len(found) == 1500
    assert {a.resource_pattern.resource_name for a in found} == {f"many-{i:04d}" for i in range(1500)}
    [(_, matched, err)] = adm.delete_acls([flt])
    assert err.errno == 0 and len(matched) == 1500
    assert adm.describe_acls(flt)[0] == []


def test_produce_needs_write_and_deny_wins(ab, adm):
    t = create_topic(ab.bootstrap, "acl-write")
    assert produce_one(ab.bootstrap, t) is None
    create_acls(adm, [allow(ANON, ACLOperation.READ, ResourceType.TOPIC, t)])
    assert produce_one(ab.bootstrap, t) == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    create_acls(adm, [allow("User:*", ACLOperation.WRITE, ResourceType.TOPIC, t),
                      deny(ANON, ACLOperation.WRITE, ResourceType.TOPIC, t)])
    assert produce_one(ab.bootstrap, t) == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    flt = ACLFilter(ANON, None, ACLOperation.WRITE, ACLPermissionType.DENY,
                    ResourcePatternFilter(ResourceType.TOPIC, t, ACLResourcePatternType.LITERAL))
    [(_, matched, _)] = adm.delete_acls([flt])
    assert len(matched) == 1
    assert produce_one(ab.bootstrap, t) is None


def test_fetch_needs_read(ab, adm):
    t = create_topic(ab.bootstrap, "acl-read")
    assert produce_one(ab.bootstrap, t) is None
    create_acls(adm, [allow(ANON, ACLOperation.WRITE, ResourceType.TOPIC, t)])
    assert fetch_error(ab.bootstrap, t) == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    create_acls(adm, [allow(ANON, ACLOperation.READ, ResourceType.TOPIC, t)])
    assert fetch_error(ab.bootstrap, t) is None


def test_join_group_needs_group_read(ab, adm):
    t = create_topic(ab.bootstrap, "acl-group-t")
    create_acls(adm, [allow(ANON, ACLOperation.DESCRIBE, ResourceType.GROUP, "acl-g1")])
    c = ck.Consumer({"bootstrap.servers": ab.bootstrap, "group.id": "acl-g1",
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    try:
        c.subscribe([t])
        deadline = time.monotonic() + 15
        code = None
        while code is None and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None and m.error():
                code = m.error().code()
        assert code == ck.KafkaError.GROUP_AUTHORIZATION_FAILED
    finally:
        c.close()


def test_prefixed_acl(ab, adm):
    create_acls(adm, [allow(ANON, ACLOperation.WRITE, ResourceType.TOPIC, "acl-pre-",
                            ACLResourcePatternType.PREFIXED)])
    t = create_topic(ab.bootstrap, "acl-pre-x")
    assert produce_one(ab.bootstrap, t) is None
    assert fetch_error(ab.bootstrap, t) == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_metadata_hides_topics_without_describe(ab, adm):
    t = create_topic(ab.bootstrap, "acl-hidden")
    create_acls(adm, [allow("User:bob", ACLOperation.READ, ResourceType.TOPIC, t)])
    a = ck.admin.AdminClient({"bootstrap.servers": ab.bootstrap})
    assert t not in a.list_topics(timeout=10).topics
    md = a.list_topics(t, timeout=10).topics[t]
    assert md.error is not None and md.error.code() == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_auto_create_needs_create(ab, adm):
    cluster = [allow(ANON, ACLOperation.ALL, ResourceType.CLUSTER, "kafka-cluster"),
               deny(ANON, ACLOperation.CREATE, ResourceType.CLUSTER, "kafka-cluster")]
    create_acls(adm, cluster + [deny(ANON, ACLOperation.CREATE, ResourceType.TOPIC, "acl-noauto-",
                                     ACLResourcePatternType.PREFIXED)])
    try:
        a = ck.admin.AdminClient({"bootstrap.servers": ab.bootstrap})
        md = a.list_topics("acl-noauto-x", timeout=10).topics["acl-noauto-x"]
        assert md.error is not None and md.error.code() == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
        # Topic CREATE (with DESCRIBE, as Kafka needs for Metadata) is enough.
        create_acls(adm, [allow(ANON, ACLOperation.CREATE, ResourceType.TOPIC, "acl-auto-ok"),
                          allow(ANON, ACLOperation.DESCRIBE, ResourceType.TOPIC, "acl-auto-ok")])
        wait_until(lambda: a.list_topics("acl-auto-ok", timeout=5).topics["acl-auto-ok"].error is None,
                   10, desc="acl-auto-ok auto-created")
    finally:
        flt = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                        ResourcePatternFilter(ResourceType.CLUSTER, None, ACLResourcePatternType.ANY))
        adm.delete_acls([flt])


def samsa(ab, *args):
    cp = subprocess.run([str(ROOT / "build" / "samsa"), "-b", ab.bootstrap, "--timeout", "10",
                         *args], capture_output=True, text=True, timeout=30)
    return cp.returncode, cp.stdout, cp.stderr


def test_cli_acl_create_list_delete(ab, adm):
    rc, out, err = samsa(ab, "acl", "create", "--allow-principal", "User:carol", "--operation",
                         "Read", "--operation", "Describe", "--topic", "cli-t", "--group", "cli-g")
    assert rc == 0, err
    assert out.count("Created ACL: Allow User:carol") == 4
    assert acls_on(adm, ResourceType.GROUP, "cli-g") == {
        ("User:carol", op, ACLPermissionType.ALLOW, ACLResourcePatternType.LITERAL)
        for op in (ACLOperation.READ, ACLOperation.DESCRIBE)}
    rc, out, err = samsa(ab, "acl", "create", "--deny-principal", "User:carol", "--operation",
                         "Write", "--topic", "cli-", "--resource-pattern-type", "prefixed")
    assert rc == 0, err
    rc, out, _ = samsa(ab, "--json", "acl", "list", "--principal", "User:carol", "--topic",
                       "cli-t", "--resource-pattern-type", "match")
    assert rc == 0
    rows = {(r["resource_type"], r["name"], r["pattern_type"], r["operation"], r["permission"])
            for r in json.loads(out)}
    assert rows == {("Topic", "cli-t", "Literal", "Read", "Allow"),
                    ("Topic", "cli-t", "Literal", "Describe", "Allow"),
                    ("Topic", "cli-", "Prefixed", "Write", "Deny")}
    rc, out, err = samsa(ab, "acl", "delete", "--principal", "User:carol")
    assert rc == 0, err
    assert "Deleted 5 ACL(s)." in out
    assert acls_on(adm, ResourceType.ANY, None) & {("User:carol", ACLOperation.READ,
                                                    ACLPermissionType.ALLOW,
                                                    ACLResourcePatternType.LITERAL)} == set()
    rc, _, err = samsa(ab, "acl", "create", "--allow-principal", "User:carol", "--cluster",
                       "--operation", "Read")
    assert rc == 1, err
    assert "Operation READ is not supported on resource type CLUSTER" in err


def test_acls_survive_restart_and_super_users(ab):
    t = "acl-write"       # closed to ANONYMOUS writes by test_produce_needs_write_and_deny_wins
    ab.stop()
    ab.overrides["allow.everyone.if.no.acl.found"] = "false"
    ab.start()
    a = KafkaAdminClient(bootstrap_servers=ab.bootstrap, request_timeout_ms=10000)
    try:
        # No ACL on the Cluster and no default: even DescribeAcls is refused.
        flt = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
        with pytest.raises(Exception) as e:
            a.describe_acls(flt)
        assert "ClusterAuthorizationFailed" in repr(e.value)
    finally:
        a.close()
    ab.stop()
    ab.overrides["super.users"] = ANON
    ab.start()
    a = KafkaAdminClient(bootstrap_servers=ab.bootstrap, request_timeout_ms=10000)
    try:
        assert (ANON, ACLOperation.READ, ACLPermissionType.ALLOW,
                ACLResourcePatternType.LITERAL) in acls_on(a, ResourceType.TOPIC, t)
    finally:
        a.close()
    assert produce_one(ab.bootstrap, t) is None


def test_acl_apis_without_authorizer(broker_factory):
    b = broker_factory()
    a = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=10000)
    try:
        flt = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                        ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
        with pytest.raises(SecurityDisabledError):
            a.describe_acls(flt)
    finally:
        a.close()
