"""The cluster in SASL_SSL end to end (issue 17; docs/security.md, "The
cluster over secured listeners"): ZooKeeper and three brokers whose only
listener is SASL_SSL, for clients and between brokers
(security.inter.broker.protocol=SASL_SSL).

The brokers log in to each other with SASL/PLAIN as `admin` (the username
and password of the listener's JAAS config; PLAIN keeps the broker identity
in the broker's own config, where SCRAM would need credentials written to
ZooKeeper before the first broker starts), over TLS verified against the
test CA with host-name checks.  The ACL authorizer is on with User:admin in
super.users (ClusterAction: replication, the controller's requests);
clients are `alice` (topic and group ACLs) and `bob` (none).

One cluster for the module.  What it shows:
  - no PLAINTEXT port exists (each broker registered one SASL_SSL endpoint;
    a plaintext request to it gets no answer), and an unauthenticated or
    wrongly authenticated client is refused;
  - a topic with replication factor 3 and min.insync.replicas 2 takes
    acks=all writes from alice (the followers fetch over SASL_SSL: the ISR
    is 3), bob is refused by the authorizer;
  - kill -9 of the leader: the controller elects another and tells every
    broker (LeaderAndIsr / UpdateMetadata over SASL_SSL), alice keeps
    writing, then reads every record back in a consumer group.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import time

import confluent_kafka as ck
import pytest
from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, NewTopic, ResourcePattern, ResourceType)

from cluster import Cluster, cluster_zk  # noqa: F401
from conftest import BROKER_BIN, free_port, run_broker_expect_exit, wait_until
from security import broker_overrides, certs, confluent_conf, kafka_python_conf  # noqa: F401

USERS = {"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}
PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
TOPIC = "secure-orders"


def creds(user, password=None):
    return {"mechanism": "PLAIN", "username": user, "password": password or USERS[user]}


def broker_props(certs, port):
    jaas = (f'{PLAIN} required username="admin" password="{USERS["admin"]}" '
            + " ".join(f'user_{u}="{p}"' for u, p in USERS.items()) + ";")
    ov = broker_overrides(certs, "SASL_SSL", port)
    ov.update({
        "security.inter.broker.protocol": "SASL_SSL",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas,
        "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
        "super.users": "User:admin",
        "allow.everyone.if.no.acl.found": "false",
        "offsets.topic.replication.factor": 3,
        "offsets.topic.num.partitions": 3,
    })
    return ov


def secured_cluster(workdir, zk, certs, props, before_start=None, ready=None):
    """Three brokers with props(port) each, started together (after
    before_start(cluster)), yielded once ready(cluster) returned; stopped
    (exit 0, no sanitizer report) by the generator's end."""
    c = Cluster(workdir, zk, n=3)
    if before_start:
        before_start(c)
    for b in c.brokers:
        b.overrides.update({k: str(v) for k, v in props(b.port).items()})
    for b in c.brokers:
        b.start(wait=False)
    for b in c.brokers:
        b.wait_ready()
    c.wait_registered(range(3))
    c.certs = certs
    if ready:
        ready(c)
    yield c
    problems = c.stop_all()
    assert not problems, problems


def every_broker_knows_the_controller(c, conf_of):
    """Each broker (asked alone, client settings conf_of(bootstrap)) lists
    three brokers and a controller: it learns the controller only from the
    controller's own requests.  (Admin requests go to the controller: a
    client told -1 waits for its next metadata refresh.)"""
    def knows(b):
        md = ck.admin.AdminClient(conf_of(b.bootstrap)).list_topics(timeout=10)
        return len(md.brokers) == 3 and md.controller_id >= 0
    for b in c.brokers:
        wait_until(lambda: knows(b), 30, desc=f"{b.name} knowing three brokers and the controller")


@pytest.fixture(scope="module")
def sc(tmp_path_factory, cluster_zk, certs):  # noqa: F811
    # Tests of this module may run on different xdist workers, each with
    # its own cluster: every test starts from a cluster whose controller
    # has reached all three brokers.
    yield from secured_cluster(tmp_path_factory.mktemp("seccluster"), cluster_zk, certs,
                               lambda port: broker_props(certs, port),
                               ready=lambda c: every_broker_knows_the_controller(
                                   c, lambda bs: confluent_conf(bs, certs, sasl=creds("admin"))))


