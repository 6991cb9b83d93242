"""Transactions with a real client (confluent-kafka / librdkafka), issue 16:
consume-transform-produce with a consumer group (commit and abort),
read_committed against read_uncommitted, the last stable offset, a zombie
producer fenced by a newer instance, a transaction aborted by the
coordinator's timeout, and acks=all transactional produce on a 3-broker
cluster.

The broker is Samsa, or Apache Kafka 4.4 with SAMSA_TXN_PEER=kafka
(txn_peer.py): every test here passes against Kafka. One broker shared by
the module; each test uses its own topics and transactional ids.
"""
import time

import confluent_kafka as ck
import pytest

import txn_peer
from txn_peer import (end_offsets, make_topics, read_all, txn_producer, wait_stable)
from conftest import wait_until

if txn_peer.PEER == "kafka" and not txn_peer.kafka_available():
    pytest.skip("SAMSA_TXN_PEER=kafka: Kafka jars missing (tests/ecosystem/kafka/deps.sh)",
                allow_module_level=True)

FENCED = {ck.KafkaError.PRODUCER_FENCED, ck.KafkaError._FENCED,
          ck.KafkaError.INVALID_PRODUCER_EPOCH}


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    p = txn_peer.single_node(tmp_path_factory.mktemp("txn-clients"))
    yield p
    problems = p.stop_all()
    assert not problems, "\n".join(problems)


@pytest.fixture
def bs(peer, request):
    if peer.kind == "samsa":        # conftest attaches their logs to a failure
        request.node._samsa_brokers = [n.b for n in peer.nodes]
    return peer.bootstrap


def values(recs):
    return [v.decode() for _, _, v in recs]


def all_values(by_part):
    return sorted(v for recs in by_part.values() for v in values(recs))


def produce_plain(bs, topic, vals, partitions):
    p = ck.Producer({"bootstrap.servers": bs, "linger.ms": 5, "enable.idempotence": True})
    for i, v in enumerate(vals):
        p.produce(topic, value=v, key=v, partition=i % partitions)
    assert p.flush(30) == 0


def group_committed(bs, group, topic, partitions):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in partitions], timeout=15)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


# --- consume-transform-produce ----------------------------------------------------
def test_consume_transform_produce_commit_and_abort(bs):
    """A group consumer reads the input, a transactional producer writes the
    transformed records and the consumer's offsets in one transaction. Every
    third transaction is aborted and the consumer rewound to the group's
    committed offsets: the output read_committed holds each input exactly
    once, the aborted copies are only in read_uncommitted, and the group's
    offsets never move on an abort."""
    src, dst, group, n, parts = "ctp-in", "ctp-out", "ctp-group", 120, 2
    make_topics(bs, [src, dst], partitions=parts)
    inputs = [f"r{i:04d}" for i in range(n)]
    produce_plain(bs, src, inputs, parts)

    p = txn_producer(bs, "ctp-txn")
    p.init_transactions(30)
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                     "socket.timeout.ms": 10000, "session.timeout.ms": 10000})
    c.subscribe([src])
    done, txns, aborted = 0, 0, 0
    aborted_vals = []
    deadline = time.monotonic() + 90
    try:
        while done < n:
            assert time.monotonic() < deadline, f"copied {done}/{n} in 90 s"
            msgs = [m for m in c.consume(num_messages=17, timeout=0.5) if not m.error()]
            if not msgs:
                continue
            will_abort = (txns + 1) % 3 == 0
            if will_abort:      # (asked while the offsets are pending it would wait:
                before = group_committed(bs, group, src, range(parts))  # UNSTABLE_OFFSET_COMMIT)
            p.begin_transaction()
            for m in msgs:
                p.produce(dst, key=m.key(), value=b"T" + m.value(), partition=m.partition())
            pos = c.position(c.assignment())
            p.send_offsets_to_transaction(pos, c.consumer_group_metadata(), 30)
            txns += 1
            if will_abort:
                assert p.flush(30) == 0     # in the log, then aborted (abort drops unsent ones)
                p.abort_transaction(30)
                aborted += 1
                aborted_vals += [b"T" + m.value() for m in msgs]
                # the abort left the group's offsets where they were
                assert group_committed(bs, group, src, range(parts)) == before
                # rewind to them and do the batch again
                for tp in c.committed(c.assignment(), timeout=15):
                    c.seek(ck.TopicPartition(src, tp.partition, tp.offset if tp.offset >= 0
                                             else ck.OFFSET_BEGINNING))
                continue
            p.commit_transaction(30)
            done += len(msgs)
    finally:
        c.close()
    assert aborted >= 1 and aborted_vals

    committed = read_all(bs, dst, range(parts), "read_committed")
    assert all_values(committed) == sorted("T" + v for v in inputs), \
        "read_committed output is not each input exactly once"
    # transform kept the partition: each output partition in input order
    for part, recs in committed.items():
        assert values(recs) == ["T" + v for i, v in enumerate(inputs) if i % parts == part]
    uncommitted = read_all(bs, dst, range(parts), "read_uncommitted")
    extra = sorted(v for recs in uncommitted.values() for v in values(recs))
    want = sorted(["T" + v for v in inputs] + [v.decode() for v in aborted_vals])
    assert extra == want, "read_uncommitted must hold the committed and the aborted copies"
    # the group's offsets: the end of the input, moved only by commits
    assert group_committed(bs, group, src, range(parts)) == \
        end_offsets(bs, src, range(parts))


