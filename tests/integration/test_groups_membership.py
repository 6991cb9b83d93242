"""Consumer groups, membership: three members share a 6-partition topic
(confluent-kafka and kafka-python), a member killed with SIGKILL is evicted
after its session timeout (dynamic and static members), a graceful close
rebalances at once, a static member (group.instance.id) restarting within
its session causes no rebalance, librdkafka's cooperative-sticky assignor
moves partitions incrementally with every message consumed exactly once,
the rebalance protocol step by step with raw clients (REBALANCE_IN_PROGRESS,
parked joins and syncs, the rebalance timeout dropping a silent member), and
group.initial.rebalance.delay.ms gathering the first members into one
generation.

Brokers run with group.initial.rebalance.delay.ms=0 (unless the test is
about it) and group.min.session.timeout.ms=1000. Timing assertions are
correctness bounds (an eviction must not come before the session timeout, a
graceful leave must not wait for it), never speed targets.
"""

import threading
import time

import kproto
from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from conftest import create_topic, produce_all, producer, raw_conn, unique_topic, wait_until
from test_groups_common import (GROUP_BROKER, ChildMember, Member, RawMember, assert_exactly_once,
                                balanced, group_conn, log_count, seq_messages, seq_of,
                                total_received, wait_for)


def describe_assignments(broker, group, topic):
    """The broker's view: {member client id: set(partitions)} and the state."""
    with raw_conn(broker) as c:
        (g,) = kproto.describe_groups(c, [group])
    assert g["error_code"] == 0, g
    out = {}
    for m in g["members"]:
        a = kproto.parse_consumer_assignment(m["member_assignment"])["assigned"]
        assert set(a) <= {topic}, a
        out[m["client_id"]] = set(a.get(topic, []))
    return g["group_state"], out


def close_all(members):
    for m in members:
        try:
            m.close()
        except AssertionError:
            pass


# --- 1. three members, every message exactly once -------------------------------------
def test_three_confluent_members_share_partitions(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-three-ck"
    create_topic(bs, t, 6)
    members = [Member(bs, g, t, name=f"ck{i}") for i in range(3)]
    try:
        wait_until(lambda: balanced(members, 6), 30, desc="3 members owning all 6 partitions")
        counts = [m.counts() for m in members]
        # the broker's view agrees: Stable, every member 2 partitions, disjoint, complete
        state, by_client = wait_until(
            lambda: (lambda s: s if s[0] == "Stable" else None)(describe_assignments(b, g, t)),
            10, desc="Stable group")
        assert by_client == {m.name: m.owned() for m in members}
        assert sorted(len(p) for p in by_client.values()) == [2, 2, 2]

        msgs, expected = seq_messages(0, 3000, list(range(6)))
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: total_received(members, expected) >= len(expected), 60,
                   desc="all 3000 messages consumed")
        assert_exactly_once(members, expected)
        for m in members:
            got_from = {p for p, _, _ in m.received}
            assert got_from <= m.owned(), f"{m.name} read partitions {got_from}, owns {m.owned()}"
            assert not m.errors, m.errors
        # no rebalance happened while consuming
        assert [m.counts() for m in members] == counts
    finally:
        close_all(members)


class KPMember:
    """A kafka-python (2.0.2, JoinGroup v2) group member on its own thread."""

    def __init__(self, bs, group, topic, name):
        self.name = name
        self.lock = threading.Lock()
        self.assignment = set()
        self.received = []
        self.revokes = 0
        self.assigns = 0
        self.stop_flag = threading.Event()
        self.c = KafkaConsumer(bootstrap_servers=bs, group_id=group, client_id=name,
                               enable_auto_commit=False, auto_offset_reset="earliest",
                               session_timeout_ms=6000, heartbeat_interval_ms=300,
                               fetch_max_wait_ms=100, request_timeout_ms=30000)
        me = self

        class L(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked):
                with me.lock:
                    me.assignment = set()
                    me.revokes += 1

            def on_partitions_assigned(self, assigned):
                with me.lock:
                    me.assignment = {tp.partition for tp in assigned}
                    me.assigns += 1

        self.c.subscribe([topic], listener=L())
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            while not self.stop_flag.is_set():
                for tp, recs in self.c.poll(timeout_ms=100).items():
                    with self.lock:
                        self.received += [(tp.partition, r.offset, seq_of(r.value)) for r in recs]
        finally:
            self.c.close()

    def owned(self):
        with self.lock:
            return set(self.assignment)

    def seqs(self):
        with self.lock:
            return [s for _, _, s in self.received]

    def counts(self):
        with self.lock:
            return self.assigns, self.revokes

    def close(self):
        self.stop_flag.set()
        self.t.join(30)


