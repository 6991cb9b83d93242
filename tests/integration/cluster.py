"""Cluster-mode test harness: one ZooKeeper (zk.py) and N samsa-broker
processes (conftest.Broker) on free loopback ports, stopped by PID.

Broker i has node.id=i, its own log.dirs under the test's tmp dir,
zookeeper.connect=127.0.0.1:ZKPORT/CHROOT (one chroot per test, so tests of a
module share one ZooKeeper JVM) and zookeeper.session.timeout.ms=6000, short
so a killed broker's ephemeral node goes quickly.  The cluster is read the
way an operator and a client would: Metadata from each broker (kproto, raw,
so "what does broker i say" is exact), /controller and /brokers/ids with kazoo.

Fixtures (import them into a test module: `from cluster import cluster_zk,
cluster_factory, cluster  # noqa: F401`):
  cluster_zk       module-scoped ZooKeeper server
  cluster_factory  cluster_factory(n=3, overrides=None, start=True) -> Cluster,
                   stopped (SIGTERM, exit 0, no sanitizer report) after the test
  cluster          cluster_factory() with the defaults

Helpers: SeqProducer (an idempotent producer thread sending numbered values,
recording each acknowledgement's offset and time) and read_values (a
partition's records up to the high watermark through a given bootstrap).

Used by tests/integration/test_cluster_*.py, test_cli_cluster.py and
bench/cluster_bench.py.
"""
import itertools
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import kproto
import confluent_kafka as ck
from conftest import (STOP_TIMEOUT, Broker, admin, consume_exact, free_port, wait_until,
                      watermarks)
from zk import ZooKeeper

SESSION_TIMEOUT_MS = 6000
# A failover is the session timeout plus an election and a LeaderAndIsr round;
# waits for one use this bound (the target is 8 s).
FAILOVER_TIMEOUT = 30.0
_chroot_seq = itertools.count()


