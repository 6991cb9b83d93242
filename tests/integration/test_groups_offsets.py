"""Consumer groups, committed offsets: a group that restarts resumes from its
commits (confluent-kafka and kafka-python), two groups on one topic each get
every message, commits survive a clean broker restart and a kill -9 with
log.flush.interval.messages=1, and consumers without group membership
(assign() + commit: generation -1, "standalone" commits) commit and read
back their offsets."""

import confluent_kafka as ck
import kproto
from kafka import KafkaConsumer, OffsetAndMetadata
from kafka import TopicPartition as KTP

from conftest import consumer, create_topic, produce_all, producer, raw_conn, unique_topic, wait_until
from test_groups_common import (GROUP_BROKER, Member, assert_exactly_once, balanced, group_conn,
                                seq_messages, seq_of, total_received, wait_for)


def committed(bs, group, topic, partitions, timeout=10):
    """{partition: committed offset} via confluent-kafka (OffsetFetch)."""
    c = consumer(bs, **{"group.id": group})
    try:
        res = c.committed([ck.TopicPartition(topic, p) for p in partitions], timeout=timeout)
        assert all(tp.error is None for tp in res), res
        return {tp.partition: tp.offset for tp in res}
    finally:
        c.close()


# --- 4. a restarted group resumes from its commits ---------------------------------------
def test_group_restart_resumes_from_committed_offsets(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-resume"
    create_topic(bs, t, 3)
    msgs, expected = seq_messages(0, 900, [0, 1, 2])
    produce_all(producer(bs), t, msgs)

    # first run: two members, every message committed (synchronously) before
    # it counts as processed; each stops after 150 (a third of the topic,
    # whatever the machine's speed: a wall-clock "stop half-way" was flaky)
    first = [Member(bs, g, t, name=f"run1-{i}", commit_each=True, max_messages=150)
             for i in range(2)]
    try:
        wait_until(lambda: total_received(first, expected) >= 300, 30, desc="300 messages")
    finally:
        for m in first:
            m.close()
    done = {s for m in first for s in m.seqs()}
    assert len(done) == sum(len(m.seqs()) for m in first), "duplicates in the first run"
    assert len(done) == 300
    # what was committed is exactly what was processed
    pos = {}
    for m in first:
        for p, off, _ in m.received:
            pos[p] = max(pos.get(p, 0), off + 1)
    got = committed(bs, g, t, [0, 1, 2])
    assert got == {p: pos.get(p, ck.OFFSET_INVALID) for p in range(3)}, (got, pos)

    # second run: the rest, and nothing committed comes again
    second = [Member(bs, g, t, name=f"run2-{i}") for i in range(2)]
    try:
        rest = {s: p for s, p in expected.items() if s not in done}
        wait_until(lambda: total_received(second, rest) >= len(rest), 30,
                   desc=f"the remaining {len(rest)} messages")
        again = {s for m in second for s in m.seqs()} & done
        assert not again, f"{len(again)} committed messages delivered again, e.g. {sorted(again)[:5]}"
        assert_exactly_once(second, rest)
        for m in second:
            for p, off, _ in m.received:
                assert off >= pos.get(p, 0)
    finally:
        for m in second:
            m.close()


def test_kafka_python_group_resumes_from_committed_offsets(broker_factory, request):
    """kafka-python: OffsetCommit v2 / OffsetFetch v1 with JoinGroup v2."""
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-resume-kp"
    create_topic(bs, t, 2)
    msgs, expected = seq_messages(0, 400, [0, 1])
    produce_all(producer(bs), t, msgs)

    def run(limit):
        c = KafkaConsumer(t, bootstrap_servers=bs, group_id=g, enable_auto_commit=False,
                          auto_offset_reset="earliest", session_timeout_ms=6000,
                          heartbeat_interval_ms=300, fetch_max_wait_ms=100,
                          max_poll_records=50, request_timeout_ms=30000)
        got = []
        try:
            def more():
                for tp, recs in c.poll(timeout_ms=100).items():
                    got.extend((tp.partition, r.offset, seq_of(r.value)) for r in recs)
                return len(got) >= limit
            wait_until(more, 30, interval=0, desc=f"{limit} messages with kafka-python")
            c.commit()          # synchronous, the positions of everything polled
        finally:
            c.close()
        return got

    first = run(150)
    done = {s for _, _, s in first}
    assert len(done) == len(first)
    pos = {}
    for p, off, _ in first:
        pos[p] = max(pos.get(p, 0), off + 1)
    got = committed(bs, g, t, [0, 1])
    for p in (0, 1):
        # kafka-python commits the position of every assigned partition: 0
        # for one it has not read from yet (if its position is known)
        assert got[p] == pos[p] if p in pos else got[p] in (0, ck.OFFSET_INVALID), (got, pos)
    second = run(400 - len(first))
    seqs2 = [s for _, _, s in second]
    assert not set(seqs2) & done, "committed messages delivered again"
    assert len(seqs2) == len(set(seqs2))
    assert done | set(seqs2) == set(expected)


# --- 5. publish-subscribe: each group gets everything --------------------------------------
def test_two_groups_each_receive_every_message(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 4)
    ga = [Member(bs, "g-pub-a", t, name=f"a{i}") for i in range(2)]
    gb = [Member(bs, "g-pub-b", t, name="b0")]
    try:
        wait_until(lambda: balanced(ga, 4) and balanced(gb, 4), 30, desc="both groups assigned")
        msgs, expected = seq_messages(0, 2000, [0, 1, 2, 3])
        produce_all(producer(bs), t, msgs)
        wait_until(lambda: total_received(ga, expected) >= 2000 and
                   total_received(gb, expected) >= 2000, 60, desc="both groups read everything")
        assert_exactly_once(ga, expected)
        assert_exactly_once(gb, expected)
        assert all(m.seqs() for m in ga), "both members of group a got messages"
    finally:
        for m in ga + gb:
            m.close()


# --- 8. commits survive broker restarts -----------------------------------------------------
def test_clean_restart_keeps_committed_offsets(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 4)
    produce_all(producer(bs), t, seq_messages(0, 400, [0, 1, 2, 3])[0])

    # a group member commits (generation > 0) ...
    m = Member(bs, "g-keep-member", t, name="keeper")
    try:
        wait_until(lambda: m.owned() == {0, 1, 2, 3}, 30, desc="member assigned")
        member_offs = {0: 11, 1: 22, 2: 33, 3: 100}
        m.c.commit(offsets=[ck.TopicPartition(t, p, o) for p, o in member_offs.items()],
                   asynchronous=False)
    finally:
        m.close()
    # ... a standalone consumer commits (generation -1), with metadata ...
    c = consumer(bs, **{"group.id": "g-keep-solo"})
    try:
        c.assign([ck.TopicPartition(t, p) for p in range(4)])
        solo_offs = {0: 5, 2: 7}
        c.commit(offsets=[ck.TopicPartition(t, p, o) for p, o in solo_offs.items()],
                 asynchronous=False)
    finally:
        c.close()
    # ... and a raw client overwrites an offset several times (newest wins), its
    # metadata holding a NUL byte (librdkafka 2.x sends the C string's NUL too;
    # a STRING is its length's bytes, kept whole as Kafka does)
    with raw_conn(b) as rc:
        for off in (1, 2, 3):
            assert kproto.offset_commit(rc, "g-keep-raw", {(t, 1): (off, f"meta-{off}\0x")}) == \
                {(t, 1): 0}
        r = kproto.offset_fetch(rc, "g-keep-raw", {t: [1]})
        assert r["offsets"][(t, 1)][2] == "meta-3\0x", r
    before = {g: committed(bs, g, t, range(4))
              for g in ("g-keep-member", "g-keep-solo", "g-keep-raw")}
    assert before["g-keep-member"] == member_offs
    assert before["g-keep-solo"] == {0: 5, 1: ck.OFFSET_INVALID, 2: 7, 3: ck.OFFSET_INVALID}

    for round_ in range(2):
        mark = len(b.log_text())
        b.restart()
        b.wait_for_log(r"loaded 3 group\(s\) from __consumer_offsets", 10, since=mark)
        after = {g: committed(bs, g, t, range(4)) for g in before}
        assert after == before, f"restart {round_ + 1}"
        with raw_conn(b) as rc:
            r = kproto.offset_fetch(rc, "g-keep-raw", {t: [1]})
            assert r["offsets"][(t, 1)][0] == 3 and r["offsets"][(t, 1)][2] == "meta-3\0x", r

    # a member of the group resumes exactly there
    m2 = Member(bs, "g-keep-member", t, name="keeper2")
    try:
        wait_until(lambda: {p for p, _, _ in m2.received} == {0, 1, 2}, 30,
                   desc="resumed member reading partitions 0-2")
        firsts = {}
        for p, off, _ in m2.received:
            firsts.setdefault(p, off)
        assert firsts == {0: 11, 1: 22, 2: 33}, firsts
    finally:
        m2.close()


def test_kill9_with_flush_each_message_keeps_committed_offsets(broker_factory, request):
    b = broker_factory({**GROUP_BROKER, "log.flush.interval.messages": 1})
    bs, t, g = b.bootstrap, unique_topic(request), "g-kill9"
    create_topic(bs, t, 3)
    produce_all(producer(bs), t, seq_messages(0, 300, [0, 1, 2])[0])

    # a member that committed every message it processed, then left
    m = Member(bs, g, t, name="committer", commit_each=True)
    try:
        wait_until(lambda: len(m.received) >= 150, 30, desc="150 messages consumed and committed")
    finally:
        m.close()
    pos = {}
    for p, off, _ in m.received:
        pos[p] = max(pos.get(p, 0), off + 1)
    member_offs = {p: pos.get(p, ck.OFFSET_INVALID) for p in range(3)}
    # standalone commits, the last acknowledged right before the kill
    c = consumer(bs, **{"group.id": "g-kill9-solo"})
    try:
        for i in range(1, 51):
            c.commit(offsets=[ck.TopicPartition(t, i % 3, i)], asynchronous=False)
    finally:
        c.close()
    solo = {0: 48, 1: 49, 2: 50}
    assert committed(bs, g, t, range(3)) == member_offs
    assert committed(bs, "g-kill9-solo", t, range(3)) == solo

    b.kill9()
    b.start()
    b.wait_for_log(r"loaded 2 group\(s\)", 10)
    assert committed(bs, g, t, range(3)) == member_offs
    assert committed(bs, "g-kill9-solo", t, range(3)) == solo


def test_kill9_while_member_commits(broker_factory, request):
    """A live member commits in a loop and the broker is killed right after
    the last commit is acknowledged: a restarted broker returns exactly that
    commit, and the member (loaded back from its group record) can still
    commit and leave."""
    b = broker_factory({**GROUP_BROKER, "log.flush.interval.messages": 1})
    bs, t, g = b.bootstrap, unique_topic(request), "g-kill9-live"
    create_topic(bs, t, 2)
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": g, "enable.auto.commit": False,
                     "session.timeout.ms": 10000, "heartbeat.interval.ms": 300})
    assigned = []
    c.subscribe([t], on_assign=lambda cc, ps: assigned.extend(ps))
    try:
        wait_until(lambda: (c.poll(0.05), len(assigned) == 2)[1], 30, desc="member assigned")
        last = None
        for i in range(1, 40):
            last = {0: 1000 + i, 1: 2000 + i}
            c.commit(offsets=[ck.TopicPartition(t, p, o) for p, o in last.items()],
                     asynchronous=False)
        b.kill9()
        b.start()
        b.wait_for_log(r"loaded 1 group\(s\)", 10)
        assert committed(bs, g, t, [0, 1]) == last
        # the loaded group still has the member: its commits keep working
        def commit_again():
            c.poll(0.05)
            try:
                c.commit(offsets=[ck.TopicPartition(t, 0, 5000)], asynchronous=False)
                return True
            except ck.KafkaException:
                return False    # reconnecting
        wait_until(commit_again, 30, interval=0.1, desc="a commit after the restart")
        assert committed(bs, g, t, [0, 1]) == {0: 5000, 1: last[1]}
    finally:
        c.close()
    with raw_conn(b) as rc:
        wait_until(lambda: kproto.describe_groups(rc, [g])[0]["group_state"] == "Empty", 10,
                   desc="group empty after the member closed")


