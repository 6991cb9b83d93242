"""Transactional offset commits in the group coordinator (issue 16, TG1-TG7 in
docs/groups.md), with raw requests: TxnOffsetCommit's KIP-447 checks, offsets
pending per producer until its marker (OffsetFetch does not see them,
require_stable answers UNSTABLE_OFFSET_COMMIT), a commit marker making them
the group's offsets and an abort dropping them, a plain commit written after
the transaction's offsets winning over them, and the same state after a
clean restart and after kill -9 (loading replays transactional batches and
markers). Markers are written with WriteTxnMarkers sent straight to the
broker, as the transaction coordinator does."""

import kproto
import pytest

from conftest import create_topic, raw_conn, unique_topic
from test_groups_common import GROUP_BROKER

OFFSETS = "__consumer_offsets"
# Raw TxnOffsetCommits without a transaction coordinator: KIP-890
# verification off (test_txn_verify.py tests it).
BROKER = {**GROUP_BROKER, "offsets.topic.num.partitions": 1, "log.flush.interval.messages": 1,
          "transaction.partition.verification.enable": "false"}
def group_ready(b):
    rc = raw_conn(b)
    fc = kproto.find_coordinator(rc, "any")
    assert fc["error_code"] == 0, fc
    return rc


def fetched(rc, group, topic, parts, stable=False):
    """{partition: (offset, error)} by OffsetFetch v7."""
    r = kproto.offset_fetch(rc, group, {topic: parts}, require_stable=stable, version=7)
    assert r["error_code"] == 0, r
    return {p: (r["offsets"][(topic, p)][0], r["offsets"][(topic, p)][3]) for p in parts}


def marker(rc, pid, epoch, commit):
    """The transaction coordinator's marker on the group's offsets partition."""
    errs = kproto.write_txn_markers(rc, [(pid, epoch, commit, 0, {OFFSETS: [0]})], timeout=30)
    assert errs == {(pid, OFFSETS, 0): 0}, errs


def producer_id(rc):
    r = kproto.init_producer_id(rc)
    assert r["error_code"] == 0, r
    return r["producer_id"], r["producer_epoch"]


def test_txn_offset_commit_is_advertised_v0_to_4(broker_factory):
    b = broker_factory(BROKER)
    rc = raw_conn(b)
    assert rc.versions()[kproto.TXN_OFFSET_COMMIT] == (0, 4)


