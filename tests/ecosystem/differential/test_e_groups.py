"""Differential scenarios: FindCoordinator, the classic group protocol
(JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and its errors, OffsetCommit/
OffsetFetch/OffsetDelete, ListGroups/DescribeGroups/DeleteGroups."""

import pytest

import oracle as O

PROTO = [{"name": "range", "metadata": b"\x00\x01meta"}]


def jv(o):
    return o.newest(O.JOIN_GROUP)


def join_body(group, member="", protocol_type="consumer", protocols=PROTO, session=10000,
              rebalance=10000, instance=None):
    return {"group_id": group, "session_timeout_ms": session, "rebalance_timeout_ms": rebalance,
            "member_id": member, "group_instance_id": instance, "protocol_type": protocol_type,
            "protocols": protocols, "reason": None}


def join(side, group, v=9, **kw):
    """JoinGroup v4+: the MEMBER_ID_REQUIRED round trip, then the real join."""
    r1 = side.call(O.JOIN_GROUP, v, join_body(group, **kw))
    kw["member"] = r1["member_id"]
    r2 = side.call(O.JOIN_GROUP, v, join_body(group, **kw))
    return r1, r2


def sync(side, group, gen, member, assignments=(), v=5):
    return side.call(O.SYNC_GROUP, v, {
        "group_id": group, "generation_id": gen, "member_id": member,
        "group_instance_id": None, "protocol_type": "consumer", "protocol_name": "range",
        "assignments": [{"member_id": m, "assignment": a} for m, a in assignments]})


def stable(side, group):
    """One member, joined and synced: (member_id, generation)."""
    _, r = join(side, group)
    m, gen = r["member_id"], r["generation_id"]
    s = sync(side, group, gen, m, [(m, b"\x00\x01assign")])
    assert s["error_code"] == 0, s
    return m, gen


def hb(side, group, gen, member, v=4):
    return side.call(O.HEARTBEAT, v, {"group_id": group, "generation_id": gen,
                                      "member_id": member, "group_instance_id": None})


@pytest.mark.parametrize("v", ["newest", 3, 0])
def test_find_coordinator(o, v):
    v = o.newest(O.FIND_COORDINATOR) if v == "newest" else v
    o.call(O.FIND_COORDINATOR, v, {"key": o.name(), "key_type": 0,
                                   "coordinator_keys": [o.name(), o.name("-2")]})


def test_find_coordinator_transaction(o):
    o.call(O.FIND_COORDINATOR, o.newest(O.FIND_COORDINATOR), {
        "key_type": 1, "coordinator_keys": [o.name()]})


def test_find_coordinator_bad_key_type(o):
    o.call(O.FIND_COORDINATOR, o.newest(O.FIND_COORDINATOR), {
        "key_type": 9, "coordinator_keys": [o.name()]})


def test_join_member_id_required(o):
    o.call(O.JOIN_GROUP, jv(o), join_body(o.name()))


@pytest.mark.parametrize("v", [9, 5, 3, 0])
def test_join_sync_heartbeat_leave(o, v):
    g = o.name()

    def flow(side):
        out = []
        if v >= 4:
            r1, r = join(side, g, v=v)
            out.append((O.JOIN_GROUP, r1))
        else:
            r = side.call(O.JOIN_GROUP, v, join_body(g))
        out.append((O.JOIN_GROUP, r))
        m, gen = r["member_id"], r["generation_id"]
        sv = min(v, 5)
        out.append((O.SYNC_GROUP, sync(side, g, gen, m, [(m, b"\x00\x01a")], v=sv)))
        out.append((O.HEARTBEAT, hb(side, g, gen, m, v=min(v, 4))))
        lv = min(v, 5)
        body = {"group_id": g, "member_id": m,
                "members": [{"member_id": m, "group_instance_id": None, "reason": None}]}
        out.append((O.LEAVE_GROUP, side.call(O.LEAVE_GROUP, lv, body)))
        out.append((O.DESCRIBE_GROUPS, side.call(O.DESCRIBE_GROUPS, 5, {
            "groups": [g], "include_authorized_operations": False})))
        return out
    o.flow(flow)


def test_heartbeat_unknown_member(o):
    g = o.name()

    def flow(side):
        stable(side, g)
        return [(O.HEARTBEAT, hb(side, g, 1, "nobody"))]
    o.flow(flow)


def test_heartbeat_unknown_group(o):
    o.call(O.HEARTBEAT, 4, {"group_id": o.name(), "generation_id": 1, "member_id": "x",
                            "group_instance_id": None})


def test_heartbeat_illegal_generation(o):
    g = o.name()

    def flow(side):
        m, gen = stable(side, g)
        return [(O.HEARTBEAT, hb(side, g, gen + 5, m))]
    o.flow(flow)


