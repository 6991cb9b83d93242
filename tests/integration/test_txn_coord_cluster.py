"""The transaction coordinator in a ZooKeeper cluster (docs/transactions.md
TC2, TC7-TC9): __transaction_state is replicated (transaction.state.log.*),
the coordinator of a transactional id is the leader of its partition, and
when that broker is killed the new leader loads the partition and serves
the same producer id, epoch, state and partitions, which were replicated
before the old coordinator answered."""
import time

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import unique_topic, wait_until
from test_cluster_elect_leaders import PREFERRED, elect
from test_txn_coord import (NOT_COORDINATOR, TXN_TOPIC, add_partitions, describe, end_txn,
                            find_txn_coordinator, init_pid, partition_for, wait_state)

NPARTS = 2


def coordinator_of(c, tid):
    """The node id of tid's coordinator (None: not known yet), asked through a live broker."""
    b = c.brokers[c.live()[0]]
    with kproto.Conn(b.host, b.port) as conn:
        r = find_txn_coordinator(conn, tid)
    return r["node_id"] if r["error_code"] == 0 else None


def start_cluster(cluster_factory, request, partitions, rf):
    """A 3-broker cluster, a topic, a transactional id: (cluster, topic, id,
    the id's coordinator)."""
    c = cluster_factory(3, overrides={"transaction.state.log.num.partitions": NPARTS,
                                      "auto.leader.rebalance.enable": "false"})
    t = unique_topic(request)
    c.create_topic(t, partitions=partitions, rf=rf)
    tid = t + "-tid"
    coord = wait_until(lambda: coordinator_of(c, tid) is not None and [coordinator_of(c, tid)], 30,
                       interval=0.1, desc="a transaction coordinator")[0]
    return c, t, tid, coord


def test_coordinator_failover_keeps_transactions(cluster_factory, request):
    c, t, tid, old = start_cluster(cluster_factory, request, 2, 3)
    part = partition_for(tid, NPARTS)
    st = c.wait_isr(TXN_TOPIC, part, n=3)
    assert st["leader"] == old, st
    ob = c.brokers[old]
    with kproto.Conn(ob.host, ob.port) as conn:
        ip = init_pid(conn, tid)
        assert ip["error_code"] == 0, ip
        pid, ep = ip["producer_id"], ip["producer_epoch"]
        assert add_partitions(conn, tid, pid, ep, {t: [0, 1]}) == {(t, 0): 0, (t, 1): 0}
        before = describe(conn, tid)
        assert before["state"] == "Ongoing", before
    other = next(i for i in range(3) if i != old)
    with kproto.Conn(c.brokers[other].host, c.brokers[other].port) as conn:
        assert describe(conn, tid)["error_code"] == NOT_COORDINATOR       # TC7
        assert end_txn(conn, tid, pid, ep, True) == NOT_COORDINATOR
    c.kill(old)
    c.wait_leader(TXN_TOPIC, part, not_in=[old])
    new = wait_until(lambda: (lambda n: n not in (None, old) and [n])(coordinator_of(c, tid)), 30,
                     interval=0.1, desc="a new transaction coordinator")[0]
    nb = c.brokers[new]
    with kproto.Conn(nb.host, nb.port) as conn:
        got = {}
        wait_until(lambda: got.update(describe(conn, tid)) or got["error_code"] == 0, 30,
                   interval=0.1, desc=f"{tid} loaded by broker {new} (last {got})")
        assert (got["state"], got["producer_id"], got["producer_epoch"], got["topics"]) == \
            ("Ongoing", pid, ep, before["topics"]), got
        # The old coordinator is gone; the producer goes on here.
        assert end_txn(conn, tid, pid, ep, False) == 0
        wait_state(conn, tid, ("CompleteAbort",), timeout=30)
    # The old broker comes back and a preferred election gives it the
    # partition again: the new coordinator resigns (TC8), the old one loads
    # what the new one wrote (TC9).
    c.start(old)
    c.wait_isr(TXN_TOPIC, part, n=3)
    top, res = elect(c, PREFERRED, {TXN_TOPIC: [part]})
    assert res[(TXN_TOPIC, part)][0] == 0, res
    c.wait_leader(TXN_TOPIC, part, not_in=[new])
    with kproto.Conn(nb.host, nb.port) as conn:
        wait_until(lambda: describe(conn, tid)["error_code"] == NOT_COORDINATOR, 30, interval=0.1,
                   desc=f"broker {new} resigning {tid}")
    with kproto.Conn(ob.host, ob.port) as conn:
        got = {}
        wait_until(lambda: got.update(describe(conn, tid)) or got["error_code"] == 0, 30,
                   interval=0.1, desc=f"{tid} loaded again by broker {old} (last {got})")
        assert (got["state"], got["producer_id"], got["producer_epoch"]) == ("CompleteAbort", pid, ep), got


def test_markers_wait_for_a_dead_leader(cluster_factory, request):
    """TC5: a partition whose leader is down keeps its transaction in
    PrepareCommit (the marker is retried, never skipped); once the broker is
    back the marker is written and the transaction completes."""
    c, t, tid, coord = start_cluster(cluster_factory, request, 3, 1)
    c.wait_isr(TXN_TOPIC, partition_for(tid, NPARTS), n=3)
    part, victim = next((p, c.leader_of(t, p)) for p in range(3) if c.leader_of(t, p) != coord)
    cb = c.brokers[coord]
    with kproto.Conn(cb.host, cb.port) as conn:
        ip = init_pid(conn, tid)
        assert ip["error_code"] == 0, ip
        pid, ep = ip["producer_id"], ip["producer_epoch"]
        assert add_partitions(conn, tid, pid, ep, {t: [part]}) == {(t, part): 0}
        c.kill(victim)
        assert end_txn(conn, tid, pid, ep, True) == 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:         # the marker cannot be written meanwhile
            assert describe(conn, tid)["state"] == "PrepareCommit"
            time.sleep(0.2)
        c.start(victim)
        d = wait_state(conn, tid, ("CompleteCommit",), timeout=60)
        assert d["producer_epoch"] == ep and d["topics"] == {}, d
