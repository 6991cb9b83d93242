"""kafka-acls against a Samsa broker running Kafka's ACL authorizer
(authorizer.class.name; docs/security.md section 5): --add with allow and
deny principals, literal and prefixed patterns, topics, groups,
transactional ids and the cluster; --list (all, and per resource); --remove.
The broker is the module's own (the session broker runs without an
authorizer); every client is User:ANONYMOUS, a super user here."""

import pytest
from conftest import Broker
from tools import kt

AUTHZ = {"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
         "super.users": "User:ANONYMOUS"}


@pytest.fixture(scope="module")
def authz_broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("acls"), name="acls", overrides=AUTHZ)
    b.start()
    yield b
    b.stop()
    assert not b.sanitizer_reports()


@pytest.mark.tool("kafka-acls")
def test_kafka_acls_add_list_remove(authz_broker):
    bs = authz_broker.bootstrap
    kt("kafka-acls", "--bootstrap-server", bs, "--add", "--allow-principal", "User:alice",
       "--operation", "Read", "--operation", "Describe", "--topic", "orders", "--group", "billing")
    kt("kafka-acls", "--bootstrap-server", bs, "--add", "--deny-principal", "User:mallory",
       "--deny-host", "10.0.0.9", "--operation", "All", "--topic", "pay-",
       "--resource-pattern-type", "prefixed")
    kt("kafka-acls", "--bootstrap-server", bs, "--add", "--allow-principal", "User:tx",
       "--operation", "Write", "--transactional-id", "copier-1")
    kt("kafka-acls", "--bootstrap-server", bs, "--add", "--allow-principal", "User:ops",
       "--operation", "Alter", "--cluster")
    out = kt("kafka-acls", "--bootstrap-server", bs, "--list").stdout
    for want in ("ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)",
                 "ResourcePattern(resourceType=GROUP, name=billing, patternType=LITERAL)",
                 "ResourcePattern(resourceType=TOPIC, name=pay-, patternType=PREFIXED)",
                 "ResourcePattern(resourceType=TRANSACTIONAL_ID, name=copier-1, patternType=LITERAL)",
                 "ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL)",
                 "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)",
                 "(principal=User:mallory, host=10.0.0.9, operation=ALL, permissionType=DENY)"):
        assert want in out, (want, out)
    out = kt("kafka-acls", "--bootstrap-server", bs, "--list", "--topic", "orders").stdout
    assert "User:alice" in out and "pay-" not in out, out
    kt("kafka-acls", "--bootstrap-server", bs, "--remove", "--force", "--topic", "orders")
    out = kt("kafka-acls", "--bootstrap-server", bs, "--list").stdout
    assert "name=orders," not in out and "name=billing," in out, out
