"""Consumer groups, bad input: each wrong request gets Kafka's error code and
leaves the group as it was (its members keep heartbeating, the state and
membership are unchanged, no rebalance starts).

Raw protocol (kproto) for exact codes across versions: unknown group /
member -> UNKNOWN_MEMBER_ID, wrong generation -> ILLEGAL_GENERATION, empty
group id -> INVALID_GROUP_ID, session timeout out of bounds ->
INVALID_SESSION_TIMEOUT, member metadata over message.max.bytes ->
MESSAGE_TOO_LARGE (with a real consumer in the group that keeps consuming),
OffsetCommit errors (ILLEGAL_GENERATION, OFFSET_METADATA_TOO_LARGE),
static member fencing -> FENCED_INSTANCE_ID, MEMBER_ID_REQUIRED on a v4+
first join.
"""

import kafka.errors
import pytest
from kafka import KafkaConsumer, OffsetAndMetadata
from kafka import TopicPartition as KTP

import kproto
from kproto import (FENCED_INSTANCE_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
                    INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED,
                    MESSAGE_TOO_LARGE, OFFSET_METADATA_TOO_LARGE, UNKNOWN_MEMBER_ID)

from conftest import create_topic, produce_all, producer, unique_topic, wait_until
from test_groups_common import (GROUP_BROKER, Member, RawMember, group_conn, log_count, seq_messages,
                                wait_for)

MAX_SESSION_MS = 120000
BROKER = {**GROUP_BROKER, "group.max.session.timeout.ms": MAX_SESSION_MS,
          "socket.request.max.bytes": 16 << 20}


@pytest.fixture
def gb(broker_factory):
    return broker_factory(BROKER)


def assert_intact(rc, m, members=1, state="Stable"):
    """The member still heartbeats fine and the group looks as before."""
    assert m.heartbeat() == 0
    (d,) = kproto.describe_groups(rc, [m.group])
    assert d["error_code"] == 0 and d["group_state"] == state, d
    assert len(d["members"]) == members, d
    assert m.member_id in {x["member_id"] for x in d["members"]}, d


# --- MEMBER_ID_REQUIRED (KIP-394) -------------------------------------------------------
def test_member_id_required_on_v4_plus_first_join(gb, request):
    t = unique_topic(request)
    create_topic(gb.bootstrap, t, 1)
    sub = [("range", kproto.consumer_subscription([t]))]
    with group_conn(gb) as rc:
        rc.client_id = "kip394"
        for v in range(0, rc.versions()[kproto.JOIN_GROUP][1] + 1):
            g = f"g-kip394-v{v}"
            r = kproto.join_group(rc, g, protocols=sub, version=v)
            if v >= 4:
                assert r["error_code"] == MEMBER_ID_REQUIRED, (v, r)
                assert r["member_id"].startswith("kip394-") and r["generation_id"] == -1, (v, r)
                assert r["members"] == [], (v, r)
                # the group has no member yet: the id is only reserved
                (d,) = kproto.describe_groups(rc, [g])
                assert d["members"] == [], (v, d)
                mid = r["member_id"]
                r = kproto.join_group(rc, g, member_id=mid, protocols=sub, version=v)
                assert r["error_code"] == 0 and r["member_id"] == mid, (v, r)
            else:
                assert r["error_code"] == 0 and r["member_id"].startswith("kip394-"), (v, r)
            assert r["generation_id"] == 1 and r["leader"] == r["member_id"], (v, r)
            assert [m["member_id"] for m in r["members"]] == [r["member_id"]], (v, r)
            assert r["protocol_name"] == "range"
            # a made-up member id is not accepted
            bad = kproto.join_group(rc, g, member_id="kip394-made-up", protocols=sub, version=v)
            assert bad["error_code"] == UNKNOWN_MEMBER_ID, (v, bad)
            (d,) = kproto.describe_groups(rc, [g])
            assert [m["member_id"] for m in d["members"]] == [r["member_id"]], (v, d)
            assert kproto.leave_group(rc, g, [(r["member_id"], None)])["error_code"] == 0


