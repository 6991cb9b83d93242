"""Differential scenarios: ApiVersions, Metadata, DescribeCluster."""

import pytest

import oracle as O

# The APIs the scenarios exercise: ApiVersions compares their version ranges.
USED = [O.PRODUCE, O.FETCH, O.LIST_OFFSETS, O.METADATA, O.OFFSET_COMMIT, O.OFFSET_FETCH,
        O.FIND_COORDINATOR, O.JOIN_GROUP, O.HEARTBEAT, O.LEAVE_GROUP, O.SYNC_GROUP,
        O.DESCRIBE_GROUPS, O.LIST_GROUPS, O.API_VERSIONS, O.CREATE_TOPICS, O.DELETE_TOPICS,
        O.DELETE_RECORDS, O.INIT_PRODUCER_ID, O.OFFSET_FOR_LEADER_EPOCH, O.DESCRIBE_CONFIGS,
        O.ALTER_CONFIGS, O.DESCRIBE_LOG_DIRS, O.CREATE_PARTITIONS, O.DELETE_GROUPS,
        O.INCREMENTAL_ALTER_CONFIGS, O.OFFSET_DELETE, O.DESCRIBE_CLUSTER]


@pytest.mark.parametrize("v", [3, 0])
def test_api_versions(o, v):
    """The error code and, for every API the suite uses, the version range."""
    def only_used(side):
        r = side.call(O.API_VERSIONS, v, {"client_software_name": "samsa-diff",
                                           "client_software_version": "1"})
        assert r["api_keys"], f"{side.name}: no api keys"
        return [(O.API_VERSIONS, dict(r, api_keys=[k for k in r["api_keys"]
                                                   if k["api_key"] in USED]))]
    o.flow(only_used)


def test_api_versions_unsupported_version(o):
    """A version the broker does not know: UNSUPPORTED_VERSION with the v0 layout."""
    # Built by hand: header v2 with version 99, empty tagged body.
    def v99(side):
        import struct
        side.corr += 1
        hdr = struct.pack(">hhi", O.API_VERSIONS, 99, side.corr) + struct.pack(">h", 1) + b"x"
        body = b"\x00" + b"\x02x\x021\x00"
        payload = hdr + body
        side.sock.sendall(struct.pack(">i", len(payload)) + payload)
        r = side.recv(O.API_VERSIONS, 0, side.corr)
        return [(O.API_VERSIONS, {"error_code": r["error_code"],
                                  "has_api_versions_entry": any(
                                      k["api_key"] == O.API_VERSIONS for k in r["api_keys"])})]
    o.flow(v99)


@pytest.mark.parametrize("cluster,node", [("none", -1), ("own", 0), ("other", 0), ("own", 7),
                                          ("other", -1), ("none", 7)],
                         ids=["neither", "both_right", "wrong_cluster", "wrong_node",
                              "cluster_only", "node_only"])
def test_api_versions_v5_target(o, cluster, node):
    """v5 (KIP-1242): the cluster and node the client means to reach, both or
    neither; a wrong one is REBOOTSTRAP_REQUIRED, one alone INVALID_REQUEST.
    Each broker is sent its own cluster id ("own")."""
    if min(o.samsa.max_version(O.API_VERSIONS), o.kafka.max_version(O.API_VERSIONS)) < 5:
        pytest.skip("ApiVersions v5 not served by both")

    def flow(side):
        own = side.call(O.METADATA, 12, {"topics": [], "allow_auto_topic_creation": False})["cluster_id"]
        cid = {"none": None, "own": own, "other": "AAAAAAAAAAAAAAAAAAAAAA"}[cluster]
        c = side.conn()
        r = c.call(O.API_VERSIONS, 5, {"client_software_name": "samsa-diff",
                                       "client_software_version": "1",
                                       "cluster_id": cid, "node_id": node})
        return [(O.API_VERSIONS, {"error_code": r["error_code"],
                                  "api_keys_listed": bool(r["api_keys"])})]
    o.flow(flow)


def test_metadata_all_topics(o):
    o.create_topic(o.name())
    o.call(O.METADATA, o.newest(O.METADATA), {"topics": None, "allow_auto_topic_creation": False})


@pytest.mark.parametrize("v", ["newest", 9, 4, 1])
def test_metadata_named(o, v):
    v = o.newest(O.METADATA) if v == "newest" else v
    t = o.create_topic(o.name(), partitions=3)
    o.call(O.METADATA, v, {"topics": [{"name": t}], "allow_auto_topic_creation": False,
                           "include_topic_authorized_operations": v >= 8})


@pytest.mark.parametrize("v", ["newest", 1])
def test_metadata_unknown_topic(o, v):
    v = o.newest(O.METADATA) if v == "newest" else v
    o.call(O.METADATA, v, {"topics": [{"name": o.name("-nope")}],
                           "allow_auto_topic_creation": False})


def test_metadata_empty_topic_list(o):
    o.call(O.METADATA, o.newest(O.METADATA), {"topics": [], "allow_auto_topic_creation": True})


def test_metadata_auto_create(o):
    """auto.create.topics.enable=true (both defaults) and the request allows it:
    the first answer, then the topic as it settles."""
    t = o.name()
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": True},
           check=False)
    for side in o.sides():
        O.wait_until(lambda: side.call(O.METADATA, 9, {"topics": [{"name": t}]})
                     ["topics"][0]["error_code"] == 0, desc=f"{side.name}: {t} created")
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": False})


def test_metadata_auto_create_first_answer(o):
    o.call(O.METADATA, 9, {"topics": [{"name": o.name()}], "allow_auto_topic_creation": True})


def test_metadata_auto_create_invalid_name(o):
    o.call(O.METADATA, 9, {"topics": [{"name": "bad/name" + o.name()}],
                           "allow_auto_topic_creation": True})


def test_metadata_by_unknown_topic_id(o):
    o.call(O.METADATA, o.newest(O.METADATA), {
        "topics": [{"name": None, "topic_id": "AAAAAAAAAAAAAAAAAAAAAQ"}],
        "allow_auto_topic_creation": False})


@pytest.mark.parametrize("v", ["newest", 0])
def test_describe_cluster(o, v):
    v = o.newest(O.DESCRIBE_CLUSTER) if v == "newest" else v
    o.call(O.DESCRIBE_CLUSTER, v, {"include_cluster_authorized_operations": False})


def test_describe_log_dirs(o):
    if O.DESCRIBE_LOG_DIRS not in o.samsa.versions:
        pytest.skip("Samsa's ApiVersions lacks DescribeLogDirs (another engineer implements it)")
    t = o.create_topic(o.name())
    v = o.newest(O.DESCRIBE_LOG_DIRS)
    o.call(O.DESCRIBE_LOG_DIRS, v, {"topics": [{"topic": t, "partitions": [0]}]})