def test_txn_offset_commit_member_checks(broker_factory, request):
    """TG7 (KIP-447): generation, member and static instance are checked when
    given; a group that does not exist is created by a generation -1 commit and
    refused with ILLEGAL_GENERATION otherwise; an unknown topic is
    UNKNOWN_TOPIC_OR_PARTITION. None of the refused commits writes anything."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    rc = group_ready(b)
    pid, ep = 1000, 0
    tc = kproto.txn_offset_commit
    assert tc(rc, "tx", "g-missing", pid, ep, {(t, 0): 5}, generation_id=3, member_id="m") == \
        {(t, 0): kproto.ILLEGAL_GENERATION}
    assert tc(rc, "tx", "g1", pid, ep, {("no-such-topic", 0): 5}) == \
        {("no-such-topic", 0): kproto.UNKNOWN_TOPIC_OR_PARTITION}

    # a static member joins: generation 1
    j = kproto.join_group(rc, "g2", group_instance_id="inst-1", session_timeout_ms=30000)
    if j["error_code"] == kproto.MEMBER_ID_REQUIRED:
        j = kproto.join_group(rc, "g2", member_id=j["member_id"], group_instance_id="inst-1")
    assert j["error_code"] == 0, j
    mid, gen = j["member_id"], j["generation_id"]
    assert tc(rc, "tx", "g2", pid, ep, {(t, 0): 5}, generation_id=gen, member_id="other",
              group_instance_id=None) == {(t, 0): kproto.UNKNOWN_MEMBER_ID}
    assert tc(rc, "tx", "g2", pid, ep, {(t, 0): 5}, generation_id=gen + 1, member_id=mid,
              group_instance_id="inst-1") == {(t, 0): kproto.ILLEGAL_GENERATION}
    assert tc(rc, "tx", "g2", pid, ep, {(t, 0): 5}, generation_id=gen, member_id="zombie",
              group_instance_id="inst-1") == {(t, 0): kproto.FENCED_INSTANCE_ID}
    assert fetched(rc, "g2", t, [0]) == {0: (-1, 0)}


def test_pending_until_marker_commit_abort_and_order(broker_factory, request):
    """TG1-TG3, TG6: pending offsets are invisible, require_stable says
    UNSTABLE_OFFSET_COMMIT; a commit marker applies them, an abort drops them;
    a plain commit appended after the transaction's offsets wins over them."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 3)
    rc = group_ready(b)
    g = "g-txn"
    p1, e1 = producer_id(rc)
    tc = kproto.txn_offset_commit
    # transaction 1 commits offsets for partitions 0 and 1
    assert tc(rc, "tx-1", g, p1, e1, {(t, 0): 10, (t, 1): (11, "m1")}) == {(t, 0): 0, (t, 1): 0}
    assert fetched(rc, g, t, [0, 1]) == {0: (-1, 0), 1: (-1, 0)}
    assert fetched(rc, g, t, [0, 1, 2], stable=True) == {
        0: (-1, kproto.UNSTABLE_OFFSET_COMMIT), 1: (-1, kproto.UNSTABLE_OFFSET_COMMIT), 2: (-1, 0)}
    marker(rc, p1, e1, commit=True)
    assert fetched(rc, g, t, [0, 1], stable=True) == {0: (10, 0), 1: (11, 0)}
    r = kproto.offset_fetch(rc, g, {t: [1]}, version=7)
    assert r["offsets"][(t, 1)][2] == "m1"

    # transaction 2 (another producer) is aborted: nothing changes
    p2, e2 = producer_id(rc)
    assert tc(rc, "tx-2", g, p2, e2, {(t, 0): 20}) == {(t, 0): 0}
    assert fetched(rc, g, t, [0], stable=True) == {0: (-1, kproto.UNSTABLE_OFFSET_COMMIT)}
    marker(rc, p2, e2, commit=False)
    assert fetched(rc, g, t, [0], stable=True) == {0: (10, 0)}

    # transaction 3 writes 30, then a plain commit writes 40, then 3 commits:
    # the plain commit was appended later and stays (TG2)
    p3, e3 = producer_id(rc)
    assert tc(rc, "tx-3", g, p3, e3, {(t, 0): 30, (t, 2): 32}) == {(t, 0): 0, (t, 2): 0}
    assert kproto.offset_commit(rc, g, {(t, 0): 40}) == {(t, 0): 0}
    assert fetched(rc, g, t, [0]) == {0: (40, 0)}
    marker(rc, p3, e3, commit=True)
    assert fetched(rc, g, t, [0, 1, 2], stable=True) == {0: (40, 0), 1: (11, 0), 2: (32, 0)}

    # a marker for a producer with nothing pending here changes nothing
    marker(rc, p2, e2, commit=True)
    assert fetched(rc, g, t, [0, 1, 2]) == {0: (40, 0), 1: (11, 0), 2: (32, 0)}


@pytest.mark.parametrize("how", ["clean", "kill9"])
def test_reload_replays_transactions(broker_factory, request, how):
    """TG5: after a restart, committed transactions' offsets are there, aborted
    ones are not, a plain commit after a transaction's offsets still wins, and
    a transaction still open stays pending until its marker."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 3)
    rc = group_ready(b)
    g = "g-reload"
    tc = kproto.txn_offset_commit
    p1, e1 = producer_id(rc)
    p2, e2 = producer_id(rc)
    p3, e3 = producer_id(rc)
    p4, e4 = producer_id(rc)
    assert tc(rc, "tx-1", g, p1, e1, {(t, 0): 10}) == {(t, 0): 0}
    marker(rc, p1, e1, commit=True)
    assert tc(rc, "tx-2", g, p2, e2, {(t, 0): 20, (t, 1): 21}) == {(t, 0): 0, (t, 1): 0}
    marker(rc, p2, e2, commit=False)
    assert tc(rc, "tx-3", g, p3, e3, {(t, 1): 31}) == {(t, 1): 0}
    assert kproto.offset_commit(rc, g, {(t, 1): 41}) == {(t, 1): 0}
    marker(rc, p3, e3, commit=True)
    assert tc(rc, "tx-4", g, p4, e4, {(t, 2): 52}) == {(t, 2): 0}      # left open
    want = {0: (10, 0), 1: (41, 0), 2: (-1, 0)}
    assert fetched(rc, g, t, [0, 1, 2]) == want
    rc.close()

    if how == "kill9":
        b.kill9()
        b.start()
    else:
        b.restart()
    rc = group_ready(b)
    assert fetched(rc, g, t, [0, 1, 2]) == want
    assert fetched(rc, g, t, [2], stable=True) == {2: (-1, kproto.UNSTABLE_OFFSET_COMMIT)}
    marker(rc, p4, e4, commit=True)
    assert fetched(rc, g, t, [0, 1, 2], stable=True) == {0: (10, 0), 1: (41, 0), 2: (52, 0)}


def test_delete_group_drops_pending_offsets(broker_factory, request):
    """TG6: an Empty group with an open transaction's offsets can be deleted;
    the pending offsets go with it (tombstones), and neither the later commit
    marker nor a restart brings them back."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    rc = group_ready(b)
    g = "g-del"
    p1, e1 = producer_id(rc)
    assert kproto.txn_offset_commit(rc, "tx-d", g, p1, e1, {(t, 0): 7}) == {(t, 0): 0}
    assert kproto.delete_groups(rc, [g]) == {g: 0}
    marker(rc, p1, e1, commit=True)
    assert fetched(rc, g, t, [0], stable=True) == {0: (-1, 0)}
    rc.close()
    b.restart()
    rc = group_ready(b)
    assert fetched(rc, g, t, [0], stable=True) == {0: (-1, 0)}


