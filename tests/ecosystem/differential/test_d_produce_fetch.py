"""Differential scenarios: Produce edge cases, Fetch, ListOffsets,
OffsetForLeaderEpoch, DeleteRecords, InitProducerId."""

import struct
import time

import pytest

import oracle as O

TS = 1_700_000_000_000


def pv(o):
    return o.newest(O.PRODUCE)


def produce(o, topic, records, partition=0, acks=-1, v=None, check=True):
    v = v or pv(o)
    return o.call(O.PRODUCE, v, {"acks": acks, "timeout_ms": 10000, "topic_data": [{
        "name": topic, "partition_data": [{"index": partition, "records": records}]}]},
        check=check)


def produce_side(side, topic, records, partition=0, acks=-1, v=11):
    return side.call(O.PRODUCE, v, {"acks": acks, "timeout_ms": 10000, "topic_data": [{
        "name": topic, "partition_data": [{"index": partition, "records": records}]}]})


def fetch_body(topic, partitions, max_bytes=1 << 20, isolation=0, max_wait=0, min_bytes=0,
               session_id=0, epoch=-1, forgotten=()):
    """partitions: [(index, fetch_offset, partition_max_bytes)]; the topic id
    is resolved per broker."""
    def body(side):
        tid = side.topic_id(topic) if topic else None
        return {"replica_id": -1, "max_wait_ms": max_wait, "min_bytes": min_bytes,
                "max_bytes": max_bytes, "isolation_level": isolation,
                "session_id": session_id, "session_epoch": epoch,
                "topics": [{"topic": topic, "topic_id": tid, "partitions": [
                    {"partition": p, "fetch_offset": off, "partition_max_bytes": pmb,
                     "log_start_offset": -1, "current_leader_epoch": -1}
                    for p, off, pmb in partitions]}] if topic else [],
                "forgotten_topics_data": list(forgotten), "rack_id": ""}
    return body


def fv(o):
    return o.newest(O.FETCH)


def three(o, topic=None, configs=None, partitions=1):
    """A topic holding one batch of three records on both brokers."""
    t = o.create_topic(topic or o.name(), partitions=partitions, configs=configs)
    for side in o.sides():
        r = produce_side(side, t, O.batch(["a", "b", "c"], base_timestamp=TS))
        assert r["responses"][0]["partition_responses"][0]["error_code"] == 0
    return t


# --- Produce ---------------------------------------------------------------------
@pytest.mark.parametrize("acks", [1, -1])
def test_produce_acks(o, acks):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x", "y"]), acks=acks)
    produce(o, t, O.batch(["z"]), acks=acks)


@pytest.mark.parametrize("v", [3, 7, 9])
def test_produce_old_versions(o, v):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x", "y"]), v=v)


def test_produce_acks0(o):
    """No response; the records are there (ListOffsets latest)."""
    t = o.create_topic(o.name())

    def flow(side):
        side.send(O.PRODUCE, 11, {"acks": 0, "timeout_ms": 10000, "topic_data": [{
            "name": t, "partition_data": [{"index": 0, "records": O.batch(["q"] * 4)}]}]})
        lo = {"replica_id": -1, "isolation_level": 0, "topics": [{"name": t, "partitions": [
            {"partition_index": 0, "timestamp": -1, "current_leader_epoch": -1}]}]}
        return [(O.LIST_OFFSETS, side.call(O.LIST_OFFSETS, 7, lo))]
    o.flow(flow)


