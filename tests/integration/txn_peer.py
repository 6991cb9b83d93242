"""The broker under test for the transaction tests (issue 16): Samsa (the
default) or Apache Kafka 4.4 (env SAMSA_TXN_PEER=kafka), so every test is
checked against Kafka's behaviour first.

    single_node(workdir, config)   one broker: Samsa embedded single node, or
                                   one KRaft node (tests/ecosystem/kafka/kafka.py)
    cluster_nodes(workdir, n, config, zk)
                                   n brokers: Samsa + ZooKeeper (cluster.py),
                                   or n combined KRaft nodes sharing one quorum

Both return a Peer: .bootstrap, .nodes (Node: .node_id, .port, .pid,
.running(), .kill9(), .start(), .stop()), .stop_all(), .log_tails(). Config
keys are Kafka's broker keys and go to either broker unchanged.

Used by tests/integration/test_txn_*.py, tests/torture_txn/ and
bench/txn_bench.py.
"""
import base64
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ecosystem" / "kafka"))

import kafka as kafka_peer  # noqa: E402
from conftest import Broker, free_port, port_open, wait_until  # noqa: E402

PEER = os.environ.get("SAMSA_TXN_PEER", "samsa")
if PEER not in ("samsa", "kafka"):
    raise RuntimeError(f"SAMSA_TXN_PEER={PEER!r}: expected samsa or kafka")

# What the transaction tests need from either broker: quick expiry of timed-out
# transactions (Kafka's defaults: 10 s check, 60 s timeout).
TXN_TEST_CONFIG = {
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 500,
    "group.initial.rebalance.delay.ms": 0,
}


def kafka_available():
    return kafka_peer.available()