# --- 11. consumers without a group: standalone commits --------------------------------------
def test_standalone_commits_with_assign(broker_factory, request):
    b = broker_factory(GROUP_BROKER)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    msgs, expected = seq_messages(0, 300, [0, 1, 2])
    produce_all(producer(bs), t, msgs)

    # confluent-kafka: assign() (no JoinGroup), consume, commit the positions
    c = consumer(bs, **{"group.id": "g-solo-ck", "enable.auto.offset.store": True})
    got = []
    try:
        c.assign([ck.TopicPartition(t, p, ck.OFFSET_BEGINNING) for p in (0, 1)])

        def more():
            for msg in c.consume(200, timeout=0.2):
                assert msg.error() is None, msg.error()
                got.append(msg)
            return len(got) >= 200
        wait_until(more, 30, interval=0, desc="partitions 0 and 1 read")
        c.commit(asynchronous=False)        # positions: generation -1, no member id
        assert {tp.partition: tp.offset for tp in c.committed(
            [ck.TopicPartition(t, p) for p in (0, 1, 2)], timeout=10)} == \
            {0: 100, 1: 100, 2: ck.OFFSET_INVALID}
    finally:
        c.close()
    assert committed(bs, "g-solo-ck", t, range(3)) == {0: 100, 1: 100, 2: ck.OFFSET_INVALID}

    # a new standalone consumer of that group continues from there
    produce_all(producer(bs), t, [dict(value=b"seq-00009999", partition=0)])
    c = consumer(bs, **{"group.id": "g-solo-ck"})
    try:
        c.assign([ck.TopicPartition(t, 0)])     # no offset: the committed one
        first = wait_until(lambda: c.poll(0.2), 30, desc="a message after the committed offset")
        assert (first.partition(), first.offset(), first.value()) == (0, 100, b"seq-00009999")
    finally:
        c.close()

    # kafka-python: assign() + commit({tp: OffsetAndMetadata}) (OffsetCommit v2, gen -1)
    kc = KafkaConsumer(bootstrap_servers=bs, group_id="g-solo-kp", enable_auto_commit=False,
                       request_timeout_ms=30000)
    try:
        kc.assign([KTP(t, 2)])
        kc.commit({KTP(t, 2): OffsetAndMetadata(42, "kp-meta")})
        assert kc.committed(KTP(t, 2)) == 42
    finally:
        kc.close()

    # raw: standalone commits in every OffsetCommit version, read back with metadata
    with raw_conn(b) as rc:
        maxv = rc.versions()[kproto.OFFSET_COMMIT][1]
        for v in range(0, maxv + 1):
            gid = f"g-solo-raw-v{v}"
            res = kproto.offset_commit(rc, gid, {(t, 0): (10 + v, f"m{v}"), (t, 1): (20 + v, "")},
                                       version=v)
            assert res == {(t, 0): 0, (t, 1): 0}, (v, res)
            f = kproto.offset_fetch(rc, gid, {t: [0, 1, 2]})
            assert f["error_code"] == 0
            assert {k: (o[0], o[2], o[3]) for k, o in f["offsets"].items()} == {
                (t, 0): (10 + v, f"m{v}", 0), (t, 1): (20 + v, "", 0), (t, 2): (-1, "", 0)}, (v, f)
        assert kproto.offset_fetch(rc, "g-solo-kp", {t: [2]})["offsets"][(t, 2)][:3:2] == \
            (42, "kp-meta")
        # standalone groups are listed as Empty, with no members and no protocol
        lg = kproto.list_groups(rc)["groups"]
        for gid in ("g-solo-ck", "g-solo-kp", "g-solo-raw-v0"):
            assert gid in lg and lg[gid]["protocol_type"] == "", (gid, lg)
        (d,) = kproto.describe_groups(rc, ["g-solo-ck"])
        assert (d["error_code"], d["group_state"], d["members"]) == (0, "Empty", []), d
        # an unknown partition is refused per partition
        res = kproto.offset_commit(rc, "g-solo-raw-v0", {(t, 0): 1, (t, 7): 1, ("no-such-topic", 0): 1})
        assert res == {(t, 0): 0, (t, 7): kproto.UNKNOWN_TOPIC_OR_PARTITION,
                       ("no-such-topic", 0): kproto.UNKNOWN_TOPIC_OR_PARTITION}, res


