"""KIP-890 part 1 (issue 16, txn-verify): the partition leader asks the
transaction coordinator (AddPartitionsToTxn v4 verify_only) before a
transactional batch opens a producer's transaction on a partition, and the
group coordinator does the same before a TxnOffsetCommit.  Raw requests
against one broker (a shared one per module), plus the config switched off.

Run: SAMSA_TEST_PORT_BASE=30500 /usr/bin/python3 -m pytest tests/integration/test_txn_verify.py"""

import pytest

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401 (fixtures)
from conftest import broker_factory, create_topic, wait_until  # noqa: F401 (fixture)
from test_cli_txn import target  # noqa: F401  (the kafka/samsa fixture)
from test_txn_coord import (BROKER, INVALID_TXN_STATE, TRANSACTION_ABORTABLE, add_offsets, add_partitions, end_txn,
                            ensure_coordinator, init_pid, make_topic, wait_state)
from test_txn_coord import tb as vb  # noqa: F401 (the same module-scoped broker fixture)
from test_txn_coord_cluster import start_cluster

TXN = 0x10
NOT_ENOUGH_REPLICAS = 19


def txn_batch(pid, epoch, seq, values):
    return kproto.record_batch(values, producer_id=pid, producer_epoch=epoch, base_sequence=seq, attributes=TXN)


def ends(c, t, p=0):
    """(high watermark, last stable offset) of t-p."""
    r = kproto.fetch(c, t, p, 0, max_wait_ms=0, isolation=1)
    assert r["error_code"] == 0, r
    return r["high_watermark"], r["last_stable_offset"]


def started(c, tid):
    ensure_coordinator(c, tid)
    ip = init_pid(c, tid)
    assert ip["error_code"] == 0, ip
    return ip["producer_id"], ip["producer_epoch"]


def open_txn(c, tid, t):
    """A transaction with t-0 added and one batch written: (pid, epoch)."""
    pid, epoch = started(c, tid)
    assert add_partitions(c, tid, pid, epoch, {t: [0]}) == {(t, 0): 0}
    r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 0, [b"a"]), transactional_id=tid)
    assert r["error_code"] == 0, r
    return pid, epoch, r["base_offset"]


def test_produce_to_partition_not_added_is_refused(vb):
    t = "tv-not-added"
    make_topic(vb, t, parts=2)
    tid = "tv-1"
    with kproto.Conn("127.0.0.1", vb.port) as c:
        pid, epoch = started(c, tid)
        before = ends(c, t)
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=9)
        assert r["error_code"] == INVALID_TXN_STATE, r
        assert ends(c, t) == before, "nothing may be written"
        # v11 clients understand TRANSACTION_ABORTABLE (Kafka's genericErrorSupported)
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=11)
        assert r["error_code"] == TRANSACTION_ABORTABLE, r
        assert ends(c, t) == before
        # a plain (idempotent) batch is not verified
        r = kproto.produce(c, t, 1, kproto.record_batch([b"plain"], producer_id=pid, producer_epoch=epoch,
                                                         base_sequence=0), transactional_id=tid)
        assert r["error_code"] == 0, r
        # once added, the same batch opens the transaction; the next one needs no verification
        pid, epoch, first = open_txn(c, tid, t)
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 1, [b"b"]), transactional_id=tid)
        assert r["error_code"] == 0, r
        hw, lso = ends(c, t)
        assert hw == first + 2 and lso == first, (hw, lso)
        assert end_txn(c, tid, pid, epoch, True) == 0
        wait_state(c, tid, ["CompleteCommit"])
        wait_until(lambda: ends(c, t)[1] == ends(c, t)[0], 10, desc="LSO past the commit marker")


def test_produce_after_abort_with_old_epoch_is_refused(vb):
    t = "tv-after-abort"
    make_topic(vb, t, parts=1)
    tid = "tv-2"
    with kproto.Conn("127.0.0.1", vb.port) as c:
        pid, epoch, _ = open_txn(c, tid, t)
        assert end_txn(c, tid, pid, epoch, False) == 0
        wait_state(c, tid, ["CompleteAbort"])
        wait_until(lambda: ends(c, t)[1] == ends(c, t)[0], 10, desc="abort marker written")
        before = ends(c, t)
        # a late (retried) batch of the aborted transaction: same producer id and epoch
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 1, [b"late"]), transactional_id=tid, version=9)
        assert r["error_code"] == INVALID_TXN_STATE, r
        assert ends(c, t) == before, "the late batch must not reopen a transaction (LSO stuck)"


