"""Transactions, partition side (issue 16, txn-log), without a transaction
coordinator: raw transactional produce with a producer id from
InitProducerId, markers written with WriteTxnMarkers (key 27) as the
coordinator would, then read_committed vs read_uncommitted Fetch (LSO,
aborted transactions), ListOffsets isolation, DescribeProducers (key 61),
the marker error codes, and recovery of .txnindex after kill -9."""

import struct

import pytest

import kproto
from conftest import create_topic, raw_conn, unique_topic, wait_until

TXN = 0x10
# No coordinator here: KIP-890 verification off (test_txn_verify.py tests it).
NO_VERIFY = {"transaction.partition.verification.enable": "false"}


@pytest.fixture
def broker(broker_factory):
    return broker_factory(overrides=NO_VERIFY)
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
LATEST = kproto.LATEST_TIMESTAMP


def txn_batch(pid, epoch, seq, values):
    return kproto.record_batch(values, producer_id=pid, producer_epoch=epoch,
                               base_sequence=seq, attributes=TXN)


def produce_ok(c, t, batch, txn_id="tx-1"):
    r = kproto.produce(c, t, 0, batch, transactional_id=txn_id)
    assert r["error_code"] == 0, r
    return r["base_offset"]


def values(fetch_res, committed_view=False):
    """Record values of a fetch; with committed_view, drop the records of the
    aborted transactions the response lists, as a read_committed client
    does (KIP-98: from each listed first offset to that producer's abort
    marker)."""
    recs = kproto.parse_records(fetch_res["records"])
    if not committed_view:
        return [r["value"] for r in recs]
    aborted = sorted(fetch_res["aborted"] or [], key=lambda a: a[1])
    # abort markers in the data: (producer id, offset)
    markers = []
    for _pos, base, _total, h in kproto.parse_batch_headers(fetch_res["records"]):
        if h["attributes"] & 0x20:
            markers.append((h["producer_id"], base))
    out = []
    for r in recs:
        pid = r["batch"]["producer_id"]
        dropped = False
        for apid, first in aborted:
            if apid == pid and r["offset"] >= first:
                end = min((o for p, o in markers if p == pid and o > first), default=1 << 62)
                if r["offset"] < end:
                    dropped = True
        if not dropped:
            out.append(r["value"])
    return out


def fetch_all(c, t, isolation=0):
    """Fetch from 0 to the end (one segment per response), merged into one
    response-like dict: records concatenated, aborted lists joined."""
    out = {"records": b"", "aborted": [] if isolation else None}
    off = 0
    while True:
        r = kproto.fetch(c, t, 0, off, max_wait_ms=0, isolation=isolation)
        assert r["error_code"] == 0, r
        end = r["last_stable_offset"] if isolation else r["high_watermark"]
        heads = list(kproto.parse_batch_headers(r["records"]))
        if not heads:
            out["end"] = end
            return out
        out["records"] += r["records"][:heads[-1][0] + heads[-1][2]]
        if isolation:
            out["aborted"] += [a for a in r["aborted"] if a not in out["aborted"]]
        off = heads[-1][1] + heads[-1][3]["last_offset_delta"] + 1


def marker_type(fetch_res, offset):
    """(type, coordinator epoch) of the control batch at offset."""
    data = fetch_res["records"]
    for pos, base, total, h in kproto.parse_batch_headers(data):
        if base == offset:
            assert h["attributes"] == 0x30, h          # control | transactional
            assert h["base_sequence"] == -1 and h["count"] == 1, h
            r = kproto.R(data[pos + 61:pos + total])
            r.varint()
            r.i8()
            r.varint()
            r.varint()
            key = r._take(r.varint())
            val = r._take(r.varint())
            kv, ktype = struct.unpack(">hh", key)
            vv, ce = struct.unpack(">hi", val)
            assert kv == 0 and vv == 0
            return ktype, ce
    raise AssertionError(f"no batch at {offset}")


