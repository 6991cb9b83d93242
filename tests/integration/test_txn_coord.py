"""The transaction coordinator's rules (docs/transactions.md TC1..), with raw
requests: FindCoordinator for transactional ids and __transaction_state,
InitProducerId epochs and fencing, AddPartitionsToTxn/AddOffsetsToTxn/EndTxn
errors and transitions, Describe/ListTransactions, the timeout abort, the
records in Kafka's TransactionLog format, and the state surviving a restart.

One broker serves the whole module (started once; each test uses its own
transactional ids and topics).  Steps that need the partition leaders to
write markers (WriteTxnMarkers, txn-log's handler) wait for the Complete*
states; without that handler the states stay Prepare* and those checks are
skipped."""

import struct
import time

import pytest

import kproto
from conftest import Broker, wait_until
from test_groups_coordinator_moves import partition_for as groups_partition_for

NPARTS = 4
ADD_PARTITIONS, ADD_OFFSETS, END_TXN, FIND_COORDINATOR = 24, 25, 26, 10
WRITE_TXN_MARKERS, DESCRIBE_TXNS, LIST_TXNS = 27, 65, 66
# Response headers of these versions are flexible from (kproto's table lacks them).
kproto.FLEX_FROM.setdefault(ADD_PARTITIONS, 3)
kproto.FLEX_FROM.setdefault(ADD_OFFSETS, 3)
kproto.FLEX_FROM.setdefault(END_TXN, 3)
kproto.FLEX_FROM.setdefault(DESCRIBE_TXNS, 0)
kproto.FLEX_FROM.setdefault(LIST_TXNS, 0)

NOT_COORDINATOR, INVALID_REQUEST = 16, 42
INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING = 47, 48, 49
INVALID_TRANSACTION_TIMEOUT, CONCURRENT_TRANSACTIONS = 50, 51
OPERATION_NOT_ATTEMPTED, PRODUCER_FENCED, TRANSACTIONAL_ID_NOT_FOUND = 55, 90, 105
TRANSACTION_ABORTABLE = 120
TXN_TOPIC = "__transaction_state"

BROKER = {
    "transaction.state.log.num.partitions": NPARTS,
    "transaction.max.timeout.ms": 60000,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200,
}


def partition_for(key, n=NPARTS):
    """Kafka's partitionFor (Utils.abs of Java's String.hashCode, modulo n)."""
    return groups_partition_for(key, n)


@pytest.fixture(scope="module")
def tb(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("txn"), overrides=BROKER, name="txn")
    b.start()
    yield b
    if b.running():
        b.stop()
    assert not b.sanitizer_reports(), b.sanitizer_reports()


@pytest.fixture
def conn(tb):
    with kproto.Conn("127.0.0.1", tb.port) as c:
        yield c


# ----------------------------------------------------------------- requests
def find_txn_coordinator(c, tid):
    r = c.call(FIND_COORDINATOR, 1, kproto.W(False).string(tid).i8(1).done())
    r.i32()
    return {"error_code": r.i16(), "message": r.string(), "node_id": r.i32(), "host": r.string(),
            "port": r.i32()}


def ensure_coordinator(c, tid):
    res = {}

    def ok():
        res.update(find_txn_coordinator(c, tid))
        return res["error_code"] == 0
    wait_until(ok, 10, desc=f"coordinator of {tid}")
    return res


def init_pid(c, tid, timeout_ms=30000, pid=-1, epoch=-1, version=3):
    w = kproto.W(version >= 2).string(tid).i32(timeout_ms)
    if version >= 3:
        w.i64(pid).i16(epoch)
    w.tags()
    r = c.call(kproto.INIT_PRODUCER_ID, version, w.done())
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "producer_id": r.i64(),
            "producer_epoch": r.i16()}


def add_partitions(c, tid, pid, epoch, parts):
    """parts: {topic: [partitions]} -> {(topic, partition): error}."""
    w = kproto.W(False).string(tid).i64(pid).i16(epoch)
    w.array(list(parts.items()), lambda w, tp: w.string(tp[0]).array(tp[1], lambda w, p: w.i32(p)))
    r = c.call(ADD_PARTITIONS, 2, w.done())
    r.i32()
    out = {}
    for name, ps in r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16())))):
        for p, e in ps:
            out[(name, p)] = e
    return out


