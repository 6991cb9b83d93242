"""The transaction crash runner's sample in `make test` (issue 16): one seeded
run of tests/torture_txn/txn_runner.py on ZooKeeper + 3 brokers
(zookeeper.session.timeout.ms 4000): two crash rounds (kill -9 of the
coordinator in PrepareCommit before any marker: the new coordinator must
finish the commit; of the partitions' leader before its marker: the
coordinator's retry must reach the next leader), then the exactly-once
pipeline on 300 records with a kill -9 of the copier
and of a broker. Every check of the runner must hold: each transaction whole
or absent in read_committed, the client's commits durable, its aborts
invisible, the pipeline's output each record exactly once.

`make txn-torture` is the long run, all five scenarios (docs/reliability.md,
"Transaction crash runs"). SAMSA_TXN_PEER=kafka runs the same against
Apache Kafka 4.4.
"""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "torture_txn"))
import txn_runner  # noqa: E402
import txn_peer  # noqa: E402

SEED = int(os.environ.get("TXN_TORTURE_SEED", "16"))

if txn_peer.PEER == "kafka" and not txn_peer.kafka_available():
    pytest.skip("SAMSA_TXN_PEER=kafka: Kafka jars missing", allow_module_level=True)


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_txn_crash_sample(tmp_path):
    report, problems = txn_runner.run(
        tmp_path, seed=SEED, rounds=2, eos_records=300, eos_faults=2,
        scenarios=["coord_after_prepare", "leader_before_marker"],
        session_timeout_ms=4000)
    assert not problems, (f"seed {report['seed']} (replay: make txn-torture SEED="
                          f"{report['seed']}):\n" + "\n".join(problems))
    rounds = report["rounds"]
    assert len(rounds) == 2 and all(r["outcome"] in ("committed", "aborted") for r in rounds)
    assert report["eos"]["output"] == 300, report["eos"]