def test_txn_log_markers_lso_and_read_committed(broker, request):
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    with raw_conn(broker) as c:
        ip = kproto.init_producer_id(c)
        assert ip["error_code"] == 0, ip
        pid, ep = ip["producer_id"], ip["producer_epoch"]
        assert produce_ok(c, t, kproto.record_batch([b"plain"]), txn_id=None) == 0
        assert produce_ok(c, t, txn_batch(pid, ep, 0, [b"a0", b"a1"])) == 1

        # transactional records need a transactional id (Kafka's KafkaApis)
        r = kproto.produce(c, t, 0, txn_batch(pid, ep, 2, [b"x"]))
        assert r["error_code"] == TRANSACTIONAL_ID_AUTHORIZATION_FAILED, r
        # TL4: a non-transactional batch while the transaction is open
        r = kproto.produce(c, t, 0, kproto.record_batch([b"x"], producer_id=pid,
                                                        producer_epoch=ep, base_sequence=2))
        assert r["error_code"] == kproto.INVALID_TXN_STATE, r

        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        ru = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert rc["error_code"] == 0 and ru["error_code"] == 0
        assert rc["high_watermark"] == 3 and rc["last_stable_offset"] == 1, rc
        assert values(rc) == [b"plain"]
        assert values(ru) == [b"plain", b"a0", b"a1"]
        assert rc["aborted"] == []
        assert kproto.list_offsets(c, t, 0, LATEST, isolation=1)["offset"] == 1
        assert kproto.list_offsets(c, t, 0, LATEST)["offset"] == 3

        dp = kproto.describe_producers(c, t, [0, 7])
        assert dp[7][0] == kproto.UNKNOWN_TOPIC_OR_PARTITION
        err, prods = dp[0]
        assert err == 0
        mine = [p for p in prods if p["producer_id"] == pid]
        assert len(mine) == 1 and mine[0]["current_txn_start_offset"] == 1, prods
        assert mine[0]["last_sequence"] == 1 and mine[0]["producer_epoch"] == ep

        # abort: marker at 3, LSO 4, the aborted list names the transaction
        res = kproto.write_txn_markers(c, [(pid, ep, False, 5, {t: [0, 9]})])
        assert res == {(pid, t, 0): 0, (pid, t, 9): kproto.UNKNOWN_TOPIC_OR_PARTITION}, res
        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        assert rc["last_stable_offset"] == 4 and rc["high_watermark"] == 4, rc
        assert rc["aborted"] == [(pid, 1)], rc
        assert values(rc, committed_view=True) == [b"plain"]
        assert marker_type(rc, 3) == (0, 5)
        # read_uncommitted: no aborted list (null), all the data
        ru = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert ru["aborted"] is None and values(ru) == [b"plain", b"a0", b"a1"]

        # a committed transaction: visible, and not in the aborted list
        assert produce_ok(c, t, txn_batch(pid, ep, 2, [b"b0"])) == 4
        assert kproto.list_offsets(c, t, 0, LATEST, isolation=1)["offset"] == 4
        res = kproto.write_txn_markers(c, [(pid, ep, True, 5, {t: [0]})])
        assert res == {(pid, t, 0): 0}
        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        assert rc["last_stable_offset"] == 6
        assert rc["aborted"] == [(pid, 1)]
        assert values(rc, committed_view=True) == [b"plain", b"b0"]
        assert marker_type(rc, 5) == (1, 5)
        rc = kproto.fetch(c, t, 0, 4, max_wait_ms=0, isolation=1)
        assert rc["aborted"] == [], rc                      # the range after the abort
        dp = kproto.describe_producers(c, t, [0])
        mine = [p for p in dp[0][1] if p["producer_id"] == pid][0]
        assert mine["current_txn_start_offset"] == -1 and mine["coordinator_epoch"] == 5

        # fencing: an older coordinator epoch, an older producer epoch
        res = kproto.write_txn_markers(c, [(pid, ep, True, 4, {t: [0]})])
        assert res[(pid, t, 0)] == kproto.TRANSACTION_COORDINATOR_FENCED, res
        assert produce_ok(c, t, txn_batch(pid, ep + 1, 0, [b"c0"])) == 6   # epoch bump
        res = kproto.write_txn_markers(c, [(pid, ep, True, 5, {t: [0]})])
        assert res[(pid, t, 0)] == kproto.INVALID_PRODUCER_EPOCH, res
        assert kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)["last_stable_offset"] == 6

    # crash with the transaction of epoch ep+1 open and the .txnindex gone:
    # recovery rebuilds it, the snapshot-less replay reopens the transaction
    broker.kill9()
    txi = broker.partition_dir(t, 0) / ("0" * 20 + ".txnindex")
    assert txi.stat().st_size == 34
    txi.unlink()
    broker.start()
    assert txi.exists() and txi.stat().st_size == 34
    with raw_conn(broker) as c:
        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        assert rc["aborted"] == [(pid, 1)], rc
        assert rc["last_stable_offset"] == 6 and rc["high_watermark"] == 7, rc
        res = kproto.write_txn_markers(c, [(pid, ep + 1, False, 5, {t: [0]})])
        assert res == {(pid, t, 0): 0}
        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        assert rc["last_stable_offset"] == 8
        assert sorted(rc["aborted"]) == [(pid, 1), (pid, 6)], rc
        assert values(rc, committed_view=True) == [b"plain", b"b0"]
    assert txi.stat().st_size == 68