def add_offsets(c, tid, pid, epoch, group):
    r = c.call(ADD_OFFSETS, 2, kproto.W(False).string(tid).i64(pid).i16(epoch).string(group).done())
    r.i32()
    return r.i16()


def add_partitions_batched(c, txns):
    """v4 (the brokers' form): txns [(tid, pid, epoch, verify, {topic: [p]})] ->
    (top error, {tid: {(topic, p): error}})."""
    w = kproto.W(True)

    def txn(w, t):
        tid, pid, epoch, verify, parts = t
        w.string(tid).i64(pid).i16(epoch).bool(verify)
        w.array(list(parts.items()),
                lambda w, tp: w.string(tp[0]).array(tp[1], lambda w, p: w.i32(p)).tags())
        w.tags()
    w.array(txns, txn)
    w.tags()
    r = c.call(ADD_PARTITIONS, 4, w.done())
    r.i32()
    top = r.i16()
    out = {}

    def res(r):
        tid = r.string()
        d = out.setdefault(tid, {})

        def topic(r):
            name = r.string()
            for p, e, _ in r.array(lambda r: (r.i32(), r.i16(), r.tags())):
                d[(name, p)] = e
            r.tags()
        r.array(topic)
        r.tags()
    r.array(res)
    return top, out


def end_txn(c, tid, pid, epoch, commit):
    r = c.call(END_TXN, 2, kproto.W(False).string(tid).i64(pid).i16(epoch).bool(commit).done())
    r.i32()
    return r.i16()


def describe(c, tid):
    w = kproto.W(True)
    w.array([tid], lambda w, t: w.string(t))
    w.tags()
    r = c.call(DESCRIBE_TXNS, 0, w.done())
    r.i32()

    def st(r):
        d = {"error_code": r.i16(), "id": r.string(), "state": r.string(), "timeout_ms": r.i32(),
             "start_ms": r.i64(), "producer_id": r.i64(), "producer_epoch": r.i16()}
        d["topics"] = {t: sorted(ps) for t, ps in
                       r.array(lambda r: (r.string(), r.array(lambda r: r.i32()), r.tags())[:2])}
        r.tags()
        return d
    (res,) = r.array(st)
    return res


def list_txns(c, states=(), pids=(), duration=None):
    w = kproto.W(True)
    w.array(list(states), lambda w, s: w.string(s))
    w.array(list(pids), lambda w, p: w.i64(p))
    if duration is not None:
        w.i64(duration)
    w.tags()
    r = c.call(LIST_TXNS, 1 if duration is not None else 0, w.done())
    r.i32()
    err = r.i16()
    unknown = r.array(lambda r: r.string())
    txns = {t: (p, s) for t, p, s, _ in r.array(lambda r: (r.string(), r.i64(), r.string(), r.tags()))}
    return err, unknown, txns


def markers_served(c):
    return WRITE_TXN_MARKERS in c.versions()


def wait_state(c, tid, states, timeout=10):
    got = {}

    def ok():
        got.update(describe(c, tid))
        assert got["state"] in states, f"last: {got}"
        return True
    wait_until(ok, timeout, desc=f"{tid} in {states}")
    return got


def begin(c, tid, topic, parts=(0,)):
    ensure_coordinator(c, tid)
    ip = init_pid(c, tid)
    assert ip["error_code"] == 0, ip
    res = add_partitions(c, tid, ip["producer_id"], ip["producer_epoch"], {topic: list(parts)})
    assert set(res.values()) == {0}, res
    return ip["producer_id"], ip["producer_epoch"]


def make_topic(tb, name, parts=2):
    from conftest import create_topic
    create_topic(tb.bootstrap, name, partitions=parts)


