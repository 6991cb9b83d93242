"""Consumer groups, admin APIs: ListGroups (every version, state filter v4+,
type filter v5), DescribeGroups (state, members, client ids and hosts,
subscriptions and assignments decoded), DeleteGroups (NON_EMPTY_GROUP while
members exist, GROUP_ID_NOT_FOUND for unknown groups, then success with the
offsets gone, also after a restart), OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC
while subscribed, success otherwise) and OffsetFetch in its multi-group (v8+)
and all-topics (null topics) forms. Cross-checked with confluent-kafka's
AdminClient.list_groups and kafka-python's KafkaAdminClient."""

import confluent_kafka as ck
import kproto
import pytest
from kafka import KafkaAdminClient
from kproto import GROUP_ID_NOT_FOUND, GROUP_SUBSCRIBED_TO_TOPIC, NON_EMPTY_GROUP

from conftest import admin, create_topic, unique_topic, wait_until
from test_groups_common import GROUP_BROKER, Member, RawMember, balanced, group_conn


def state_of(rc, g):
    return kproto.describe_groups(rc, [g])[0]["group_state"]


@pytest.fixture
def groups_setup(broker_factory, request):
    """One broker with groups in every state:
    g-stable (2 confluent-kafka members on topic t, 4 partitions),
    g-empty-solo (standalone commits only), g-empty-left (a member came and
    left), g-preparing (raw: a second member's join waits for the first),
    g-completing (raw: both joined, nobody synced yet)."""
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 4)
    members = [Member(bs, "g-stable", t, name=f"adm-{x}") for x in "ab"]
    raws = []
    try:
        wait_until(lambda: balanced(members, 4), 30, desc="g-stable balanced")
        rc = group_conn(b)
        assert kproto.offset_commit(rc, "g-empty-solo", {(t, 0): 3}) == {(t, 0): 0}
        left = Member(bs, "g-empty-left", t, name="adm-left")
        wait_until(lambda: left.owned(), 30, desc="g-empty-left member assigned")
        left.close()
        # PreparingRebalance: p1 stable, p2 joins and waits for p1 to rejoin
        p1 = RawMember(b, "g-preparing", t, client_id="p1")
        p1.join_and_sync()
        p2 = RawMember(b, "g-preparing", t, client_id="p2")
        p2.member_id = p2.send_join()["member_id"]
        p2.send_join(wait=False)
        # CompletingRebalance: c1 and c2 joined (c2's join completes c1's
        # rejoin), nobody synced
        c1 = RawMember(b, "g-completing", t, client_id="c1")
        c1.join_and_sync()
        c2 = RawMember(b, "g-completing", t, client_id="c2")
        c2.member_id = c2.send_join()["member_id"]
        pending = c2.send_join(wait=False)
        wait_until(lambda: c1.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="c1 told")
        c1.join()
        c2.joined(kproto.recv_join_group(c2.conn, *pending))
        raws = [p1, p2, c1, c2]
        wait_until(lambda: state_of(rc, "g-empty-left") == "Empty", 10, desc="g-empty-left empty")
        yield b, rc, t, members
        rc.close()
    finally:
        for m in members:
            m.close()
        for r in raws:
            r.close()


ALL = {"g-stable": "Stable", "g-empty-solo": "Empty", "g-empty-left": "Empty",
       "g-preparing": "PreparingRebalance", "g-completing": "CompletingRebalance"}


