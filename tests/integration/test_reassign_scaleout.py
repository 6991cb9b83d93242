"""Scale-out and decommission with `samsa cluster reassign` (issue 14): a
running 3-broker cluster under load (idempotent SeqProducers on every
partition, a consumer group reading the topic) gets a 4th broker and a
share of the replicas is moved to it with the CLI; then broker 0 is
decommissioned the same way (every replica moved off, then it is
stopped).  Producers and the consumer see only retriable errors; every
partition's log holds each acknowledged value exactly once, in order."""

import json
import threading
import time

import confluent_kafka as ck
import pytest

from cluster import SeqProducer, cluster_factory, cluster_zk, read_values  # noqa: F401
from conftest import wait_until
from test_cli_common import run_cli

PARTS = 4


def replicas_on(c, topics, broker):
    """(topic, partition) pairs whose assignment in ZooKeeper names broker."""
    out = []
    for t in topics:
        a = json.loads(c.zk_get(f"/brokers/topics/{t}"))
        out += [(t, int(p)) for p, r in a["partitions"].items() if broker in r]
    return out


class GroupReader:
    """A consumer-group member on its own thread recording values and errors."""

    def __init__(self, bootstrap, topic):
        self.c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "scaleout",
                              "auto.offset.reset": "earliest", "enable.auto.commit": True,
                              "auto.commit.interval.ms": 200, "session.timeout.ms": 10000,
                              "topic.metadata.refresh.interval.ms": 1000})
        self.c.subscribe([topic])
        self.values, self.errors = set(), []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            m = self.c.poll(0.2)
            if m is None:
                continue
            if m.error():
                self.errors.append(m.error())
            else:
                self.values.add((m.partition(), m.value()))

    def stop(self):
        self._stop.set()
        self._t.join(30)
        self.c.close()


def reassign_cli(c, brokers, via):
    r = run_cli(["cluster", "reassign", "--brokers", brokers, "--execute"],
                brokers=f"127.0.0.1:{c.broker_port(via)}", timeout=120)
    assert r.rc == 0, r
    return r


@pytest.mark.slow
def test_scale_out_then_decommission_under_load(cluster_factory):
    c = cluster_factory(n=4, start=False, overrides={"offsets.topic.num.partitions": 2})
    for i in range(3):
        c.brokers[i].start(wait=False)
    for i in range(3):
        c.brokers[i].wait_ready()
    c.wait_registered(range(3))
    c.wait_metadata(range(3))
    t = "orders"
    c.create_topic(t, partitions=PARTS, rf=2)
    c.ensure_offsets_topic(group="scaleout")
    prods = [SeqProducer(c.bootstrap, t, partition=p, interval=0.005, tag=f"p{p}").start()
             for p in range(PARTS)]
    reader = GroupReader(c.bootstrap, t)
    for pr in prods:
        pr.wait_acked(50)

    # scale out: a 4th broker takes a share of the replicas
    c.start(3)
    r = reassign_cli(c, "0,1,2,3", via=0)
    assert "partitions reassigned" in r.err, r
    topics = [t, "__consumer_offsets"]
    moved = replicas_on(c, topics, 3)
    assert len(moved) >= 2, moved           # 12 replicas over 4 brokers: 3 each
    for pr in prods:
        pr.wait_acked(pr.n_acked() + 50)

    # decommission broker 0: everything off it, then stop it
    reassign_cli(c, "1,2,3", via=1)
    assert replicas_on(c, topics, 0) == []
    c.stop(0)
    for pr in prods:
        pr.wait_acked(pr.n_acked() + 50)
    for pr in prods:
        pr.stop()
    for pr in prods:
        assert pr.fatal is None, pr.fatal
        bad = [e for _, e in pr.errors if not e.retriable()]
        assert not bad, bad

    # every acknowledged value exactly once, in order, in each partition
    for p, pr in enumerate(prods):
        vals = read_values(c.bootstrap, t, p)
        seqs = [int(v.rsplit(b"-", 1)[1]) for v in vals]
        assert seqs == list(range(len(seqs))), f"partition {p}: lost or duplicated records"
        assert len(seqs) >= pr.n_acked()
    # the group read them all, seeing only retriable errors
    want = {(p, pr.value(s)) for p, pr in enumerate(prods) for s, _, _ in pr.acked}
    wait_until(lambda: want <= reader.values, 60, interval=0.1,
               desc=f"the group read every value ({len(want - reader.values)} missing)")
    reader.stop()
    assert not [e for e in reader.errors if not e.retriable() and
                e.code() != ck.KafkaError._PARTITION_EOF], reader.errors
