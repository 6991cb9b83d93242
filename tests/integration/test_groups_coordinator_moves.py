"""The group coordinator moves with the leadership of its __consumer_offsets
partition (docs/groups.md G10-G13), driven through LeaderAndIsr (the test
hook samsa.test.hooks.enable=true).

Broker 2 is registered as a live leader (LeaderAndIsr LiveLeaders) on a port
nothing listens on: FindCoordinator names it, nothing reaches it. Broker 1
is a follower played by raw Fetch requests with replica_id 1, so the high
watermark of an offsets partition moves exactly when the test says."""

import select

import confluent_kafka as ck

import kproto
from conftest import admin, create_topic, free_port, raw_conn, wait_until
from test_groups_common import GROUP_BROKER

HOOKS = {"samsa.test.hooks.enable": "true"}
NPARTS = 5
BROKER = {**HOOKS, **GROUP_BROKER, "offsets.topic.num.partitions": NPARTS}
OFFSETS = "__consumer_offsets"
LOAD_IN_PROGRESS = 14
REQUEST_TIMED_OUT = 7
ME, OTHER, FOLLOWER = 0, 2, 1


def partition_for(group, n=NPARTS):
    """Kafka's: Utils.abs(Java String.hashCode) % n (ASCII ids)."""
    h = 0
    for ch in group:
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    return (0 if h == -(1 << 31) else abs(h)) % n


def groups_on(prefix, part, k):
    """k group ids of the form prefix-N whose offsets partition is `part`."""
    out, i = [], 0
    while len(out) < k:
        g = f"{prefix}-{i}"
        if partition_for(g) == part:
            out.append(g)
        i += 1
    return out


def state(part, leader, epoch, replicas, isr=None):
    return {"partition": part, "leader": leader, "leader_epoch": epoch,
            "replicas": replicas, "isr": isr if isr is not None else replicas}


def lisr(c, part, leader, epoch, replicas, isr=None, live=()):
    res = kproto.leader_and_isr(c, 1, {OFFSETS: [state(part, leader, epoch, replicas, isr)]},
                                live_leaders=list(live))
    assert res == {"error_code": 0, "partitions": {(OFFSETS, part): 0}}, res


def form_group(c, g, assignment=b"a1"):
    """One raw member, Stable; returns (member id, generation)."""
    j = kproto.join_group(c, g, session_timeout_ms=30000)
    if j["error_code"] == kproto.MEMBER_ID_REQUIRED:
        j = kproto.join_group(c, g, member_id=j["member_id"], session_timeout_ms=30000)
    assert j["error_code"] == 0, j
    mid, gen = j["member_id"], j["generation_id"]
    s = kproto.sync_group(c, g, gen, mid, {mid: assignment})
    assert (s["error_code"], s["assignment"]) == (0, assignment), s
    return mid, gen


def fetched(c, g, t, parts):
    f = kproto.offset_fetch(c, g, {t: list(parts)})
    return f["error_code"], {p: f["offsets"][(t, p)][0] for p in parts if (t, p) in f["offsets"]}


def every_group_api(c, g, mid, gen, t):
    """The error each group API answers for g (ListGroups: whether listed)."""
    out = {
        "join": kproto.join_group(c, g, member_id=mid)["error_code"],
        "sync": kproto.sync_group(c, g, gen, mid)["error_code"],
        "heartbeat": kproto.heartbeat(c, g, gen, mid),
        "commit": kproto.offset_commit(c, g, {(t, 0): 9}, generation_id=gen,
                                       member_id=mid)[(t, 0)],
        "fetch": kproto.offset_fetch(c, g, {t: [0]})["error_code"],
        "fetch_v1": kproto.offset_fetch(c, g, {t: [0]}, version=1)["offsets"][(t, 0)][3],
        "fetch_v8": kproto.offset_fetch_groups(c, {g: {t: [0]}})[g]["error_code"],
        "describe": kproto.describe_groups(c, [g])[0]["error_code"],
        "offset_delete": kproto.offset_delete(c, g, {t: [0]})["error_code"],
        "delete": kproto.delete_groups(c, [g])[g],
        "leave": kproto.leave_group(c, g, [(mid, None)])["error_code"],
    }
    out["listed"] = g in kproto.list_groups(c)["groups"]
    return out


def start(broker_factory, request, extra=None):
    b = broker_factory({**BROKER, **(extra or {})})
    t = "t-" + request.node.name[:40]
    with raw_conn(b) as c:
        fc = kproto.find_coordinator(c, "any")       # creates __consumer_offsets
        assert (fc["error_code"], fc["node_id"]) == (0, ME), fc
        md = kproto.metadata(c, [OFFSETS], version=8)
        assert len(md["topics"][OFFSETS]["partitions"]) == NPARTS, md
    create_topic(b.bootstrap, t, 1)            # a topic to commit offsets for
    return b, t