def test_list_groups_every_version_and_state_filter(groups_setup):
    b, rc, t, members = groups_setup
    maxv = rc.versions()[kproto.LIST_GROUPS][1]
    assert maxv >= 4
    for v in range(0, maxv + 1):
        res = kproto.list_groups(rc, version=v)
        assert res["error_code"] == 0
        assert set(res["groups"]) == set(ALL), (v, res)
        for gid, d in res["groups"].items():
            assert d["protocol_type"] == ("" if gid == "g-empty-solo" else "consumer"), (v, gid, d)
            if v >= 4:
                assert d["group_state"] == ALL[gid], (v, gid, d)
            if v >= 5:
                assert d["group_type"] == "classic", (v, gid, d)
    for v in range(4, maxv + 1):
        def ids(states):
            return set(kproto.list_groups(rc, states=states, version=v)["groups"])
        assert ids(["Stable"]) == {"g-stable"}, v
        assert ids(["Empty"]) == {"g-empty-solo", "g-empty-left"}, v
        assert ids(["PreparingRebalance", "CompletingRebalance"]) == \
            {"g-preparing", "g-completing"}, v
        assert ids(["stable", "EMPTY"]) == {"g-stable", "g-empty-solo", "g-empty-left"}, \
            "state names are case-insensitive"
        assert ids(["Dead"]) == set(), v
        assert ids([]) == set(ALL), "an empty filter lists everything"
    if maxv >= 5:
        assert set(kproto.list_groups(rc, types=["classic"], version=5)["groups"]) == set(ALL)
        assert kproto.list_groups(rc, types=["consumer"], version=5)["groups"] == {}

    # the clients' views
    kp = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=15000)
    try:
        assert sorted(kp.list_consumer_groups()) == sorted(
            (g, "" if g == "g-empty-solo" else "consumer") for g in ALL)
    finally:
        kp.close()
    md = {g.id: g for g in admin(b.bootstrap).list_groups(timeout=10)}
    assert {g: m.state for g, m in md.items()} == ALL
    st = md["g-stable"]
    assert (st.protocol_type, st.protocol) == ("consumer", "range")
    assert sorted(m.client_id for m in st.members) == ["adm-a", "adm-b"]


def test_describe_groups(groups_setup):
    b, rc, t, members = groups_setup
    owned = {m.name: m.owned() for m in members}
    names = list(ALL) + ["g-unknown"]
    for v in range(0, rc.versions()[kproto.DESCRIBE_GROUPS][1] + 1):
        res = {d["group_id"]: d for d in kproto.describe_groups(rc, names, version=v)}
        assert set(res) == set(names)
        assert all(d["error_code"] == 0 for d in res.values()), (v, res)
        assert {g: d["group_state"] for g, d in res.items()} == {**ALL, "g-unknown": "Dead"}
        assert res["g-unknown"]["members"] == []

        st = res["g-stable"]
        assert (st["protocol_type"], st["protocol_data"]) == ("consumer", "range"), st
        assert sorted(m["client_id"] for m in st["members"]) == ["adm-a", "adm-b"]
        union = set()
        for m in st["members"]:
            assert m["member_id"].startswith(m["client_id"] + "-"), m
            assert m["client_host"] == "/127.0.0.1", m
            assert m["group_instance_id"] is None
            sub = kproto.parse_consumer_subscription(m["member_metadata"])
            assert sub["topics"] == [t], sub
            got = kproto.parse_consumer_assignment(m["member_assignment"])["assigned"]
            parts = set(got[t])
            assert parts == owned[m["client_id"]], (m["client_id"], parts, owned)
            assert not parts & union
            union |= parts
        assert union == {0, 1, 2, 3}

        for gid in ("g-empty-solo", "g-empty-left"):
            assert res[gid]["members"] == [], (v, res[gid])
        assert res["g-empty-left"]["protocol_type"] == "consumer"
        # not Stable: members listed, metadata and assignment left out
        for gid, clients in (("g-preparing", ["p1", "p2"]), ("g-completing", ["c1", "c2"])):
            d = res[gid]
            assert sorted(m["client_id"] for m in d["members"]) == clients, (v, d)
            assert d["protocol_data"] == "", (v, d)
            assert all(not m["member_assignment"] for m in d["members"]), (v, d)

    kp = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=15000)
    try:
        (info,) = kp.describe_consumer_groups(["g-stable"])
        assert (info.group, info.state, info.protocol_type, info.protocol) == \
            ("g-stable", "Stable", "consumer", "range")
        seen = {}
        for m in info.members:
            assert m.member_metadata.subscription == [t]
            seen[m.client_id] = {p for tp, ps in m.member_assignment.assignment
                                 if tp == t for p in ps}
        assert seen == owned
    finally:
        kp.close()


