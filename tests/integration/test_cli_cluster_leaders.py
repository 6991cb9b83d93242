"""`samsa cluster elect-leaders`, `drain` and `undrain` against three real
brokers and ZooKeeper (issue 14): a drained broker leads nothing another
in-sync replica can lead, is not chosen by later elections, shows in
`cluster info`, stays drained across a controller failover, and leads its
preferred partitions again once undrained."""
import json

from cluster import cluster_factory, cluster_zk  # noqa: F401
from conftest import unique_topic, wait_until
from test_cli_common import EXIT_FAIL, run_cli

NO_REBALANCE = {"auto.leader.rebalance.enable": "false"}


def samsa(c, *args, rc=0):
    r = run_cli(list(args), brokers=c.bootstrap)
    assert r.rc == rc, r
    return r


def leads(c, t, i, n=3):
    return [p for p in range(n) if c.leader_of(t, p) == i]


def three_in_sync(cluster_factory, request):
    """Three brokers (no automatic rebalance) and a topic of 3 partitions,
    RF 3, every ISR full."""
    c = cluster_factory(overrides=NO_REBALANCE)
    t = unique_topic(request)
    c.create_topic(t, partitions=3, rf=3)
    for p in range(3):
        c.wait_isr(t, p, n=3)
    return c, t


def test_elect_leaders_cli_after_a_restart(cluster_factory, request):
    c = cluster_factory(overrides=NO_REBALANCE)
    t = unique_topic(request)
    c.create_topic(t, partitions=3, rf=3)
    pref = {p: c.partition(t, p)["replicas"][0] for p in range(3)}
    victim = pref[0]
    c.restart(victim)
    for p in range(3):
        c.wait_isr(t, p, n=3)
    moved = [p for p in range(3) if pref[p] == victim]
    assert all(c.leader_of(t, p) != victim for p in moved)
    j = samsa(c, "--json", "cluster", "elect-leaders", "--topic", t).json()
    res = {r["partition"]: r for r in j["results"]}
    for p in range(3):
        assert res[p]["error"] == (None if p in moved else "ELECTION_NOT_NEEDED"), j
    assert (j["elected"], j["failed"]) == (len(moved), 0)
    for p in moved:
        wait_until(lambda: c.leader_of(t, p) == victim, 30, desc="preferred leader back")
    human = samsa(c, "cluster", "elect-leaders", "--topic", t, "--partition", "0")
    assert "not needed" in human.out and "0 elected, 1 not needed, 0 failed" in human.err
    r = samsa(c, "cluster", "elect-leaders", "--topic", "no-such-topic-x", rc=4)
    assert "does not exist" in r.err


def test_drain_and_undrain(cluster_factory, request):
    c, t = three_in_sync(cluster_factory, request)
    ctl = c.controller()
    x = next(i for i in range(3) if i != ctl and leads(c, t, i))
    j = samsa(c, "--json", "cluster", "drain", str(x)).json()
    assert j == {"broker": x, "drained": True, "leads": []}, j
    wait_until(lambda: leads(c, t, x) == [], 10, desc="every broker's metadata: x leads nothing")
    for p in range(3):                           # still a replica, still in sync
        assert x in c.partition(t, p)["isr"]
    cfg = json.loads(c.zk_get(f"/config/brokers/{x}"))
    assert cfg["config"]["samsa.leadership.drained"] == "true"
    info = samsa(c, "--json", "cluster", "info").json()
    assert {b["id"]: b["drained"] for b in info["brokers"]} == {i: i == x for i in range(3)}
    assert f"Drained brokers:              1 ({x})" in samsa(c, "cluster", "info").out

    # later elections pass it over: a preferred election refuses it, a
    # controlled shutdown of another leader moves leadership to the third
    r = samsa(c, "--json", "cluster", "elect-leaders", "--topic", t, rc=EXIT_FAIL)
    res = {e["partition"]: e["error"] for e in r.json()["results"]}
    assert all(res[p] == "PREFERRED_LEADER_NOT_AVAILABLE" for p in range(3)
               if c.partition(t, p)["replicas"][0] == x), res
    y = next(i for i in range(3) if i not in (x, ctl))
    c.stop(y)
    wait_until(lambda: len(leads(c, t, ctl)) == 3, 10, desc="y's leaderships on ctl, not on x")
    assert leads(c, t, x) == []
    c.start(y)
    for p in range(3):
        c.wait_isr(t, p, n=3)

    # undrain: its preferred partitions come back to it
    samsa(c, "cluster", "undrain", str(x))
    mine = [p for p in range(3) if c.partition(t, p)["replicas"][0] == x]
    wait_until(lambda: all(c.leader_of(t, p) == x for p in mine), 30, desc="leaders back on x")
    assert "samsa.leadership.drained" not in \
        json.loads(c.zk_get(f"/config/brokers/{x}"))["config"]


def test_drain_survives_a_controller_failover(cluster_factory, request):
    c, t = three_in_sync(cluster_factory, request)
    old = c.controller()
    x = next(i for i in range(3) if i != old)
    samsa(c, "cluster", "drain", str(x))
    c.stop(old)
    new = c.wait_controller(not_in=[old])
    wait_until(lambda: f"broker {x} is drained (samsa.leadership.drained=true)" in
               c.brokers[new].log_text(), 10, desc="the new controller reads the drain")
    # every partition old led went to the one broker not drained
    z = next(i for i in range(3) if i not in (old, x))
    wait_until(lambda: len(leads(c, t, z)) == 3, 10, desc="every leadership on the one not drained")
    assert leads(c, t, x) == []
    c.start(old)
    for p in range(3):
        c.wait_isr(t, p, n=3)
    r = samsa(c, "--json", "cluster", "elect-leaders", "--topic", t, rc=EXIT_FAIL)
    res = {e["partition"]: e["error"] for e in r.json()["results"]}
    assert all(res[p] == "PREFERRED_LEADER_NOT_AVAILABLE" for p in range(3)
               if c.partition(t, p)["replicas"][0] == x), res
    assert leads(c, t, x) == []