class Cluster:
    """N brokers sharing one ZooKeeper chroot. Brokers are indexed 0..n-1 and
    broker i has node.id=i."""

    def __init__(self, workdir, zk, n=3, chroot=None, overrides=None, broker_overrides=None,
                 session_timeout_ms=SESSION_TIMEOUT_MS, hosts=None, netns=None, logdirs=None):
        """hosts[i], netns[i], logdirs[i]: broker i's listen address (default
        127.0.0.1), the network namespace it runs in (default none) and its
        log.dirs (default under workdir); see tests/torture_cluster/netns.py."""
        self.zk = zk
        self.chroot = chroot or f"/samsa-{next(_chroot_seq)}"
        self.connect = zk.connect + self.chroot
        self.brokers = []
        self._zkc = None
        Path(workdir).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            # a short controlled-shutdown backoff: stopping a whole cluster
            # at once leaves the last brokers with partitions nobody else can
            # lead, which they retry (Kafka's default is 5000 ms)
            ov = {"node.id": i, "zookeeper.connect": self.connect,
                  "zookeeper.session.timeout.ms": session_timeout_ms,
                  "controlled.shutdown.retry.backoff.ms": 200}
            ov.update(overrides or {})
            ov.update((broker_overrides or {}).get(i, {}))
            self.brokers.append(Broker(workdir, port=free_port(), overrides=ov,
                                       name=f"broker{i}",
                                       host=hosts[i] if hosts else "127.0.0.1",
                                       netns=netns[i] if netns else None,
                                       logdir=logdirs[i] if logdirs else None))

    # --- addresses ------------------------------------------------------------
    def __len__(self):
        return len(self.brokers)

    def broker_port(self, i):
        return self.brokers[i].port

    @property
    def bootstrap(self):
        """Every broker, running or not (clients skip the dead ones)."""
        return ",".join(b.bootstrap for b in self.brokers)

    def live(self):
        return [i for i, b in enumerate(self.brokers) if b.running()]

    # --- processes ------------------------------------------------------------
    def start(self, i, wait=True):
        """Start broker i; with wait, until it accepts connections, its
        /brokers/ids/i registration is in ZooKeeper and it has heard from
        the controller (wait_metadata)."""
        self.brokers[i].start(wait=wait)
        if wait:
            self.wait_registered([i])
            self.wait_metadata([i])
        return self.brokers[i]

    def start_all(self):
        for b in self.brokers:       # all at once: their start-ups overlap
            b.start(wait=False)
        for b in self.brokers:
            b.wait_ready()
        self.wait_registered(range(len(self.brokers)))
        self.wait_metadata(range(len(self.brokers)))
        return self

    def kill(self, i):
        """SIGKILL broker i (by PID) and reap it."""
        self.brokers[i].kill9()

    def stop(self, i, timeout=STOP_TIMEOUT):
        """SIGTERM broker i, wait, assert it exited 0."""
        return self.brokers[i].stop(timeout=timeout)

    def restart(self, i, wait=True):
        if self.brokers[i].running():
            self.stop(i)
        return self.start(i, wait=wait)

    def stop_all(self, timeout=STOP_TIMEOUT):
        """SIGTERM every running broker at once, then wait for each. Returns
        the problems (hang, exit code, sanitizer report) as strings."""
        problems = []
        running = [b for b in self.brokers if b.running()]
        for b in running:
            b.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for b in running:
            try:
                rc = b.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                b.proc.kill()
                b.proc.wait()
                b.returncodes.append(-9)
                problems.append(f"{b.name} (node {self.brokers.index(b)}, pid {b.pid}) did not "
                                f"exit within {timeout}s of SIGTERM; killed")
                continue
            b.returncodes.append(rc)
            if rc != 0:
                problems.append(f"{b.name} exited {rc} after SIGTERM")
        for b in self.brokers:
            reports = b.sanitizer_reports()
            if reports:
                problems.append(f"{b.name}: sanitizer report in log:\n" + "\n".join(reports[:20]))
        if self._zkc is not None:
            self._zkc.stop()
            self._zkc.close()
            self._zkc = None
        return problems

    # --- ZooKeeper view ---------------------------------------------------------
    def zk_client(self):
        """A kazoo client on the server root (paths below get the chroot)."""
        if self._zkc is None:
            self._zkc = self.zk.client()
        return self._zkc

    def zk_get(self, path):
        """The data of CHROOT/path, or None if the node does not exist."""
        from kazoo.exceptions import NoNodeError
        try:
            return self.zk_client().get(self.chroot + path)[0]
        except NoNodeError:
            return None

    def zk_children(self, path):
        from kazoo.exceptions import NoNodeError
        try:
            return self.zk_client().get_children(self.chroot + path)
        except NoNodeError:
            return []

    def registered(self):
        """Node ids with a /brokers/ids/N registration."""
        return sorted(int(c) for c in self.zk_children("/brokers/ids"))

    def wait_registered(self, ids, timeout=FAILOVER_TIMEOUT):
        ids = sorted(ids)

        def done():
            stub = self.grep_logs("ZooKeeper coordination is not implemented yet")
            if stub:      # fail at once, not after the timeout
                raise RuntimeError(f"broker {stub[0][0]} does not implement cluster mode: "
                                   f"{stub[0][1]}")
            return set(ids) <= set(self.registered())
        wait_until(done, timeout, interval=0.05,
                   desc=f"/brokers/ids registrations of {ids} under {self.connect} "
                        f"(have {self.registered()})")

    def wait_metadata(self, ids, timeout=FAILOVER_TIMEOUT):
        """Wait until each broker in ids answers Metadata with the controller
        that holds /controller and every registered broker. A broker learns
        both from the controller's UpdateMetadata, a moment after it starts
        listening; until then it says controller -1, and librdkafka's admin
        client, told so once, waits out its whole timeout for a controller."""
        def ready(i):
            md = self.metadata(i)
            return (md["controller_id"] == self.controller() and
                    sorted(b[0] for b in md["brokers"]) == self.registered())
        for i in ids:
            wait_until(lambda: ready(i), timeout, interval=0.05,
                       desc=f"broker {i}'s Metadata naming controller {self.controller()} "
                            f"and brokers {self.registered()}")

    def wait_unregistered(self, i, timeout=FAILOVER_TIMEOUT):
        wait_until(lambda: i not in self.registered(), timeout, interval=0.05,
                   desc=f"/brokers/ids/{i} gone from {self.connect}")

    def controller(self):
        """The brokerid in /controller, or None when no broker holds it."""
        import json
        data = self.zk_get("/controller")
        return None if data is None else json.loads(data)["brokerid"]

    def controller_epoch(self):
        data = self.zk_get("/controller_epoch")
        return None if data is None else int(data)

    def wait_controller(self, not_in=(), timeout=FAILOVER_TIMEOUT):
        """Wait until a live broker not in not_in holds /controller; returns it."""
        def ok():
            c = self.controller()
            return c is not None and c not in not_in and self.brokers[c].running() and (c,)
        return wait_until(ok, timeout, interval=0.05,
                          desc=f"a controller not in {list(not_in)}")[0]

    # --- Metadata view (what each broker tells clients) ------------------------------
    def metadata(self, i, topics=None, version=None):
        """Raw Metadata from broker i (kproto.metadata's dict)."""
        b = self.brokers[i]
        with kproto.Conn(b.host, b.port, timeout=10) as c:
            return kproto.metadata(c, topics, version=version)

    def partition(self, topic, p, via=None):
        """Partition p of topic as broker `via` (default: the first live broker)
        reports it: {"error_code", "leader", "leader_epoch", "replicas", "isr",
        "offline"}; None when the topic or partition is unknown there."""
        i = self.live()[0] if via is None else via
        md = self.metadata(i, [topic])
        t = md["topics"].get(topic)
        if t is None or t["error_code"] != 0:
            return None
        return t["partitions"].get(p)

    def leader_of(self, topic, p, via=None):
        """The leader's node id (-1 = none) as broker `via` reports it."""
        st = self.partition(topic, p, via)
        return -1 if st is None else st["leader"]

    def _agreed(self, topic, p, check):
        """The partition state if every live broker reports the same leader,
        epoch and ISR and check(state) holds, else None."""
        states = []
        for i in self.live():
            st = self.partition(topic, p, via=i)
            if st is None or st["error_code"] != 0 or not check(st):
                return None
            states.append(st)
        first = states[0]
        key = (first["leader"], first.get("leader_epoch"), sorted(first["isr"]))
        if any((s["leader"], s.get("leader_epoch"), sorted(s["isr"])) != key for s in states):
            return None
        return first

    def wait_leader(self, topic, p, not_in=(), timeout=FAILOVER_TIMEOUT):
        """Wait until every live broker reports the same live leader, not in
        not_in, for topic-p; returns that partition state."""
        def ok(st):
            return st["leader"] >= 0 and st["leader"] not in not_in and \
                self.brokers[st["leader"]].running()
        return wait_until(lambda: self._agreed(topic, p, ok), timeout, interval=0.05,
                          desc=f"{topic}-{p}: a live leader not in {list(not_in)} agreed by "
                               f"brokers {self.live()} (now {self._describe(topic, p)})")

    def wait_isr(self, topic, p, n=None, members=None, timeout=FAILOVER_TIMEOUT):
        """Wait until every live broker reports topic-p with an ISR of n
        members (or exactly `members`) and a live leader; returns the state."""
        def ok(st):
            isr = sorted(st["isr"])
            good = (len(isr) == n) if members is None else (isr == sorted(members))
            return good and st["leader"] >= 0 and self.brokers[st["leader"]].running()
        want = members if members is not None else f"{n} members"
        return wait_until(lambda: self._agreed(topic, p, ok), timeout, interval=0.05,
                          desc=f"{topic}-{p}: ISR of {want} agreed by brokers {self.live()} "
                               f"(now {self._describe(topic, p)})")

    def _describe(self, topic, p):
        out = {}
        for i in self.live():
            try:
                st = self.partition(topic, p, via=i)
                out[i] = None if st is None else {k: st.get(k) for k in
                                                  ("leader", "leader_epoch", "isr")}
            except (OSError, kproto.ProtocolError) as e:
                out[i] = repr(e)
        return out

    # --- admin -------------------------------------------------------------------
    def create_topic(self, name, partitions=1, rf=3, config=None, timeout=FAILOVER_TIMEOUT):
        """CreateTopics through the cluster, then wait until every live broker
        reports every partition with a full ISR."""
        from confluent_kafka.admin import NewTopic
        a = admin(self.bootstrap)
        fut = a.create_topics([NewTopic(name, partitions, rf, config=config or {})],
                              operation_timeout=10, request_timeout=15)[name]
        fut.result(timeout=20)
        for p in range(partitions):
            self.wait_isr(name, p, n=rf, timeout=timeout)
        return name

    def ensure_offsets_topic(self, group="samsa-harness", timeout=FAILOVER_TIMEOUT):
        """Have __consumer_offsets created now (a FindCoordinator does it) and
        wait until each of its partitions has a full ISR: created later, with
        a broker down, it would need offsets.topic.replication.factor live
        brokers (Kafka's rule) and groups would have no coordinator."""
        def found():
            b = self.brokers[self.live()[0]]
            with kproto.Conn(b.host, b.port) as c:
                return kproto.find_coordinator(c, group)["error_code"] == 0
        wait_until(found, timeout, interval=0.1, desc="a coordinator for group " + group)
        md = self.metadata(self.live()[0], ["__consumer_offsets"])
        parts = md["topics"]["__consumer_offsets"]["partitions"]
        for p, st in parts.items():
            self.wait_isr("__consumer_offsets", p, n=len(st["replicas"]), timeout=timeout)
        return len(parts)

    # --- logs --------------------------------------------------------------------
    def grep_logs(self, pattern):
        """(broker index, line) for every log line matching pattern."""
        rx = re.compile(pattern)
        return [(i, ln) for i, b in enumerate(self.brokers)
                for ln in b.log_text().splitlines() if rx.search(ln)]