def test_txn_log_read_committed_long_poll_wakes_on_marker(broker, request):
    """A read_committed fetch parked at the LSO is answered when the marker
    moves the LSO, not at its max wait."""
    import threading
    import time
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    with raw_conn(broker) as c, raw_conn(broker) as c2:
        ip = kproto.init_producer_id(c)
        pid, ep = ip["producer_id"], ip["producer_epoch"]
        assert produce_ok(c, t, txn_batch(pid, ep, 0, [b"a0"])) == 0
        out = {}

        def poll():
            t0 = time.monotonic()
            out["r"] = kproto.fetch(c2, t, 0, 0, max_wait_ms=20000, isolation=1)
            out["s"] = time.monotonic() - t0
        th = threading.Thread(target=poll)
        th.start()
        # Let the fetch park (nothing below the LSO).  Not a correctness
        # wait: were the marker first, the fetch would be answered at once
        # and every assertion below would still hold.
        time.sleep(0.3)
        assert kproto.write_txn_markers(c, [(pid, ep, True, 0, {t: [0]})]) == {(pid, t, 0): 0}
        th.join(15)
        assert not th.is_alive()
        assert out["s"] < 10, out
        assert out["r"]["last_stable_offset"] == 2
        assert values(out["r"]) == [b"a0"]


def test_txn_log_compaction_drops_aborted_keeps_committed(broker_factory, request):
    """The broker's cleaner on a compacted topic: records of an aborted
    transaction go (and never shadow an older committed value of their
    key), committed ones and their markers stay, and read_committed still
    sees exactly the committed values."""
    b = broker_factory({"log.cleaner.backoff.ms": 50, **NO_VERIFY})
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 1, config={"cleanup.policy": "compact", "segment.bytes": "100",
                                            "min.cleanable.dirty.ratio": "0.01"})
    with raw_conn(b) as c:
        ip = kproto.init_producer_id(c)
        pid, ep = ip["producer_id"], ip["producer_epoch"]

        def kv(key, val, seq=None, txn=False):
            batch = kproto.record_batch([val], keys=[key], producer_id=pid if seq is not None else -1,
                                        producer_epoch=ep if seq is not None else -1,
                                        base_sequence=seq if seq is not None else -1,
                                        attributes=TXN if txn else 0)
            return produce_ok(c, t, batch, txn_id="tx-c" if txn else None)

        assert kv(b"k1", b"old") == 0
        assert kv(b"k1", b"aborted", seq=0, txn=True) == 1
        assert kproto.write_txn_markers(c, [(pid, ep, False, 0, {t: [0]})]) == {(pid, t, 0): 0}
        assert kv(b"k2", b"committed", seq=1, txn=True) == 3
        assert kproto.write_txn_markers(c, [(pid, ep, True, 0, {t: [0]})]) == {(pid, t, 0): 0}
        for i in range(4):                           # dirty data above the transactions
            kv(b"k3", b"x%d" % i)

        before = fetch_all(c, t)
        assert [r["offset"] for r in kproto.parse_records(before["records"])][:3] == [0, 1, 3]

        def cleaned():
            ru = fetch_all(c, t)
            offs = [r["offset"] for r in kproto.parse_records(ru["records"])]
            return ru if 1 not in offs and offs[:1] == [0] else None
        ru = wait_until(cleaned, 30, desc="the cleaner dropped the aborted record")
        recs = kproto.parse_records(ru["records"])
        assert [(r["offset"], r["value"]) for r in recs][:2] == [(0, b"old"), (3, b"committed")], recs
        markers = [base for _p, base, _t, h in kproto.parse_batch_headers(ru["records"])
                   if h["attributes"] & 0x20]
        # kept: commit (its data remains), abort (until delete.retention.ms, 24 h,
        # after a pass that finds its transaction empty)
        assert markers[:2] == [2, 4], markers
        rc = fetch_all(c, t, isolation=1)
        got = values(rc, committed_view=True)
        assert got[:2] == [b"old", b"committed"], got