def test_confluent_send_offsets_commit_and_abort(broker_factory, request):
    """A confluent-kafka consume-transform-produce step with a consumer group
    (KIP-447: the group's generation and member id travel in TxnOffsetCommit
    v3): the offsets of a committed transaction become the group's, those of
    an aborted one do not, and a read_committed consumer of the group resumes
    from the committed ones."""
    import confluent_kafka as ck
    from conftest import produce_all, producer, wait_until

    # a real client with a real coordinator: KIP-890 verification on (Kafka's default)
    b = broker_factory({**BROKER, "transaction.partition.verification.enable": "true"})
    bs, src, dst, g = b.bootstrap, unique_topic(request), unique_topic(request, "-out"), "g-eos"
    create_topic(bs, src, 1)
    create_topic(bs, dst, 1)
    produce_all(producer(bs), src, [{"value": b"in-%d" % i} for i in range(10)])

    c = ck.Consumer({"bootstrap.servers": bs, "group.id": g, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    p = ck.Producer({"bootstrap.servers": bs, "transactional.id": "eos-1",
                     "transaction.timeout.ms": 30000})
    try:
        c.subscribe([src])
        p.init_transactions(30)

        def step(n, commit):
            got = []
            wait_until(lambda: got.extend(m for m in c.consume(n - len(got), 1) if not m.error())
                       or len(got) >= n, 30, desc=f"{n} input messages")
            p.begin_transaction()
            for m in got:
                p.produce(dst, value=m.value().replace(b"in", b"out"))
            p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
            (p.commit_transaction if commit else p.abort_transaction)(30)
            return got[-1].offset() + 1

        assert step(4, True) == 4
        rc = raw_conn(b)
        # EndTxn is answered once PrepareCommit is written; the markers follow,
        # and until the group's is written its offsets are pending (TG6)
        stable = lambda: fetched(rc, g, src, [0], stable=True)  # noqa: E731
        wait_until(lambda: stable()[0][1] != kproto.UNSTABLE_OFFSET_COMMIT, 10, interval=0.05,
                   desc="the commit marker on the group's partition")
        assert stable() == {0: (4, 0)}
        assert step(3, False) == 7
        wait_until(lambda: stable()[0][1] != kproto.UNSTABLE_OFFSET_COMMIT, 10, interval=0.05,
                   desc="the abort marker on the group's partition")
        assert stable() == {0: (4, 0)}
    finally:
        c.close()
    # a new member of the group starts at the committed 4
    c2 = ck.Consumer({"bootstrap.servers": bs, "group.id": g, "auto.offset.reset": "earliest",
                      "isolation.level": "read_committed"})
    try:
        c2.subscribe([src])
        first = []
        wait_until(lambda: first.extend(m for m in c2.consume(1, 1) if not m.error()) or first,
                   30, desc="the first message after the committed offset")
        assert first[0].offset() == 4, first[0].offset()
    finally:
        c2.close()


def test_stale_producer_epoch_is_refused_and_keeps_nothing(broker_factory, request):
    """TG3: the offsets partition checks the producer epoch of a
    TxnOffsetCommit's batch (plog_append_coordinator): after a marker with
    epoch 3, an epoch-2 commit is refused with INVALID_PRODUCER_EPOCH and
    leaves nothing pending; epoch 3 is accepted."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    rc = group_ready(b)
    g = "g-epoch"
    pid, _ = producer_id(rc)
    assert kproto.txn_offset_commit(rc, "tx-e", g, pid, 3, {(t, 0): 1}) == {(t, 0): 0}
    marker(rc, pid, 3, commit=True)
    assert kproto.txn_offset_commit(rc, "tx-e", g, pid, 2, {(t, 0): 2}) == \
        {(t, 0): kproto.INVALID_PRODUCER_EPOCH}
    assert fetched(rc, g, t, [0], stable=True) == {0: (1, 0)}
    assert kproto.txn_offset_commit(rc, "tx-e", g, pid, 3, {(t, 0): 3}) == {(t, 0): 0}
    marker(rc, pid, 3, commit=True)
    assert fetched(rc, g, t, [0], stable=True) == {0: (3, 0)}


def test_pending_offsets_move_with_the_partition(broker_factory, request):
    """TG4, TG5 through a leadership change (LeaderAndIsr test hook): pending
    offsets are dropped with the partition when another broker leads it, come
    back pending when it is elected here again (loaded from the log), and the
    marker then commits them."""
    from test_groups_coordinator_moves import ME, OTHER, groups_on, lisr, start
    from conftest import free_port, wait_until

    b, t = start(broker_factory, request, {"transaction.partition.verification.enable": "false"})
    part = 1
    g = groups_on("txn-moving", part, 1)[0]
    port2 = free_port()
    with raw_conn(b) as c:
        pid, ep = producer_id(c)
        assert kproto.txn_offset_commit(c, "tx-m", g, pid, ep, {(t, 0): 17}) == {(t, 0): 0}
        lisr(c, part, OTHER, 1, [OTHER, ME], live=[(OTHER, "127.0.0.1", port2)])
        r = kproto.offset_fetch(c, g, {t: [0]}, require_stable=True, version=7)
        assert r["error_code"] == kproto.NOT_COORDINATOR, r
        lisr(c, part, ME, 2, [ME, OTHER], [ME], live=[(OTHER, "127.0.0.1", port2)])

        def loaded():
            r = kproto.offset_fetch(c, g, {t: [0]}, require_stable=True, version=7)
            return r if r["error_code"] == 0 else None
        r = wait_until(loaded, 10, interval=0.05, desc="the partition loaded again")
        assert r["offsets"][(t, 0)][0] == -1 and r["offsets"][(t, 0)][3] == kproto.UNSTABLE_OFFSET_COMMIT, r
        errs = kproto.write_txn_markers(c, [(pid, ep, True, 0, {OFFSETS: [part]})], timeout=30)
        assert errs == {(pid, OFFSETS, part): 0}, errs
        r = kproto.offset_fetch(c, g, {t: [0]}, require_stable=True, version=7)
        assert (r["error_code"], r["offsets"][(t, 0)][0], r["offsets"][(t, 0)][3]) == (0, 17, 0), r


def test_offset_delete_drops_pending_offsets_live_as_on_reload(broker_factory, request):
    """TG5: an OffsetDelete tombstone written while a transaction has an
    offset pending for the same partition ends that pending offset, live as a
    reload would (Kafka replays the tombstone), so the commit marker brings
    back nothing, before and after a restart."""
    b = broker_factory(BROKER)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1)
    rc = group_ready(b)
    g = "g-odel"
    assert kproto.offset_commit(rc, g, {(t, 0): 5}) == {(t, 0): 0}
    pid, ep = producer_id(rc)
    assert kproto.txn_offset_commit(rc, "tx-o", g, pid, ep, {(t, 0): 9}) == {(t, 0): 0}
    r = kproto.offset_delete(rc, g, {t: [0]})
    assert r["error_code"] == 0, r
    marker(rc, pid, ep, commit=True)
    assert fetched(rc, g, t, [0], stable=True) == {0: (-1, 0)}
    rc.close()
    b.restart()
    rc = group_ready(b)
    assert fetched(rc, g, t, [0], stable=True) == {0: (-1, 0)}