def test_three_kafka_python_members_share_partitions(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-three-kp"
    create_topic(bs, t, 6)
    members = [KPMember(bs, g, t, f"kp{i}") for i in range(3)]
    try:
        wait_until(lambda: balanced(members, 6), 30, desc="3 kafka-python members own 6 partitions")
        counts = [m.counts() for m in members]
        state, by_client = describe_assignments(b, g, t)
        assert state == "Stable"
        assert by_client == {m.name: m.owned() for m in members}
        msgs, expected = seq_messages(0, 1500, list(range(6)))
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: total_received(members, expected) >= len(expected), 60,
                   desc="all 1500 messages consumed by kafka-python members")
        assert_exactly_once(members, expected)
        for m in members:
            assert {p for p, _, _ in m.received} <= m.owned()
        assert [m.counts() for m in members] == counts
    finally:
        close_all(members)


# --- 2. kill -9: evicted after the session timeout ------------------------------------
def test_killed_member_evicted_after_session_timeout(broker_factory, request):
    SESSION_MS, HEARTBEAT_MS = 3000, 300
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-evict"
    create_topic(bs, t, 6)
    child = ChildMember(bs, g, t, "doomed", session_timeout_ms=SESSION_MS,
                        heartbeat_ms=HEARTBEAT_MS)
    survivor = None
    try:
        wait_for(lambda: child.owned() == set(range(6)), 30, child.diag)
        survivor = Member(bs, g, t, name="survivor", **{"session.timeout.ms": 10000})
        wait_for(lambda: balanced([child, survivor], 6), 30,
                 lambda: f"2 members balanced: {child.diag()} survivor {survivor.owned()}")
        doomed_parts = child.owned()
        # both really consume
        msgs, expected = seq_messages(0, 600, list(range(6)))
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: len(set(child.seqs()) | set(survivor.seqs())) >= 600, 30,
                   desc="first 600 messages consumed by the two members")
        assert {expected[s] for s in child.seqs()} == doomed_parts

        mark = len(b.log_text())
        t_kill = time.monotonic()
        child.kill9()
        wait_until(lambda: survivor.owned() == set(range(6)), SESSION_MS / 1000 + 20,
                   desc="survivor owning all partitions after the eviction")
        took = time.monotonic() - t_kill
        # not before the session timeout (minus the last heartbeat's age and slack)
        assert took >= (SESSION_MS - HEARTBEAT_MS - 700) / 1000, \
            f"partitions moved {took:.2f}s after the kill, session timeout is {SESSION_MS} ms"
        b.wait_for_log(r"member doomed-\S+ left \(session timeout 3000 ms\)", 5, since=mark)

        # messages produced now to the dead member's partitions reach the survivor
        msgs2, expected2 = seq_messages(10000, 600, sorted(doomed_parts))
        produce_all(producer(bs), t, msgs2)
        wait_until(lambda: set(expected2) <= set(survivor.seqs()), 30,
                   desc="survivor receiving the dead member's partitions")
        assert not survivor.errors, survivor.errors
    finally:
        child.stop()
        if survivor:
            survivor.close()


# --- 3. graceful leave: rebalance at once ---------------------------------------------
def test_graceful_close_rebalances_before_session_timeout(broker_factory, request):
    SESSION_MS = 30000
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-leave"
    create_topic(bs, t, 6)
    conf = {"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500}
    stay = Member(bs, g, t, name="stay", **conf)
    go = Member(bs, g, t, name="go", **conf)
    try:
        wait_until(lambda: balanced([stay, go], 6), 30, desc="2 members balanced")
        mark = len(b.log_text())
        t0 = time.monotonic()
        go.close()
        wait_until(lambda: stay.owned() == set(range(6)), 10,
                   desc="survivor owning all partitions within 10 s of a graceful close "
                        f"(session timeout {SESSION_MS} ms)")
        took = time.monotonic() - t0
        assert took < 10, took
        log = b.log_text()[mark:]
        assert "member go-" in log and " left" in log, log
        assert "session timeout" not in log, log
        msgs, expected = seq_messages(0, 600, list(range(6)))
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: set(expected) <= set(stay.seqs()), 30, desc="survivor reads everything")
    finally:
        close_all([stay, go])