# --- Heartbeat / SyncGroup / LeaveGroup with a bad group, generation or member ----------
def test_heartbeat_sync_leave_errors_leave_group_intact(gb, request):
    t = unique_topic(request)
    create_topic(gb.bootstrap, t, 2)
    m = RawMember(gb, "g-hb", t, nparts=2)
    assert m.join_and_sync() == {t: [0, 1]}
    gen, mid = m.generation, m.member_id
    mark = log_count(gb, "preparing to rebalance")
    with group_conn(gb) as rc:
        hv = rc.versions()[kproto.HEARTBEAT][1]
        sv = rc.versions()[kproto.SYNC_GROUP][1]
        for v in range(0, hv + 1):
            hb = lambda g, gn, mi: kproto.heartbeat(rc, g, gn, mi, version=v)  # noqa: E731
            assert hb("g-no-such-group", gen, mid) == UNKNOWN_MEMBER_ID, v
            assert hb("g-hb", gen + 1, mid) == ILLEGAL_GENERATION, v
            assert hb("g-hb", gen - 1, mid) == ILLEGAL_GENERATION, v
            assert hb("g-hb", gen, "not-a-member") == UNKNOWN_MEMBER_ID, v
            assert hb("g-hb", gen, "") == UNKNOWN_MEMBER_ID, v
            assert hb("g-hb", gen, mid) == 0, v
        for v in range(0, sv + 1):
            def sy(g, gn, mi):
                return kproto.sync_group(rc, g, gn, mi, version=v)["error_code"]
            assert sy("g-no-such-group", gen, mid) == UNKNOWN_MEMBER_ID, v
            assert sy("g-hb", gen + 1, mid) == ILLEGAL_GENERATION, v
            assert sy("g-hb", gen, "not-a-member") == UNKNOWN_MEMBER_ID, v
            # the real member's sync in Stable returns its assignment again
            r = kproto.sync_group(rc, "g-hb", gen, mid, version=v)
            assert r["error_code"] == 0, (v, r)
            assert kproto.parse_consumer_assignment(r["assignment"])["assigned"] == {t: [0, 1]}
        for v in range(0, rc.versions()[kproto.LEAVE_GROUP][1] + 1):
            r = kproto.leave_group(rc, "g-hb", [("not-a-member", None)], version=v)
            if v >= 3:
                assert r["error_code"] == 0 and r["members"] == [
                    ("not-a-member", None, UNKNOWN_MEMBER_ID)], (v, r)
                r = kproto.leave_group(rc, "g-no-such-group", [(mid, None)], version=v)
                assert r["members"][0][2] == UNKNOWN_MEMBER_ID, (v, r)
            else:
                assert r["error_code"] == UNKNOWN_MEMBER_ID, (v, r)
        assert_intact(rc, m)
    assert log_count(gb, "preparing to rebalance") == mark, "a bad request started a rebalance"
    m.close()


# --- JoinGroup validation ---------------------------------------------------------------------
def test_join_validation_errors(gb, request):
    t = unique_topic(request)
    create_topic(gb.bootstrap, t, 1)
    m = RawMember(gb, "g-join", t)
    m.join_and_sync()
    sub = [("range", kproto.consumer_subscription([t]))]
    mark = log_count(gb, "preparing to rebalance")
    with group_conn(gb) as rc:
        for v in range(0, rc.versions()[kproto.JOIN_GROUP][1] + 1):
            def jg(g, **kw):
                kw.setdefault("protocols", sub)
                return kproto.join_group(rc, g, version=v, **kw)["error_code"]
            assert jg("") == INVALID_GROUP_ID, v
            # bounds: group.min.session.timeout.ms=1000, max 120000
            assert jg("g-join", session_timeout_ms=999) == INVALID_SESSION_TIMEOUT, v
            assert jg("g-join", session_timeout_ms=MAX_SESSION_MS + 1) == INVALID_SESSION_TIMEOUT, v
            assert jg("g-join", member_id=m.member_id, session_timeout_ms=0) == \
                INVALID_SESSION_TIMEOUT, v
            # a protocol the group's members do not speak
            assert jg("g-join", protocols=[("roundrobin", b"")]) == INCONSISTENT_GROUP_PROTOCOL, v
            assert jg("g-join", protocol_type="connect") == INCONSISTENT_GROUP_PROTOCOL, v
            assert jg("g-join", protocols=[]) == INCONSISTENT_GROUP_PROTOCOL, v
        # the edges of the bounds are accepted (a fresh group each)
        for i, st in enumerate((1000, MAX_SESSION_MS)):
            r = RawMember(gb, f"g-join-edge{i}", t, session_ms=st)
            r.join_and_sync()
            r.close()
        # empty group id in the other group APIs
        assert kproto.sync_group(rc, "", 1, m.member_id)["error_code"] in (
            INVALID_GROUP_ID, UNKNOWN_MEMBER_ID)
        assert kproto.offset_commit(rc, "", {(t, 0): 1}) == {(t, 0): INVALID_GROUP_ID}
        assert_intact(rc, m)
    assert log_count(gb, "preparing to rebalance") == mark + 2   # the two edge groups only
    m.close()


