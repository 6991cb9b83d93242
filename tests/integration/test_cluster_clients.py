"""Other clients than librdkafka through a kill -9 of a partition leader in
a three-broker cluster (cluster.py): kafka-python (producer with retries,
then a consumer) and kafkajs (idempotent producer, then a consumer group;
the client side is node/test/cluster-failover.test.mjs, driven from here)."""
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from cluster import (FAILOVER_TIMEOUT, cluster, cluster_factory, cluster_zk,  # noqa: F401
                     read_values)
from conftest import unique_topic, wait_until

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_TEST = NODE_DIR / "test" / "cluster-failover.test.mjs"


def test_kafka_python_producer_through_leader_kill9(cluster, request):
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
    old = cluster.leader_of(t, 0)
    kp = KafkaProducer(bootstrap_servers=cluster.bootstrap.split(","), acks="all",
                       retries=100, retry_backoff_ms=100, max_in_flight_requests_per_connection=1,
                       request_timeout_ms=10000, metadata_max_age_ms=1000, linger_ms=1,
                       client_id="samsa-it-kafka-python-cluster")
    acked = []

    def send(seq):
        kp.send(t, b"kp-%06d" % seq).get(timeout=60)
        acked.append(seq)

    try:
        for seq in range(100):
            send(seq)
        cluster.kill(old)
        seq = 100
        # keep producing, one at a time, until the new leader has taken 100
        new, n_at_failover = None, 0
        deadline = time.monotonic() + 2 * FAILOVER_TIMEOUT
        while new is None or seq < n_at_failover + 100:
            assert time.monotonic() < deadline, f"no new leader reported for {t}-0 ({seq} sent)"
            send(seq)
            seq += 1
            if new is None:
                st = cluster.partition(t, 0)
                if st and st["leader"] not in (-1, old):
                    new, n_at_failover = st["leader"], seq
    finally:
        kp.close(timeout=10)
    # retries may duplicate a batch the dead leader had replicated but not
    # answered; nothing acknowledged is lost and the order is kept
    log = read_values(cluster.bootstrap, t)
    firsts = list(dict.fromkeys(log))
    assert firsts == [b"kp-%06d" % s for s in acked], "acknowledged messages lost or reordered"


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
@pytest.mark.slow
def test_kafkajs_through_leader_kill9(cluster_factory, request):
    if not (NODE_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.fail("kafkajs not installed; run scripts/deps.sh")
    cluster = cluster_factory(overrides={"offsets.topic.num.partitions": 3,
                                         "group.initial.rebalance.delay.ms": 0})
    t = unique_topic(request)
    cluster.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
    # the consumer group runs after the kill: its offsets topic must exist before
    cluster.ensure_offsets_topic()
    old = cluster.leader_of(t, 0)
    env = dict(os.environ, SAMSA_CLUSTER_BOOTSTRAP=cluster.bootstrap, SAMSA_CLUSTER_TOPIC=t)
    proc = subprocess.Popen(["node", str(NODE_TEST)], cwd=NODE_DIR, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out, reports = [], []

    def reader():
        for line in proc.stdout:
            out.append(line)
            if line.startswith("SAMSA "):
                reports.append(json.loads(line[6:]))
    rd = threading.Thread(target=reader, daemon=True)
    rd.start()

    def acked():
        if any("error" in r for r in reports):
            raise AssertionError(f"kafkajs failed: {''.join(out[-60:])}")
        return max((r["acked"] for r in reports if "acked" in r), default=0)

    try:
        wait_until(lambda: acked() >= 100, timeout=30, desc="100 messages acknowledged to kafkajs")
        cluster.kill(old)
        cluster.wait_leader(t, 0, not_in=[old])
        at_failover = acked()
        wait_until(lambda: acked() >= at_failover + 100, timeout=30,
                   desc="100 more messages acknowledged by the new leader")
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = "still running after 60 s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        rd.join(5)
    assert rc == 0, f"node: {rc}:\n{''.join(out[-80:])}"
    total = next(r["acked"] for r in reports if r.get("stopped"))
    assert read_values(cluster.bootstrap, t) == [b"js-%d" % s for s in range(total)]