def test_produce_acks_invalid(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"]), acks=2)


def test_produce_empty_records(o):
    t = o.create_topic(o.name())
    produce(o, t, b"")


def test_produce_null_records(o):
    """Kafka 4.4 never answers (nor closes); Samsa answers INVALID_RECORD."""
    t = o.create_topic(o.name())

    def flow(side):
        try:
            r = side.call(O.PRODUCE, 11, {"acks": -1, "timeout_ms": 1000, "topic_data": [{
                "name": t, "partition_data": [{"index": 0, "records": None}]}]}, timeout=3)
            return [r["responses"][0]["partition_responses"][0]["error_code"]]
        except TimeoutError:
            return ["no response within 3 s"]
    o.flow(flow)


def test_produce_record_too_large(o):
    t = o.create_topic(o.name(), configs={"max.message.bytes": 1000})
    produce(o, t, O.batch([b"v" * 2000]))


def test_produce_bad_crc(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"], corrupt_crc=True))


def test_produce_wrong_magic(o):
    t = o.create_topic(o.name())
    b = bytearray(O.batch(["x"]))
    b[16] = 1  # magic
    produce(o, t, bytes(b))


def test_produce_truncated_batch(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x", "y"])[:-5])


def test_produce_two_batches(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"]) + O.batch(["y"]))


def test_produce_unknown_topic(o):
    produce(o, o.name("-nope"), O.batch(["x"]))


def test_produce_unknown_partition(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"]), partition=5)


def test_produce_future_timestamp(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"], base_timestamp=int(time.time() * 1000) + 2 * 3600_000))


def test_produce_log_append_time(o):
    t = o.create_topic(o.name(), configs={"message.timestamp.type": "LogAppendTime"})
    produce(o, t, O.batch(["x"]))


def test_produce_create_time_old(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"], base_timestamp=1000))


def test_produce_nonzero_base_offset(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x", "y"], base_offset=42))


def pid(side):
    r = side.call(O.INIT_PRODUCER_ID, 4, {"transactional_id": None,
                                          "transaction_timeout_ms": 60000,
                                          "producer_id": -1, "producer_epoch": -1})
    assert r["error_code"] == 0
    return r["producer_id"], r["producer_epoch"]


def idem_flow(o, seqs):
    t = o.create_topic(o.name())

    def flow(side):
        p, e = pid(side)
        out = []
        for i, seq in enumerate(seqs):
            r = produce_side(side, t, O.batch([f"m{i}"], producer_id=p, producer_epoch=e,
                                              base_sequence=seq))
            out.append((O.PRODUCE, r))
        return out
    o.flow(flow)


def test_produce_idempotent_in_order(o):
    idem_flow(o, [0, 1, 2])


def test_produce_idempotent_duplicate(o):
    idem_flow(o, [0, 1, 1])


def test_produce_idempotent_duplicate_older(o):
    idem_flow(o, [0, 1, 2, 0])


def test_produce_idempotent_out_of_order(o):
    idem_flow(o, [0, 5])


def test_produce_idempotent_first_seq_nonzero(o):
    idem_flow(o, [3])


def test_produce_idempotent_without_init(o):
    t = o.create_topic(o.name())
    produce(o, t, O.batch(["x"], producer_id=987654, producer_epoch=0, base_sequence=0))


def test_produce_idempotent_stale_epoch(o):
    t = o.create_topic(o.name())

    def flow(side):
        p, e = pid(side)
        r1 = produce_side(side, t, O.batch(["a"], producer_id=p, producer_epoch=e + 1,
                                           base_sequence=0))
        r2 = produce_side(side, t, O.batch(["b"], producer_id=p, producer_epoch=e,
                                           base_sequence=1))
        return [(O.PRODUCE, r1), (O.PRODUCE, r2)]
    o.flow(flow)


# --- InitProducerId ---------------------------------------------------------------
@pytest.mark.parametrize("v", ["newest", 0])
def test_init_producer_id(o, v):
    v = o.newest(O.INIT_PRODUCER_ID) if v == "newest" else v
    o.call(O.INIT_PRODUCER_ID, v, {"transactional_id": None, "transaction_timeout_ms": 60000,
                                   "producer_id": -1, "producer_epoch": -1})


def test_init_producer_id_bump_unknown(o):
    o.call(O.INIT_PRODUCER_ID, 4, {"transactional_id": None, "transaction_timeout_ms": 60000,
                                   "producer_id": 424242, "producer_epoch": 3})


# --- Fetch -------------------------------------------------------------------------
@pytest.mark.parametrize("v", ["newest", 12, 4])
def test_fetch_log_start(o, v):
    v = fv(o) if v == "newest" else v
    t = three(o)
    o.call(O.FETCH, v, fetch_body(t, [(0, 0, 1 << 20)]))


def test_fetch_middle_of_batch(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 1, 1 << 20)]))


def test_fetch_at_end(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 3, 1 << 20)]))


def test_fetch_at_end_waits(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 3, 1 << 20)], max_wait=200, min_bytes=1))