# -------------------------------------------------------------------- tests
def test_find_coordinator_creates_transaction_state(tb, conn):
    """TC1: FindCoordinator key_type 1 creates __transaction_state
    (transaction.state.log.num.partitions, compacted) and names this broker;
    an empty transactional id is INVALID_REQUEST."""
    res = ensure_coordinator(conn, "tc-find")
    assert (res["node_id"], res["port"]) == (0, tb.port), res
    for p in range(NPARTS):
        assert tb.partition_dir(TXN_TOPIC, p).is_dir()
    assert not tb.partition_dir(TXN_TOPIC, NPARTS).exists()
    # An empty id is answered like any other (Kafka 4.4 does).
    assert find_txn_coordinator(conn, "")["error_code"] == 0


def test_init_producer_id_epochs_and_timeout(tb, conn):
    """TC11: a timeout above transaction.max.timeout.ms is refused; a new
    transactional id gets epoch 0, each InitProducerId bumps it (KIP-360: a
    retry with the previous epoch gets the same answer, another is fenced)."""
    tid = "tc-init"
    ensure_coordinator(conn, tid)
    assert init_pid(conn, tid, timeout_ms=120000)["error_code"] == INVALID_TRANSACTION_TIMEOUT
    assert init_pid(conn, tid, timeout_ms=0)["error_code"] == INVALID_TRANSACTION_TIMEOUT
    a = init_pid(conn, tid)
    assert a["error_code"] == 0 and a["producer_epoch"] == 0, a
    b = init_pid(conn, tid)
    assert (b["error_code"], b["producer_id"], b["producer_epoch"]) == (0, a["producer_id"], 1), b
    c = init_pid(conn, tid, pid=b["producer_id"], epoch=1)
    assert (c["error_code"], c["producer_id"], c["producer_epoch"]) == (0, a["producer_id"], 2), c
    again = init_pid(conn, tid, pid=b["producer_id"], epoch=1)      # retry of the same bump
    assert (again["error_code"], again["producer_epoch"]) == (0, 2), again
    # KIP-588: PRODUCER_FENCED from v4; v3 says INVALID_PRODUCER_EPOCH.
    assert init_pid(conn, tid, pid=b["producer_id"], epoch=0, version=4)["error_code"] == PRODUCER_FENCED
    assert init_pid(conn, tid, pid=b["producer_id"], epoch=0)["error_code"] == INVALID_PRODUCER_EPOCH
    assert init_pid(conn, tid, pid=b["producer_id"] + 1000, epoch=2, version=4)["error_code"] == PRODUCER_FENCED
    d = describe(conn, tid)
    assert (d["error_code"], d["state"], d["producer_epoch"], d["timeout_ms"]) == (0, "Empty", 2, 30000), d
    assert describe(conn, "tc-never")["error_code"] == TRANSACTIONAL_ID_NOT_FOUND


def test_add_partitions_errors_and_ongoing(tb, conn):
    """TC10: AddPartitionsToTxn checks producer id (INVALID_PRODUCER_ID_MAPPING)
    and epoch (PRODUCER_FENCED); unknown partitions fail the request
    (UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED) without
    a change; a good one makes the transaction Ongoing with its partitions."""
    make_topic(tb, "tc-add", 2)
    tid = "tc-add"
    ensure_coordinator(conn, tid)
    ip = init_pid(conn, tid)
    pid, ep = ip["producer_id"], ip["producer_epoch"]
    assert set(add_partitions(conn, tid, pid + 1, ep, {"tc-add": [0]}).values()) == {INVALID_PRODUCER_ID_MAPPING}
    assert set(add_partitions(conn, tid, pid, ep + 1, {"tc-add": [0]}).values()) == {PRODUCER_FENCED}
    assert set(add_partitions(conn, "tc-add-none", pid, ep, {"tc-add": [0]}).values()) == {INVALID_PRODUCER_ID_MAPPING}
    res = add_partitions(conn, tid, pid, ep, {"tc-add": [0, 7], "tc-missing": [0]})
    assert res == {("tc-add", 0): OPERATION_NOT_ATTEMPTED, ("tc-add", 7): 3, ("tc-missing", 0): 3}, res
    assert describe(conn, tid)["state"] == "Empty"
    assert end_txn(conn, tid, pid, ep, True) == INVALID_TXN_STATE       # nothing to end
    assert add_partitions(conn, tid, pid, ep, {"tc-add": [0, 1]}) == {("tc-add", 0): 0, ("tc-add", 1): 0}
    assert add_offsets(conn, tid, pid, ep, "tc-group") == 0
    d = describe(conn, tid)
    assert d["state"] == "Ongoing" and d["start_ms"] > 0, d
    assert d["topics"] == {"tc-add": [0, 1], "__consumer_offsets": [partition_for("tc-group", 50)]}, d
    # Ongoing and already there: answered without a write.
    assert add_partitions(conn, tid, pid, ep, {"tc-add": [1]}) == {("tc-add", 1): 0}
    err, unknown, txns = list_txns(conn, states=["Ongoing", "Bogus"])
    assert err == 0 and unknown == ["Bogus"] and txns.get(tid) == (pid, "Ongoing"), (err, unknown, txns)
    assert tid not in list_txns(conn, pids=[pid + 1])[2]
    assert tid in list_txns(conn, pids=[pid])[2]
    assert tid not in list_txns(conn, duration=3600_000)[2]
    assert tid in list_txns(conn, duration=0)[2]
    assert end_txn(conn, tid, pid, ep, False) == 0


