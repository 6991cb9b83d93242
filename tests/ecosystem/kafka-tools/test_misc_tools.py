"""Small tools against one Samsa broker: kafka-broker-api-versions (every
API Samsa advertises, with its range), kafka-cluster cluster-id (what
DescribeCluster says), kafka-groups --list (groups with type and protocol),
kafka-dump-log on Samsa's segment files (a topic's, __consumer_offsets').
Tools that cannot work against Samsa by design are recorded as skipped
with the reason (docs/compatibility-notes.md, "Kafka tools")."""

import json
import re

import kproto
import pytest
from conftest import commit_offsets, make_topic, produce_values, unique
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


def offsets_partition(group, n=50):
    """The __consumer_offsets partition of a group (Kafka: Utils.abs of the
    Java hashCode, modulo n; ASCII names)."""
    h = 0
    for ch in group:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    h = h - (1 << 32) if h >= 1 << 31 else h
    return (0 if h == -(1 << 31) else abs(h)) % n


@pytest.mark.tool("kafka-dump-log")
def test_dump_log_reads_samsa_files(samsa, request):
    """Samsa's segment files in Kafka's format: kafka-dump-log decodes a
    topic's batch (keys, values, headers) and, with --offsets-decoder, the
    group's offset commit in __consumer_offsets."""
    t, g = make_topic(samsa, unique(request)), unique(request, "-g")
    produce_values(samsa, t, 0, ["v0", "v1", "v2"], keys=[b"k0", None, b"k2"])
    commit_offsets(samsa, g, {(t, 0): 2})
    seg = "00000000000000000000.log"
    data = samsa.partition_dir(t, 0) / seg
    offsets = samsa.partition_dir("__consumer_offsets", offsets_partition(g)) / seg
    mine = kt("kafka-dump-log", "--files", data, "--print-data-log").stdout
    # the decoder applies to every file named: a run of its own
    theirs = kt("kafka-dump-log", "--files", offsets, "--offsets-decoder").stdout
    assert re.search(r"^baseOffset: 0 lastOffset: 2 count: 3 .* magic: 2 compresscodec: none "
                     r"crc: \d+ isvalid: true$", mine, re.M), mine
    recs = re.findall(r"^\| offset: (\d+) .*?keySize: (-?\d+) .*?(?:key: (\S+) )?payload: (\S+)$",
                      mine, re.M)
    assert recs == [("0", "2", "k0", "v0"), ("1", "-1", "", "v1"), ("2", "2", "k2", "v2")], mine
    commits = [(json.loads(k), json.loads(v)) for k, v in
               re.findall(r"key: (\{.*\}) payload: (\{.*\})$", theirs, re.M)]
    ours = [v["data"] for k, v in commits
            if k["type"] == "1" and k["data"] == {"group": g, "topic": t, "partition": 0}]
    assert ours and ours[-1]["offset"] == 2, theirs


NOT_APPLICABLE = {
    "kafka-metadata-quorum": "KRaft only: DescribeQuorum (55) is served by KRaft controllers; "
                             "Samsa's cluster mode is ZooKeeper-based",
    "kafka-features": "KRaft feature levels (metadata.version, ...; UpdateFeatures 57): Samsa "
                      "finalizes no features",
    "kafka-storage": "formats a KRaft node's own log dirs (meta.properties, bootstrap "
                     "checkpoint); not a client of the broker",
    "kafka-delegation-tokens": "delegation tokens are not implemented (38-41)",
    "kafka-client-metrics": "client metrics subscriptions (KIP-714, GetTelemetrySubscriptions 71) "
                            "are not implemented",
    "kafka-share-groups": "share groups (KIP-932) are not implemented",
    "kafka-streams-groups": "streams groups (KIP-1071) are not implemented",
}


@pytest.mark.parametrize("script", sorted(NOT_APPLICABLE))
def test_not_applicable(script, request):
    request.node.add_marker(pytest.mark.tool(script))
    pytest.skip(NOT_APPLICABLE[script])