# --- oversized member metadata ---------------------------------------------------------------
def test_oversized_member_metadata_refused_consumer_undisturbed(gb, request):
    bs, t, g = gb.bootstrap, unique_topic(request), "g-big-meta"
    create_topic(bs, t, 3)
    mem = Member(bs, g, t, name="steady")
    try:
        wait_until(lambda: mem.owned() == {0, 1, 2}, 30, desc="consumer assigned")
        msgs, exp = seq_messages(0, 300, [0, 1, 2])
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: set(exp) <= set(mem.seqs()), 30, desc="first batch consumed")
        counts = mem.counts()
        mark = len(gb.log_text())
        big = kproto.consumer_subscription([t], user_data=b"\xab" * (2 << 20))   # 2 MiB
        with group_conn(gb) as rc:
            for v in (1, 3, 5, rc.versions()[kproto.JOIN_GROUP][1]):
                r = kproto.join_group(rc, g, protocols=[("range", big)], version=v,
                                      session_timeout_ms=10000)
                assert r["error_code"] == MESSAGE_TOO_LARGE, (v, r["error_code"])
            (d,) = kproto.describe_groups(rc, [g])
            assert d["group_state"] == "Stable" and [x["client_id"] for x in d["members"]] == \
                ["steady"], d
        gb.wait_for_log(r"JoinGroup from \S+ refused: member metadata of \d+ bytes", 5, since=mark)
        # the consumer keeps consuming, without any rebalance
        msgs, exp2 = seq_messages(1000, 300, [0, 1, 2])
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: set(exp2) <= set(mem.seqs()), 30, desc="second batch consumed")
        assert mem.counts() == counts, mem.events
        assert "preparing to rebalance" not in gb.log_text()[mark:]
        assert not mem.errors, mem.errors
    finally:
        mem.close()
    # metadata well under the limit is fine (another group)
    ok = RawMember(gb, "g-big-meta-ok", t)
    ok.protocols = lambda: [("range", kproto.consumer_subscription([t], user_data=b"x" * 200000))]
    ok.join_and_sync()
    ok.close()