# --- isolation levels, markers, last stable offset --------------------------------
def test_read_committed_skips_aborted_and_markers(bs):
    """commit a*, abort b*, commit c* on one partition: read_uncommitted sees
    a, b and c, read_committed a and c; each transaction ends in one control
    record (a marker), so the offsets have a gap after each and the high
    watermark counts them."""
    topic = "iso-topic"
    make_topics(bs, [topic])
    p = txn_producer(bs, "iso-txn")
    p.init_transactions(30)
    for tag, commit in (("a", True), ("b", False), ("c", True)):
        p.begin_transaction()
        for i in range(5):
            p.produce(topic, value=f"{tag}{i}", partition=0)
        p.flush(30)
        if commit:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    rc = read_all(bs, topic, [0], "read_committed")[0]
    ru = read_all(bs, topic, [0], "read_uncommitted")[0]
    assert values(rc) == [f"a{i}" for i in range(5)] + [f"c{i}" for i in range(5)]
    assert values(ru) == ([f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]
                          + [f"c{i}" for i in range(5)])
    # data at 0-4, marker 5, data 6-10, marker 11, data 12-16, marker 17
    assert [o for o, _, _ in ru] == list(range(0, 5)) + list(range(6, 11)) + list(range(12, 17))
    assert [o for o, _, _ in rc] == list(range(0, 5)) + list(range(12, 17))
    assert end_offsets(bs, topic, [0]) == {0: 18}
    assert end_offsets(bs, topic, [0], "read_committed") == {0: 18}


def test_last_stable_offset_holds_at_open_transaction(bs):
    """An open transaction holds the last stable offset at its first record:
    read_committed consumers stop there (even for later committed records of
    another producer) until it ends."""
    topic = "lso-topic"
    make_topics(bs, [topic])
    plain = ck.Producer({"bootstrap.servers": bs, "enable.idempotence": True})
    plain.produce(topic, value="before", partition=0)
    assert plain.flush(30) == 0
    p1 = txn_producer(bs, "lso-open")
    p1.init_transactions(30)
    p1.begin_transaction()
    p1.produce(topic, value="open0", partition=0)
    p1.flush(30)
    p2 = txn_producer(bs, "lso-other")
    p2.init_transactions(30)
    p2.begin_transaction()
    p2.produce(topic, value="other0", partition=0)
    p2.flush(30)
    p2.commit_transaction(30)
    # open0 is at 1, other0 at 2, p2's marker at 3
    wait_until(lambda: end_offsets(bs, topic, [0]) == {0: 4}, 30, desc="HW 4")
    assert end_offsets(bs, topic, [0], "read_committed") == {0: 1}
    assert values(read_all(bs, topic, [0], "read_committed", stable=False)[0]) == ["before"]
    p1.commit_transaction(30)
    wait_stable(bs, topic, [0])
    assert end_offsets(bs, topic, [0], "read_committed") == {0: 5}
    assert values(read_all(bs, topic, [0], "read_committed")[0]) == ["before", "open0", "other0"]


# --- fencing ----------------------------------------------------------------------
def test_zombie_producer_fenced(bs):
    """A second producer with the same transactional.id fences the first: the
    first's open transaction is aborted, its commit fails with a fatal
    fencing error, and only the new instance's records are committed."""
    topic = "zombie-topic"
    make_topics(bs, [topic], partitions=2)
    old = txn_producer(bs, "zombie-txn")
    old.init_transactions(30)
    old.begin_transaction()
    for i in range(6):
        old.produce(topic, value=f"old{i}", partition=i % 2)
    old.flush(30)

    new = txn_producer(bs, "zombie-txn")
    new.init_transactions(30)        # aborts old's transaction, bumps the epoch
    new.begin_transaction()
    for i in range(6):
        new.produce(topic, value=f"new{i}", partition=i % 2)
    new.commit_transaction(30)

    with pytest.raises(ck.KafkaException) as ei:
        old.produce(topic, value="old-late", partition=0)
        old.commit_transaction(30)
    err = ei.value.args[0]
    assert err.code() in FENCED, f"expected a fencing error, got {err}"
    assert err.fatal(), f"fencing must be fatal for the zombie: {err}"

    rc = read_all(bs, topic, [0, 1], "read_committed")
    assert all_values(rc) == sorted(f"new{i}" for i in range(6))
    ru = read_all(bs, topic, [0, 1], "read_uncommitted")
    assert sorted(f"old{i}" for i in range(6)) == sorted(
        v for v in all_values(ru) if v.startswith("old")), "old's records are in the log, aborted"
    assert "old-late" not in all_values(ru)