def test_sync_illegal_generation(o):
    g = o.name()

    def flow(side):
        _, r = join(side, g)
        return [(O.SYNC_GROUP, sync(side, g, r["generation_id"] + 1, r["member_id"]))]
    o.flow(flow)


def test_sync_unknown_member(o):
    g = o.name()

    def flow(side):
        _, r = join(side, g)
        return [(O.SYNC_GROUP, sync(side, g, r["generation_id"], "nobody"))]
    o.flow(flow)


def test_join_inconsistent_protocol_type(o):
    g = o.name()

    def flow(side):
        stable(side, g)
        return [(O.JOIN_GROUP, side.conn().call(O.JOIN_GROUP, 9, join_body(
            g, member="", protocol_type="connect")))]
    o.flow(flow)


def test_join_inconsistent_protocols(o):
    g = o.name()

    def flow(side):
        stable(side, g)
        return [(O.JOIN_GROUP, side.conn().call(O.JOIN_GROUP, 9, join_body(
            g, protocols=[{"name": "roundrobin", "metadata": b""}])))]
    o.flow(flow)


def test_join_invalid_session_timeout(o):
    o.call(O.JOIN_GROUP, jv(o), join_body(o.name(), session=10))


def test_join_empty_group_id(o):
    o.call(O.JOIN_GROUP, jv(o), join_body(""))


def test_join_unknown_member_id(o):
    o.call(O.JOIN_GROUP, jv(o), join_body(o.name(), member="ghost-member"))


def test_heartbeat_rebalance_in_progress(o):
    """A second member joins a stable group: the first one's heartbeat says
    REBALANCE_IN_PROGRESS; its rejoin completes the round."""
    g = o.name()

    def flow(side):
        m1, gen = stable(side, g)
        c2 = side.conn()
        r = c2.call(O.JOIN_GROUP, 9, join_body(g))
        out = [(O.JOIN_GROUP, r)]
        corr = c2.send(O.JOIN_GROUP, 9, join_body(g, member=r["member_id"]))
        # the pending join, seen by the coordinator, before the heartbeat
        O.wait_until(lambda: side.call(O.DESCRIBE_GROUPS, 5, {"groups": [g]})
                     ["groups"][0]["group_state"] == "PreparingRebalance",
                     desc=f"{side.name}: {g} rebalancing")
        out.append((O.HEARTBEAT, hb(side, g, gen, m1)))
        r1 = side.call(O.JOIN_GROUP, 9, join_body(g, member=m1))
        r2 = c2.recv(O.JOIN_GROUP, 9, corr)
        leader_first = sorted([r1, r2], key=lambda x: x["leader"] != x["member_id"])
        out += [(O.JOIN_GROUP, x) for x in leader_first]
        return out
    o.flow(flow)


def test_leave_unknown_member(o):
    g = o.name()

    def flow(side):
        stable(side, g)
        return [(O.LEAVE_GROUP, side.call(O.LEAVE_GROUP, 5, {"group_id": g, "members": [
            {"member_id": "ghost", "group_instance_id": None, "reason": None}]}))]
    o.flow(flow)


# --- offsets -------------------------------------------------------------------------
def commit(side, group, topic, offsets, gen=-1, member="", v=9):
    return side.call(O.OFFSET_COMMIT, v, {
        "group_id": group, "generation_id_or_member_epoch": gen, "member_id": member,
        "group_instance_id": None, "retention_time_ms": -1,
        "topics": [{"name": topic, "partitions": [
            {"partition_index": p, "committed_offset": off, "committed_leader_epoch": -1,
             "committed_metadata": "md"} for p, off in offsets]}]})


def fetch_offsets(side, group, topics, v=8):
    return side.call(O.OFFSET_FETCH, v, {"groups": [{"group_id": group, "topics": topics}],
                                         "require_stable": False})


def test_offset_commit_fetch(o):
    g, t = o.name(), o.create_topic(o.name(), partitions=2)

    def flow(side):
        return [(O.OFFSET_COMMIT, commit(side, g, t, [(0, 5), (1, 7)])),
                (O.OFFSET_FETCH, fetch_offsets(side, g, [{"name": t, "partition_indexes": [0, 1, 2]}])),
                (O.OFFSET_FETCH, fetch_offsets(side, g, None))]
    o.flow(flow)


@pytest.mark.parametrize("v", [2, 5])
def test_offset_commit_old_versions(o, v):
    g, t = o.name(), o.create_topic(o.name())

    def flow(side):
        return [(O.OFFSET_COMMIT, commit(side, g, t, [(0, 3)], v=v)),
                (O.OFFSET_FETCH, side.call(O.OFFSET_FETCH, 5, {
                    "group_id": g, "topics": [{"name": t, "partition_indexes": [0]}]}))]
    o.flow(flow)