# --- clients ---------------------------------------------------------------------
class SeqProducer:
    """A confluent-kafka producer on its own thread sending b"<tag>-<seq:08d>"
    to one partition, seq = 0, 1, 2, ..., one message every `interval` seconds
    (a pacing, not a synchronisation), idempotent with acks=all by default.
    `acked` holds (seq, offset, monotonic ack time) in delivery order,
    `errors` the failed deliveries; stop() flushes and joins."""

    def __init__(self, bootstrap, topic, partition=0, interval=0.002, tag="m", **conf):
        base = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "linger.ms": 1, "message.timeout.ms": 60000, "socket.timeout.ms": 10000,
                "topic.metadata.refresh.interval.ms": 1000, "retry.backoff.ms": 50}
        base.update(conf)
        self.topic, self.partition, self.interval, self.tag = topic, partition, interval, tag
        self.producer = ck.Producer(base)
        self.acked, self.errors, self.fatal = [], [], None
        self.sent = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"seqprod-{topic}", daemon=True)

    def value(self, seq):
        return b"%s-%08d" % (self.tag.encode(), seq)

    def partition_of(self, seq):
        """The partition message seq goes to (subclasses spread them)."""
        return self.partition

    def _on_delivery(self, err, msg):
        now = time.monotonic()
        seq = int(msg.value().rsplit(b"-", 1)[1])
        with self._lock:
            if err is not None:
                self.errors.append((seq, err))
                if err.fatal():
                    self.fatal = err
            else:
                self.acked.append((seq, msg.offset(), now))

    def _run(self):
        while not self._stop.is_set() and self.fatal is None:
            try:
                self.producer.produce(self.topic, self.value(self.sent),
                                      partition=self.partition_of(self.sent),
                                      on_delivery=self._on_delivery)
                self.sent += 1
            except BufferError:
                pass
            try:
                self.producer.poll(self.interval)
            except ck.KafkaException as e:      # a fatal error raised from poll()
                with self._lock:
                    self.fatal = e.args[0] if e.args else e

    def start(self):
        self._thread.start()
        return self

    def n_acked(self):
        with self._lock:
            return len(self.acked)

    def wait_acked(self, n, timeout=FAILOVER_TIMEOUT):
        wait_until(lambda: self.n_acked() >= n or self.fatal, timeout, interval=0.02,
                   desc=f"{n} acknowledged messages on {self.topic}-{self.partition} "
                        f"(have {self.n_acked()}, errors {self.errors[:3]})")
        assert self.fatal is None, f"fatal producer error: {self.fatal}"

    def first_ack_after(self, t):
        """The monotonic time of the first acknowledgement after t, or None."""
        with self._lock:
            return next((ts for _, _, ts in self.acked if ts > t), None)

    def stop(self, timeout=60):
        self._stop.set()
        self._thread.join(timeout)
        left = self.producer.flush(timeout)
        assert left == 0, f"{left} messages to {self.topic} not delivered within {timeout}s"
        return self


