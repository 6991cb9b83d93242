"""ACLs in cluster mode (docs/security.md S-ACL7, S-ACL8): an ACL created
through broker 0 is stored in Kafka's ZooKeeper layout (/kafka-acl,
/kafka-acl-changes) and applies on broker 1 within a second; a deletion
through broker 1 reaches broker 0 the same way.

Two brokers, authorizer on, allow.everyone.if.no.acl.found=true (clients and
brokers are User:ANONYMOUS on PLAINTEXT; the Cluster has no ACL, so the
brokers' own requests pass).
"""
import json
import time

import kproto
from cluster import cluster, cluster_factory, cluster_zk  # noqa: F401

AUTHZ = {"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
         "allow.everyone.if.no.acl.found": "true"}
CREATE_ACLS, DELETE_ACLS = 30, 31
TOPIC, LITERAL, READ, ALLOW = 2, 3, 3, 3


def create_acl(port, topic, principal):
    """CreateAcls v1 to one broker; the result's error code."""
    with kproto.Conn("127.0.0.1", port) as c:
        w = kproto.W(False).i32(1)
        w.i8(TOPIC).string(topic).i8(LITERAL).string(principal).string("*").i8(READ).i8(ALLOW)
        r = c.call(CREATE_ACLS, 1, w.done())
        r.i32()                               # throttle
        results = r.array(lambda r: (r.i16(), r.string()))
        return results[0][0]


def delete_acls_on(port, topic):
    """DeleteAcls v1 (every ACL of the literal topic) to one broker."""
    with kproto.Conn("127.0.0.1", port) as c:
        w = kproto.W(False).i32(1)
        w.i8(TOPIC).string(topic).i8(LITERAL).string(None).string(None).i8(1).i8(1)
        r = c.call(DELETE_ACLS, 1, w.done())
        r.i32()
        return r.i16()


def topic_error(cl, i, topic):
    return cl.metadata(i, [topic])["topics"][topic]["error_code"]


def wait_error(cl, i, topic, want, limit):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if topic_error(cl, i, topic) == want:
            return time.monotonic() - t0
        time.sleep(0.01)
    raise AssertionError(f"broker {i}: {topic} not error {want} within {limit}s "
                         f"(got {topic_error(cl, i, topic)})")


def test_acl_created_on_one_broker_applies_on_the_other(cluster_factory):  # noqa: F811
    cl = cluster_factory(n=2, overrides=AUTHZ)
    t = cl.create_topic("acl-zk", partitions=1, rf=2)
    assert topic_error(cl, 1, t) == 0
    assert create_acl(cl.broker_port(0), t, "User:bob") == 0
    # ANONYMOUS lost DESCRIBE on the topic (bob's ACL names it): within a second.
    took = wait_error(cl, 1, t, 29, 1.0)          # TOPIC_AUTHORIZATION_FAILED
    assert took < 1.0
    # Kafka's layout, as Kafka's own tools read it.
    body = json.loads(cl.zk_get(f"/kafka-acl/Topic/{t}"))
    assert body == {"version": 1, "acls": [{"principal": "User:bob", "permissionType": "Allow",
                                            "operation": "Read", "host": "*"}]}
    changes = cl.zk_children("/kafka-acl-changes")
    assert any(cl.zk_get(f"/kafka-acl-changes/{c}") == f"TOPIC:{t}".encode() for c in changes), \
        changes
    # A deletion through broker 1 reaches broker 0.
    assert delete_acls_on(cl.broker_port(1), t) == 0
    wait_error(cl, 0, t, 0, 1.0)
    assert cl.zk_get(f"/kafka-acl/Topic/{t}") is None