def test_offset_commit_unknown_topic(o):
    g = o.name()
    o.flow(lambda side: [(O.OFFSET_COMMIT, commit(side, g, o.name("-nope"), [(0, 1)]))])


def test_offset_commit_unknown_member(o):
    g, t = o.name(), o.create_topic(o.name())

    def flow(side):
        stable(side, g)
        return [(O.OFFSET_COMMIT, commit(side, g, t, [(0, 1)], gen=1, member="ghost"))]
    o.flow(flow)


def test_offset_commit_illegal_generation(o):
    g, t = o.name(), o.create_topic(o.name())

    def flow(side):
        m, gen = stable(side, g)
        return [(O.OFFSET_COMMIT, commit(side, g, t, [(0, 1)], gen=gen + 3, member=m))]
    o.flow(flow)


def test_offset_fetch_unknown_group(o):
    t = o.create_topic(o.name())
    o.flow(lambda side: [(O.OFFSET_FETCH, fetch_offsets(
        side, o.name("-g"), [{"name": t, "partition_indexes": [0]}]))])


def test_offset_delete(o):
    g, t = o.name(), o.create_topic(o.name())

    def flow(side):
        out = [(O.OFFSET_COMMIT, commit(side, g, t, [(0, 4)]))]
        out.append((O.OFFSET_DELETE, side.call(O.OFFSET_DELETE, 0, {
            "group_id": g, "topics": [{"name": t, "partitions": [{"partition_index": 0}]}]})))
        out.append((O.OFFSET_FETCH, fetch_offsets(side, g, [{"name": t, "partition_indexes": [0]}])))
        return out
    o.flow(flow)


def test_offset_delete_unknown_group(o):
    t = o.create_topic(o.name())
    o.call(O.OFFSET_DELETE, 0, {"group_id": o.name("-g"), "topics": [
        {"name": t, "partitions": [{"partition_index": 0}]}]})


def test_offset_delete_subscribed(o):
    g, t = o.name(), o.create_topic(o.name())

    def flow(side):
        _, r = join(side, g, protocols=[{"name": "range", "metadata": subscription(t)}])
        m = r["member_id"]
        sync(side, g, r["generation_id"], m, [(m, b"")])
        commit(side, g, t, [(0, 2)], gen=r["generation_id"], member=m)
        return [(O.OFFSET_DELETE, side.call(O.OFFSET_DELETE, 0, {
            "group_id": g, "topics": [{"name": t, "partitions": [{"partition_index": 0}]}]}))]
    o.flow(flow)


def subscription(topic):
    import struct
    tb = topic.encode()
    return (struct.pack(">hih", 0, 1, len(tb)) + tb + struct.pack(">i", -1))


# --- admin ---------------------------------------------------------------------------
def test_describe_groups(o):
    g_stable, g_empty, g_dead = o.name("-s"), o.name("-e"), o.name("-d")
    t = o.create_topic(o.name())

    def flow(side):
        stable(side, g_stable)
        commit(side, g_empty, t, [(0, 1)])
        return [(O.DESCRIBE_GROUPS, side.call(O.DESCRIBE_GROUPS, 5, {
            "groups": [g_stable, g_empty, g_dead], "include_authorized_operations": False}))]
    o.flow(flow)


def test_list_groups(o):
    g = o.name()
    t = o.create_topic(o.name())

    def flow(side):
        commit(side, g, t, [(0, 1)])
        r = side.call(O.LIST_GROUPS, 5, {"states_filter": [], "types_filter": []})
        mine = [x for x in r["groups"] if x["group_id"] == g]
        r4 = side.call(O.LIST_GROUPS, 4, {"states_filter": ["Empty"]})
        return [(O.LIST_GROUPS, dict(r, groups=mine)),
                (O.LIST_GROUPS, dict(r4, groups=[x for x in r4["groups"] if x["group_id"] == g]))]
    o.flow(flow)


def test_delete_groups(o):
    g_empty, g_live, g_none = o.name("-e"), o.name("-l"), o.name("-n")
    t = o.create_topic(o.name())

    def flow(side):
        commit(side, g_empty, t, [(0, 1)])
        stable(side, g_live)
        return [(O.DELETE_GROUPS, side.call(O.DELETE_GROUPS, 2, {
            "groups_names": [g_empty, g_live, g_none]})),
                (O.OFFSET_FETCH, fetch_offsets(side, g_empty, [{"name": t, "partition_indexes": [0]}]))]
    o.flow(flow)