# --- OffsetCommit errors ------------------------------------------------------------------------
def test_offset_commit_errors(gb, request):
    t = unique_topic(request)
    create_topic(gb.bootstrap, t, 3)
    m = RawMember(gb, "g-commit", t, nparts=3)
    m.join_and_sync()
    gen, mid = m.generation, m.member_id
    with group_conn(gb) as rc:
        maxv = rc.versions()[kproto.OFFSET_COMMIT][1]
        for v in range(1, maxv + 1):
            def oc(offs, **kw):
                kw.setdefault("generation_id", gen)
                kw.setdefault("member_id", mid)
                return kproto.offset_commit(rc, "g-commit", offs, version=v, **kw)
            assert oc({(t, 0): 10 + v}) == {(t, 0): 0}, v
            assert oc({(t, 0): 999}, generation_id=gen + 1) == {(t, 0): ILLEGAL_GENERATION}, v
            assert oc({(t, 0): 999}, generation_id=gen - 1) == {(t, 0): ILLEGAL_GENERATION}, v
            assert oc({(t, 0): 999}, member_id="not-a-member") == {(t, 0): UNKNOWN_MEMBER_ID}, v
            # a made-up group with a generation: no such generation
            assert kproto.offset_commit(rc, "g-commit-nogroup", {(t, 0): 1}, generation_id=3,
                                        member_id="x", version=v) == {(t, 0): ILLEGAL_GENERATION}, v
            # offset.metadata.max.bytes=4096: per partition
            res = oc({(t, 1): (50 + v, "m" * 4096), (t, 2): (999, "m" * 4097)})
            assert res == {(t, 1): 0, (t, 2): OFFSET_METADATA_TOO_LARGE}, (v, res)
        f = kproto.offset_fetch(rc, "g-commit", {t: [0, 1, 2]})
        assert {k: (o[0], len(o[2])) for k, o in f["offsets"].items()} == {
            (t, 0): (10 + maxv, 0), (t, 1): (50 + maxv, 4096), (t, 2): (-1, 0)}, f
        assert kproto.offset_fetch(rc, "g-commit-nogroup", {t: [0]})["offsets"][(t, 0)][0] == -1
        assert_intact(rc, m)
    m.close()


def test_offset_metadata_too_large_through_client(gb, request):
    """kafka-python's commit with metadata over the limit fails with
    OffsetMetadataTooLargeError and stores nothing; within it, it is kept."""
    bs, t = gb.bootstrap, unique_topic(request)
    create_topic(bs, t, 2)
    kc = KafkaConsumer(bootstrap_servers=bs, group_id="g-meta-kp", enable_auto_commit=False,
                       request_timeout_ms=30000)
    try:
        kc.assign([KTP(t, 0), KTP(t, 1)])
        with pytest.raises(kafka.errors.OffsetMetadataTooLargeError):
            kc.commit({KTP(t, 0): OffsetAndMetadata(5, "x" * 5000)})
        kc.commit({KTP(t, 1): OffsetAndMetadata(7, "y" * 4096)})
        assert kc.committed(KTP(t, 0)) is None
        assert kc.committed(KTP(t, 1)) == 7
    finally:
        kc.close()
    with group_conn(gb) as rc:
        f = kproto.offset_fetch(rc, "g-meta-kp", None)
        assert f["offsets"] == {(t, 1): (7, -1, "y" * 4096, 0)}, f