# --- 6. static member restarts within its session: no rebalance -------------------------
def test_static_member_restart_causes_no_rebalance(broker_factory, request):
    SESSION_MS = 15000
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-static"
    create_topic(bs, t, 6)
    s1 = ChildMember(bs, g, t, "static-a", instance_id="inst-a", session_timeout_ms=SESSION_MS)
    s2 = other = None
    try:
        wait_for(lambda: s1.owned() == set(range(6)), 30, s1.diag)
        # s1 joined first: it is the group leader
        other = Member(bs, g, t, name="other", **{"session.timeout.ms": SESSION_MS})
        wait_for(lambda: balanced([s1, other], 6), 30,
                 lambda: f"balanced: {s1.diag()} other {other.owned()}")
        old_parts = s1.owned()
        before = other.counts()
        rebalances = log_count(b, r"preparing to rebalance")
        mark = len(b.log_text())

        s1.kill9()
        s2 = ChildMember(bs, g, t, "static-a2", instance_id="inst-a", session_timeout_ms=SESSION_MS)
        wait_for(lambda: s2.owned(), 30, s2.diag)
        assert s2.owned() == old_parts, f"restarted static member got {s2.owned()}, had {old_parts}"
        b.wait_for_log(r"static member inst-a rejoined as", 5, since=mark)

        # both keep consuming their partitions; nothing was revoked or reassigned
        msgs, expected = seq_messages(0, 600, list(range(6)))
        produce_all(producer(bs), t, msgs)
        mine = {s for s, p in expected.items() if p in old_parts}
        theirs = set(expected) - mine
        wait_until(lambda: mine <= set(s2.seqs()) and theirs <= set(other.seqs()), 30,
                   desc="both members reading their own partitions after the restart")
        assert not (set(other.seqs()) & mine)
        assert other.counts() == before, \
            f"the other member saw assign/revoke callbacks: {other.events}"
        assert other.owned() == set(range(6)) - old_parts
        assert log_count(b, r"preparing to rebalance") == rebalances, b.log_text()[mark:]
        assert [e[1] for e in s2.events] == ["assign"], s2.events
    finally:
        for c in (s1, s2):
            if c:
                c.stop()
        if other:
            other.close()


