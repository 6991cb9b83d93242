"""The cluster fault runner's sample in `make test` (issue 14): one seeded
round of tests/torture_cluster/runner.py, every fault kind once (kill -9 of a
leader and of the controller, a paused leader, a network partition, short and
long ZooKeeper outages, a rolling restart, a full disk on a follower), on
ZooKeeper and 3 brokers with zookeeper.session.timeout.ms=4000, under 3
idempotent producers and a 2-member consumer group; then every check of
checks.py. `make torture-cluster` is the long run (docs/reliability.md,
"Cluster fault runs").

Deterministic in what it checks: the schedule comes from a fixed seed
(TORTURE_CLUSTER_SEED overrides it), every wait is on a condition with a
bound, and the verdict is the list of violations, which must be empty. The
partition and disk_full faults need root; without it they are skipped with
the reason printed, never silently.
"""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "torture_cluster"))
import runner  # noqa: E402

SEED = int(os.environ.get("TORTURE_CLUSTER_SEED", "14"))


@pytest.mark.timeout(420)
@pytest.mark.slow
def test_cluster_fault_sample(tmp_path, capsys):
    res = runner.run(seed=SEED, rounds=1, session_timeout_ms=4000, workdir=tmp_path)
    runner.print_report(res)
    with capsys.disabled():
        for kind, row in res["summary"].items():
            if row.get("skip_reason"):
                print(f"\ntest_torture_cluster: fault {kind} skipped: {row['skip_reason']}")
    assert not res["violations"], (
        f"seed {res['seed']}: {len(res['violations'])} violations (replay: "
        f"make torture-cluster SEED={res['seed']} ROUNDS=1 SESSION_TIMEOUT_MS=4000):\n" +
        "\n".join(res["violations"]))
    ran = {k for k, row in res["summary"].items() if row["runs"] + row["skipped"]}
    assert ran == set(runner.faults.KINDS), f"not every fault kind ran: {sorted(ran)}"
    f = res["figures"]
    assert f["acked"] > 0 and f["deliveries"] > 0 and f["offset_samples"] > 0, f