def test_g10_g12_groups_leave_and_come_back_with_the_partition(broker_factory, request):
    b, t = start(broker_factory, request)
    part = 2
    g, solo = groups_on("moving", part, 2)
    stay = groups_on("staying", (part + 1) % NPARTS, 1)[0]
    port2 = free_port()
    with raw_conn(b) as c:
        mid, gen = form_group(c, g)
        assert kproto.offset_commit(c, g, {(t, 0): 42}, generation_id=gen, member_id=mid) == \
            {(t, 0): 0}
        assert kproto.offset_commit(c, solo, {(t, 0): (7, "solo-meta")}) == {(t, 0): 0}
        assert kproto.offset_commit(c, stay, {(t, 0): 5}) == {(t, 0): 0}

        # Leadership of the partition moves to broker 2 (epoch 1).
        lisr(c, part, OTHER, 1, [OTHER, ME], live=[(OTHER, "127.0.0.1", port2)])
        for grp in (g, solo):
            fc = kproto.find_coordinator(c, grp)
            assert (fc["error_code"], fc["node_id"], fc["host"], fc["port"]) == \
                (0, OTHER, "127.0.0.1", port2), fc
        nc = kproto.NOT_COORDINATOR
        assert every_group_api(c, g, mid, gen, t) == {
            "join": nc, "sync": nc, "heartbeat": nc, "commit": nc, "fetch": nc,
            "fetch_v1": nc, "fetch_v8": nc, "describe": nc, "offset_delete": nc, "delete": nc,
            "leave": nc, "listed": False}
        # Groups of the partitions still led here are served as before.
        assert fetched(c, stay, t, [0]) == (0, {0: 5})
        assert stay in kproto.list_groups(c)["groups"]
        assert kproto.find_coordinator(c, stay)["node_id"] == ME

        # Back here at a higher epoch: loaded from the log, served again.
        lisr(c, part, ME, 2, [ME, OTHER], [ME], live=[(OTHER, "127.0.0.1", port2)])

        def loaded():
            err, offs = fetched(c, g, t, [0])
            assert err in (0, LOAD_IN_PROGRESS), err     # never a partial view
            return err == 0 and offs
        assert wait_until(loaded, 10, desc="group loaded again") == {0: 42}
        assert kproto.find_coordinator(c, g)["node_id"] == ME
        f = kproto.offset_fetch(c, solo, {t: [0]})
        assert (f["error_code"], f["offsets"][(t, 0)][0], f["offsets"][(t, 0)][2]) == \
            (0, 7, "solo-meta"), f
        # The member and its generation came back with the group metadata.
        d = kproto.describe_groups(c, [g])[0]
        assert (d["error_code"], d["group_state"], [m["member_id"] for m in d["members"]]) == \
            (0, "Stable", [mid]), d
        assert d["members"][0]["member_assignment"] == b"a1", d
        assert kproto.heartbeat(c, g, gen, mid) == 0
        assert kproto.offset_commit(c, g, {(t, 0): 43}, generation_id=gen, member_id=mid) == \
            {(t, 0): 0}
        assert fetched(c, g, t, [0]) == (0, {0: 43})
        assert {g, solo, stay} <= set(kproto.list_groups(c)["groups"])


def test_g10_parked_join_answered_not_coordinator_on_resignation(broker_factory, request):
    b, t = start(broker_factory, request)
    part = 1
    g = groups_on("parked", part, 1)[0]
    with raw_conn(b) as c, raw_conn(b) as c2:
        mid, gen = form_group(c, g)
        # A second member joins: the rebalance parks its JoinGroup until the
        # first member rejoins (it never does here).
        j = kproto.join_group(c2, g, session_timeout_ms=30000)
        assert j["error_code"] == kproto.MEMBER_ID_REQUIRED, j
        corr, v = kproto.send_join_group(c2, g, member_id=j["member_id"],
                                         session_timeout_ms=30000)
        wait_until(lambda: kproto.describe_groups(c, [g])[0]["group_state"] ==
                   "PreparingRebalance", desc="rebalance started")
        lisr(c, part, OTHER, 1, [OTHER, ME], live=[(OTHER, "127.0.0.1", free_port())])
        r = kproto.recv_join_group(c2, corr, v, timeout=10)
        assert r["error_code"] == kproto.NOT_COORDINATOR, r
    assert b.wait_for_log(rf"{OFFSETS}-{part}: resigned at leader epoch 1; dropped 1 group")


