"""Small tools against one Samsa broker: kafka-broker-api-versions (every
API Samsa advertises, with its range), kafka-cluster cluster-id (what
DescribeCluster says), kafka-groups --list (groups with type and protocol).
Tools that cannot work against Samsa by design are recorded as skipped
with the reason (docs/compatibility-notes.md, "Kafka tools")."""

import re

import kproto
import pytest
from conftest import commit_offsets, make_topic, unique
from tools import kt


@pytest.mark.tool("kafka-broker-api-versions")
def test_broker_api_versions(samsa):
    out = kt("kafka-broker-api-versions", "--bootstrap-server", samsa.bootstrap).stdout
    assert re.search(rf"^{re.escape(samsa.bootstrap)} \(id: 0 rack: null isFenced: false\) -> \(",
                     out, re.M), out
    got = dict(re.findall(r"^\t(\w+\(\d+\)): (.*?),?$", out, re.M))
    with kproto.Conn(samsa.host, samsa.port) as c:
        ours = c.versions()
    for key in (0, 1, 3, 18, 35):
        lo, hi = ours[key]
        name = {0: "Produce", 1: "Fetch", 3: "Metadata", 18: "ApiVersions",
                35: "DescribeLogDirs"}[key]
        rng = f"{lo} to {hi}" if lo != hi else f"{lo}"
        assert got[f"{name}({key})"].startswith(f"{rng} [usable: "), (name, got.get(f"{name}({key})"))
    assert got["DescribeLogDirs(35)"] == "0 to 5 [usable: 5]"
    assert got["AlterReplicaLogDirs(34)"] == "UNSUPPORTED"


@pytest.mark.tool("kafka-cluster")
def test_cluster_id(samsa):
    out = kt("kafka-cluster", "cluster-id", "--bootstrap-server", samsa.bootstrap).stdout
    with kproto.Conn(samsa.host, samsa.port) as c:
        cid = kproto.describe_cluster(c)["cluster_id"]
    assert out.strip() == f"Cluster ID: {cid}"


@pytest.mark.tool("kafka-groups")
def test_groups_list(samsa, request):
    g = unique(request, "-g")
    t = make_topic(samsa, unique(request))
    commit_offsets(samsa, g, {(t, 0): 0})
    out = kt("kafka-groups", "--bootstrap-server", samsa.bootstrap, "--list").stdout
    rows = [ln.split() for ln in out.splitlines()]
    assert rows[0] == ["GROUP", "TYPE", "PROTOCOL"], out
    # a group with only committed offsets: classic, no protocol type
    assert [g, "Classic"] in [r[:2] for r in rows[1:]], out


NOT_APPLICABLE = {
    "kafka-metadata-quorum": "KRaft only: DescribeQuorum (55) is served by KRaft controllers; "
                             "Samsa's cluster mode is ZooKeeper-based",
    "kafka-features": "KRaft feature levels (metadata.version, ...; UpdateFeatures 57): Samsa "
                      "finalizes no features",
    "kafka-storage": "formats a KRaft node's own log dirs (meta.properties, bootstrap "
                     "checkpoint); not a client of the broker",
    "kafka-transactions": "transactions are not implemented yet (DescribeTransactions 65, "
                          "ListTransactions 66)",
    "kafka-acls": "ACLs are not implemented (DescribeAcls 29, CreateAcls 30)",
    "kafka-delegation-tokens": "delegation tokens need SASL, not implemented (38-41)",
    "kafka-client-metrics": "client metrics subscriptions (KIP-714, GetTelemetrySubscriptions 71) "
                            "are not implemented",
    "kafka-share-groups": "share groups (KIP-932) are not implemented",
    "kafka-streams-groups": "streams groups (KIP-1071) are not implemented",
}


@pytest.mark.parametrize("script", sorted(NOT_APPLICABLE))
def test_not_applicable(script, request):
    request.node.add_marker(pytest.mark.tool(script))
    pytest.skip(NOT_APPLICABLE[script])
