"""Consumer groups: the coordinator's invariants of docs/groups.md (G1...),
one or more tests each, named in that page.

The main one (G1, issue 12): members that join an empty group together must
form it even when group.initial.rebalance.delay.ms (extended while members
arrive) runs longer than their session timeout. A member whose JoinGroup or
SyncGroup is parked is kept alive; its session deadline is armed only when
the broker answers it. These brokers keep Kafka's default initial delay of
3 s and members use a 2.5 s session, so before the fix every member was
expired while waiting and the group never formed.
"""

import threading
import time

import confluent_kafka as ck
import pytest
from kafka import KafkaConsumer

import kproto
from conftest import create_topic, produce_all, producer, raw_conn, unique_topic, wait_until
from test_groups_common import (GROUP_BROKER, RawMember, group_conn, log_count, seq_messages,
                                seq_of, wait_for)

# Kafka's default initial delay; sessions shorter than the (extended) delay.
DELAY_MS = 3000
SESSION_MS = 2500
TOGETHER_BROKER = {"group.initial.rebalance.delay.ms": DELAY_MS,
                   "group.min.session.timeout.ms": 1000}


class Joiner:
    """One group member of a client library on its own thread. poll=False: a
    member that subscribes (and, for kafka-python, whose one poll() joins it)
    but never consumes."""

    def __init__(self, lib, bs, group, topic, name, poll=True):
        self.lib, self.name, self.poll = lib, name, poll
        self.lock = threading.Lock()
        self.received = []
        self.assigned = set()
        self.stop_flag = threading.Event()
        self.ready = threading.Event()
        if lib == "confluent":
            self.c = ck.Consumer({"bootstrap.servers": bs, "group.id": group, "client.id": name,
                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                  "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 300,
                                  "fetch.wait.max.ms": 100})
        else:
            self.c = KafkaConsumer(bootstrap_servers=bs, group_id=group, client_id=name,
                                   enable_auto_commit=False, auto_offset_reset="earliest",
                                   session_timeout_ms=SESSION_MS, heartbeat_interval_ms=300,
                                   fetch_max_wait_ms=100, request_timeout_ms=30000)
        self.topic = topic
        self.t = threading.Thread(target=self._run, name=f"joiner-{name}", daemon=True)

    def start(self):
        if self.lib == "confluent":
            self.c.subscribe([self.topic], on_assign=self._on_assign)
        else:
            self.c.subscribe([self.topic])
        self.t.start()
        return self

    def _on_assign(self, c, parts):
        c.assign(parts)
        with self.lock:
            self.assigned = {p.partition for p in parts}

    def _run(self):
        try:
            self.ready.set()
            if not self.poll:
                if self.lib == "kafka-python":
                    self.c.poll(timeout_ms=100)     # joins the group, then never polls again
                self.stop_flag.wait()
                return
            while not self.stop_flag.is_set():
                if self.lib == "confluent":
                    m = self.c.poll(0.1)
                    if m is not None and not m.error():
                        with self.lock:
                            self.received.append((m.partition(), seq_of(m.value())))
                else:
                    for tp, recs in self.c.poll(timeout_ms=100).items():
                        with self.lock:
                            self.received += [(tp.partition, seq_of(r.value)) for r in recs]
                    with self.lock:
                        self.assigned = {tp.partition for tp in self.c.assignment()}
        finally:
            self.c.close()

    def got(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.stop_flag.set()
        self.t.join(30)


def join_together(broker, request, lib, n, idle, nparts=4, per_part=25):
    """n members of `lib` start at once on a new group; `idle` of them never
    poll. Every polling member must receive every message of the partitions
    it was assigned, and between them at least one message."""
    bs, t = broker.bootstrap, unique_topic(request)
    g = f"g-together-{lib}-{n}-{idle}"
    create_topic(bs, t, nparts)
    msgs, expected = seq_messages(0, nparts * per_part, list(range(nparts)))
    produce_all(producer(bs), t, msgs)
    members = [Joiner(lib, bs, g, t, f"{lib[:2]}{i}", poll=i >= idle) for i in range(n)]
    mark = len(broker.log_text())
    try:
        for m in members:
            m.start()
        pollers = [m for m in members if m.poll]

        def all_delivered():
            owned = set().union(*(m.assigned for m in pollers))
            got = {s for m in pollers for p, s in m.got()}
            want = {s for s, p in expected.items() if p in owned}
            return owned and want <= got

        wait_for(all_delivered, 45, lambda: (
            f"polling members never got their partitions' messages: "
            f"{[(m.name, sorted(m.assigned), len(m.got())) for m in pollers]}; "
            f"broker log:\n{broker.log_tail(30)}"))
        # nobody was expired while its join was parked
        assert log_count(broker, rf"group {g}: member \S+ left \(session timeout", mark) == 0, \
            broker.log_tail(40)
    finally:
        for m in members:
            m.close()


# --- G1: simultaneous joins through the clients -----------------------------------------
@pytest.mark.parametrize("n,idle", [(2, 0), (2, 1), (5, 1)])
def test_g1_simultaneous_join_confluent(broker_factory, request, n, idle):
    join_together(broker_factory(TOGETHER_BROKER), request, "confluent", n, idle)


@pytest.mark.parametrize("n,idle", [(2, 1), (5, 1)])
def test_g1_simultaneous_join_kafka_python(broker_factory, request, n, idle):
    join_together(broker_factory(TOGETHER_BROKER), request, "kafka-python", n, idle)


# --- G1, G2: raw protocol, parked joins and syncs outlive the session -----------------
def test_g1_parked_join_and_sync_outlive_the_session(broker_factory, request):
    """Two raw members (session 1 s) join an empty group together: their
    rejoins park through the 3 s initial delay and both are answered with
    generation 1. Then the follower's SyncGroup parks while the leader,
    heartbeating, takes 2 s (twice the session) to send its own: the follower is still a member
    and gets its assignment. G2: once answered, a member that stays silent
    is expired after its session timeout."""
    b = broker_factory(TOGETHER_BROKER)
    t, g = unique_topic(request), "g-parked"
    create_topic(b.bootstrap, t, 2)
    ms = [RawMember(b, g, t, nparts=2, client_id=f"p{i}", session_ms=1000) for i in range(2)]
    for m in ms:
        r = m.send_join()
        assert r["error_code"] == kproto.MEMBER_ID_REQUIRED
        m.member_id = r["member_id"]
    pend = [m.send_join(wait=False) for m in ms]
    res = [m.joined(kproto.recv_join_group(m.conn, *p, timeout=30)) for m, p in zip(ms, pend)]
    assert [r["generation_id"] for r in res] == [1, 1], res
    leader = next(m for m in ms if m.leader)
    follower = next(m for m in ms if not m.leader)
    sf = follower.send_sync()
    for _ in range(5):                   # the leader's session runs: it heartbeats
        time.sleep(0.4)
        assert leader.heartbeat() == 0
    plan = {leader.member_id: [0], follower.member_id: [1]}
    assert leader.sync(plan) == {t: [0]}
    assert follower.synced(kproto.recv_sync_group(follower.conn, *sf)) == {t: [1]}
    assert log_count(b, rf"group {g}: member \S+ left \(session timeout") == 0, b.log_tail(30)
    # G2: answered and silent -> expired after its session (1 s)
    assert leader.heartbeat() == 0
    b.wait_for_log(rf"group {g}: member {follower.member_id} left \(session timeout 1000 ms\)", 10)
    for m in ms:
        m.close()


# --- G3: the sync phase is bounded by the rebalance timeout -----------------------------
def test_g3_member_without_sync_removed_after_rebalance_timeout(broker_factory, request):
    """A leader that heartbeats but never sends its SyncGroup is removed when
    the rebalance timeout (1.5 s) has passed since the join completed; the
    follower's parked SyncGroup (kept alive by G1) is answered
    REBALANCE_IN_PROGRESS and the follower forms the next generation alone."""
    REBALANCE_MS = 1500
    b = broker_factory(GROUP_BROKER)
    t, g = unique_topic(request), "g-nosync"
    create_topic(b.bootstrap, t, 2)
    ms = [RawMember(b, g, t, nparts=2, client_id=f"s{i}", session_ms=10000,
                    rebalance_ms=REBALANCE_MS) for i in range(2)]
    for m in ms:
        r = m.send_join()
        m.member_id = r["member_id"]
    pend = [m.send_join(wait=False) for m in ms]
    for m, p in zip(ms, pend):
        m.joined(kproto.recv_join_group(m.conn, *p, timeout=30))
    leader = next(m for m in ms if m.leader)
    follower = next(m for m in ms if not m.leader)
    sf = follower.send_sync()
    assert leader.heartbeat() == 0          # alive, but owes its SyncGroup
    r = kproto.recv_sync_group(follower.conn, *sf, timeout=20)
    assert r["error_code"] == kproto.REBALANCE_IN_PROGRESS, r
    b.wait_for_log(rf"group {g}: member {leader.member_id} sent no SyncGroup within the "
                   r"rebalance timeout", 5)
    assert leader.heartbeat() == kproto.UNKNOWN_MEMBER_ID
    r = follower.join()
    assert r["leader"] == follower.member_id and len(r["members"]) == 1, r
    assert follower.sync() == {t: [0, 1]}
    for m in ms:
        m.close()


# --- G7: a member that leaves or is fenced, in each state -------------------------------
def new_member_parked(b, g, t, name):
    """A new raw member whose JoinGroup (with its KIP-394 id) is parked:
    returns (member, pending join)."""
    m = RawMember(b, g, t, nparts=2, client_id=name)
    m.member_id = m.send_join()["member_id"]
    return m, m.send_join(wait=False)


def test_g7_leave_in_each_state(broker_factory, request):
    """PreparingRebalance: the leaving member's place is no longer awaited, the
    join phase completes with the others. CompletingRebalance: the parked
    SyncGroups are answered REBALANCE_IN_PROGRESS and a new rebalance starts.
    Stable: the last member leaving empties the group at once."""
    b = broker_factory(GROUP_BROKER)
    t, g = unique_topic(request), "g-leave"
    create_topic(b.bootstrap, t, 2)
    a = RawMember(b, g, t, nparts=2, client_id="a")
    a.join_and_sync()
    bm, jb = new_member_parked(b, g, t, "b")
    wait_until(lambda: a.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="rebalance")
    with group_conn(b) as rc:
        assert kproto.leave_group(rc, g, [(a.member_id, None)])["error_code"] == 0
        rb = bm.joined(kproto.recv_join_group(bm.conn, *jb, timeout=10))
        assert (rb["generation_id"], rb["leader"]) == (2, bm.member_id), rb
        assert bm.sync() == {t: [0, 1]}

        c, jc = new_member_parked(b, g, t, "c")
        wait_until(lambda: bm.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="rebalance")
        bm.join()
        c.joined(kproto.recv_join_group(c.conn, *jc, timeout=10))
        sc = c.send_sync()
        assert kproto.describe_groups(rc, [g])[0]["group_state"] == "CompletingRebalance"
        assert kproto.leave_group(rc, g, [(bm.member_id, None)])["error_code"] == 0
        r = kproto.recv_sync_group(c.conn, *sc, timeout=10)
        assert r["error_code"] == kproto.REBALANCE_IN_PROGRESS, r
        r = c.join()
        assert (r["generation_id"], r["leader"]) == (4, c.member_id), r
        assert c.sync() == {t: [0, 1]}

        assert kproto.leave_group(rc, g, [(c.member_id, None)])["error_code"] == 0
        (d,) = kproto.describe_groups(rc, [g])
        assert (d["group_state"], d["members"]) == ("Empty", []), d
    for m in (a, bm, c):
        m.close()


def test_g6_static_member_fenced_while_parked(broker_factory, request):
    """A static member restarting under a new member id fences the old
    incarnation: its parked JoinGroup (PreparingRebalance) or SyncGroup
    (CompletingRebalance) is answered FENCED_INSTANCE_ID, and the new
    incarnation takes its place in the generation being formed."""
    b = broker_factory(GROUP_BROKER)
    t, g = unique_topic(request), "g-fence-parked"
    create_topic(b.bootstrap, t, 2)
    s1 = RawMember(b, g, t, nparts=2, instance_id="i1", client_id="s1")
    s1.join_and_sync()
    p = RawMember(b, g, t, nparts=2, instance_id="ip", client_id="p")
    jp = p.send_join(wait=False)               # generation 2: s1 must rejoin too
    wait_until(lambda: s1.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="rebalance")
    s1.join()
    p.joined(kproto.recv_join_group(p.conn, *jp, timeout=10))
    s1.sync()
    p.sync()
    o, jo = new_member_parked(b, g, t, "o")    # a rebalance begins
    wait_until(lambda: s1.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="rebalance")
    js = s1.send_join(wait=False)              # parked: p has not rejoined
    s2 = RawMember(b, g, t, nparts=2, instance_id="i1", client_id="s2")
    j2 = s2.send_join(wait=False)
    r = kproto.recv_join_group(s1.conn, *js, timeout=10)
    assert r["error_code"] == kproto.FENCED_INSTANCE_ID, r
    p.join()
    r2 = s2.joined(kproto.recv_join_group(s2.conn, *j2, timeout=10))
    o.joined(kproto.recv_join_group(o.conn, *jo, timeout=10))
    assert r2["generation_id"] == p.generation == o.generation == 3
    assert r2["leader"] == s2.member_id, "the leader's new incarnation stays leader"
    # CompletingRebalance: p's SyncGroup parks, then instance ip restarts
    sp = p.send_sync()
    p2 = RawMember(b, g, t, nparts=2, instance_id="ip", client_id="p2")
    j2 = p2.send_join(wait=False)
    r = kproto.recv_sync_group(p.conn, *sp, timeout=10)
    assert r["error_code"] == kproto.FENCED_INSTANCE_ID, r
    assert p.heartbeat() == kproto.FENCED_INSTANCE_ID
    for m in (s1, s2, p, p2, o):
        m.close()


def test_g6_static_restart_with_new_metadata_in_stable(broker_factory, request):
    """A static member restarting in Stable causes no rebalance while the
    protocol the group would select stays the same, even if its metadata
    differs (the Java client's subscription carries its owned partitions and
    generation, which a restarted instance does not know), as Kafka. A
    restarted follower gets the generation and its old assignment; a
    restarted leader is, on JoinGroup v9+, told it leads with skip_assignment
    (KIP-814), and before v9 answered with the old leader id so it does not
    assign."""
    b = broker_factory(GROUP_BROKER)
    t, g = unique_topic(request), "g-static-newmeta"
    create_topic(b.bootstrap, t, 2)
    lead = RawMember(b, g, t, nparts=2, instance_id="L", client_id="lead")
    lead.join_and_sync()
    other = RawMember(b, g, t, nparts=2, instance_id="O", client_id="other")
    jo = other.send_join(wait=False)
    wait_until(lambda: lead.heartbeat() == kproto.REBALANCE_IN_PROGRESS, 10, desc="rebalance")
    lead.join()
    other.joined(kproto.recv_join_group(other.conn, *jo, timeout=10))
    assert lead.sync({lead.member_id: [0], other.member_id: [1]}) == {t: [0]}
    assert other.sync() == {t: [1]}
    gen = lead.generation

    def restarted(instance, name, user_data, version=None):
        m = RawMember(b, g, t, nparts=2, instance_id=instance, client_id=name)
        m.protocols = lambda: [("range", kproto.consumer_subscription([t], user_data=user_data))]
        r = kproto.join_group(m.conn, g, protocols=m.protocols(), session_timeout_ms=30000,
                              group_instance_id=instance, version=version, timeout=10)
        return m, m.joined(r)

    other2, r = restarted("O", "other2", b"new metadata")
    assert (r["generation_id"], r["leader"], r["members"], r["skip_assignment"]) == \
        (gen, lead.member_id, [], False), r
    assert other2.sync() == {t: [1]}
    assert lead.heartbeat() == 0, "the leader saw a rebalance"

    lead_v5, r = restarted("L", "lead-v5", b"leader restarted", version=5)
    assert r["generation_id"] == gen and r["members"] == [], r
    assert r["leader"] == lead.member_id != r["member_id"], "v5: the old leader id"
    assert lead_v5.sync() == {t: [0]}
    assert other2.heartbeat() == 0

    lead_v9, r = restarted("L", "lead-v9", b"leader again", version=9)
    assert r["generation_id"] == gen and r["skip_assignment"], r
    assert r["leader"] == r["member_id"] == lead_v9.member_id
    assert sorted(m["group_instance_id"] for m in r["members"]) == ["L", "O"]
    assert lead_v9.sync(plan={}) == {t: [0]}, "skip_assignment: Stable keeps the assignment"
    assert other2.heartbeat() == 0
    assert lead.heartbeat() == kproto.FENCED_INSTANCE_ID
    for m in (lead, other, other2, lead_v5, lead_v9):
        m.close()


# --- DeleteGroups against a session that has just expired -------------------------------
def test_g9_delete_groups_after_static_session_deadline(broker_factory, request):
    """A DeleteGroups sent after the last static member's session deadline
    (its last heartbeat answered + session timeout) finds the group Empty
    and deletes it, even when it reaches the coordinator before the expiry
    timer has run: the coordinator expires overdue sessions before judging
    the group. Several rounds, each with three twin groups, aim the request
    at the deadline itself."""
    session = 1000
    b = broker_factory(GROUP_BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    with group_conn(b) as rc:
        for rnd in range(8):
            gs = [f"g-twin-{rnd}-{k}" for k in range(3)]
            ms = [RawMember(b, gid, t, instance_id=f"inst-{gid}", session_ms=session,
                            client_id=f"twin{k}") for k, gid in enumerate(gs)]
            for m in ms:
                m.join_and_sync()
            last = 0.0
            for m in ms:                       # heartbeats in a row; remember the last answer
                assert m.heartbeat() == 0
                last = time.monotonic()
            # every deadline is before last + session: aim just after it
            while time.monotonic() < last + session / 1000:
                pass
            res = kproto.delete_groups(rc, gs)
            assert res == {gid: 0 for gid in gs}, (rnd, res)
            for m in ms:
                m.close()
