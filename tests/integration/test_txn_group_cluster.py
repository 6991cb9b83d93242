"""Transactional offsets in a three-broker ZooKeeper cluster (docs/groups.md
TG3-TG5, G13): a confluent-kafka consume-transform-produce step commits its
group's offsets in a transaction whose coordinator is another broker than the
group's (markers cross the wire); then a transaction's offsets are written
(replicated, acks=all) and the group coordinator's broker is killed before
the commit: the new leader of the offsets partition loads them as pending,
the commit's marker reaches it, and the group resumes from the committed
offset."""
import confluent_kafka as ck
import pytest

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import wait_until
from test_txn_coord import TXN_TOPIC, find_txn_coordinator, partition_for

OFFSETS = "__consumer_offsets"
TXN_PARTS = 3


def group_fetch(c, g, topic):
    """(error, offset) of g's partition 0 of topic, asked of its coordinator with
    require_stable; None while no coordinator answers."""
    b = c.brokers[c.live()[0]]
    with kproto.Conn(b.host, b.port) as conn:
        fc = kproto.find_coordinator(conn, g)
    if fc["error_code"] != 0:
        return None
    try:
        with kproto.Conn(fc["host"], fc["port"]) as conn:
            r = kproto.offset_fetch(conn, g, {topic: [0]}, require_stable=True, version=7)
    except (OSError, ConnectionError):
        return None
    if r["error_code"]:
        return None
    off = r["offsets"][(topic, 0)]
    return off[3], off[0]


def consume_n(consumer, n):
    got = []
    wait_until(lambda: got.extend(m for m in consumer.consume(n - len(got), 1) if not m.error())
               or len(got) >= n, 60, desc=f"{n} input messages")
    return got


@pytest.mark.slow
def test_txn_offsets_survive_the_group_coordinators_death(cluster_factory, request):
    c = cluster_factory(3, overrides={"offsets.topic.num.partitions": 1,
                                      "transaction.state.log.num.partitions": TXN_PARTS,
                                      "group.initial.rebalance.delay.ms": 0,
                                      "auto.leader.rebalance.enable": "false"})
    src, dst, g = "tg-src", "tg-dst", "tg-group"
    c.create_topic(src, partitions=1, rf=3)
    c.create_topic(dst, partitions=1, rf=3)
    c.ensure_offsets_topic()
    p = ck.Producer({"bootstrap.servers": c.bootstrap, "acks": "all"})
    for i in range(10):
        p.produce(src, value=b"in-%d" % i)
    assert p.flush(30) == 0
    st = c.wait_isr(OFFSETS, 0, n=3)
    group_leader = st["leader"]

    # a transactional id whose coordinator is another broker
    b0 = c.brokers[c.live()[0]]
    with kproto.Conn(b0.host, b0.port) as conn:
        wait_until(lambda: find_txn_coordinator(conn, "probe")["error_code"] == 0, 30, interval=0.1,
                   desc="__transaction_state")
    leaders = {q: c.wait_isr(TXN_TOPIC, q, n=3)["leader"] for q in range(TXN_PARTS)}
    tid = next(f"tg-tx-{i}" for i in range(1000)
               if leaders[partition_for(f"tg-tx-{i}", TXN_PARTS)] != group_leader)

    # a short session: the member the new coordinator loads is gone with
    # the test's consumer, and the next member waits for it to expire
    cons = ck.Consumer({"bootstrap.servers": c.bootstrap, "group.id": g, "enable.auto.commit": False,
                        "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                        "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    tp = ck.Producer({"bootstrap.servers": c.bootstrap, "transactional.id": tid,
                      "transaction.timeout.ms": 60000})
    try:
        cons.subscribe([src])
        tp.init_transactions(60)

        def step(n):
            got = consume_n(cons, n)
            tp.begin_transaction()
            for m in got:
                tp.produce(dst, value=m.value().replace(b"in", b"out"))
            tp.send_offsets_to_transaction(cons.position(cons.assignment()),
                                           cons.consumer_group_metadata(), 60)
            return got[-1].offset() + 1

        assert step(4) == 4
        tp.commit_transaction(60)
        wait_until(lambda: group_fetch(c, g, src) == (0, 4), 30, interval=0.1,
                   desc="the first transaction's offset committed")

        # offsets written (acks=all: on every replica), then the group's
        # coordinator dies before the transaction commits
        assert step(3) == 7
        assert group_fetch(c, g, src) == (kproto.UNSTABLE_OFFSET_COMMIT, -1)
        c.kill(group_leader)
        c.wait_leader(OFFSETS, 0, not_in=[group_leader])
        wait_until(lambda: group_fetch(c, g, src) == (kproto.UNSTABLE_OFFSET_COMMIT, -1), 60,
                   interval=0.1, desc="the new coordinator with the offsets still pending")
        tp.commit_transaction(60)
        wait_until(lambda: group_fetch(c, g, src) == (0, 7), 60, interval=0.1,
                   desc="the second transaction's offset committed on the new coordinator")
    finally:
        cons.close()
    c2 = ck.Consumer({"bootstrap.servers": c.bootstrap, "group.id": g, "auto.offset.reset": "earliest",
                      "isolation.level": "read_committed"})
    try:
        c2.subscribe([src])
        assert consume_n(c2, 1)[0].offset() == 7
    finally:
        c2.close()