def conf(sc, user, **extra):
    return confluent_conf(sc.bootstrap, sc.certs, sasl=creds(user), **extra)


def metadata(sc, user="admin", timeout=10):
    return ck.admin.AdminClient(conf(sc, user)).list_topics(timeout=timeout)


def test_only_sasl_ssl_and_refusals(sc):
    # Every registration names one endpoint, SASL_SSL (no PLAINTEXT port).
    for i in range(3):
        reg = json.loads(sc.zk_get(f"/brokers/ids/{i}"))
        assert reg["endpoints"] == [f"SASL_SSL://127.0.0.1:{sc.brokers[i].port}"], reg
        assert reg["listener_security_protocol_map"] == {"SASL_SSL": "SASL_SSL"}, reg
    # The fixture waited until every broker knew the controller, which it
    # learns only from the controller's own requests (UpdateMetadata,
    # LeaderAndIsr): they had no way in but SASL_SSL.
    assert metadata(sc).controller_id in (0, 1, 2)
    # A plaintext ApiVersions to a broker's only port gets no Kafka answer:
    # the bytes are a broken TLS record and the connection closes.
    with socket.create_connection(("127.0.0.1", sc.brokers[0].port), timeout=10) as s:
        body = struct.pack(">hhih", 18, 0, 1, 4) + b"test"
        s.sendall(struct.pack(">i", len(body)) + body)
        got = b""
        try:
            while chunk := s.recv(4096):
                got += chunk
        except ConnectionResetError:
            pass                       # closed with unread bytes: a reset
        assert not (len(got) >= 8 and struct.unpack(">i", got[4:8])[0] == 1), got[:64]
    # A wrong password: SASL authentication fails (librdkafka: _AUTHENTICATION).
    errs = []
    bad = ck.admin.AdminClient(confluent_conf(sc.bootstrap, sc.certs, sasl=creds("alice", "wrong"),
                                              error_cb=errs.append))
    wait_until(lambda: bad.poll(0.1) is not None and
               any(e.code() == ck.KafkaError._AUTHENTICATION for e in errs), 10,
               desc=f"an authentication error (have {errs})")


def test_inter_broker_identity_is_checked_at_startup(certs, tmp_path):  # noqa: F811
    """S-CL6: SASL between brokers without a username/password in the
    listener's JAAS config stops the broker at startup, naming the key."""
    ov = broker_props(certs, free_port())
    ov["listener.name.sasl_ssl.plain.sasl.jaas.config"] = f'{PLAIN} required user_admin="x";'
    argv = [BROKER_BIN, "--override", f"log.dirs={tmp_path / 'data'}"]
    for k, v in ov.items():
        argv += ["--override", f"{k}={v}"]
    rc, out = run_broker_expect_exit(argv)
    assert rc == 2, out
    assert ("config error: listener.name.sasl_ssl.plain.sasl.jaas.config has no username and "
            "password for the broker to log in to the other brokers with "
            "(sasl.mechanism.inter.broker.protocol=PLAIN)") in out, out
    assert '"x"' not in out and "user_admin" not in out     # no secret in the message


def produce(sc, user, values, timeout=30):
    p = ck.Producer(conf(sc, user, **{"acks": "all", "enable.idempotence": True,
                                       "message.timeout.ms": 30000}))
    errs = []
    for v in values:
        p.produce(TOPIC, v, on_delivery=lambda err, msg: errs.append(err))
    assert p.flush(timeout) == 0
    return errs


def consume(sc, n, timeout=40):
    """n records of TOPIC as alice in group secure-readers, committed."""
    c = ck.Consumer(conf(sc, "alice", **{"group.id": "secure-readers",
                                         "auto.offset.reset": "earliest",
                                         "enable.auto.commit": False}))
    got = []
    try:
        c.subscribe([TOPIC])
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            assert not m.error(), m.error()
            got.append(m.value())
        c.commit(asynchronous=False)
    finally:
        c.close()
    return got


def leader_and_isr(sc):
    t = metadata(sc).topics[TOPIC]
    p = t.partitions[0]
    return p.leader, sorted(p.isrs)


