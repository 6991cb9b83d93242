"""ISR shrink and expand in a real cluster (docs/replication.md §3): a
ZooKeeper server and three brokers with replica.lag.time.max.ms=3000. The
leader's ISR manager removes a follower that stops fetching (paused with
SIGSTOP: still registered, so only the leader can notice; not the
controller, which would stop every ISR change) after the lag,
through AlterPartition to the controller, which writes the state znode;
acks=all goes on with the two others (min.insync.replicas=2). Resumed, or
stopped and restarted, the follower catches up and is added back (C7).
With both followers gone, acks=all is refused with NOT_ENOUGH_REPLICAS."""

import json
import os
import signal
import time

import pytest

import kproto
from conftest import admin, free_port, raw_conn, stop_process, unique_topic, wait_until
from zk import ZooKeeper

LAG_MS = 3000
CHROOT = "/isr"


@pytest.fixture
def zk(tmp_path):
    z = ZooKeeper(tmp_path, free_port())
    if not z.available():
        pytest.fail("ZooKeeper is not installed (scripts/deps.sh installs Debian's zookeeper)")
    z.start()
    yield z
    z.stop()


@pytest.fixture
def cluster(zk, broker_factory):
    # zk first: fixtures end in reverse order, so the brokers stop (with
    # their controlled shutdown) while ZooKeeper still runs
    conf = {"zookeeper.connect": zk.connect + CHROOT, "replica.lag.time.max.ms": LAG_MS,
            "replica.fetch.backoff.ms": 200}
    brokers = [broker_factory({**conf, "node.id": i}, name=f"b{i}") for i in range(3)]
    paused = []
    kz = zk.client(CHROOT)
    yield brokers, kz, paused
    kz.stop()
    for b in paused:                 # never leave a stopped process behind
        if b.running():
            os.kill(b.pid, signal.SIGCONT)


def state(kz, t):
    data, _ = kz.get(f"/brokers/topics/{t}/partitions/0/state")
    return json.loads(data)


def create_rf3(brokers, kz, t):
    a = admin(brokers[0].bootstrap)
    from confluent_kafka.admin import NewTopic
    a.create_topics([NewTopic(t, 1, 3, config={"min.insync.replicas": "2"})],
                    request_timeout=15)[t].result(15)
    wait_until(lambda: kz.exists(f"/brokers/topics/{t}/partitions/0/state")
               and sorted(state(kz, t)["isr"]) == [0, 1, 2], timeout=20,
               desc=f"{t}-0 online with ISR [0, 1, 2]")
    st = state(kz, t)
    leader = brokers[st["leader"]]
    wait_until(lambda: produce(leader, t, 0)["error_code"] == 0, timeout=20,
               desc=f"leader {st['leader']} takes acks=all")
    return st


def produce(broker, t, i, timeout_ms=10000):
    with raw_conn(broker, timeout=timeout_ms / 1000 + 5) as c:
        return kproto.produce(c, t, 0, kproto.record_batch([b"m%d" % i]), acks=-1,
                              timeout_ms=timeout_ms)


def isr(kz, t):
    return sorted(state(kz, t)["isr"])


def test_paused_follower_leaves_the_isr_and_rejoins(cluster, request):
    brokers, kz, paused = cluster
    t = unique_topic(request)
    st = create_rf3(brokers, kz, t)
    leader = brokers[st["leader"]]
    # Not the controller: a paused controller changes no ISR until its
    # ZooKeeper session expires (Kafka alike).
    ctl = json.loads(kz.get("/controller")[0])["brokerid"]
    fid = next(i for i in range(3) if i not in (st["leader"], ctl))
    follower = brokers[fid]
    others = sorted(set(range(3)) - {fid})

    paused.append(follower)
    stop_process(follower.pid)
    stopped_at = time.monotonic()
    # Meanwhile acks=all waits for the paused follower (still in the ISR)...
    r = produce(leader, t, 1, timeout_ms=20000)
    took = time.monotonic() - stopped_at
    # ...and is answered once the leader removed it: not before the lag
    # (less the follower's last long-poll, replica.fetch.wait.max.ms 500).
    assert r["error_code"] == 0, r
    assert took >= LAG_MS / 1000 - 1.0, took
    wait_until(lambda: isr(kz, t) == others, timeout=10, desc=f"ISR without {fid}")
    left_after = time.monotonic() - stopped_at
    assert left_after <= LAG_MS / 1000 + 8, left_after
    assert state(kz, t)["leader_epoch"] == st["leader_epoch"]   # the leader's change: no new epoch
    for i in range(2, 5):
        assert produce(leader, t, i)["error_code"] == 0

    os.kill(follower.pid, signal.SIGCONT)
    paused.remove(follower)
    wait_until(lambda: isr(kz, t) == [0, 1, 2], timeout=15, desc=f"{fid} back in the ISR")
    assert produce(leader, t, 5)["error_code"] == 0
    with raw_conn(leader) as c:
        assert kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP)["offset"] == 6


def test_restarted_follower_rejoins_and_two_down_refuse_acks_all(cluster, request):
    brokers, kz, _ = cluster
    t = unique_topic(request)
    st = create_rf3(brokers, kz, t)
    leader = brokers[st["leader"]]
    f1, f2 = [brokers[i] for i in range(3) if i != st["leader"]]
    f1_id = brokers.index(f1)

    f1.stop()                        # leaves ZooKeeper: the controller drops it
    wait_until(lambda: f1_id not in isr(kz, t), timeout=15, desc=f"{f1_id} out of the ISR")
    for i in range(1, 20):
        assert produce(leader, t, i)["error_code"] == 0
    f1.start()
    wait_until(lambda: isr(kz, t) == [0, 1, 2], timeout=20, desc=f"{f1_id} rejoined")
    assert produce(leader, t, 20)["error_code"] == 0

    f1.stop()
    f2.stop()
    wait_until(lambda: isr(kz, t) == [st["leader"]], timeout=15, desc="ISR = the leader alone")
    # The leader may still be applying the LeaderAndIsr that shrank the ISR.
    wait_until(lambda: produce(leader, t, 21, timeout_ms=2000)["error_code"] ==
               kproto.NOT_ENOUGH_REPLICAS, timeout=15, desc="acks=all refused with two replicas down")
    with raw_conn(leader) as c:
        r = kproto.produce(c, t, 0, kproto.record_batch([b"one"]), acks=1)
        assert r["error_code"] == 0, r