def test_delete_groups(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    m = Member(bs, "g-del", t, name="del")
    rc = group_conn(b)
    try:
        wait_until(lambda: m.owned() == {0, 1}, 30, desc="member assigned")
        m.c.commit(offsets=[ck.TopicPartition(t, 0, 5), ck.TopicPartition(t, 1, 6)],
                   asynchronous=False)
        assert kproto.offset_commit(rc, "g-del-solo", {(t, 0): 9}) == {(t, 0): 0}
        for v in range(0, rc.versions()[kproto.DELETE_GROUPS][1] + 1):
            assert kproto.delete_groups(rc, ["g-del", "g-del-unknown"], version=v) == \
                {"g-del": NON_EMPTY_GROUP, "g-del-unknown": GROUP_ID_NOT_FOUND}, v
        # refused deletes changed nothing
        assert state_of(rc, "g-del") == "Stable"
        assert kproto.offset_fetch(rc, "g-del", {t: [0, 1]})["offsets"][(t, 1)][0] == 6
        assert m.owned() == {0, 1} and m.counts() == (1, 0)
    finally:
        m.close()
    wait_until(lambda: state_of(rc, "g-del") == "Empty", 10, desc="g-del empty")
    assert kproto.delete_groups(rc, ["g-del", "g-del-solo", "g-del-unknown"]) == \
        {"g-del": 0, "g-del-solo": 0, "g-del-unknown": GROUP_ID_NOT_FOUND}
    b.wait_for_log(r"group g-del deleted", 5)

    def gone(when):
        for g in ("g-del", "g-del-solo"):
            f = kproto.offset_fetch(rc, g, {t: [0, 1]})
            assert {k: o[0] for k, o in f["offsets"].items()} == {(t, 0): -1, (t, 1): -1}, \
                (g, when, f)
            assert kproto.offset_fetch(rc, g, None)["offsets"] == {}, (g, when)
            st = state_of(rc, g)
            assert st == "Dead", f"deleted group {g} {when}: DescribeGroups state {st}"
        listed = set(kproto.list_groups(rc)["groups"])
        assert not {"g-del", "g-del-solo"} & listed, f"deleted groups listed {when}: {listed}"
        assert kproto.delete_groups(rc, ["g-del"]) == {"g-del": GROUP_ID_NOT_FOUND}, when

    gone("before a restart")
    rc.close()
    b.restart()        # the tombstones are durable: nothing comes back
    rc = group_conn(b)
    gone("after a restart")
    # the id can be used again from scratch
    assert kproto.offset_commit(rc, "g-del", {(t, 1): 1}) == {(t, 1): 0}
    assert kproto.offset_fetch(rc, "g-del", None)["offsets"] == {(t, 1): (1, -1, "", 0)}
    rc.close()


def test_delete_groups_through_clients(broker_factory, request):
    """kafka-python's delete_consumer_groups and list_consumer_group_offsets."""
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    with group_conn(b) as rc:
        for g in ("g-kp-del-1", "g-kp-del-2"):
            assert kproto.offset_commit(rc, g, {(t, 0): 4, (t, 1): 8}) == {(t, 0): 0, (t, 1): 0}
    kp = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=15000)
    try:
        offs = kp.list_consumer_group_offsets("g-kp-del-1")
        assert {tp.partition: om.offset for tp, om in offs.items() if tp.topic == t} == {0: 4, 1: 8}
        res = dict(kp.delete_consumer_groups(["g-kp-del-1", "g-kp-del-2"]))
        assert {g: e.__name__ for g, e in res.items()} == \
            {"g-kp-del-1": "NoError", "g-kp-del-2": "NoError"}
        assert kp.list_consumer_group_offsets("g-kp-del-1") == {}
        assert "g-kp-del-2" not in {g for g, _ in kp.list_consumer_groups()}
    finally:
        kp.close()