def test_replicated_acks_all_through_a_leader_kill(sc):
    adm = KafkaAdminClient(**kafka_python_conf(sc.bootstrap, sc.certs, sasl=creds("admin")),
                           request_timeout_ms=15000)
    try:
        adm.create_topics([NewTopic(TOPIC, 1, 3, topic_configs={"min.insync.replicas": "2"})])
        res = adm.create_acls([
            ACL("User:alice", "*", op, ACLPermissionType.ALLOW,
                ResourcePattern(rt, name, ACLResourcePatternType.LITERAL))
            for op, rt, name in [(ACLOperation.WRITE, ResourceType.TOPIC, TOPIC),
                                 (ACLOperation.READ, ResourceType.TOPIC, TOPIC),
                                 (ACLOperation.DESCRIBE, ResourceType.TOPIC, TOPIC),
                                 (ACLOperation.READ, ResourceType.GROUP, "secure-readers")]])
        assert not res["failed"], res
    finally:
        adm.close()
    # Followers replicate over SASL_SSL as admin: the ISR fills up.
    wait_until(lambda: leader_and_isr(sc)[1] == [0, 1, 2], 30, desc="ISR of all three")
    first = [f"a{i}".encode() for i in range(50)]
    assert produce(sc, "alice", first) == [None] * 50
    # alice reads them in a group and commits (the group's __consumer_offsets,
    # replication factor 3, is made now, while the three brokers live).
    assert consume(sc, 50) == first
    # bob has no ACL: the authorizer refuses his writes.
    errs = produce(sc, "bob", [b"nope"])
    assert errs[0] is not None and errs[0].code() == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED, errs
    # kill -9 the leader: the controller moves the leadership and tells the
    # brokers over SASL_SSL; acks=all writes continue with min.insync 2.
    old, _ = leader_and_isr(sc)
    sc.kill(old)
    wait_until(lambda: leader_and_isr(sc)[0] not in (old, -1), 40,
               desc=f"a new leader after killing broker {old}")
    second = [f"b{i}".encode() for i in range(50)]
    assert produce(sc, "alice", second) == [None] * 50
    # The rest, as alice, from the offset her group committed before the kill.
    assert consume(sc, 50) == second
    # And all of it from offset 0 on the new leader: the followers had
    # replicated the first half over SASL_SSL before the kill.
    c = ck.Consumer(conf(sc, "alice", **{"group.id": "secure-readers", "enable.auto.commit": False}))
    c.assign([ck.TopicPartition(TOPIC, 0, 0)])
    got = []
    try:
        deadline = time.monotonic() + 30
        while len(got) < 100 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None:
                assert not m.error(), m.error()
                got.append(m.value())
    finally:
        c.close()
    assert got == first + second


# --- SSL with client certificates between brokers --------------------------------------------
@pytest.fixture(scope="module")
def mtls(tmp_path_factory, cluster_zk, certs):  # noqa: F811
    """Three brokers whose only listener is SSL with ssl.client.auth=required:
    each broker presents its keystore's certificate to the others (principal
    User:CN=localhost,O=Samsa,C=US, a super user)."""
    def props(port):
        ov = broker_overrides(certs, "SSL", port, client_auth="required")
        ov.update({"security.inter.broker.protocol": "SSL",
                   "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
                   "super.users": f"User:CN=localhost,O=Samsa,C=US;User:{certs.subject('alice')}"})
        return ov
    yield from secured_cluster(tmp_path_factory.mktemp("mtlscluster"), cluster_zk, certs, props,
                               ready=lambda c: every_broker_knows_the_controller(
                                   c, lambda bs: confluent_conf(bs, certs, client="alice")))