def test_g13_commit_waits_for_the_high_watermark(broker_factory, request):
    b, t = start(broker_factory, request, {"offsets.commit.timeout.ms": 1500})
    part = 3
    g = groups_on("replicated", part, 1)[0]
    with raw_conn(b) as c, raw_conn(b) as cc:
        assert kproto.offset_commit(c, g, {(t, 0): 1}) == {(t, 0): 0}   # solo ISR: at once
        # Broker 1 joins the ISR (same leader, epoch 1): nothing to reload.
        lisr(c, part, ME, 1, [ME, FOLLOWER], live=[(FOLLOWER, "127.0.0.1", free_port())])
        assert fetched(c, g, t, [0]) == (0, {0: 1})
        leo = kproto.list_offsets(c, OFFSETS, part, kproto.LATEST_TIMESTAMP)["offset"]

        def follower_fetch(offset):
            f = kproto.fetch(c, OFFSETS, part, offset, max_wait_ms=0, replica_id=FOLLOWER,
                             current_leader_epoch=1)
            assert f["error_code"] == 0, f
            return f

        follower_fetch(leo)                        # the follower is caught up: HW = LEO
        corr, v = kproto.offset_commit(cc, g, {(t, 0): 2}, send_only=True)
        # The commit is in the log but not on the follower: not answered,
        # and not visible.
        # (The commit is sent without waiting: poll until it is in the log.)
        batches = wait_until(lambda: list(kproto.parse_batch_headers(follower_fetch(leo)["records"])),
                             10, desc="the commit appended to the offsets partition")
        assert len(batches) == 1, batches
        end = batches[0][1] + batches[0][3]["last_offset_delta"] + 1
        assert fetched(c, g, t, [0]) == (0, {0: 1})
        assert select.select([cc.sock], [], [], 0.3)[0] == [], "answered before the HW moved"
        follower_fetch(end)                        # the follower has it: HW = end
        assert kproto.recv_offset_commit(cc, corr, v, timeout=10) == {(t, 0): 0}
        assert fetched(c, g, t, [0]) == (0, {0: 2})

        # Not replicated within offsets.commit.timeout.ms: REQUEST_TIMED_OUT.
        corr, v = kproto.offset_commit(cc, g, {(t, 0): 3}, send_only=True)
        assert kproto.recv_offset_commit(cc, corr, v, timeout=10) == {(t, 0): REQUEST_TIMED_OUT}
        assert fetched(c, g, t, [0]) == (0, {0: 2})

        # Leadership lost while waiting: NOT_COORDINATOR.
        corr, v = kproto.offset_commit(cc, g, {(t, 0): 4}, send_only=True)
        lisr(c, part, FOLLOWER, 2, [ME, FOLLOWER],
             live=[(FOLLOWER, "127.0.0.1", free_port())])
        assert kproto.recv_offset_commit(cc, corr, v, timeout=10) == \
            {(t, 0): kproto.NOT_COORDINATOR}
        assert kproto.offset_fetch(c, g, {t: [0]})["error_code"] == kproto.NOT_COORDINATOR


