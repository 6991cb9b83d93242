"""TxnOffsetCommit answers of Samsa and of Apache Kafka 4.4 for the same
requests, inside a real transaction (InitProducerId, AddOffsetsToTxn, raw):
KIP-447's member checks (TG7), a missing group created by a generation -1
commit, an unknown topic, UNSTABLE_OFFSET_COMMIT for require_stable while
pending and the offset once EndTxn's markers are written (TG1, TG6),
OffsetFetch of all partitions leaving pending ones out, and DeleteGroups of a
group with only pending offsets (TG6). The expected values are Kafka's
(checked against the KafkaPeer); the Samsa run must give the same.

Not compared here: a TxnOffsetCommit for a group whose offsets partition was
never added to the transaction (KIP-890 part 1: INVALID_TXN_STATE, v4
TRANSACTION_ABORTABLE); test_txn_verify.py checks Samsa's answers."""

import kproto

from conftest import create_topic, wait_until
from test_cli_txn import target  # noqa: F401  (the kafka/samsa fixture)
from test_txn_coord import add_offsets, end_txn, ensure_coordinator, init_pid


def test_txn_offset_commit_answers_match_kafka(target):  # noqa: F811
    bs = target.bootstrap
    create_topic(bs, "t", 1)
    c = kproto.Conn(target.host, target.port, timeout=20)
    wait_until(lambda: kproto.find_coordinator(c, "any")["error_code"] == 0, 30, interval=0.1,
               desc="the group coordinator")
    ensure_coordinator(c, "tx-vs")
    ip = {}
    wait_until(lambda: ip.update(init_pid(c, "tx-vs")) or ip["error_code"] == 0, 30, interval=0.1,
               desc="InitProducerId")
    pid, ep = ip["producer_id"], ip["producer_epoch"]
    for g in ("g-missing", "g-new", "g1", "g2"):
        assert add_offsets(c, "tx-vs", pid, ep, g) == 0, g
    tc = kproto.txn_offset_commit
    one = {("t", 0): 5}
    assert tc(c, "tx-vs", "g-missing", pid, ep, one, generation_id=3, member_id="m", version=3) == \
        {("t", 0): kproto.ILLEGAL_GENERATION}
    assert tc(c, "tx-vs", "g-new", pid, ep, one, version=3) == {("t", 0): 0}
    assert tc(c, "tx-vs", "g1", pid, ep, {("nope", 0): 5}, version=3) == \
        {("nope", 0): kproto.UNKNOWN_TOPIC_OR_PARTITION}

    j = kproto.join_group(c, "g2", group_instance_id="inst-1")
    if j["error_code"] == kproto.MEMBER_ID_REQUIRED:
        j = kproto.join_group(c, "g2", member_id=j["member_id"], group_instance_id="inst-1")
    assert j["error_code"] == 0, j
    mid, gen = j["member_id"], j["generation_id"]
    assert tc(c, "tx-vs", "g2", pid, ep, one, generation_id=gen, member_id="other") == \
        {("t", 0): kproto.UNKNOWN_MEMBER_ID}
    assert tc(c, "tx-vs", "g2", pid, ep, one, generation_id=gen + 1, member_id=mid,
              group_instance_id="inst-1") == {("t", 0): kproto.ILLEGAL_GENERATION}
    assert tc(c, "tx-vs", "g2", pid, ep, one, generation_id=gen, member_id="zombie",
              group_instance_id="inst-1") == {("t", 0): kproto.FENCED_INSTANCE_ID}
    # before KIP-447 (no member, no generation): accepted in any state
    assert tc(c, "tx-vs", "g2", pid, ep, {("t", 0): 6}, version=3) == {("t", 0): 0}
    assert tc(c, "tx-vs", "g2", pid, ep, {("t", 0): 6}, version=2) == {("t", 0): 0}
    assert tc(c, "tx-vs", "g2", pid, ep, {("t", 0): 7}, generation_id=gen, member_id=mid,
              group_instance_id="inst-1") == {("t", 0): 0}

    def fetch(g, stable=True):
        return kproto.offset_fetch(c, g, {"t": [0]}, require_stable=stable, version=7)["offsets"][("t", 0)]
    assert fetch("g2") == (-1, -1, "", kproto.UNSTABLE_OFFSET_COMMIT)
    assert fetch("g2", stable=False) == (-1, -1, "", 0)
    assert kproto.offset_fetch(c, "g2", None, require_stable=True, version=7) == \
        {"error_code": 0, "offsets": {}}
    # a group with only pending offsets is Empty: deleted, and stays empty
    assert kproto.delete_groups(c, ["g-new"]) == {"g-new": 0}

    assert end_txn(c, "tx-vs", pid, ep, True) == 0
    wait_until(lambda: fetch("g2")[3] == 0, 10, interval=0.05, desc="the commit marker")
    assert fetch("g2") == (7, -1, "", 0)
    assert fetch("g-new") == (-1, -1, "", 0)
    c.close()