def read_values(bootstrap, topic, p=0, timeout=60):
    """Every record value of topic-p from the log start to the high watermark,
    read through `bootstrap` (its Metadata decides where the client goes)."""
    lo, hi = watermarks(bootstrap, topic, p)
    if hi == lo:
        return []
    got = consume_exact(bootstrap, topic, {p: hi - lo}, start={p: lo}, timeout=timeout)
    return [m.value() for m in got[p]]


# --- fixtures ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_zk(tmp_path_factory):
    z = ZooKeeper(tmp_path_factory.mktemp("zk"), free_port()).start_or_fail()
    yield z
    z.stop()


@pytest.fixture
def cluster_factory(request, tmp_path, cluster_zk):
    """cluster_factory(n=3, overrides=None, start=True, **kw) -> Cluster."""
    made = []
    brokers = []
    request.node._samsa_brokers = brokers    # conftest attaches their logs on failure

    def make(n=3, overrides=None, start=True, **kw):
        name = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:60]
        c = Cluster(tmp_path / f"cluster{len(made)}", cluster_zk, n=n,
                    chroot=f"/{name}-{next(_chroot_seq)}", overrides=overrides, **kw)
        made.append(c)
        brokers.extend(c.brokers)
        if start:
            c.start_all()
        return c

    yield make

    problems = []
    for c in made:
        problems += c.stop_all()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def cluster(cluster_factory):
    return cluster_factory()