def test_fetch_past_end(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 10, 1 << 20)]))


def test_fetch_negative_offset(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, -5, 1 << 20)]))


def test_fetch_before_log_start(o):
    t = three(o)
    for side in o.sides():
        side.call(O.DELETE_RECORDS, 2, {"topics": [{"name": t, "partitions": [
            {"partition_index": 0, "offset": 2}]}], "timeout_ms": 10000})
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 1, 1 << 20)]))


def test_fetch_max_bytes_smaller_than_batch(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 0, 1 << 20)], max_bytes=10))


def test_fetch_partition_max_bytes_small(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 0, 10)]))


@pytest.mark.parametrize("iso", [0, 1], ids=["read_uncommitted", "read_committed"])
def test_fetch_isolation(o, iso):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 0, 1 << 20)], isolation=iso))


def test_fetch_unknown_partition(o):
    t = three(o)
    o.call(O.FETCH, fv(o), fetch_body(t, [(0, 0, 1 << 20), (7, 0, 1 << 20)]))


def test_fetch_unknown_topic_id(o):
    def body(side):
        b = fetch_body(None, [])(side)
        b["topics"] = [{"topic": "", "topic_id": "AAAAAAAAAAAAAAAAAAAAAQ", "partitions": [
            {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1000,
             "log_start_offset": -1, "current_leader_epoch": -1}]}]
        return b
    o.call(O.FETCH, fv(o), body)


def test_fetch_unknown_topic_name_v12(o):
    o.call(O.FETCH, 12, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0,
                         "max_bytes": 1 << 20, "isolation_level": 0, "session_id": 0,
                         "session_epoch": -1, "topics": [{"topic": o.name(), "partitions": [
                             {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1000}]}]})


def test_fetch_fenced_leader_epoch(o):
    t = three(o)

    def body(side):
        b = fetch_body(t, [(0, 0, 1 << 20)])(side)
        b["topics"][0]["partitions"][0]["current_leader_epoch"] = 5
        return b
    o.call(O.FETCH, fv(o), body)


def test_fetch_session_flow(o):
    """A new session, an incremental fetch with nothing new, one after a produce,
    a wrong epoch, an unknown session id, and closing the session."""
    t = three(o)

    def flow(side):
        v = 12
        base = {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20,
                "isolation_level": 0, "forgotten_topics_data": []}
        parts = [{"topic": t, "partitions": [{"partition": 0, "fetch_offset": 0,
                                              "partition_max_bytes": 1 << 20}]}]
        out = []
        r = side.call(O.FETCH, v, dict(base, session_id=0, session_epoch=0, topics=parts))
        out.append((O.FETCH, r))
        sid = r["session_id"]
        parts3 = [{"topic": t, "partitions": [{"partition": 0, "fetch_offset": 3,
                                               "partition_max_bytes": 1 << 20}]}]
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid, session_epoch=1,
                                                         topics=parts3))))
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid, session_epoch=2,
                                                         topics=[]))))
        produce_side(side, t, O.batch(["d"], base_timestamp=TS))
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid, session_epoch=3,
                                                         topics=[]))))
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid, session_epoch=9,
                                                         topics=[]))))
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid ^ 0x5a5a,
                                                         session_epoch=1, topics=[]))))
        out.append((O.FETCH, side.call(O.FETCH, v, dict(base, session_id=sid, session_epoch=-1,
                                                         topics=[]))))
        return out
    o.flow(flow)


# --- ListOffsets -------------------------------------------------------------------
def list_offsets(o, topic, specs, v=None, iso=0):
    v = v or o.newest(O.LIST_OFFSETS)
    return o.call(O.LIST_OFFSETS, v, {"replica_id": -1, "isolation_level": iso, "topics": [{
        "name": topic, "partitions": [{"partition_index": p, "timestamp": ts,
                                       "current_leader_epoch": -1} for p, ts in specs]}],
        "timeout_ms": 10000})