def test_g10_g13_coordinator_fails_over_to_a_real_follower(broker_factory, request):
    """Two brokers: A leads an offsets partition with B as a real follower
    (replica fetchers). A member's SyncGroup and a commit on A are answered
    once B has them; then leadership moves to B, which loads the group and
    the offsets it replicated and serves them, while A answers NOT_COORDINATOR
    and points at B."""
    a = broker_factory({**BROKER, "node.id": ME}, name="A")
    b = broker_factory({**BROKER, "node.id": FOLLOWER, "replica.fetch.backoff.ms": 200}, name="B")
    t = "t-" + request.node.name[:40]
    create_topic(a.bootstrap, t, 1)
    adm = admin(b.bootstrap)                    # B leads its own copy until told
    adm.create_topics([ck.admin.NewTopic(t, 1, 1)], request_timeout=15)[t].result(15)
    for br in (a, b):
        with raw_conn(br) as c:
            assert kproto.find_coordinator(c, "any")["error_code"] == 0   # creates the topic
    part = 4
    g = groups_on("failover", part, 1)[0]
    live = [(ME, "127.0.0.1", a.port), (FOLLOWER, "127.0.0.1", b.port)]
    with raw_conn(a) as ca, raw_conn(b) as cb:
        lisr(ca, part, ME, 1, [ME, FOLLOWER], live=live)
        lisr(cb, part, ME, 1, [ME, FOLLOWER], live=live)
        mid, gen = form_group(ca, g, b"assigned")      # SyncGroup: waits for B
        assert kproto.offset_commit(ca, g, {(t, 0): 17}, generation_id=gen, member_id=mid) == \
            {(t, 0): 0}
        assert kproto.find_coordinator(cb, g)["node_id"] == ME
        assert kproto.offset_fetch(cb, g, {t: [0]})["error_code"] == kproto.NOT_COORDINATOR

        # Failover: B leads at epoch 2, A follows it.
        lisr(cb, part, FOLLOWER, 2, [ME, FOLLOWER], [FOLLOWER, ME], live=live)
        lisr(ca, part, FOLLOWER, 2, [ME, FOLLOWER], [FOLLOWER, ME], live=live)

        def loaded():
            err, offs = fetched(cb, g, t, [0])
            assert err in (0, LOAD_IN_PROGRESS), err
            return err == 0 and offs
        assert wait_until(loaded, 10, desc="B loaded the group") == {0: 17}
        d = kproto.describe_groups(cb, [g])[0]
        assert (d["group_state"], [m["member_id"] for m in d["members"]],
                d["members"][0]["member_assignment"]) == ("Stable", [mid], b"assigned"), d
        fc = kproto.find_coordinator(ca, g)
        assert (fc["node_id"], fc["port"]) == (FOLLOWER, b.port), fc
        assert kproto.offset_fetch(ca, g, {t: [0]})["error_code"] == kproto.NOT_COORDINATOR
        # The member carries on with B; B's commits wait for A, now its follower.
        assert kproto.heartbeat(cb, g, gen, mid) == 0
        assert kproto.offset_commit(cb, g, {(t, 0): 18}, generation_id=gen, member_id=mid) == \
            {(t, 0): 0}
        assert fetched(cb, g, t, [0]) == (0, {0: 18})


def test_g12_load_spans_many_chunks(broker_factory, request):
    """Small segments make the load of the partition many passes of the
    coordinator loop (one segment per read); everything comes back, and a
    request answered meanwhile is LOAD_IN_PROGRESS or exact."""
    b, t = start(broker_factory, request, {"offsets.topic.segment.bytes": 4096})
    part = 0
    gs = groups_on("many", part, 20)
    with raw_conn(b) as c, raw_conn(b) as c2:
        for rnd in range(5):                    # newest per key wins
            for i, g in enumerate(gs):
                assert kproto.offset_commit(c, g, {(t, 0): (rnd * 100 + i, "m" * 300)}) == \
                    {(t, 0): 0}
        assert len(b.segments(OFFSETS, part)) > 10
        port2 = free_port()
        lisr(c, part, OTHER, 1, [OTHER, ME], live=[(OTHER, "127.0.0.1", port2)])
        assert fetched(c, gs[0], t, [0])[0] == kproto.NOT_COORDINATOR
        lisr(c, part, ME, 2, [ME, OTHER], [ME], live=[(OTHER, "127.0.0.1", port2)])
        for i, g in enumerate(gs):
            def loaded():
                err, offs = fetched(c2, g, t, [0])
                assert err in (0, LOAD_IN_PROGRESS), err
                return err == 0 and offs
            assert wait_until(loaded, 10, desc=f"{g} loaded") == {0: 400 + i}
    b.wait_for_log(rf"{OFFSETS}-{part} \(leader epoch 2\): loaded 100 records")


def test_g10_find_coordinator_without_a_live_leader(broker_factory, request):
    """FindCoordinator: COORDINATOR_NOT_AVAILABLE while the group's partition
    has no leader, or a leader that is not a live broker."""
    b, t = start(broker_factory, request)
    part = 3
    g = groups_on("leaderless", part, 1)[0]
    with raw_conn(b) as c:
        lisr(c, part, 7, 1, [7, ME])                 # broker 7 was never registered
        fc = kproto.find_coordinator(c, g)
        assert (fc["error_code"], fc["node_id"]) == (kproto.COORDINATOR_NOT_AVAILABLE, -1), fc
        assert kproto.offset_fetch(c, g, {t: [0]})["error_code"] == kproto.NOT_COORDINATOR
        lisr(c, part, -1, 2, [7, ME], [])            # no leader at all
        fc = kproto.find_coordinator(c, g)
        assert (fc["error_code"], fc["node_id"]) == (kproto.COORDINATOR_NOT_AVAILABLE, -1), fc
        assert kproto.find_coordinator(c, groups_on("led", 0, 1)[0])["node_id"] == ME