def test_offset_delete(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs = b.bootstrap
    t1, t2 = unique_topic(request, "-sub"), unique_topic(request, "-other")
    create_topic(bs, t1, 2)
    create_topic(bs, t2, 2)
    rc = group_conn(b)
    m = Member(bs, "g-odel", t1, name="odel")
    try:
        wait_until(lambda: m.owned() == {0, 1}, 30, desc="member assigned")
        m.c.commit(offsets=[ck.TopicPartition(t1, 0, 10), ck.TopicPartition(t1, 1, 11),
                            ck.TopicPartition(t2, 0, 20), ck.TopicPartition(t2, 1, 21)],
                   asynchronous=False)
        # t1 is subscribed: refused per partition; t2 is not: deleted
        res = kproto.offset_delete(rc, "g-odel", {t1: [0, 1], t2: [0]})
        assert res == {"error_code": 0, "partitions": {
            (t1, 0): GROUP_SUBSCRIBED_TO_TOPIC, (t1, 1): GROUP_SUBSCRIBED_TO_TOPIC,
            (t2, 0): 0}}, res
        f = kproto.offset_fetch(rc, "g-odel", None)["offsets"]
        assert {k: o[0] for k, o in f.items()} == {(t1, 0): 10, (t1, 1): 11, (t2, 1): 21}, f
        assert state_of(rc, "g-odel") == "Stable" and m.counts() == (1, 0)
    finally:
        m.close()
    wait_until(lambda: state_of(rc, "g-odel") == "Empty", 10, desc="g-odel empty")
    res = kproto.offset_delete(rc, "g-odel", {t1: [0], t2: [0]})    # t2-0 already gone: fine
    assert res == {"error_code": 0, "partitions": {(t1, 0): 0, (t2, 0): 0}}, res
    assert kproto.offset_delete(rc, "g-odel-unknown", {t1: [0]})["error_code"] == GROUP_ID_NOT_FOUND
    expect = {(t1, 1): 11, (t2, 1): 21}
    f = kproto.offset_fetch(rc, "g-odel", None)["offsets"]
    assert {k: o[0] for k, o in f.items()} == expect, f
    rc.close()
    b.restart()
    with group_conn(b) as rc:
        f = kproto.offset_fetch(rc, "g-odel", None)["offsets"]
        assert {k: o[0] for k, o in f.items()} == expect, f


def test_offset_fetch_multi_group_and_all_topics(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs = b.bootstrap
    t1, t2 = unique_topic(request, "-1"), unique_topic(request, "-2")
    create_topic(bs, t1, 4)
    create_topic(bs, t2, 1)
    with group_conn(b) as rc:
        assert kproto.offset_commit(rc, "g-of-a", {(t1, 0): 1, (t1, 1): (2, "two"), (t2, 0): 3}) \
            == {(t1, 0): 0, (t1, 1): 0, (t2, 0): 0}
        assert kproto.offset_commit(rc, "g-of-b", {(t1, 2): (7, "seven", 0)}, version=8) == \
            {(t1, 2): 0}
        a_all = {(t1, 0): (1, -1, "", 0), (t1, 1): (2, -1, "two", 0), (t2, 0): (3, -1, "", 0)}
        # null topics = every committed partition, v2..v7
        for v in range(2, 8):
            f = kproto.offset_fetch(rc, "g-of-a", None, version=v)
            assert f["error_code"] == 0, (v, f)
            exp = {k: (o[0], o[1] if v >= 5 else -1, o[2], o[3]) for k, o in a_all.items()}
            assert f["offsets"] == exp, (v, f)
            assert kproto.offset_fetch(rc, "g-of-none", None, version=v)["offsets"] == {}, v
        # explicit partitions, including uncommitted ones, v1..v7
        for v in range(1, 8):
            f = kproto.offset_fetch(rc, "g-of-b", {t1: [2, 3]}, version=v)["offsets"]
            epoch = 0 if v >= 5 else -1
            assert f == {(t1, 2): (7, epoch, "seven", 0), (t1, 3): (-1, -1, "", 0)}, (v, f)
        # the multi-group form, v8+
        maxv = rc.versions()[kproto.OFFSET_FETCH][1]
        assert maxv >= 8
        for v in range(8, maxv + 1):
            res = kproto.offset_fetch_groups(rc, {"g-of-a": None, "g-of-b": {t1: [2, 3]},
                                                  "g-of-none": None,
                                                  "g-of-none2": {t2: [0]}}, version=v)
            assert set(res) == {"g-of-a", "g-of-b", "g-of-none", "g-of-none2"}
            assert all(r["error_code"] == 0 for r in res.values()), (v, res)
            assert res["g-of-a"]["offsets"] == a_all, (v, res)
            assert res["g-of-b"]["offsets"] == {(t1, 2): (7, 0, "seven", 0),
                                                (t1, 3): (-1, -1, "", 0)}, (v, res)
            assert res["g-of-none"]["offsets"] == {}, (v, res)
            assert res["g-of-none2"]["offsets"] == {(t2, 0): (-1, -1, "", 0)}, (v, res)
    # confluent-kafka (OffsetFetch v7) agrees
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g-of-a"})
    try:
        got = c.committed([ck.TopicPartition(t1, p) for p in range(4)] + [ck.TopicPartition(t2, 0)],
                          timeout=10)
        assert [(tp.topic, tp.partition, tp.offset) for tp in got] == [
            (t1, 0, 1), (t1, 1, 2), (t1, 2, ck.OFFSET_INVALID), (t1, 3, ck.OFFSET_INVALID),
            (t2, 0, 3)]
    finally:
        c.close()
