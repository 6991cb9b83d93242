"""kafka-transactions (TransactionsCommand) against one Samsa broker (issue
16): list, describe, describe-producers and find-hanging on an open
transaction of a confluent-kafka producer, then `abort` of it by partition
and start offset (the admin client's DescribeProducers + WriteTxnMarkers):
the partition's open transaction is gone and read_committed reads past it.
The expected output is what Apache Kafka 4.4's broker gives the same tool
run (checked with tests/integration/txn_peer.py, SAMSA_TXN_PEER=kafka)."""

import re

import confluent_kafka as ck
import pytest
from conftest import make_topic, unique
from tools import kt


def rows(out):
    """Tab-separated table (header + rows) -> list of dicts."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    head = [h.strip() for h in lines[0].split("\t") if h.strip()]
    return [dict(zip(head, [c.strip() for c in ln.split("\t")])) for ln in lines[1:]]


def lso(bs, topic):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "kt-lso",
                     "isolation.level": "read_committed"})
    try:
        return c.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=10, cached=False)[1]
    finally:
        c.close()


@pytest.mark.tool("kafka-transactions")
def test_kafka_transactions(samsa, request):
    bs = samsa.bootstrap
    topic, tid = unique(request), unique(request, "-txn")
    make_topic(samsa, topic)
    p = ck.Producer({"bootstrap.servers": bs, "transactional.id": tid})
    p.init_transactions(30)
    p.begin_transaction()
    p.produce(topic, value=b"open", partition=0)
    assert p.flush(30) == 0

    listed = [r for r in rows(kt("kafka-transactions", "--bootstrap-server", bs, "list").stdout)
              if r["TransactionalId"] == tid]
    assert listed and listed[0]["TransactionState"] == "Ongoing", listed
    assert listed[0]["Coordinator"] == "0"
    pid = listed[0]["ProducerId"]

    d = rows(kt("kafka-transactions", "--bootstrap-server", bs, "describe",
                "--transactional-id", tid).stdout)
    assert len(d) == 1, d
    assert (d[0]["CoordinatorId"], d[0]["ProducerId"], d[0]["TransactionState"],
            d[0]["TopicPartitions"]) == ("0", pid, "Ongoing", f"{topic}-0"), d
    assert d[0]["TransactionTimeoutMs"] == "60000"

    dp = rows(kt("kafka-transactions", "--bootstrap-server", bs, "describe-producers",
                 "--topic", topic, "--partition", "0").stdout)
    assert [(r["ProducerId"], r["CurrentTransactionStartOffset"]) for r in dp] == [(pid, "0")], dp

    hanging = kt("kafka-transactions", "--bootstrap-server", bs, "find-hanging",
                 "--broker-id", "0")
    assert hanging.returncode == 0, hanging.stderr
    assert re.match(r"Topic\tPartition\tProducerId", hanging.stdout), hanging.stdout
    assert lso(bs, topic) == 0      # held by the open transaction

    ab = kt("kafka-transactions", "--bootstrap-server", bs, "abort", "--topic", topic,
            "--partition", "0", "--start-offset", "0")
    assert ab.returncode == 0, ab.stderr
    dp = rows(kt("kafka-transactions", "--bootstrap-server", bs, "describe-producers",
                 "--topic", topic, "--partition", "0").stdout)
    assert [(r["ProducerId"], r["CurrentTransactionStartOffset"]) for r in dp] == [(pid, "None")]
    assert lso(bs, topic) == 2      # the record and the abort marker
