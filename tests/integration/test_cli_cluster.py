"""`samsa cluster info`, `samsa topic create --replication-factor` and
`samsa topic describe` against three real brokers and a real ZooKeeper
(tests/integration/cluster.py, the harness of issue 13): every broker, the
controller, RF=3 replicas/ISR/leader epochs as the brokers report them, and
the under-replicated count once a broker is killed.

Skipped until cluster.py is on the branch (it comes from the lead's
`harness` branch)."""

import pytest

from test_cli_common import EXIT_FAIL, one_line_error, run_cli

cluster_mod = pytest.importorskip("cluster", reason="needs tests/integration/cluster.py")
cluster_zk, cluster_factory, cluster = \
    cluster_mod.cluster_zk, cluster_mod.cluster_factory, cluster_mod.cluster
from conftest import unique_topic  # noqa: E402


def samsa(cl, *args):
    r = run_cli(list(args), brokers=cl.bootstrap)
    assert r.rc == 0, r
    return r


def create_rf3(cl, t, partitions):
    r = samsa(cl, "topic", "create", t, "-p", str(partitions), "--replication-factor", "3")
    assert r.out == f"Created topic '{t}' with {partitions} partitions, replication factor 3.\n"
    for p in range(partitions):
        cl.wait_isr(t, p, n=3)


def test_cluster_info_and_rf3_describe(cluster, request):
    t = unique_topic(request)
    create_rf3(cluster, t, 3)
    ctrl = cluster.controller()

    j = samsa(cluster, "cluster", "info", "--json").json()
    assert [(b["id"], b["port"], b["controller"]) for b in j["brokers"]] == \
        [(i, cluster.broker_port(i), i == ctrl) for i in range(3)], j
    assert j["controller_id"] == ctrl
    assert (j["topics"], j["partitions"], j["under_replicated_partitions"], j["offline_partitions"]) == \
        (1, 3, 0, 0), j
    human = samsa(cluster, "cluster", "info").out
    assert "Brokers:                      3\n" in human and f"Controller:                   {ctrl}\n" in human
    assert "Under-replicated partitions:  0\n" in human and "Offline partitions:           0\n" in human

    d = samsa(cluster, "topic", "describe", t, "--json").json()
    assert d["replication_factor"] == 3
    for p in d["partitions"]:
        st = cluster.partition(t, p["partition"], via=ctrl)
        assert sorted(p["replicas"]) == [0, 1, 2] and sorted(p["isr"]) == [0, 1, 2], p
        assert (p["leader"], p["leader_epoch"], p["replicas"], p["offline_replicas"]) == \
            (st["leader"], st["leader_epoch"], st["replicas"], []), (p, st)

    # more replicas than brokers: the broker's own message, exit 1
    r = run_cli(["topic", "create", t + "-rf4", "--replication-factor", "4"], brokers=cluster.bootstrap)
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, f"cannot create topic '{t}-rf4'", "Replication factor: 4 larger than available brokers: 3.")


def test_under_replicated_after_a_broker_dies(cluster, request):
    t = unique_topic(request)
    create_rf3(cluster, t, 2)
    ctrl = cluster.controller()
    victim = next(i for i in range(3) if i != ctrl)
    cluster.kill(victim)
    states = {p: cluster.wait_isr(t, p, n=2) for p in range(2)}

    j = samsa(cluster, "cluster", "info", "--json").json()
    assert [b["id"] for b in j["brokers"]] == [i for i in range(3) if i != victim], j
    assert j["controller_id"] == ctrl
    # both partitions have the victim as a replica: both under-replicated, none offline
    assert (j["under_replicated_partitions"], j["offline_partitions"]) == (2, 0), j
    assert j["under_replicated"] == [{"topic": t, "partition": 0}, {"topic": t, "partition": 1}], j

    d = samsa(cluster, "topic", "describe", t, "--json").json()
    for p in d["partitions"]:
        st = states[p["partition"]]
        assert victim in p["replicas"] and victim not in p["isr"], p
        assert p["offline_replicas"] == [victim], p
        assert (p["leader"], p["leader_epoch"]) == (st["leader"], st["leader_epoch"]), (p, st)
    rows = samsa(cluster, "topic", "describe", t).out.split("\n\n")[1].splitlines()[1:]
    assert [r.split()[5] for r in rows] == [str(victim)] * 2, rows   # the OFFLINE column