def test_add_partitions_batched_form(tb, conn):
    """AddPartitionsToTxn v4+ (KIP-890, sent by brokers): each transaction is
    answered on its own; verify_only says NONE for partitions in the
    transaction and TRANSACTION_ABORTABLE for the others, without a write."""
    make_topic(tb, "tc-batched", 2)
    a, b = "tc-batched-a", "tc-batched-b"
    pa, ea = begin(conn, a, "tc-batched", (0,))
    ensure_coordinator(conn, b)
    ib = init_pid(conn, b)
    pb, eb = ib["producer_id"], ib["producer_epoch"]
    top, res = add_partitions_batched(conn, [
        (a, pa, ea, True, {"tc-batched": [0, 1]}),
        (b, pb, eb, False, {"tc-batched": [1]}),
        ("tc-batched-none", 1, 0, True, {"tc-batched": [0]}),
    ])
    assert top == 0, top
    assert res == {a: {("tc-batched", 0): 0, ("tc-batched", 1): TRANSACTION_ABORTABLE},
                   b: {("tc-batched", 1): 0},
                   "tc-batched-none": {("tc-batched", 0): INVALID_PRODUCER_ID_MAPPING}}, res
    assert describe(conn, a)["topics"] == {"tc-batched": [0]}          # verify wrote nothing
    assert describe(conn, b)["topics"] == {"tc-batched": [1]}
    assert end_txn(conn, a, pa, ea, False) == 0 and end_txn(conn, b, pb, eb, False) == 0


def test_commit_goes_through_prepare(tb, conn):
    """TC4/TC5: EndTxn answers once PrepareCommit is written; the
    transaction then completes when every leader has its marker; a retry of
    the commit is NONE, an abort of it INVALID_TXN_STATE."""
    make_topic(tb, "tc-commit", 2)
    tid = "tc-commit"
    pid, ep = begin(conn, tid, "tc-commit", (0, 1))
    assert end_txn(conn, tid, pid, ep + 1, True) == PRODUCER_FENCED
    assert end_txn(conn, tid, pid, ep, True) == 0
    d = describe(conn, tid)
    assert d["state"] in ("PrepareCommit", "CompleteCommit"), d
    # A retry is CONCURRENT_TRANSACTIONS while the markers are out, NONE once
    # they are written (it changes nothing either way).
    assert end_txn(conn, tid, pid, ep, True) in (CONCURRENT_TRANSACTIONS, 0)
    if not markers_served(conn):
        pytest.skip("WriteTxnMarkers is not served by this build: markers cannot be written")
    d = wait_state(conn, tid, ("CompleteCommit",))
    assert d["topics"] == {} and d["producer_epoch"] == ep, d
    assert end_txn(conn, tid, pid, ep, True) == 0
    assert end_txn(conn, tid, pid, ep, False) == INVALID_TXN_STATE