class KafkaNode:
    """One KRaft node (broker+controller) of a Kafka peer; the Node interface."""

    def __init__(self, workdir, node_id, port, cport, voters, config, cluster_id, heap=None):
        self.node_id = node_id
        self.port = port
        self.cluster_id = cluster_id
        cfg = {"controller.quorum.voters": voters}
        cfg.update(config)
        self.k = kafka_peer.KafkaPeer(workdir, port, cport, config=cfg, node_id=node_id)
        self.name = f"kafka{node_id}"
        self.heap = heap or kafka_peer.HEAP

    @property
    def bootstrap(self):
        return self.k.bootstrap

    @property
    def pid(self):
        return self.k.pid

    @property
    def log_path(self):
        return self.k.log_path

    def running(self):
        return self.k.running()

    def format(self):
        props = self.k._write_config()
        if (self.k.dir / "data" / "meta.properties").exists():
            return
        fmt = subprocess.run(
            kafka_peer.tool_cmd("kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                                "-c", props, "--ignore-formatted"),
            capture_output=True, text=True, timeout=120, env=self.k._env())
        if fmt.returncode != 0:
            raise RuntimeError(f"{self.name}: storage format failed: {fmt.stdout[-2000:]}"
                               f"{fmt.stderr[-2000:]}")

    def start(self, wait=True):
        self.format()
        saved, kafka_peer.HEAP = kafka_peer.HEAP, self.heap    # read by KafkaPeer.start
        try:
            self.k.start(wait=wait)
        finally:
            kafka_peer.HEAP = saved
        return self

    def wait_ready(self, timeout=90):
        wait_until(lambda: port_open(self.port), timeout, interval=0.1,
                   desc=f"{self.name} listening on {self.port}")

    def kill9(self):
        self.k.proc.kill()
        self.k.proc.wait()

    def stop(self):
        return self.k.stop()

    def log_tail(self, lines=80):
        return "\n".join(self.k.log_tail(200000).splitlines()[-lines:])


class SamsaNode:
    """A Samsa broker process (conftest.Broker) with the Node interface."""

    def __init__(self, broker, node_id):
        self.b = broker
        self.node_id = node_id
        self.name = broker.name

    port = property(lambda self: self.b.port)
    bootstrap = property(lambda self: self.b.bootstrap)
    pid = property(lambda self: self.b.pid)
    log_path = property(lambda self: self.b.log_path)

    def running(self):
        return self.b.running()

    def start(self, wait=True):
        self.b.start(wait=wait)
        return self

    def wait_ready(self, timeout=30):
        self.b.wait_ready(timeout)

    def kill9(self):
        self.b.kill9()

    def stop(self):
        return self.b.stop()

    def log_tail(self, lines=80):
        return self.b.log_tail(lines)


class Peer:
    def __init__(self, kind, nodes, cluster=None):
        self.kind = kind
        self.nodes = nodes
        self.cluster = cluster      # cluster.Cluster for Samsa clusters

    @property
    def bootstrap(self):
        return ",".join(n.bootstrap for n in self.nodes)

    def live_bootstrap(self):
        return ",".join(n.bootstrap for n in self.nodes if n.running())

    def node(self, node_id):
        return next(n for n in self.nodes if n.node_id == node_id)

    def stop_all(self):
        problems = []
        for n in reversed(self.nodes):
            if n.running():
                try:
                    n.stop()
                except AssertionError as e:
                    problems.append(str(e))
        if self.kind == "samsa":
            for n in self.nodes:
                reports = n.b.sanitizer_reports()
                if reports:
                    problems.append(f"{n.name}: sanitizer report:\n" + "\n".join(reports[:20]))
        return problems

    def restart(self, node, wait=True):
        """Start a node again after kill -9. A Samsa broker first waits until
        ZooKeeper dropped the dead one's registration (its session timed out):
        a broker finding its id held by a live session exits, as Kafka's did.
        Call from the main thread: brokers get SIGTERM when the thread that
        started them ends (conftest's setpriv --pdeathsig)."""
        if self.kind == "samsa":
            self.cluster.wait_unregistered(node.node_id)
        return node.start(wait=wait)

    def log_tails(self, lines=60):
        return "\n".join(f"--- {n.name} log {n.log_path}\n{n.log_tail(lines)}" for n in self.nodes)


def _kafka_config(config, n):
    cfg = {"offsets.topic.replication.factor": min(3, n),
           "transaction.state.log.replication.factor": min(3, n),
           "transaction.state.log.min.isr": min(2, n),
           "min.insync.replicas": 1,
           "num.partitions": 1}
    cfg.update(config or {})
    return cfg


def single_node(workdir, config=None):
    """One started broker; config: Kafka broker keys."""
    workdir = Path(workdir)
    cfg = dict(TXN_TEST_CONFIG)
    cfg.update(config or {})
    if PEER == "kafka":
        port, cport = free_port(), free_port()
        n = KafkaNode(workdir / "kafka0", 1, port, cport, f"1@127.0.0.1:{cport}",
                      _kafka_config(cfg, 1), _cluster_id())
        return Peer("kafka", [n.start()])
    b = Broker(workdir, overrides=cfg, name="broker0")
    return Peer("samsa", [SamsaNode(b.start(), 0)])


def _cluster_id():
    """A random cluster id (base64 of a UUID) that does not start with '-',
    which kafka-storage's argument parser would take for an option."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def cluster_nodes(workdir, n=3, config=None, zk=None, start=True, session_timeout_ms=6000):
    """n started brokers; Samsa needs zk (cluster.py's ZooKeeper) and takes
    session_timeout_ms (zookeeper.session.timeout.ms)."""
    workdir = Path(workdir)
    cfg = dict(TXN_TEST_CONFIG)
    cfg.update(config or {})
    if PEER == "kafka":
        ports = [(free_port(), free_port()) for _ in range(n)]
        voters = ",".join(f"{i}@127.0.0.1:{c}" for i, (_, c) in enumerate(ports))
        cid = _cluster_id()
        heap = os.environ.get("KAFKA_CLUSTER_HEAP", "-Xmx512m -Xms256m")
        nodes = [KafkaNode(workdir / f"kafka{i}", i, p, c, voters, _kafka_config(cfg, n), cid,
                           heap=heap)
                 for i, (p, c) in enumerate(ports)]
        if start:
            for nd in nodes:
                nd.start(wait=False)
            for nd in nodes:
                nd.wait_ready()
        return Peer("kafka", nodes)
    from cluster import Cluster
    c = Cluster(workdir, zk, n=n, overrides=cfg, session_timeout_ms=session_timeout_ms)
    if start:
        c.start_all()
    return Peer("samsa", [SamsaNode(b, i) for i, b in enumerate(c.brokers)], cluster=c)


def wait_cluster_ready(peer, topic_check=None, timeout=60):
    """All nodes agree on n live brokers (Metadata through each)."""
    from confluent_kafka.admin import AdminClient

    def ok():
        for nd in peer.nodes:
            if not nd.running():
                continue
            md = AdminClient({"bootstrap.servers": nd.bootstrap}).list_topics(timeout=5)
            if len(md.brokers) != sum(1 for x in peer.nodes if x.running()):
                return False
        return True
    wait_until(ok, timeout, interval=0.2, desc="every broker sees all live brokers")


def now():
    return time.monotonic()


# --- client helpers (confluent-kafka) shared by the transaction tests -----------
def make_topics(bootstrap, names, partitions=1, rf=1, config=None, timeout=60, assignment=None):
    """Create topics and wait until Metadata shows a leader for every partition;
    assignment: replica lists by partition (then rf is not sent)."""
    import confluent_kafka as ck
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})
    def new(t):
        if assignment:
            return NewTopic(t, len(assignment), replica_assignment=assignment, config=config or {})
        return NewTopic(t, partitions, rf, config=config or {})
    if assignment:
        partitions = len(assignment)
    futs = a.create_topics([new(t) for t in names],
                           operation_timeout=30, request_timeout=timeout)
    for t, f in futs.items():
        try:
            f.result(timeout=timeout)
        except ck.KafkaException as e:
            if e.args[0].code() != ck.KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def ready():
        md = a.list_topics(timeout=5)
        for t in names:
            tm = md.topics.get(t)
            if tm is None or tm.error is not None or len(tm.partitions) != partitions:
                return False
            if any(p.leader < 0 or p.error is not None for p in tm.partitions.values()):
                return False
        return True
    wait_until(ready, timeout, interval=0.1, desc=f"leaders of {names}")


def wait_stable(bootstrap, topic, partitions, timeout=60):
    """Wait until no transaction is open on the partitions: the last stable
    offset equals the high watermark (markers are written after EndTxn
    returns, so a read right after a commit could stop short)."""
    def stable():
        lso = end_offsets(bootstrap, topic, partitions, "read_committed")
        hw = end_offsets(bootstrap, topic, partitions, "read_uncommitted")
        assert lso == hw, f"{topic}: last stable offsets {lso}, high watermarks {hw}"
        return hw
    return wait_until(stable, timeout, interval=0.1, desc=f"{topic} stable (LSO == HW)")


def read_all(bootstrap, topic, partitions, isolation="read_committed", timeout=60,
             group="samsa-txn-reader", stable=True):
    """Every record of each partition up to its end (the last stable offset for
    read_committed, the high watermark for read_uncommitted), by assign();
    stable: first wait until no transaction is open on them (wait_stable).
    Returns {partition: [(offset, key, value)]}."""
    import confluent_kafka as ck
    if stable:
        wait_stable(bootstrap, topic, partitions, timeout)
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "enable.partition.eof": True, "isolation.level": isolation,
                     "socket.timeout.ms": 10000, "topic.metadata.refresh.interval.ms": 1000,
                     "fetch.wait.max.ms": 100})
    got = {p: [] for p in partitions}
    eof = set()
    try:
        c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while len(eof) < len(got):
            assert time.monotonic() < deadline, (
                f"{topic} {isolation}: end of {sorted(eof)} of {sorted(got)} within {timeout} s; "
                f"read { {p: len(v) for p, v in got.items()} }")
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error():
                    if m.error().code() == ck.KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                        continue
                    if m.error().retriable() or m.error().code() in (
                            ck.KafkaError._TRANSPORT, ck.KafkaError.NOT_LEADER_FOR_PARTITION,
                            ck.KafkaError._ALL_BROKERS_DOWN):
                        continue
                    raise AssertionError(f"{topic} {isolation}: consumer error {m.error()}")
                got[m.partition()].append((m.offset(), m.key(), m.value()))
                eof.discard(m.partition())
        return got
    finally:
        c.close()


def end_offsets(bootstrap, topic, partitions, isolation="read_uncommitted"):
    """{partition: end offset}: the high watermark, or the last stable offset
    for read_committed (ListOffsets with the isolation level)."""
    import confluent_kafka as ck
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "samsa-txn-offsets",
                     "isolation.level": isolation, "socket.timeout.ms": 10000})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10,
                                           cached=False)[1] for p in partitions}
    finally:
        c.close()


def txn_producer(bootstrap, txn_id, **conf):
    import confluent_kafka as ck
    base = {"bootstrap.servers": bootstrap, "transactional.id": txn_id, "linger.ms": 5,
            "socket.timeout.ms": 10000, "message.timeout.ms": 60000,
            "transaction.timeout.ms": 60000}
    base.update(conf)
    return ck.Producer(base)