def timed(o):
    """Three batches with timestamps TS, TS+10 (max TS+20 inside), TS+5."""
    t = o.create_topic(o.name())
    for side in o.sides():
        for ts in (TS, TS + 10, TS + 5):
            produce_side(side, t, O.batch(["a", "b"], base_timestamp=ts))
    return t


@pytest.mark.parametrize("ts", [-2, -1, -3], ids=["earliest", "latest", "max_timestamp"])
@pytest.mark.parametrize("v", ["newest", 1])
def test_list_offsets_special(o, ts, v):
    v = o.newest(O.LIST_OFFSETS) if v == "newest" else v
    if v < 7 and ts == -3:
        pytest.skip("MAX_TIMESTAMP needs ListOffsets v7+")
    list_offsets(o, timed(o), [(0, ts)], v)


@pytest.mark.parametrize("ts", [TS - 1, TS + 3, TS + 10, TS + 11],
                         ids=["before_all", "between", "exact", "after_all"])
def test_list_offsets_by_time(o, ts):
    list_offsets(o, timed(o), [(0, ts)])


def test_list_offsets_unknown_partition(o):
    list_offsets(o, o.create_topic(o.name()), [(0, -1), (3, -1)])


def test_list_offsets_unknown_topic(o):
    list_offsets(o, o.name(), [(0, -1)])


def test_list_offsets_after_delete_records(o):
    t = three(o)
    for side in o.sides():
        side.call(O.DELETE_RECORDS, 2, {"topics": [{"name": t, "partitions": [
            {"partition_index": 0, "offset": 2}]}], "timeout_ms": 10000})
    list_offsets(o, t, [(0, -2)])


def test_list_offsets_read_committed(o):
    list_offsets(o, three(o), [(0, -1)], iso=1)


# --- OffsetForLeaderEpoch ----------------------------------------------------------
@pytest.mark.parametrize("epoch,current", [(0, -1), (1, -1), (0, 0), (0, 3), (-1, -1)],
                         ids=["epoch0", "future_epoch", "current_ok", "fenced", "undefined"])
def test_offset_for_leader_epoch(o, epoch, current):
    t = three(o)
    o.call(O.OFFSET_FOR_LEADER_EPOCH, o.newest(O.OFFSET_FOR_LEADER_EPOCH), {
        "replica_id": -1, "topics": [{"topic": t, "partitions": [
            {"partition": 0, "current_leader_epoch": current, "leader_epoch": epoch}]}]})


def test_offset_for_leader_epoch_unknown(o):
    o.call(O.OFFSET_FOR_LEADER_EPOCH, o.newest(O.OFFSET_FOR_LEADER_EPOCH), {
        "replica_id": -1, "topics": [{"topic": o.name(), "partitions": [
            {"partition": 0, "current_leader_epoch": -1, "leader_epoch": 0}]}]})


# --- DeleteRecords -----------------------------------------------------------------
@pytest.mark.parametrize("offset", [2, -1, 3, 10],
                         ids=["middle", "high_watermark", "at_end", "past_end"])
def test_delete_records(o, offset):
    t = three(o)
    o.call(O.DELETE_RECORDS, o.newest(O.DELETE_RECORDS), {"topics": [{"name": t, "partitions": [
        {"partition_index": 0, "offset": offset}]}], "timeout_ms": 10000})
    list_offsets(o, t, [(0, -2)])
    list_offsets(o, t, [(0, -1)])


def test_list_offsets_duplicate_partition(o):
    list_offsets(o, three(o), [(0, -2), (0, -1)])


def test_delete_records_unknown(o):
    t = three(o)
    o.call(O.DELETE_RECORDS, o.newest(O.DELETE_RECORDS), {"topics": [
        {"name": t, "partitions": [{"partition_index": 4, "offset": 1}]},
        {"name": o.name("-nope"), "partitions": [{"partition_index": 0, "offset": 1}]}],
        "timeout_ms": 10000})