def test_produce_without_coordinator_is_retriable(vb):
    """No __transaction_state partition leader for the id (the topic exists but
    the id was never initialised is fine; here an unknown producer id):
    the coordinator answers INVALID_PRODUCER_ID_MAPPING, passed on."""
    t = "tv-unknown-pid"
    make_topic(vb, t, parts=1)
    with kproto.Conn("127.0.0.1", vb.port) as c:
        ensure_coordinator(c, "tv-nobody")
        r = kproto.produce(c, t, 0, txn_batch(987654, 0, 0, [b"x"]), transactional_id="tv-nobody", version=9)
        assert r["error_code"] == 49, r        # INVALID_PRODUCER_ID_MAPPING
        assert ends(c, t) == (0, 0)


def test_verification_off_restores_old_behaviour(broker_factory):
    """transaction.partition.verification.enable is dynamic (per broker, as
    Kafka's): switched off, the batch opens a transaction no marker closes."""
    b = broker_factory(overrides=BROKER)
    t = "tv-off"
    make_topic(b, t, parts=2)
    tid = "tv-3"
    key = "transaction.partition.verification.enable"
    with kproto.Conn("127.0.0.1", b.port) as c:
        pid, epoch = started(c, tid)
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=9)
        assert r["error_code"] == INVALID_TXN_STATE, r
        assert kproto.incremental_alter_configs(c, kproto.RESOURCE_BROKER, "0", [(key, kproto.OP_SET, "false")])[0] == 0
        r = kproto.produce(c, t, 0, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=9)
        assert r["error_code"] == 0, r
        assert ends(c, t) == (1, 0), "the old behaviour: a transaction no marker closes"
        assert kproto.incremental_alter_configs(c, kproto.RESOURCE_BROKER, "0", [(key, kproto.OP_DELETE, "")])[0] == 0
        r = kproto.produce(c, t, 1, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=9)
        assert r["error_code"] == INVALID_TXN_STATE, r

def test_txn_offset_commit_without_add_offsets_is_refused(vb):
    """Kafka 4.4: INVALID_TXN_STATE (v4, which knows TRANSACTION_ABORTABLE: that),
    nothing pending; after AddOffsetsToTxn the same commit is accepted."""
    t = "tv-offsets"
    make_topic(vb, t, parts=1)
    tid, g = "tv-4", "tv-group"
    with kproto.Conn("127.0.0.1", vb.port) as c:
        wait_until(lambda: kproto.find_coordinator(c, g)["error_code"] == 0, 10, desc="group coordinator")
        pid, epoch = started(c, tid)
        tc = kproto.txn_offset_commit
        assert tc(c, tid, g, pid, epoch, {(t, 0): 5}, version=3) == {(t, 0): INVALID_TXN_STATE}
        assert tc(c, tid, g, pid, epoch, {(t, 0): 5}, version=4) == {(t, 0): TRANSACTION_ABORTABLE}
        r = kproto.offset_fetch(c, g, {t: [0]}, require_stable=True, version=7)
        assert r["offsets"][(t, 0)][3] == 0, "nothing may be pending: %r" % (r,)
        assert add_offsets(c, tid, pid, epoch, g) == 0
        assert tc(c, tid, g, pid, epoch, {(t, 0): 5}, version=3) == {(t, 0): 0}
        assert end_txn(c, tid, pid, epoch, True) == 0
        wait_until(lambda: kproto.offset_fetch(c, g, {t: [0]}, require_stable=True, version=7)
                   ["offsets"][(t, 0)][:1] == (5,), 10, desc="the committed offset")


