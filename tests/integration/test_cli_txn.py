"""`samsa txn list`, `samsa txn describe` and `samsa consume --isolation`
(docs/cli.md) against a broker with transactions: Apache Kafka 4.4 (a
KafkaPeer from tests/ecosystem/kafka, skipped when its jars are absent) and
Samsa (skipped while the broker does not serve ListTransactions, i.e. before
the transaction coordinator is merged).

A confluent-kafka transactional producer commits one transaction (3
messages on partition 0) and another one leaves its transaction open (2
messages on partition 1). The CLI lists both with their states, filters by
state, describes each (state, producer id and epoch matching the list,
timeout, start time, partitions), exits 4 for an unknown id, and consumes
the committed messages only with read_committed, all 5 with
read_uncommitted."""

import importlib.util
import os
import time

import confluent_kafka as ck
import pytest

from conftest import ROOT, create_topic, free_port, raw_conn, wait_until
from test_cli_common import EXIT_NOTFOUND, EXIT_OK, Cli

TIMEOUT_MS = 45000
TOPIC = "cli-txn"


def _kafka_module():
    spec = importlib.util.spec_from_file_location(
        "kafka_peer", ROOT / "tests" / "ecosystem" / "kafka" / "kafka.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Target:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.host, port = bootstrap.rsplit(":", 1)
        self.port = int(port)


@pytest.fixture(params=[pytest.param("kafka", marks=pytest.mark.slow), "samsa"])
def target(request, broker_factory, tmp_path):
    if request.param == "kafka":
        kp = _kafka_module()
        if not kp.available():
            pytest.skip(kp.unavailable_reason())
        os.environ.setdefault("KAFKA_HEAP", "-Xmx512m -Xms256m")
        peer = kp.KafkaPeer(tmp_path / "kafka", free_port(), free_port(), node_id=0,
                            config={"transaction.state.log.num.partitions": 3,
                                    "offsets.topic.num.partitions": 3,
                                    "group.initial.rebalance.delay.ms": 0})
        peer.start()
        try:
            yield _Target(peer.bootstrap)
        finally:
            peer.stop()
        return
    b = broker_factory({"transaction.state.log.num.partitions": 3,
                        "transaction.state.log.replication.factor": 1,
                        "transaction.state.log.min.isr": 1})
    rc = raw_conn(b)
    if 66 not in rc.versions():
        rc.close()
        pytest.skip("this Samsa build does not serve ListTransactions yet (txn-coord not merged)")
    rc.close()
    yield _Target(b.bootstrap)


def txn_producer(bs, tid):
    p = ck.Producer({"bootstrap.servers": bs, "transactional.id": tid,
                     "transaction.timeout.ms": TIMEOUT_MS, "linger.ms": 0})
    p.init_transactions(30)
    return p


def test_txn_list_describe_and_isolation(target):
    bs = target.bootstrap
    create_topic(bs, TOPIC, 2)
    cli = Cli(target)
    t0 = int(time.time() * 1000)

    done = txn_producer(bs, "cli-tx-committed")
    done.begin_transaction()
    for i in range(3):
        done.produce(TOPIC, value=b"committed-%d" % i, partition=0)
    done.commit_transaction(30)

    open_ = txn_producer(bs, "cli-tx-open")
    open_.begin_transaction()
    for i in range(2):
        open_.produce(TOPIC, value=b"open-%d" % i, partition=1)
    assert open_.flush(30) == 0
    try:
        # the commit completes asynchronously (CompleteCommit after the markers)
        def listed():
            r = cli("txn", "list", "--json")
            assert r.rc == EXIT_OK, r
            got = {t["transactional_id"]: t for t in r.json()["transactions"]}
            return got if got.get("cli-tx-committed", {}).get("state") == "CompleteCommit" else None
        got = wait_until(listed, 30, interval=0.2, desc="both transactions listed, the first CompleteCommit")
        assert got["cli-tx-open"]["state"] == "Ongoing", got
        assert r_ok(cli("txn", "list", "--json")).json()["failed_brokers"] == []

        r = r_ok(cli("txn", "list", "--state", "Ongoing", "--json"))
        ids = [t["transactional_id"] for t in r.json()["transactions"]]
        assert "cli-tx-open" in ids and "cli-tx-committed" not in ids, ids

        text = r_ok(cli("txn", "list")).out
        assert text.splitlines()[0].split() == ["TRANSACTIONAL-ID", "PRODUCER-ID", "STATE", "COORDINATOR"]
        row = next(ln.split() for ln in text.splitlines() if ln.startswith("cli-tx-open "))
        assert row[1] == str(got["cli-tx-open"]["producer_id"]) and row[2] == "Ongoing", text

        d = r_ok(cli("txn", "describe", "cli-tx-open", "--json")).json()
        now = int(time.time() * 1000)
        assert d["transactional_id"] == "cli-tx-open" and d["state"] == "Ongoing", d
        assert d["producer_id"] == got["cli-tx-open"]["producer_id"], (d, got)
        assert d["producer_epoch"] >= 0 and d["timeout_ms"] == TIMEOUT_MS, d
        assert t0 - 1000 <= d["start_time_ms"] <= now + 1000, (d, t0, now)
        assert d["partitions"] == [{"topic": TOPIC, "partition": 1}], d
        assert d["coordinator"] == got["cli-tx-open"]["coordinator"], (d, got)

        dc = r_ok(cli("txn", "describe", "cli-tx-committed", "--json")).json()
        assert dc["state"] == "CompleteCommit" and dc["partitions"] == [], dc
        assert dc["producer_id"] == got["cli-tx-committed"]["producer_id"], (dc, got)

        text = r_ok(cli("txn", "describe", "cli-tx-open")).out
        assert "State:             Ongoing" in text and f"{TOPIC}  " in text, text
        assert f"Timeout:           {TIMEOUT_MS} ms" in text, text

        r = cli("txn", "describe", "no-such-txn-id")
        assert r.rc == EXIT_NOTFOUND and "does not exist" in r.err, r

        # read_committed (default): the committed 3, nothing past partition 1's LSO
        r = r_ok(cli("consume", TOPIC, "-e", "--json"))
        assert sorted(m["value"] for m in r.json_lines()) == [f"committed-{i}" for i in range(3)], r
        r = r_ok(cli("consume", TOPIC, "-e", "--json", "--isolation", "read_committed"))
        assert len(r.json_lines()) == 3, r
        r = r_ok(cli("consume", TOPIC, "-e", "--json", "--isolation", "read_uncommitted"))
        assert sorted(m["value"] for m in r.json_lines()) == \
            [f"committed-{i}" for i in range(3)] + ["open-0", "open-1"], r
    finally:
        open_.abort_transaction(30)


def r_ok(r):
    assert r.rc == EXIT_OK, r
    return r
