"""The tools that need replicas, against a Samsa cluster (ZooKeeper and
three brokers, auto leader rebalance off so leaderships stay where the
test puts them):

- kafka-topics --create --replica-assignment, then broker 0 stops
  (controlled shutdown): --describe --under-replicated-partitions lists
  exactly the topic's partitions, without 0 in the ISR;
- broker 0 back and in sync, leaders still elsewhere:
  kafka-leader-election --election-type preferred moves them back to 0;
- kafka-reassign-partitions --generate (a plan onto brokers 1 and 2),
  --execute of that plan, --verify once the replicas moved; the records
  written before are all still there.
"""

import json
import re

import confluent_kafka as ck
import pytest
from cluster import read_values
from confluent_kafka.admin import NewTopic
from conftest import admin, wait_until
from tools import kt


@pytest.mark.tool("kafka-topics", "kafka-leader-election")
def test_under_replicated_then_preferred_election(zk_cluster, tmp_path):
    c = zk_cluster
    t = "kt-urp"
    out = kt("kafka-topics", "--bootstrap-server", c.bootstrap, "--create", "--topic", t,
             "--replica-assignment", "0:1:2,0:2:1").stdout
    assert f"Created topic {t}." in out
    for p in (0, 1):
        assert c.wait_isr(t, p, n=3)["leader"] == 0

    c.stop(0)                                   # controlled shutdown: leaders move away
    for p in (0, 1):
        c.wait_isr(t, p, n=2)
        c.wait_leader(t, p, not_in=(0,))
    bs = ",".join(c.brokers[i].bootstrap for i in c.live())
    out = kt("kafka-topics", "--bootstrap-server", bs, "--describe",
             "--under-replicated-partitions").stdout
    rows = re.findall(r"Topic: (\S+)\tPartition: (\d+)\tLeader: (\d+)\tReplicas: ([\d,]+)\t"
                      r"Isr: ([\d,]+)", out)
    mine = sorted((int(p), int(ld), reps, sorted(isr.split(","))) for tp, p, ld, reps, isr in rows
                  if tp == t)
    assert [(p, reps, isr) for p, _, reps, isr in mine] == \
        [(0, "0,1,2", ["1", "2"]), (1, "0,2,1", ["1", "2"])], out
    assert all(ld != 0 for _, ld, _, _ in mine), out

    c.start(0)
    for p in (0, 1):
        st = c.wait_isr(t, p, n=3)
        assert st["leader"] != 0, st              # no automatic rebalance here
    spec = tmp_path / "election.json"
    spec.write_text(json.dumps({"partitions": [{"topic": t, "partition": 0},
                                               {"topic": t, "partition": 1}]}))
    out = kt("kafka-leader-election", "--bootstrap-server", c.bootstrap, "--election-type",
             "preferred", "--path-to-json-file", spec).stdout
    m = re.search(r"Successfully completed leader election \(PREFERRED\) for partitions (.*)$",
                  out, re.M)
    assert m and sorted(m.group(1).split(", ")) == [f"{t}-0", f"{t}-1"], out
    for p in (0, 1):
        wait_until(lambda: c.leader_of(t, p) == 0, timeout=15, desc=f"{t}-{p} led by 0")


@pytest.mark.tool("kafka-reassign-partitions")
def test_reassign_generate_execute_verify(zk_cluster, tmp_path):
    c = zk_cluster
    t = "kt-reassign"
    a = admin(c.bootstrap)
    a.create_topics([NewTopic(t, 1, -1, replica_assignment=[[0, 1]])],
                    request_timeout=15)[t].result(timeout=20)
    c.wait_isr(t, 0, n=2)
    p = ck.Producer({"bootstrap.servers": c.bootstrap, "acks": "all"})
    for i in range(20):
        p.produce(t, f"r{i}".encode(), partition=0)
    assert p.flush(30) == 0

    topics = tmp_path / "topics.json"
    topics.write_text(json.dumps({"version": 1, "topics": [{"topic": t}]}))
    out = kt("kafka-reassign-partitions", "--bootstrap-server", c.bootstrap, "--generate",
             "--topics-to-move-json-file", topics, "--broker-list", "1,2").stdout
    cur = re.search(r"Current partition replica assignment\n(\{.*\})", out)
    plan = re.search(r"Proposed partition reassignment configuration\n(\{.*\})", out)
    assert cur and plan, out
    assert [(x["topic"], x["partition"], x["replicas"])
            for x in json.loads(cur.group(1))["partitions"]] == [(t, 0, [0, 1])], out
    proposed = json.loads(plan.group(1))
    (move,) = proposed["partitions"]
    assert (move["topic"], move["partition"]) == (t, 0) and sorted(move["replicas"]) == [1, 2]

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(proposed))
    out = kt("kafka-reassign-partitions", "--bootstrap-server", c.bootstrap, "--execute",
             "--reassignment-json-file", plan_file).stdout
    assert f"Successfully started partition reassignment for {t}-0" in out, out

    def moved():
        st = c.partition(t, 0)
        return st and sorted(st["replicas"]) == [1, 2] and sorted(st["isr"]) == [1, 2]
    wait_until(moved, timeout=30, interval=0.1, desc=f"{t}-0 on brokers 1 and 2")
    out = kt("kafka-reassign-partitions", "--bootstrap-server", c.bootstrap, "--verify",
             "--reassignment-json-file", plan_file).stdout
    assert f"Reassignment of partition {t}-0 is completed." in out, out
    assert read_values(c.bootstrap, t, 0) == [f"r{i}".encode() for i in range(20)]
