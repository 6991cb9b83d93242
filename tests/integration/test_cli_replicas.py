"""`samsa cluster info` and `samsa topic describe` on a replicated view,
before the 3-broker harness exists: one real broker (node 0) with the test
hook samsa.test.hooks.enable=true is told through LeaderAndIsr (as a
controller would) that brokers 1 and 2 are live (on ports nothing listens
on) and what each partition's leader, leader epoch, replicas and ISR are:

  p0: leader 0, epoch 3, replicas [0, 1, 2], ISR [0, 1, 2]   healthy
  p1: leader 0, epoch 7, replicas [0, 1, 2], ISR [0, 1]      under-replicated
  p2: leader 3 (not live), epoch 2, replicas [3, 0], ISR [3], offline replica 3:
      offline, under-replicated

The CLI's answers are checked against the broker's own Metadata v8 answer
read with kproto, and describe must not wait for the leaderless partition's
offsets."""

import re
import time

import kproto
from conftest import create_topic, free_port, produce_all, producer, raw_conn, unique_topic
from test_cli_common import Cli

HOOKS = {"samsa.test.hooks.enable": "true"}


def state(partition, leader, epoch, replicas, isr):
    return {"partition": partition, "leader": leader, "leader_epoch": epoch,
            "replicas": replicas, "isr": isr}


def replicated_view(broker_factory, request):
    b = broker_factory(HOOKS)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 3)
    produce_all(producer(b.bootstrap), t, [{"value": b"x", "partition": p} for p in (0, 0, 1)])
    ports = {1: free_port(), 2: free_port()}
    with raw_conn(b) as c:
        res = kproto.leader_and_isr(c, 1, {t: [state(0, 0, 3, [0, 1, 2], [0, 1, 2]),
                                               state(1, 0, 7, [0, 1, 2], [0, 1]),
                                               state(2, 3, 2, [3, 0], [3])]},
                                    live_leaders=[(n, "127.0.0.1", p) for n, p in ports.items()])
        assert res["error_code"] == 0 and set(res["partitions"].values()) == {0}, res
        md = kproto.metadata(c, [t], version=8)
    return b, t, ports, md


def test_cluster_info_counts_under_replicated_and_offline(broker_factory, request):
    b, t, ports, _ = replicated_view(broker_factory, request)
    cli = Cli(b)
    j = cli.ok("cluster", "info", "--json").json()
    assert [(x["id"], x["port"], x["controller"]) for x in j["brokers"]] == \
        [(0, b.port, True), (1, ports[1], False), (2, ports[2], False)], j
    assert j["controller_id"] == 0
    assert (j["topics"], j["partitions"]) == (1, 3)
    assert (j["under_replicated_partitions"], j["offline_partitions"]) == (2, 1), j
    assert j["under_replicated"] == [{"topic": t, "partition": 1}, {"topic": t, "partition": 2}]
    assert j["offline"] == [{"topic": t, "partition": 2}]
    human = cli.ok("cluster", "info").out
    assert "Brokers:                      3\n" in human
    assert f"Under-replicated partitions:  2 ({t}-1, {t}-2)\n" in human, human
    assert f"Offline partitions:           1 ({t}-2)\n" in human, human
    assert re.search(rf"^\s*2\s+127\.0\.0\.1\s+{ports[2]}\s+-\s+(\?|)\s*$", human, re.M), human


def test_topic_describe_shows_epochs_replicas_and_isr(broker_factory, request):
    b, t, _, md = replicated_view(broker_factory, request)
    cli = Cli(b)
    start = time.monotonic()
    j = cli.ok("topic", "describe", t, "--json").json()
    # p2 has no leader: its offsets are not asked for (no wait for --timeout)
    assert time.monotonic() - start < 5
    got = [(p["partition"], p["leader"], p["leader_epoch"], p["replicas"], p["isr"],
            p["offline_replicas"], p["log_end_offset"], p["error"]) for p in j["partitions"]]
    assert got == [(0, 0, 3, [0, 1, 2], [0, 1, 2], [], 2, None),
                   (1, 0, 7, [0, 1, 2], [0, 1], [], 1, None),
                   (2, -1, 2, [3, 0], [3], [3], None, "Leader not available")], got
    # the same as the broker's own Metadata answer
    want = md["topics"][t]["partitions"]
    assert sorted(want) == [0, 1, 2]
    for p in j["partitions"]:
        w = want[p["partition"]]
        assert (w["leader"], w["leader_epoch"], w["replicas"], w["isr"], w["offline"]) == \
            (p["leader"], p["leader_epoch"], p["replicas"], p["isr"], p["offline_replicas"])
    assert j["replication_factor"] == 3

    human = cli.ok("topic", "describe", t).out
    rows = [ln.split() for ln in human.split("\n\n")[1].splitlines()]
    assert rows == [["PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE", "LOG-START", "LOG-END"],
                    ["0", "0", "3", "0,1,2", "0,1,2", "-", "0", "2"],
                    ["1", "0", "7", "0,1,2", "0,1", "-", "0", "1"],
                    ["2", "none", "2", "3,0", "3", "3", "-", "-"]], human


def test_cluster_info_names_at_most_eight_partitions(broker_factory, request):
    b = broker_factory(HOOKS)
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 10)
    with raw_conn(b) as c:
        res = kproto.leader_and_isr(c, 1, {t: [state(p, 0, 1, [0, 1], [0]) for p in range(10)]},
                                    live_leaders=[(1, "127.0.0.1", free_port())])
        assert res["error_code"] == 0, res
    cli = Cli(b)
    names = ", ".join(f"{t}-{p}" for p in range(8))
    assert f"Under-replicated partitions:  10 ({names}, ... and 2 more)\n" in cli.ok("cluster", "info").out
    j = cli.ok("cluster", "info", "--json").json()
    assert j["under_replicated"] == [{"topic": t, "partition": p} for p in range(10)]
