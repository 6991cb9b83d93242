"""The transaction coordinator's answers against Apache Kafka 4.4 as the
oracle: the same raw requests (transaction version 1 request versions) sent
to a KafkaPeer (tests/ecosystem/kafka, skipped when its jars are absent) and
to Samsa must give the same error codes and epochs.  EXPECTED holds Kafka's
answers (checked against the KafkaPeer); the Samsa run must match them."""
import importlib.util
import os

import pytest

import kproto
from conftest import ROOT, create_topic, free_port, wait_until
from test_txn_coord import (END_TXN, add_offsets, add_partitions, add_partitions_batched, describe, end_txn,
                            find_txn_coordinator, init_pid, list_txns)

CONFIG = {"transaction.state.log.num.partitions": 3, "offsets.topic.num.partitions": 3,
          "transaction.state.log.replication.factor": 1, "transaction.state.log.min.isr": 1,
          "offsets.topic.replication.factor": 1, "group.initial.rebalance.delay.ms": 0,
          "transaction.abort.timed.out.transaction.cleanup.interval.ms": 200}


def _kafka_module():
    spec = importlib.util.spec_from_file_location(
        "kafka_peer", ROOT / "tests" / "ecosystem" / "kafka" / "kafka.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(params=[pytest.param("kafka", marks=pytest.mark.slow), "samsa"])
def peer(request, broker_factory, tmp_path):
    """(host, port) of a Kafka or Samsa broker with the same settings."""
    if request.param == "samsa":
        b = broker_factory(CONFIG)
        yield b.host, b.port
        return
    kp = _kafka_module()
    if not kp.available():
        pytest.skip(kp.unavailable_reason())
    os.environ.setdefault("KAFKA_HEAP", "-Xmx512m -Xms256m")
    k = kp.KafkaPeer(tmp_path / "kafka", free_port(), free_port(), node_id=0, config=CONFIG)
    k.start()
    try:
        host, port = k.bootstrap.rsplit(":", 1)
        yield host, int(port)
    finally:
        k.stop()


def retry(fn, ok=lambda r: r == 0, timeout=30):
    """fn() until ok(result) (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS...)."""
    box = []
    wait_until(lambda: box.append(fn()) or ok(box[-1]), timeout, interval=0.05, desc=str(fn))
    return box[-1]


def scenario(c, bs):
    """Observations of one broker, keyed by step."""
    obs = {}
    create_topic(bs, "vs", 3)
    wait_until(lambda: find_txn_coordinator(c, "vs-a")["error_code"] == 0, 60, interval=0.1,
               desc="a transaction coordinator")
    obs["find_empty"] = find_txn_coordinator(c, "")["error_code"]
    obs["init_timeout_too_big"] = init_pid(c, "vs-a", timeout_ms=900001)["error_code"]
    obs["init_timeout_zero"] = init_pid(c, "vs-a", timeout_ms=0)["error_code"]
    a = retry(lambda: init_pid(c, "vs-a"), lambda r: r["error_code"] == 0)
    pid = a["producer_id"]
    obs["init_first_epoch"] = a["producer_epoch"]
    obs["init_again"] = (lambda r: (r["error_code"], r["producer_id"] == pid, r["producer_epoch"]))(
        init_pid(c, "vs-a"))
    obs["init_expected_current"] = (lambda r: (r["error_code"], r["producer_epoch"]))(
        init_pid(c, "vs-a", pid=pid, epoch=1))
    obs["init_expected_retry"] = (lambda r: (r["error_code"], r["producer_epoch"]))(
        init_pid(c, "vs-a", pid=pid, epoch=1))
    obs["init_expected_old"] = init_pid(c, "vs-a", pid=pid, epoch=0)["error_code"]
    obs["init_expected_old_v4"] = init_pid(c, "vs-a", pid=pid, epoch=0, version=4)["error_code"]
    obs["init_other_pid"] = init_pid(c, "vs-a", pid=pid + 12345, epoch=2)["error_code"]
    ep = 2
    d = describe(c, "vs-a")
    obs["describe_empty"] = (d["error_code"], d["state"], d["producer_epoch"], d["start_ms"], d["topics"])
    obs["describe_unknown"] = describe(c, "vs-never")["error_code"]
    obs["end_on_empty"] = end_txn(c, "vs-a", pid, ep, True)
    obs["end_unknown_id"] = end_txn(c, "vs-never", pid, ep, True)
    obs["add_wrong_pid"] = add_partitions(c, "vs-a", pid + 1, ep, {"vs": [0]})
    obs["add_wrong_epoch"] = add_partitions(c, "vs-a", pid, ep + 1, {"vs": [0]})
    obs["add_old_epoch"] = add_partitions(c, "vs-a", pid, ep - 1, {"vs": [0]})
    obs["add_unknown_id"] = add_partitions(c, "vs-never", pid, ep, {"vs": [0]})
    obs["add_unknown_partition"] = add_partitions(c, "vs-a", pid, ep, {"vs": [0, 9], "vs-nope": [0]})
    obs["add_ok"] = add_partitions(c, "vs-a", pid, ep, {"vs": [0, 1]})
    obs["add_again"] = add_partitions(c, "vs-a", pid, ep, {"vs": [1]})
    obs["add_offsets"] = add_offsets(c, "vs-a", pid, ep, "vs-group")
    obs["add_offsets_fenced"] = add_offsets(c, "vs-a", pid, ep + 1, "vs-group")
    d = describe(c, "vs-a")
    obs["describe_ongoing"] = (d["state"], d["producer_epoch"], d["start_ms"] > 0, sorted(d["topics"]))
    obs["verify"] = add_partitions_batched(c, [("vs-a", pid, ep, True, {"vs": [0, 2]}),
                                               ("vs-c", pid, ep, True, {"vs": [0]})])
    obs["verify_unknown"] = add_partitions_batched(c, [("vs-a", pid, ep + 1, True,
                                                        {"vs": [0], "vs-nope": [3]})])
    err, unknown, txns = list_txns(c, states=["Ongoing", "Nope"])
    obs["list"] = (err, unknown, sorted(txns.items() and [(t, s) for t, (p, s) in txns.items()]))
    obs["list_by_pid"] = sorted(list_txns(c, pids=[pid])[2])
    obs["list_by_other_pid"] = sorted(list_txns(c, pids=[pid + 999])[2])
    obs["list_longer_than_0"] = "vs-a" in list_txns(c, duration=0)[2]
    obs["list_longer_than_1h"] = "vs-a" in list_txns(c, duration=3600_000)[2]
    obs["end_fenced"] = end_txn(c, "vs-a", pid, ep + 1, True)
    obs["end_fenced_v1"] = (lambda r: (r.i32(), r.i16())[1])(c.call(
        END_TXN, 1, kproto.W(False).string("vs-a").i64(pid).i16(ep + 1).bool(True).done()))
    obs["end_commit"] = end_txn(c, "vs-a", pid, ep, True)
    retry(lambda: describe(c, "vs-a")["state"], lambda s: s == "CompleteCommit")
    obs["end_commit_retry"] = end_txn(c, "vs-a", pid, ep, True)
    obs["end_abort_after_commit"] = end_txn(c, "vs-a", pid, ep, False)
    d = describe(c, "vs-a")
    obs["describe_complete"] = (d["state"], d["producer_epoch"], d["topics"])
    # A new instance fences an ongoing transaction.
    assert add_partitions(c, "vs-a", pid, ep, {"vs": [0]}) == {("vs", 0): 0}
    obs["init_while_ongoing"] = init_pid(c, "vs-a")["error_code"]
    d = describe(c, "vs-a")
    obs["fenced_state"] = (d["state"] in ("PrepareAbort", "CompleteAbort"), d["producer_epoch"])
    obs["old_end_after_fence"] = end_txn(c, "vs-a", pid, ep, True)
    retry(lambda: describe(c, "vs-a")["state"], lambda s: s == "CompleteAbort")
    obs["old_add_after_fence"] = add_partitions(c, "vs-a", pid, ep, {"vs": [1]})
    obs["old_add_offsets_after_fence"] = add_offsets(c, "vs-a", pid, ep, "vs-group")
    r = retry(lambda: init_pid(c, "vs-a"), lambda r: r["error_code"] == 0)
    obs["init_after_fence"] = (r["producer_id"] == pid, r["producer_epoch"])
    # A transaction older than its timeout is aborted with the epoch bumped.
    t = retry(lambda: init_pid(c, "vs-t", timeout_ms=1000), lambda r: r["error_code"] == 0)
    tpid, tep = t["producer_id"], t["producer_epoch"]
    assert add_partitions(c, "vs-t", tpid, tep, {"vs": [2]}) == {("vs", 2): 0}
    d = retry(lambda: describe(c, "vs-t"), lambda d: d["state"] == "CompleteAbort")
    obs["timed_out"] = (d["producer_epoch"] - tep, d["topics"])
    obs["timed_out_end"] = end_txn(c, "vs-t", tpid, tep, True)
    obs["timed_out_add"] = add_partitions(c, "vs-t", tpid, tep, {"vs": [2]})
    return obs


UNKNOWN, NOT_ATTEMPTED = 3, 55
EXPECTED = {
    "find_empty": 0,                           # answered like any id
    "init_timeout_too_big": 50,                # INVALID_TRANSACTION_TIMEOUT
    "init_timeout_zero": 50,
    "init_first_epoch": 0,
    "init_again": (0, True, 1),
    "init_expected_current": (0, 2),
    "init_expected_retry": (0, 2),
    "init_expected_old": 47,                   # PRODUCER_FENCED as v3 says it: INVALID_PRODUCER_EPOCH
    "init_expected_old_v4": 90,                # PRODUCER_FENCED
    "init_other_pid": 47,
    "describe_empty": (0, "Empty", 2, -1, {}),
    "describe_unknown": 105,                   # TRANSACTIONAL_ID_NOT_FOUND
    "end_on_empty": 48,                        # INVALID_TXN_STATE
    "end_unknown_id": 49,                      # INVALID_PRODUCER_ID_MAPPING
    "add_wrong_pid": {("vs", 0): 49},
    "add_wrong_epoch": {("vs", 0): 90},
    "add_old_epoch": {("vs", 0): 90},
    "add_unknown_id": {("vs", 0): 49},
    "add_unknown_partition": {("vs", 0): NOT_ATTEMPTED, ("vs", 9): UNKNOWN, ("vs-nope", 0): UNKNOWN},
    "add_ok": {("vs", 0): 0, ("vs", 1): 0},
    "add_again": {("vs", 1): 0},
    "add_offsets": 0,
    "add_offsets_fenced": 90,
    "describe_ongoing": ("Ongoing", 2, True, ["__consumer_offsets", "vs"]),
    "verify": (0, {"vs-a": {("vs", 0): 0, ("vs", 2): 120},     # TRANSACTION_ABORTABLE
                   "vs-c": {("vs", 0): 49}}),
    "verify_unknown": (0, {"vs-a": {("vs", 0): NOT_ATTEMPTED, ("vs-nope", 3): UNKNOWN}}),
    "list": (0, ["Nope"], [("vs-a", "Ongoing")]),
    "list_by_pid": ["vs-a"],
    "list_by_other_pid": [],
    "list_longer_than_0": True,
    "list_longer_than_1h": False,
    "end_fenced": 90,
    "end_fenced_v1": 47,
    "end_commit": 0,
    "end_commit_retry": 0,
    "end_abort_after_commit": 48,
    "describe_complete": ("CompleteCommit", 2, {}),
    "init_while_ongoing": 51,                  # CONCURRENT_TRANSACTIONS
    "fenced_state": (True, 3),
    "old_end_after_fence": 90,
    "old_add_after_fence": {("vs", 1): 90},
    "old_add_offsets_after_fence": 90,
    "init_after_fence": (True, 4),
    "timed_out": (1, {}),
    "timed_out_end": 90,
    "timed_out_add": {("vs", 2): 90},
}


def test_answers_match_kafka(peer):
    host, port = peer
    with kproto.Conn(host, port, timeout=30) as c:
        obs = scenario(c, f"{host}:{port}")
    diff = {k: (obs.get(k), v) for k, v in EXPECTED.items() if obs.get(k) != v}
    assert not diff, "step: (this broker, expected)\n" + "\n".join(f"{k}: {v}" for k, v in diff.items())