# --- static membership fencing (KIP-345) -------------------------------------------------------
def test_static_member_fencing(gb, request):
    t = unique_topic(request)
    create_topic(gb.bootstrap, t, 2)
    old = RawMember(gb, "g-fence", t, nparts=2, instance_id="inst-1", client_id="old")
    old.join_and_sync()
    assert old.heartbeat() == 0
    with group_conn(gb) as rc:
        # right instance, wrong member id
        assert kproto.heartbeat(rc, "g-fence", old.generation, "someone-else",
                                group_instance_id="inst-1") == FENCED_INSTANCE_ID
        # the instance restarts (new connection, no member id): it takes the place
        # over without a rebalance and gets the same assignment
        mark = log_count(gb, "preparing to rebalance")
        new = RawMember(gb, "g-fence", t, nparts=2, instance_id="inst-1", client_id="new")
        r = new.join()
        assert r["member_id"] != old.member_id and r["generation_id"] == old.generation, r
        assert new.sync() == {t: [0, 1]}
        assert log_count(gb, "preparing to rebalance") == mark
        # the old incarnation is fenced everywhere
        assert old.heartbeat() == FENCED_INSTANCE_ID
        assert kproto.sync_group(old.conn, "g-fence", old.generation, old.member_id,
                                 group_instance_id="inst-1")["error_code"] == FENCED_INSTANCE_ID
        assert kproto.offset_commit(old.conn, "g-fence", {(t, 0): 1}, generation_id=old.generation,
                                    member_id=old.member_id, group_instance_id="inst-1") == \
            {(t, 0): FENCED_INSTANCE_ID}
        rj = kproto.join_group(old.conn, "g-fence", member_id=old.member_id,
                               protocols=old.protocols(), group_instance_id="inst-1")
        assert rj["error_code"] == FENCED_INSTANCE_ID, rj
        lv = kproto.leave_group(rc, "g-fence", [(old.member_id, "inst-1")])
        assert lv["members"] == [(old.member_id, "inst-1", FENCED_INSTANCE_ID)], lv
        # without an instance id (Heartbeat v0-2 cannot carry one: aiokafka's
        # static members send v1) the member id alone decides, as in Kafka; an
        # instance id that no member holds is UNKNOWN_MEMBER_ID
        assert kproto.heartbeat(rc, "g-fence", new.generation, new.member_id) == 0
        assert kproto.heartbeat(rc, "g-fence", new.generation, new.member_id, version=1) == 0
        assert kproto.heartbeat(rc, "g-fence", new.generation, new.member_id,
                                group_instance_id="inst-9") == UNKNOWN_MEMBER_ID
        assert kproto.heartbeat(rc, "g-fence", new.generation, old.member_id) == UNKNOWN_MEMBER_ID
        # the new incarnation is untouched
        assert new.heartbeat() == 0
        (d,) = kproto.describe_groups(rc, ["g-fence"])
        assert d["group_state"] == "Stable"
        assert [(x["member_id"], x["group_instance_id"], x["client_id"]) for x in d["members"]] == \
            [(new.member_id, "inst-1", "new")], d
        assert kproto.parse_consumer_assignment(d["members"][0]["member_assignment"])[
            "assigned"] == {t: [0, 1]}
        # leaving by instance id works
        lv = kproto.leave_group(rc, "g-fence", [("", "inst-1")])
        assert lv["members"] == [("", "inst-1", 0)], lv
        wait_for(lambda: kproto.describe_groups(rc, ["g-fence"])[0]["group_state"] == "Empty", 10,
                 "group empty after the static member left")
    old.close()
    new.close()


def test_static_member_fenced_through_librdkafka(gb, request):
    """Two librdkafka consumers with the same group.instance.id: the older
    one is fenced (a fatal FENCED_INSTANCE_ID), the newer one owns the
    partitions."""
    bs, t, g = gb.bootstrap, unique_topic(request), "g-fence-ck"
    create_topic(bs, t, 2)
    conf = {"group.instance.id": "same-instance", "session.timeout.ms": 10000}
    first = Member(bs, g, t, name="first", **conf)
    second = None
    try:
        wait_until(lambda: first.owned() == {0, 1}, 30, desc="first instance assigned")
        second = Member(bs, g, t, name="second", **conf)
        wait_until(lambda: second.owned() == {0, 1}, 30, desc="second instance assigned")
        wait_for(lambda: any("FENCED_INSTANCE_ID" in e or "fenced" in e.lower()
                             for _, e in first.errors), 30,
                 lambda: f"first instance errors: {first.errors}")
        with group_conn(gb) as rc:
            (d,) = kproto.describe_groups(rc, [g])
        assert [(x["client_id"], x["group_instance_id"]) for x in d["members"]] == \
            [("second", "same-instance")], d
    finally:
        first.close()
        if second:
            second.close()


def test_group_max_size(broker_factory, request):
    """group.max.size: a join beyond it gets GROUP_MAX_SIZE_REACHED (81);
    the members keep their places."""
    b = broker_factory({**GROUP_BROKER, "group.max.size": 2})
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 2)
    m1 = RawMember(b, "g-max", t, nparts=2, client_id="m1")
    m1.join_and_sync()
    m2 = RawMember(b, "g-max", t, client_id="m2")
    r = m2.send_join()
    m2.member_id = r["member_id"]                       # a reserved id takes a slot
    with group_conn(b) as rc:
        for v in (3, rc.versions()[kproto.JOIN_GROUP][1]):
            r = kproto.join_group(rc, "g-max", protocols=m1.protocols(), version=v)
            assert r["error_code"] == 81, (v, r)    # GROUP_MAX_SIZE_REACHED
        r = kproto.join_group(rc, "g-max", protocols=m1.protocols(), group_instance_id="s")
        assert r["error_code"] == 81, r
        assert_intact(rc, m1)
    m1.close()
    m2.close()