def test_verification_with_the_coordinator_on_another_broker(cluster_factory, request):
    """3 brokers (ZooKeeper): the partition's leader asks the coordinator of the
    id on another broker, over the wire."""
    c, t, tid, coord = start_cluster(cluster_factory, request, 3, 1)
    part = next(p for p in range(3) if c.leader_of(t, p) != coord)
    lb = c.brokers[c.leader_of(t, part)]
    cb = c.brokers[coord]
    with kproto.Conn(cb.host, cb.port) as cc, kproto.Conn(lb.host, lb.port) as lc:
        pid, epoch = started(cc, tid)
        r = kproto.produce(lc, t, part, txn_batch(pid, epoch, 0, [b"hang"]), transactional_id=tid, version=9)
        assert r["error_code"] == INVALID_TXN_STATE, r
        assert ends(lc, t, part) == (0, 0)
        assert add_partitions(cc, tid, pid, epoch, {t: [part]}) == {(t, part): 0}
        r = kproto.produce(lc, t, part, txn_batch(pid, epoch, 0, [b"a"]), transactional_id=tid, version=9)
        assert r["error_code"] == 0, r
        assert ends(lc, t, part) == (1, 0)
        assert end_txn(cc, tid, pid, epoch, True) == 0
        wait_until(lambda: ends(lc, t, part) == (2, 2), 30, desc="the commit marker")


def test_answers_match_kafka(target):  # noqa: F811
    """The same raw requests to Apache Kafka 4.4 and to Samsa: the answers are
    Kafka's (the expected values were read from the KafkaPeer)."""
    bs = target.bootstrap
    create_topic(bs, "tvk", 2)
    c = kproto.Conn(target.host, target.port, timeout=20)
    tid, g = "tvk-1", "tvk-group"
    ensure_coordinator(c, tid)
    wait_until(lambda: kproto.find_coordinator(c, g)["error_code"] == 0, 30, interval=0.1, desc="group coordinator")
    ip = {}
    wait_until(lambda: ip.update(init_pid(c, tid)) or ip["error_code"] == 0, 30, interval=0.1, desc="InitProducerId")
    pid, ep = ip["producer_id"], ip["producer_epoch"]
    got = {}

    def produce(name, p, seq, version):
        r = kproto.produce(c, "tvk", p, txn_batch(pid, ep, seq, [b"x"]), transactional_id=tid, version=version)
        got[name] = r["error_code"]
    produce("not-added-v9", 0, 0, 9)
    produce("not-added-v11", 0, 0, 11)
    tc = kproto.txn_offset_commit
    got["offsets-not-added-v3"] = tc(c, tid, g, pid, ep, {("tvk", 0): 5}, version=3)[("tvk", 0)]
    got["offsets-not-added-v4"] = tc(c, tid, g, pid, ep, {("tvk", 0): 5}, version=4)[("tvk", 0)]
    got["add"] = add_partitions(c, tid, pid, ep, {"tvk": [0]})[("tvk", 0)]
    produce("added", 0, 0, 9)
    produce("still-not-added-p1", 1, 0, 9)
    got["add-offsets"] = add_offsets(c, tid, pid, ep, g)
    got["offsets-added"] = tc(c, tid, g, pid, ep, {("tvk", 0): 5}, version=3)[("tvk", 0)]
    got["abort"] = end_txn(c, tid, pid, ep, False)
    wait_state(c, tid, ["CompleteAbort"], timeout=30)
    produce("late-after-abort", 0, 1, 9)
    r = kproto.produce(c, "tvk", 1, txn_batch(pid + 1000, 0, 0, [b"x"]), transactional_id=tid, version=9)
    got["unknown-producer"] = r["error_code"]
    c.close()
    assert got == {"not-added-v9": INVALID_TXN_STATE, "not-added-v11": TRANSACTION_ABORTABLE,
                   "offsets-not-added-v3": INVALID_TXN_STATE, "offsets-not-added-v4": TRANSACTION_ABORTABLE,
                   "add": 0, "added": 0, "still-not-added-p1": INVALID_TXN_STATE, "add-offsets": 0,
                   "offsets-added": 0, "abort": 0, "late-after-abort": INVALID_TXN_STATE,
                   "unknown-producer": 49}, got