def test_ssl_client_certificates_between_brokers(mtls):
    alice = confluent_conf(mtls.bootstrap, mtls.certs, client="alice")
    a = ck.admin.AdminClient(alice)
    a.create_topics([ck.admin.NewTopic("mtls", 1, 3)])["mtls"].result(30)

    def isr():
        p = a.list_topics("mtls", timeout=10).topics["mtls"].partitions
        return sorted(p[0].isrs) if 0 in p else []
    # The followers fetch with their own certificates as the client side.
    wait_until(lambda: isr() == [0, 1, 2], 30, desc="ISR of all three over mutual TLS")
    # acks=all is answered once the three replicas have the record: quickly,
    # with the ISR still full, only if the followers fetch (a follower that
    # cannot would hold it for replica.lag.time.max.ms, 30 s, then leave).
    p = ck.Producer({**alice, "acks": "all", "message.timeout.ms": 20000})
    errs = []
    t0 = time.monotonic()
    p.produce("mtls", b"v", on_delivery=lambda e, m: errs.append(e))
    assert p.flush(30) == 0 and errs == [None], errs
    assert time.monotonic() - t0 < 15 and isr() == [0, 1, 2]
    # bob's certificate is valid but he has no ACL; a client without a
    # certificate does not get through the handshake.
    p = ck.Producer({**confluent_conf(mtls.bootstrap, mtls.certs, client="bob"),
                     "message.timeout.ms": 10000})
    errs = []
    p.produce("mtls", b"v", on_delivery=lambda e, m: errs.append(e))
    p.flush(15)
    assert errs and errs[0] and errs[0].code() == ck.KafkaError.TOPIC_AUTHORIZATION_FAILED, errs
    errs = []
    anon = ck.admin.AdminClient({**confluent_conf(mtls.bootstrap, mtls.certs),
                                 "error_cb": errs.append})
    wait_until(lambda: anon.poll(0.1) is not None and
               any(e.code() in (ck.KafkaError._SSL, ck.KafkaError._TRANSPORT,
                                ck.KafkaError._ALL_BROKERS_DOWN) for e in errs), 15,
               desc=f"the handshake refused without a client certificate (have {errs})")


# --- SCRAM between brokers, the credential written to ZooKeeper first ------------------------
def scram_credential(password, iterations=4096):
    """Kafka's stored form of a SCRAM-SHA-512 credential (RFC 5802 keys), as
    kafka-configs.sh --zookeeper writes it to /config/users/<user>."""
    salt = os.urandom(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha512").digest()
    server_key = hmac.new(salted, b"Server Key", "sha512").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return (f"salt={b64(salt)},stored_key={b64(hashlib.sha512(client_key).digest())},"
            f"server_key={b64(server_key)},iterations={iterations}")


BROKER_SCRAM = {"mechanism": "SCRAM-SHA-512", "username": "broker", "password": "broker-secret"}


@pytest.fixture(scope="module")
def scram(tmp_path_factory, cluster_zk, certs):  # noqa: F811
    """Three brokers logging in to each other with SCRAM-SHA-512 as `broker`,
    whose credential is in ZooKeeper before the first broker starts."""
    def props(port):
        ov = broker_overrides(certs, "SASL_SSL", port)
        ov.update({
            "security.inter.broker.protocol": "SASL_SSL",
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
                'org.apache.kafka.common.security.scram.ScramLoginModule required '
                'username="broker" password="broker-secret";',
            "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
            "super.users": "User:broker",
        })
        return ov
    gen = secured_cluster(tmp_path_factory.mktemp("scramcluster"), cluster_zk, certs, props,
                          before_start=lambda c: c.zk_client().create(
                              c.chroot + "/config/users/broker", makepath=True,
                              value=json.dumps({"version": 1, "config": {
                                  "SCRAM-SHA-512": scram_credential("broker-secret")}}).encode()),
                          ready=lambda c: every_broker_knows_the_controller(
                              c, lambda bs: confluent_conf(bs, certs, sasl=BROKER_SCRAM)))
    yield from gen


def test_scram_between_brokers_with_the_credential_in_zookeeper(scram):
    bc = confluent_conf(scram.bootstrap, scram.certs, sasl=BROKER_SCRAM)
    a = ck.admin.AdminClient(bc)
    a.create_topics([ck.admin.NewTopic("scram-t", 1, 3)])["scram-t"].result(30)
    wait_until(lambda: 0 in a.list_topics("scram-t", timeout=10).topics["scram-t"].partitions, 30,
               desc="scram-t's partition")
    p = ck.Producer({**bc, "acks": "all", "message.timeout.ms": 20000})
    errs = []
    t0 = time.monotonic()
    p.produce("scram-t", b"v", on_delivery=lambda e, m: errs.append(e))
    assert p.flush(30) == 0 and errs == [None], errs
    isr = a.list_topics("scram-t", timeout=10).topics["scram-t"].partitions[0].isrs
    assert time.monotonic() - t0 < 15 and sorted(isr) == [0, 1, 2], isr
