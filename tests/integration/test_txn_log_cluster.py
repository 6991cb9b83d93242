"""Transactions, partition side, in a 3-broker ZooKeeper cluster (issue 16,
txn-log): markers written by WriteTxnMarkers on the leader reach the
followers byte for byte with their .txnindex, a marker sent to a follower
is NOT_LEADER_OR_FOLLOWER, and after the leader dies the new leader serves
read_committed with the same LSO and aborted list."""

import pytest

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401 (fixtures)
from conftest import unique_topic, wait_until
from test_txn_log import NO_VERIFY, txn_batch, values


@pytest.fixture
def cluster(cluster_factory):
    """No transaction coordinator involved: KIP-890 verification off."""
    return cluster_factory(overrides=NO_VERIFY)


def conn(cluster, i):
    return kproto.Conn("127.0.0.1", cluster.broker_port(i))


def files(cluster, i, t):
    d = cluster.brokers[i].partition_dir(t, 0)
    return {p.name: p.read_bytes() for p in d.iterdir()
            if p.suffix in (".log", ".txnindex") and p.stat().st_size > 0}


def test_txn_log_markers_replicate_with_txnindex(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
    st = cluster.wait_isr(t, 0, n=3)
    leader = st["leader"]
    followers = [i for i in range(3) if i != leader]
    with conn(cluster, leader) as c:
        ip = kproto.init_producer_id(c)
        assert ip["error_code"] == 0, ip
        pid, ep = ip["producer_id"], ip["producer_epoch"]
        for seq, v in ((0, b"a"), (1, b"b")):
            r = kproto.produce(c, t, 0, txn_batch(pid, ep, seq, [v]), transactional_id="tx")
            assert r["error_code"] == 0, r
        with conn(cluster, followers[0]) as f:
            res = kproto.write_txn_markers(f, [(pid, ep, False, 1, {t: [0]})])
        assert res == {(pid, t, 0): kproto.NOT_LEADER_OR_FOLLOWER}, res
        # acks=all: answered once the followers have the marker
        res = kproto.write_txn_markers(c, [(pid, ep, False, 1, {t: [0]})])
        assert res == {(pid, t, 0): 0}, res
        r = kproto.produce(c, t, 0, txn_batch(pid, ep, 2, [b"c"]), transactional_id="tx")
        assert r["error_code"] == 0 and r["base_offset"] == 3, r
        res = kproto.write_txn_markers(c, [(pid, ep, True, 1, {t: [0]})])
        assert res == {(pid, t, 0): 0}, res
        rc = kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)
        assert rc["last_stable_offset"] == 5 and rc["aborted"] == [(pid, 0)], rc
        assert values(rc, committed_view=True) == [b"c"]

    want = files(cluster, leader, t)
    assert "0" * 20 + ".txnindex" in want and len(want["0" * 20 + ".txnindex"]) == 34, sorted(want)
    for i in followers:
        wait_until(lambda: files(cluster, i, t) == want, 30,
                   desc=f"broker {i}: .log and .txnindex identical to the leader's")

    cluster.kill(leader)
    st = cluster.wait_leader(t, 0, not_in=(leader,))
    with conn(cluster, st["leader"]) as c:
        rc = wait_until(lambda: (lambda r: r if r["last_stable_offset"] == 5 else None)(
            kproto.fetch(c, t, 0, 0, max_wait_ms=0, isolation=1)), 30,
            desc="new leader's HW over the commit marker")
        assert rc["aborted"] == [(pid, 0)], rc
        assert values(rc, committed_view=True) == [b"c"]
        dp = kproto.describe_producers(c, t, [0])
        mine = [p for p in dp[0][1] if p["producer_id"] == pid]
        assert mine and mine[0]["coordinator_epoch"] == 1 and mine[0]["current_txn_start_offset"] == -1, dp
        # the new leader's producer state fences an older coordinator epoch
        res = kproto.write_txn_markers(c, [(pid, ep, True, 0, {t: [0]})])
        assert res == {(pid, t, 0): kproto.TRANSACTION_COORDINATOR_FENCED}, res