def test_standalone_commit_refused_while_group_has_members(broker_factory, request):
    """Generation -1 commits are for groups without members: while the group
    has a member they get UNKNOWN_MEMBER_ID and change nothing."""
    b = broker_factory(GROUP_BROKER)
    bs, t, g = b.bootstrap, unique_topic(request), "g-solo-busy"
    create_topic(bs, t, 1)
    with group_conn(b) as rc:
        assert kproto.offset_commit(rc, g, {(t, 0): 5}) == {(t, 0): 0}
        m = Member(bs, g, t, name="busy")
        try:
            wait_until(lambda: m.owned() == {0}, 30, desc="member assigned")
            assert kproto.offset_commit(rc, g, {(t, 0): 9}) == {(t, 0): kproto.UNKNOWN_MEMBER_ID}
            assert kproto.offset_fetch(rc, g, {t: [0]})["offsets"][(t, 0)][0] == 5
        finally:
            m.close()
        wait_for(lambda: kproto.describe_groups(rc, [g])[0]["group_state"] == "Empty", 10,
                 "group empty after the member left")
        assert kproto.offset_commit(rc, g, {(t, 0): 9}) == {(t, 0): 0}
        assert kproto.offset_fetch(rc, g, {t: [0]})["offsets"][(t, 0)][0] == 9