def test_new_instance_fences_ongoing_transaction(tb, conn):
    """TC10: InitProducerId while a transaction is Ongoing aborts it with
    the epoch bumped (CONCURRENT_TRANSACTIONS meanwhile); the old instance
    is fenced; the new one gets the epoch after that."""
    make_topic(tb, "tc-fence", 1)
    tid = "tc-fence"
    pid, ep = begin(conn, tid, "tc-fence")
    assert init_pid(conn, tid)["error_code"] == CONCURRENT_TRANSACTIONS
    d = describe(conn, tid)
    assert d["state"] in ("PrepareAbort", "CompleteAbort") and d["producer_epoch"] == ep + 1, d
    assert end_txn(conn, tid, pid, ep, True) == PRODUCER_FENCED
    # While the abort's markers are out, AddPartitions says CONCURRENT_TRANSACTIONS
    # to any epoch (Kafka 4.4 does); then the old epoch is fenced.
    assert set(add_partitions(conn, tid, pid, ep, {"tc-fence": [0]}).values()) <= \
        {CONCURRENT_TRANSACTIONS, PRODUCER_FENCED}
    if not markers_served(conn):
        pytest.skip("WriteTxnMarkers is not served by this build: the abort cannot complete")
    wait_state(conn, tid, ("CompleteAbort",))
    assert set(add_partitions(conn, tid, pid, ep, {"tc-fence": [0]}).values()) == {PRODUCER_FENCED}
    got = {}
    wait_until(lambda: got.update(init_pid(conn, tid)) or got["error_code"] == 0, 10,
               desc="InitProducerId after the fencing abort")
    assert (got["producer_id"], got["producer_epoch"]) == (pid, ep + 2), got


def test_timed_out_transaction_is_aborted(tb, conn):
    """TC12: a transaction older than its timeout is aborted by the
    coordinator with the epoch bumped, so its producer is fenced."""
    make_topic(tb, "tc-timeout", 1)
    tid = "tc-timeout"
    ensure_coordinator(conn, tid)
    ip = init_pid(conn, tid, timeout_ms=500)
    pid, ep = ip["producer_id"], ip["producer_epoch"]
    assert add_partitions(conn, tid, pid, ep, {"tc-timeout": [0]}) == {("tc-timeout", 0): 0}
    d = wait_state(conn, tid, ("PrepareAbort", "CompleteAbort"), timeout=10)
    assert d["producer_epoch"] == ep + 1, d
    assert end_txn(conn, tid, pid, ep, True) == PRODUCER_FENCED
    assert "aborting its transaction" in tb.log_text()


def txn_records(conn, tid):
    """The TransactionLog records of tid, decoded (Kafka's formats), oldest first."""
    part = partition_for(tid)
    f = kproto.fetch(conn, TXN_TOPIC, part, 0, max_wait_ms=0)
    assert f["error_code"] == 0, f
    out = []
    for rec in kproto.parse_records(f["records"]):
        key, value = rec["key"], rec["value"]
        kver, klen = struct.unpack(">hh", key[:4])
        assert kver == 0
        if key[4:4 + klen].decode() != tid:
            continue
        if value is None:
            out.append(None)
            continue
        (vver,) = struct.unpack(">h", value[:2])
        assert vver == 0, vver
        pid, epoch, timeout, status = struct.unpack(">qhib", value[2:17])
        out.append((pid, epoch, timeout, status))
    return out


def test_records_in_kafka_format(tb, conn):
    """TC1: every state change is one TransactionLogKey v0 /
    TransactionLogValue v0 record in the id's partitionFor partition:
    Empty (0) after InitProducerId, Ongoing (1), PrepareCommit (2)."""
    make_topic(tb, "tc-records", 1)
    tid = "tc-records"
    pid, ep = begin(conn, tid, "tc-records")
    assert end_txn(conn, tid, pid, ep, True) == 0
    recs = txn_records(conn, tid)
    assert recs[:3] == [(pid, ep, 30000, 0), (pid, ep, 30000, 1), (pid, ep, 30000, 2)], recs


