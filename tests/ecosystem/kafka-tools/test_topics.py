"""kafka-topics against one Samsa broker: create (with a config), list,
alter (add partitions), describe (partitions, leader, replicas, ISR,
configs), delete.  --describe --under-replicated-partitions needs replicas:
test_cluster_tools.py."""

import re

import kproto
import pytest
from conftest import unique
from tools import kt

pytestmark = pytest.mark.tool("kafka-topics")


def topics_on(b):
    with kproto.Conn(b.host, b.port) as c:
        return kproto.metadata(c, None)


def test_topics_create_list_alter_describe_delete(samsa, request):
    bs = samsa.bootstrap
    t = unique(request)
    out = kt("kafka-topics", "--bootstrap-server", bs, "--create", "--topic", t, "--partitions", 3,
             "--replication-factor", 1, "--config", "retention.ms=86400000").stdout
    assert f"Created topic {t}." in out

    listed = kt("kafka-topics", "--bootstrap-server", bs, "--list").stdout.split()
    assert t in listed

    kt("kafka-topics", "--bootstrap-server", bs, "--alter", "--topic", t, "--partitions", 5)

    out = kt("kafka-topics", "--bootstrap-server", bs, "--describe", "--topic", t).stdout
    head, *parts = [ln for ln in out.splitlines() if ln.strip()]
    assert re.match(rf"Topic: {re.escape(t)}\tTopicId: \S+\tPartitionCount: 5\t"
                    r"ReplicationFactor: 1\tConfigs: retention.ms=86400000$", head), head
    assert len(parts) == 5, out
    for i, ln in enumerate(parts):
        assert re.match(rf"\tTopic: {re.escape(t)}\tPartition: {i}\tLeader: 0\tReplicas: 0\t"
                        r"Isr: 0\b", ln), ln

    kt("kafka-topics", "--bootstrap-server", bs, "--delete", "--topic", t)   # prints nothing
    md = topics_on(samsa)
    assert t not in md["topics"] or md["topics"][t]["error_code"] != 0, md
