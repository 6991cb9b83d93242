"""ACLs for authenticated principals (SASL/PLAIN on SASL_PLAINTEXT): the
issue's "a principal without Write cannot produce and one without Read
cannot fetch or join a group", with real users, super.users and the default
of allow.everyone.if.no.acl.found (false: no ACL, no access).

One broker for the module: users admin (super user), alice, bob, on a
SASL_PLAINTEXT listener; its first listener is PLAINTEXT for the broker's
own requests (transaction markers, partition verification), whose
principal User:ANONYMOUS is a super user as Kafka's brokers are.
"""
import time

import confluent_kafka as ck
import pytest
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, NewTopic, ResourcePattern, ResourceType)

from conftest import Broker, free_port
from sasl_util import sasl_broker_props
from security import confluent_conf, kafka_python_conf

USERS = {"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}


def creds(user):
    return {"mechanism": "PLAIN", "username": user, "password": USERS[user]}


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("aclsasl"), name="aclsasl")
    b.sasl_port = free_port()
    b.overrides["listeners"] = (f"PLAINTEXT://127.0.0.1:{b.port},"
                                f"SASL_PLAINTEXT://127.0.0.1:{b.sasl_port}")
    b.overrides.update(sasl_broker_props(users=USERS))
    b.overrides.update({"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
                        "super.users": "User:admin;User:ANONYMOUS"})
    b.start()
    b.sasl_bootstrap = f"127.0.0.1:{b.sasl_port}"
    yield b
    if b.running():
        b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()


@pytest.fixture(scope="module")
def adm(sb):
    a = KafkaAdminClient(**kafka_python_conf(sb.sasl_bootstrap, sasl=creds("admin"), tls=False),
                         request_timeout_ms=10000)
    a.create_topics([NewTopic("orders", 1, 1)])
    yield a
    a.close()


def grant(adm, user, op, rtype, name, pattern=ACLResourcePatternType.LITERAL):
    res = adm.create_acls([ACL(f"User:{user}", "*", op, ACLPermissionType.ALLOW,
                               ResourcePattern(rtype, name, pattern))])
    assert not res["failed"], res


def produce(sb, user, topic):
    p = ck.Producer(confluent_conf(sb.sasl_bootstrap, sasl=creds(user), tls=False,
                                   **{"message.timeout.ms": 10000}))
    out = []
    p.produce(topic, b"v", on_delivery=lambda err, msg: out.append(err))
    p.flush(15)
    assert out
    return out[0].code() if out[0] else None


def first_consumer_event(sb, user, topic, group=None, timeout=15):
    conf = confluent_conf(sb.sasl_bootstrap, sasl=creds(user), tls=False,
                          **{"group.id": group or "acl-sasl-assign", "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
    c = ck.Consumer(conf)
    try:
        if group:
            c.subscribe([topic])
        else:
            c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or (m.error() and m.error().code() == ck.KafkaError._PARTITION_EOF):
                continue
            return m.error().code() if m.error() else m.value()
        raise AssertionError("no record and no error")
    finally:
        c.close()


def test_write_and_read_follow_each_users_acls(sb, adm):
    assert produce(sb, "admin", "orders") is None                      # super user
    assert produce(sb, "alice", "orders") == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    grant(adm, "alice", ACLOperation.WRITE, ResourceType.TOPIC, "orders")
    assert produce(sb, "alice", "orders") is None
    assert produce(sb, "bob", "orders") == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    # bob: Describe only, no Read: the fetch is refused.  (librdkafka asks
    # the group of an assign()ed consumer for committed offsets: Group READ.)
    grant(adm, "bob", ACLOperation.READ, ResourceType.GROUP, "acl-sasl-assign")
    grant(adm, "bob", ACLOperation.DESCRIBE, ResourceType.TOPIC, "orders")
    assert first_consumer_event(sb, "bob", "orders") == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED
    grant(adm, "bob", ACLOperation.READ, ResourceType.TOPIC, "ord", ACLResourcePatternType.PREFIXED)
    assert first_consumer_event(sb, "bob", "orders") == b"v"


def test_join_group_needs_read_on_the_group(sb, adm):
    grant(adm, "alice", ACLOperation.READ, ResourceType.TOPIC, "orders")
    grant(adm, "alice", ACLOperation.DESCRIBE, ResourceType.GROUP, "billing")
    assert (first_consumer_event(sb, "alice", "orders", group="billing")
            == ck.KafkaError.GROUP_AUTHORIZATION_FAILED)
    grant(adm, "alice", ACLOperation.READ, ResourceType.GROUP, "billing")
    assert first_consumer_event(sb, "alice", "orders", group="billing") == b"v"


def test_acl_apis_need_cluster_alter(sb, adm):
    a = KafkaAdminClient(**kafka_python_conf(sb.sasl_bootstrap, sasl=creds("bob"), tls=False),
                         request_timeout_ms=10000)
    try:
        res = a.create_acls([ACL("User:bob", "*", ACLOperation.ALL, ACLPermissionType.ALLOW,
                                 ResourcePattern(ResourceType.TOPIC, "*"))])
        assert len(res["failed"]) == 1
        assert "ClusterAuthorizationFailed" in repr(res["failed"][0][1])
    finally:
        a.close()


def test_transactions_need_the_transactional_id(sb, adm):
    def txn_producer():
        return ck.Producer(confluent_conf(sb.sasl_bootstrap, sasl=creds("alice"), tls=False,
                                          **{"transactional.id": "acl-tx",
                                             "transaction.timeout.ms": 10000}))
    p = txn_producer()
    with pytest.raises(ck.KafkaException) as e:
        p.init_transactions(15)
    assert e.value.args[0].code() == ck.KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    grant(adm, "alice", ACLOperation.WRITE, ResourceType.TRANSACTIONAL_ID, "acl-tx")
    p = txn_producer()
    p.init_transactions(15)
    p.begin_transaction()
    p.produce("orders", b"in-txn")
    p.commit_transaction(15)
    # DescribeTransactions: bob may not describe alice's transactional id.
    import kproto
    from sasl_util import authenticate, handshake, plain_token
    kproto.FLEX_FROM.setdefault(65, 0)                      # DescribeTransactions: flexible
    for user, want in (("bob", 53), ("admin", 0)):          # TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        with kproto.Conn("127.0.0.1", sb.sasl_port) as c:
            assert handshake(c, "PLAIN")[0] == 0
            assert authenticate(c, plain_token(user, USERS[user]))[0] == 0
            w = kproto.W(True)
            w.array(["acl-tx"], lambda w, t: w.string(t))
            w.tags()
            r = c.call(65, 0, w.done())
            r.i32()
            r.uvarint()                                     # compact array length
            assert r.i16() == want, user