# --- 7. cooperative-sticky (incremental rebalancing) ---------------------------------------
def test_cooperative_sticky_incremental_exactly_once(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-coop"
    create_topic(bs, t, 6)
    p = producer(bs)
    sent = {}
    members = []

    def add_member(i):
        m = Member(bs, g, t, name=f"coop{i}", cooperative=True, commit_on_revoke=True)
        members.append(m)
        return m

    def produce_batch(first):
        msgs, exp = seq_messages(first, 900, list(range(6)))
        produce_all(p, t, msgs)
        sent.update(exp)

    try:
        m0 = add_member(0)
        produce_batch(0)
        wait_until(lambda: m0.owned() == set(range(6)), 30, desc="first member owns everything")
        wait_until(lambda: total_received(members, sent) > 0, 30, desc="first messages")
        add_member(1)
        produce_batch(1000)
        wait_until(lambda: balanced(members, 6), 30, desc="2 cooperative members balanced")
        add_member(2)
        produce_batch(2000)
        wait_until(lambda: balanced(members, 6), 30, desc="3 cooperative members balanced")
        produce_batch(3000)
        wait_for(lambda: total_received(members, sent) >= len(sent), 60,
                 lambda: f"all {len(sent)} messages: got {total_received(members, sent)}")
        assert_exactly_once(members, sent)
        for m in members:
            assert not m.errors, (m.name, m.errors)

        # incremental: callbacks carry only the partitions that move. The
        # first member got all 6 at once and later gave up only what moved;
        # a partition a member still owns at the end was assigned to it once
        # and never revoked (eager rebalancing revokes everything each time).
        ev0 = [(kind, ps) for _, kind, ps in m0.events if ps]
        assert ev0[0] == ("assign", list(range(6))), ev0
        assert all(kind == "revoke" for kind, _ in ev0[1:]), ev0
        for m in members:
            owned = set()
            for _, kind, ps in m.events:
                if kind == "assign":
                    assert not owned & set(ps), (m.name, "assigned twice", m.events)
                    owned |= set(ps)
                else:
                    assert set(ps) <= owned, (m.name, "revoked what it did not own", m.events)
                    assert not ps or set(ps) != owned or not m.owned(), \
                        (m.name, "everything revoked at once", m.events)
                    owned -= set(ps)
            assert owned == m.owned()
            for part in owned:
                assert sum(part in ps for _, kind, ps in m.events if kind == "assign") == 1
                assert not any(part in ps for _, kind, ps in m.events if kind == "revoke")
        assert sorted(len(m.owned()) for m in members) == [2, 2, 2]
        state, by_client = describe_assignments(b, g, t)
        assert state == "Stable"
        assert by_client == {m.name: m.owned() for m in members}
    finally:
        close_all(members)


# --- the rebalance protocol step by step (raw clients) -------------------------------------
def test_raw_rebalance_protocol_and_rebalance_timeout(broker_factory, request):
    """A second member's join parks until the first rejoins (the first learns
    of the rebalance from REBALANCE_IN_PROGRESS on its heartbeat); the leader
    stays the leader and its SyncGroup hands each follower its assignment.
    Then a member that does not rejoin within the rebalance timeout is
    dropped from the next generation."""
    REBALANCE_MS = 2000
    b = broker_factory(GROUP_BROKER)
    t, g = unique_topic(request), "g-raw"
    create_topic(b.bootstrap, t, 4)
    a = RawMember(b, g, t, nparts=4, client_id="a", rebalance_ms=REBALANCE_MS)
    assert a.join_and_sync() == {t: [0, 1, 2, 3]}
    assert a.generation == 1

    bm = RawMember(b, g, t, client_id="b", rebalance_ms=REBALANCE_MS)
    r = bm.send_join()
    assert r["error_code"] == kproto.MEMBER_ID_REQUIRED
    bm.member_id = r["member_id"]
    jb = bm.send_join(wait=False)             # parked until a rejoins
    wait_until(lambda: a.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10,
               desc="REBALANCE_IN_PROGRESS on the first member's heartbeat")
    with group_conn(b) as rc:
        assert kproto.describe_groups(rc, [g])[0]["group_state"] == "PreparingRebalance"
        ra = a.join()
        rb = bm.joined(kproto.recv_join_group(bm.conn, *jb))
        assert ra["generation_id"] == rb["generation_id"] == 2
        assert ra["leader"] == rb["leader"] == a.member_id, "the leader rejoined: it stays leader"
        assert sorted(m["member_id"] for m in ra["members"]) == sorted([a.member_id, bm.member_id])
        assert all(kproto.parse_consumer_subscription(m["metadata"])["topics"] == [t]
                   for m in ra["members"])
        assert rb["members"] == [], "followers get no member list"
        assert kproto.describe_groups(rc, [g])[0]["group_state"] == "CompletingRebalance"
        # the follower's SyncGroup waits for the leader's
        sb = bm.send_sync()
        assert a.sync({a.member_id: [0, 1], bm.member_id: [2, 3]}) == {t: [0, 1]}
        assert bm.synced(kproto.recv_sync_group(bm.conn, *sb)) == {t: [2, 3]}
        (d,) = kproto.describe_groups(rc, [g])
        assert d["group_state"] == "Stable" and d["protocol_data"] == "range"
        assert {m["client_id"]: kproto.parse_consumer_assignment(m["member_assignment"])["assigned"]
                for m in d["members"]} == {"a": {t: [0, 1]}, "b": {t: [2, 3]}}
        # commits need the current generation
        assert kproto.offset_commit(rc, g, {(t, 0): 1}, generation_id=1, member_id=a.member_id) \
            == {(t, 0): kproto.ILLEGAL_GENERATION}
        assert kproto.offset_commit(rc, g, {(t, 0): 1}, generation_id=2, member_id=a.member_id) \
            == {(t, 0): 0}

        # rebalance timeout: c joins, a rejoins, b stays silent (its session
        # of 30 s has not expired) and is dropped when the timeout ends
        c = RawMember(b, g, t, client_id="c", rebalance_ms=REBALANCE_MS)
        r = c.send_join()
        c.member_id = r["member_id"]
        t0 = time.monotonic()
        jc = c.send_join(wait=False)
        wait_until(lambda: a.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10,
                   desc="rebalance seen by a")
        ra = a.join()
        took = time.monotonic() - t0
        rc_ = c.joined(kproto.recv_join_group(c.conn, *jc))
        assert ra["generation_id"] == rc_["generation_id"] == 3
        assert sorted(m["member_id"] for m in ra["members"]) == sorted([a.member_id, c.member_id])
        assert took >= (REBALANCE_MS - 300) / 1000, f"b dropped after {took:.2f}s only"
        assert took < REBALANCE_MS / 1000 + 10, took
        b.wait_for_log(rf"member {bm.member_id} did not rejoin in time", 5)
        assert bm.heartbeat() == kproto.UNKNOWN_MEMBER_ID
        sc = c.send_sync()
        a.sync({a.member_id: [0, 1, 2], c.member_id: [3]})
        assert c.synced(kproto.recv_sync_group(c.conn, *sc)) == {t: [3]}
        assert a.heartbeat() == c.heartbeat() == 0
        # LeaveGroup v3+ removes several members at once; the group ends Empty
        lv = kproto.leave_group(rc, g, [(a.member_id, None), (c.member_id, None)])
        assert lv["error_code"] == 0 and [m[2] for m in lv["members"]] == [0, 0], lv
        (d,) = kproto.describe_groups(rc, [g])
        assert (d["group_state"], d["members"]) == ("Empty", []), d
    for m in (a, bm, c):
        m.close()


def test_killed_static_member_evicted_after_its_session_timeout(broker_factory, request):
    """A static member that does not come back is removed when its session
    expires (no LeaveGroup is ever sent for static members); the other
    member then owns every partition."""
    SESSION_MS = 3000
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-static-gone"
    create_topic(bs, t, 4)
    s1 = ChildMember(bs, g, t, "static-gone", instance_id="inst-gone", session_timeout_ms=SESSION_MS)
    other = None
    try:
        wait_for(lambda: s1.owned() == {0, 1, 2, 3}, 30, s1.diag)
        other = Member(bs, g, t, name="other", **{"session.timeout.ms": 10000})
        wait_for(lambda: balanced([s1, other], 4), 30,
                 lambda: f"balanced: {s1.diag()} other {other.owned()}")
        mark = len(b.log_text())
        t_kill = time.monotonic()
        s1.kill9()
        wait_until(lambda: other.owned() == {0, 1, 2, 3}, SESSION_MS / 1000 + 20,
                   desc="the other member owning everything")
        took = time.monotonic() - t_kill
        assert took >= (SESSION_MS - 300 - 700) / 1000, took
        b.wait_for_log(r"member inst-gone-\S+ left \(session timeout 3000 ms\)", 5, since=mark)
        with group_conn(b) as rc:
            (d,) = kproto.describe_groups(rc, [g])
        assert [(m["client_id"], m["group_instance_id"]) for m in d["members"]] == \
            [("other", None)], d
    finally:
        s1.stop()
        if other:
            other.close()


def test_initial_rebalance_delay_gathers_members(broker_factory, request):
    """group.initial.rebalance.delay.ms: the first rebalance of an empty group
    waits for more members, so three members joining within the delay end
    up in one generation (1) instead of three successive ones."""
    DELAY_MS = 1500
    b = broker_factory({**GROUP_BROKER, "group.initial.rebalance.delay.ms": DELAY_MS})
    t, g = unique_topic(request), "g-delay"
    create_topic(b.bootstrap, t, 3)
    ms = [RawMember(b, g, t, client_id=f"d{i}") for i in range(3)]
    for m in ms:                                   # KIP-394 ids (answered at once)
        r = m.send_join()
        assert r["error_code"] == kproto.MEMBER_ID_REQUIRED
        m.member_id = r["member_id"]
    t0 = time.monotonic()
    pend = [m.send_join(wait=False) for m in ms]
    res = [m.joined(kproto.recv_join_group(m.conn, *p, timeout=30)) for m, p in zip(ms, pend)]
    took = time.monotonic() - t0
    assert [r["generation_id"] for r in res] == [1, 1, 1], res
    leader = [r for r in res if r["leader"] == r["member_id"]]
    assert len(leader) == 1 and len(leader[0]["members"]) == 3
    assert took >= (DELAY_MS - 100) / 1000, f"first rebalance completed after {took:.2f}s"
    assert took < DELAY_MS / 1000 * 2 + 10, took
    assert log_count(b, r"group g-delay: generation \d+") == 1
    for m in ms:
        m.close()