# --- coordinator timeout ---------------------------------------------------------
def test_timed_out_transaction_aborted_by_coordinator(bs):
    """A producer that begins a transaction and goes quiet past its
    transaction.timeout.ms is aborted by the coordinator (the broker checks
    every transaction.abort.timed.out.transaction.cleanup.interval.ms, 500 ms
    here): read_committed consumers then get past it, its records never
    become visible, and its late commit fails."""
    topic = "timeout-topic"
    make_topics(bs, [topic])
    stuck = txn_producer(bs, "timeout-stuck", **{"transaction.timeout.ms": 2000,
                                                   "socket.timeout.ms": 2000,
                                                   "message.timeout.ms": 2000})
    stuck.init_transactions(30)
    stuck.begin_transaction()
    for i in range(3):
        stuck.produce(topic, value=f"stuck{i}", partition=0)
    stuck.flush(30)
    t_open = time.monotonic()
    other = txn_producer(bs, "timeout-other")
    other.init_transactions(30)
    other.begin_transaction()
    other.produce(topic, value="after", partition=0)
    other.commit_transaction(30)
    # held at the stuck transaction's first record until the coordinator acts
    assert end_offsets(bs, topic, [0], "read_committed")[0] == 0 or \
        time.monotonic() - t_open > 2.0
    rc = wait_until(lambda: values(read_all(bs, topic, [0], "read_committed", stable=False)[0]),
                    30, interval=0.2, desc="read_committed past the timed-out transaction")
    elapsed = time.monotonic() - t_open
    assert rc == ["after"], rc
    assert elapsed >= 1.5, f"aborted after {elapsed:.1f} s, before its 2 s timeout"
    ru = values(read_all(bs, topic, [0], "read_uncommitted")[0])
    assert ru == ["stuck0", "stuck1", "stuck2", "after"]
    with pytest.raises(ck.KafkaException):
        stuck.commit_transaction(30)


# --- cluster ------------------------------------------------------------------------
@pytest.fixture
def cluster_peer(request, tmp_path):
    zk = request.getfixturevalue("cluster_zk") if txn_peer.PEER == "samsa" else None
    p = txn_peer.cluster_nodes(tmp_path / "cluster", 3, zk=zk)
    yield p
    problems = p.stop_all()
    assert not problems, "\n".join(problems)


if txn_peer.PEER == "samsa":
    from cluster import cluster_zk  # noqa: F401,E402


@pytest.mark.slow
def test_cluster_acks_all_transactions(cluster_peer):
    """3 brokers, RF 3, min.insync.replicas 2: acks=all transactional produce
    to three partitions (their leaders spread over the brokers, the
    coordinator one of them), four commits and one abort; read_committed
    through any broker has exactly the committed records."""
    bs = cluster_peer.bootstrap
    topic = "cluster-txn"
    make_topics(bs, [topic], partitions=3, rf=3, config={"min.insync.replicas": "2"})
    p = txn_producer(bs, "cluster-txn-id", acks="all")
    p.init_transactions(60)
    want = []
    for t in range(5):
        p.begin_transaction()
        vals = [f"t{t}-{i}" for i in range(30)]
        for i, v in enumerate(vals):
            p.produce(topic, value=v, partition=i % 3)
        if t == 2:
            assert p.flush(60) == 0     # in the log, then aborted
            p.abort_transaction(60)
        else:
            p.commit_transaction(60)
            want += vals
    for nd in cluster_peer.nodes:
        rc = read_all(nd.bootstrap, topic, [0, 1, 2], "read_committed")
        assert all_values(rc) == sorted(want), f"read_committed through {nd.name}"
    ru = read_all(bs, topic, [0, 1, 2], "read_uncommitted")
    assert len(all_values(ru)) == 150
    # 5 markers on each partition
    assert end_offsets(bs, topic, [0, 1, 2]) == {0: 55, 1: 55, 2: 55}