def test_state_survives_restart(tb, conn):
    """TC7/TC9: a restarted coordinator loads __transaction_state: ids keep
    their producer id, epoch and state; a prepared transaction resumes."""
    make_topic(tb, "tc-restart", 1)
    tid, tid2 = "tc-restart", "tc-restart-ongoing"
    pid, ep = begin(conn, tid, "tc-restart")
    assert end_txn(conn, tid, pid, ep, False) == 0
    pid2, ep2 = begin(conn, tid2, "tc-restart")
    before = describe(conn, tid2)
    conn.close()
    tb.restart()
    with kproto.Conn("127.0.0.1", tb.port) as c:
        ensure_coordinator(c, tid)
        d = describe(c, tid2)
        assert (d["state"], d["producer_id"], d["producer_epoch"], d["topics"]) == \
            ("Ongoing", pid2, ep2, before["topics"]), d
        d = describe(c, tid)
        assert d["producer_id"] == pid and d["state"] in ("PrepareAbort", "CompleteAbort"), d
        if markers_served(c):
            wait_state(c, tid, ("CompleteAbort",))
        assert end_txn(c, tid2, pid2, ep2, False) == 0


def test_confluent_kafka_commit_abort_and_zombie(tb):
    """End to end with a real client (librdkafka): committed transactions
    are read by read_committed consumers, an aborted one only by
    read_uncommitted ones (markers written over the wire by the
    coordinator, TC4/TC5); a second instance with the same transactional.id
    fences the first (TC10)."""
    import confluent_kafka as ck
    make_topic(tb, "tc-client", 2)
    conf = {"bootstrap.servers": tb.bootstrap, "transactional.id": "tc-client"}
    p = ck.Producer(conf)
    p.init_transactions(15)
    for i in range(5):
        p.begin_transaction()
        p.produce("tc-client", b"c%d" % i, partition=i % 2)
        p.commit_transaction(15)
    p.begin_transaction()
    p.produce("tc-client", b"aborted", partition=0)
    p.flush(15)
    p.abort_transaction(15)
    p.begin_transaction()
    p.produce("tc-client", b"last", partition=1)
    p.commit_transaction(15)

    def read(iso, want):
        c = ck.Consumer({"bootstrap.servers": tb.bootstrap, "group.id": "tc-client-" + iso,
                         "isolation.level": iso, "enable.auto.commit": False})
        c.assign([ck.TopicPartition("tc-client", p, 0) for p in (0, 1)])
        got, deadline = [], time.monotonic() + 20
        while time.monotonic() < deadline and len(got) < want:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got.append(m.value())
        c.close()
        return sorted(got)
    committed = sorted([b"c%d" % i for i in range(5)] + [b"last"])
    assert read("read_committed", 6) == committed
    assert read("read_uncommitted", 7) == sorted(committed + [b"aborted"])
    with kproto.Conn("127.0.0.1", tb.port) as c:
        d = describe(c, "tc-client")
        assert d["state"] == "CompleteCommit" and d["topics"] == {}, d
    p2 = ck.Producer(conf)
    p2.init_transactions(15)
    p.begin_transaction()
    p.produce("tc-client", b"zombie", partition=0)
    with pytest.raises(ck.KafkaException) as ei:
        p.commit_transaction(15)
    assert ei.value.args[0].code() in (ck.KafkaError._FENCED, ck.KafkaError.PRODUCER_FENCED), ei.value
    p2.flush(5)
    del p, p2                      # their threads stop before the module's broker does


def test_transactional_id_expires(broker_factory):
    """TC13: an id without a transaction for transactional.id.expiration.ms
    is deleted (a tombstone in its partition); an id in a transaction is not."""
    b = broker_factory({**BROKER, "transactional.id.expiration.ms": 300,
                        "transaction.remove.expired.transaction.cleanup.interval.ms": 100})
    with kproto.Conn("127.0.0.1", b.port) as c:
        make_topic(b, "tc-expire", 1)
        idle, busy = "tc-expire-idle", "tc-expire-busy"
        ensure_coordinator(c, idle)
        assert init_pid(c, idle, timeout_ms=60000)["error_code"] == 0
        begin(c, busy, "tc-expire")
        wait_until(lambda: describe(c, idle)["error_code"] == TRANSACTIONAL_ID_NOT_FOUND, 10,
                   desc=f"{idle} expired")
        assert txn_records(c, idle)[-1] is None                    # the tombstone
        assert describe(c, busy)["state"] == "Ongoing"
        # A new InitProducerId starts the id again, with a new producer id.
        assert init_pid(c, idle)["error_code"] == 0
