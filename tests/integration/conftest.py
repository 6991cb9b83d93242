"""Fixtures and helpers for Samsa integration tests.

Every broker a test starts listens on 127.0.0.1 on a free port, keeps its data
in the test's tmp dir and writes stderr/stdout to a log file there. The
fixture stops what it started by PID (SIGTERM, then SIGKILL after a timeout)
and fails the test if the broker did not exit 0 or if its log contains a
sanitizer report. Broker logs are attached to the report of a failing test.

Binary: $SAMSA_BROKER, else build/samsa-broker.
"""

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKER_BIN = os.path.abspath(os.environ.get("SAMSA_BROKER") or ROOT / "build" / "samsa-broker")
READY_TIMEOUT = float(os.environ.get("SAMSA_READY_TIMEOUT", "10"))
STOP_TIMEOUT = float(os.environ.get("SAMSA_STOP_TIMEOUT", "20"))
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|"
                          r"SUMMARY: UndefinedBehaviorSanitizer")
# A broker built with SANITIZE=1 reads LeakSanitizer suppressions for leaks
# inside third-party libraries (tests/lsan.supp says which and why).
_BROKER_ENV = dict(os.environ, LSAN_OPTIONS=":".join(filter(None, [
    os.environ.get("LSAN_OPTIONS"), f"suppressions={ROOT / 'tests' / 'lsan.supp'}"])))
# Parent-death signal: if the test process dies, its brokers get SIGTERM.
_SETPRIV = shutil.which("setpriv")


# --- generic helpers -----------------------------------------------------------
# Ports for the servers tests start: each pytest-xdist worker owns its own
# block below the kernel's ephemeral range (32768+), so two workers never
# pick the same port and no client's outgoing connection holds one.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
# SAMSA_TEST_PORT_BASE moves the whole range, so two checkouts can run their
# suites side by side (e.g. 26000 for the second one); SAMSA_TEST_PORT_BLOCK
# shrinks each worker's block so that several workers fit below 32768.
_PORT_BLOCK = int(os.environ.get("SAMSA_TEST_PORT_BLOCK", "1500"))
_PORT_BASE = (int(os.environ.get("SAMSA_TEST_PORT_BASE", "20000"))
              + _PORT_BLOCK * (int(_XDIST_WORKER[2:]) if _XDIST_WORKER[2:].isdigit() else 0))
_port_seq = itertools.count()


def free_port():
    for _ in range(_PORT_BLOCK):
        port = _PORT_BASE + next(_port_seq) % _PORT_BLOCK
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue        # in use (or in TIME_WAIT): take the next one
            return port
    raise RuntimeError(f"no free port in {_PORT_BASE}..{_PORT_BASE + _PORT_BLOCK - 1}")


def wait_until(cond, timeout=10.0, interval=0.02, desc=None):
    """Poll cond() until it returns a truthy value (returned) or fail."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except AssertionError as e:  # let conditions use asserts
            last_exc = e
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout}s waiting for {desc or getattr(cond, '__name__', cond)}"
            if last_exc:
                msg += f": {last_exc}"
            raise AssertionError(msg)
        time.sleep(interval)


def stop_process(pid, timeout=10.0):
    """SIGSTOP pid and return once every one of its threads is stopped.
    kill() returns before that: the kernel wakes one thread to take the
    signal, and only that one stops the others, so under load the rest run
    on for milliseconds (a paused follower was seen fetching and appending a
    record produced after the kill returned)."""
    os.kill(pid, signal.SIGSTOP)

    def all_stopped():
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            return True                  # gone: nothing runs
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, IndexError):
                continue
            if st not in ("T", "t", "Z", "X"):
                return False
        return True
    wait_until(all_stopped, timeout=timeout, interval=0.001, desc=f"every thread of {pid} stopped")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# --- broker process -----------------------------------------------------------------
class Broker:
    def __init__(self, workdir, port=None, overrides=None, config_file=None,
                 logdir=None, binary=BROKER_BIN, name="broker", base_overrides=True,
                 host="127.0.0.1", netns=None):
        self.workdir = Path(workdir)
        # host: the address it listens on; netns: run it inside that network
        # namespace (`ip netns exec`, which execs, so the PID is the broker's).
        self.host = host
        self.netns = netns
        self.port = port or free_port()
        self.logdir = Path(logdir) if logdir else self.workdir / f"{name}-data"
        self.config_file = config_file
        self.binary = binary
        self.name = name
        # base_overrides=False: listeners/log.dirs/node.id come from config_file
        # (pass the same port= and logdir= so the harness knows them).
        self.overrides = {
            "listeners": f"PLAINTEXT://{host}:{self.port}",
            "log.dirs": str(self.logdir),
            "node.id": "0",
        } if base_overrides else {}
        self.overrides.update({k: str(v) for k, v in (overrides or {}).items()})
        self.log_path = self.workdir / f"{name}-{self.port}.log"
        self.proc = None
        self.returncodes = []
        self.starts = 0

    @property
    def bootstrap(self):
        return f"{self.host}:{self.port}"

    def argv(self):
        args = ["ip", "netns", "exec", self.netns, self.binary] if self.netns else [self.binary]
        if self.config_file:
            args.append(str(self.config_file))
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        return args

    def start(self, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"==== start #{self.starts}: {' '.join(self.argv())}\n".encode())
            log.flush()
            argv = self.argv()
            if _SETPRIV:
                argv = [_SETPRIV, "--pdeathsig", "TERM", "--"] + argv
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir,
                                         env=_BROKER_ENV)
        if wait:
            self.wait_ready()
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError(f"{self.name} exited with {rc} before accepting "
                                     f"connections:\n{self.log_tail()}")
            if port_open(self.port, self.host):
                return
            time.sleep(0.02)
        raise AssertionError(f"{self.name} did not accept connections on {self.bootstrap} "
                             f"within {timeout}s:\n{self.log_tail()}")

    def _reap(self, rc):
        self.returncodes.append(rc)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT, expect_rc=0):
        """Signal, wait; SIGKILL if it hangs. Asserts the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._reap(-9)
            raise AssertionError(f"{self.name} pid {self.proc.pid} did not exit within "
                                 f"{timeout}s of {signal.Signals(sig).name}; killed")
        self._reap(rc)
        if expect_rc is not None:
            assert rc == expect_rc, (f"{self.name} exited {rc} after "
                                     f"{signal.Signals(sig).name}, expected {expect_rc}\n"
                                     f"{self.log_tail()}")
        return rc

    def kill9(self):
        assert self.running(), f"{self.name} is not running"
        self.proc.kill()
        self._reap(self.proc.wait())

    def restart(self, wait=True):
        self.stop()
        return self.start(wait=wait)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=80):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, pattern, timeout=10.0, since=0):
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log_text(), since), timeout,
                          desc=f"log line /{pattern}/ from {self.name}")

    def sanitizer_reports(self):
        return [ln for ln in self.log_text().splitlines() if SANITIZER_RE.search(ln)]

    def partition_dir(self, topic, partition):
        return self.logdir / f"{topic}-{partition}"

    def segments(self, topic, partition):
        """Sorted list of (base_offset, path) of the partition's .log files."""
        d = self.partition_dir(topic, partition)
        return sorted((int(p.name[:-4]), p) for p in d.glob("*.log")
                      if p.name[:-4].isdigit())


def run_broker_expect_exit(argv, timeout=10.0, cwd=None):
    """Run a broker that should exit by itself; returns (rc, output)."""
    try:
        cp = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        # subprocess.run kills the child on timeout.
        out = (e.output or b"").decode(errors="replace")
        raise AssertionError(f"broker did not exit within {timeout}s: {argv}\n{out}")
    return cp.returncode, cp.stdout.decode(errors="replace")


@pytest.fixture
def broker_factory(request, tmp_path):
    """broker_factory(overrides=None, start=True, **kw) -> Broker."""
    made = []
    request.node._samsa_brokers = made

    def make(overrides=None, start=True, **kw):
        kw.setdefault("name", f"broker{len(made)}")
        b = Broker(tmp_path, overrides=overrides, **kw)
        made.append(b)
        if start:
            b.start()
        return b

    yield make

    problems = []
    for b in made:
        if b.running():
            try:
                b.stop()
            except AssertionError as e:
                problems.append(str(e))
        reports = b.sanitizer_reports()
        if reports:
            problems.append(f"{b.name}: sanitizer report in log:\n" + "\n".join(reports[:20]))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def broker(broker_factory):
    return broker_factory()


def pytest_collection_modifyitems(session, config, items):
    """The tests marked slow run first: with several xdist workers a long
    test started last would be the whole run's tail.  In the sanitizer
    pass (SAMSA_SAN_PASS=1, set by make sanitize-test) the tests marked
    san_skip are skipped: what they add over the release pass is a long
    wait, not a C path (their reason names the test that runs it)."""
    items.sort(key=lambda it: it.get_closest_marker("slow") is None)
    if os.environ.get("SAMSA_SAN_PASS") == "1":
        for it in items:
            m = it.get_closest_marker("san_skip")
            if m:
                it.add_marker(pytest.mark.skip(reason="release pass only: " + m.kwargs.get("reason", "")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in getattr(item, "_samsa_brokers", []):
            rep.sections.append((f"{b.name} log ({b.log_path}) [{rep.when}]",
                                 b.log_tail(200)))


# --- confluent-kafka helpers -------------------------------------------------------
import confluent_kafka as ck  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def admin(bs, **conf):
    return AdminClient({"bootstrap.servers": bs, "socket.timeout.ms": 10000, **conf})


def create_topic(bs, name, partitions=1, config=None, timeout=15):
    """CreateTopics via AdminClient, then wait until metadata shows every
    partition with leader 0."""
    a = admin(bs)
    fut = a.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                          operation_timeout=10, request_timeout=timeout)[name]
    fut.result(timeout=timeout)
    wait_topic(bs, name, partitions, client=a)
    return name


def wait_topic(bs, name, partitions, timeout=10, client=None):
    c = client or admin(bs)

    def ready():
        md = c.list_topics(name, timeout=5).topics.get(name)
        return (md is not None and md.error is None and len(md.partitions) == partitions
                and all(p.leader == 0 for p in md.partitions.values()))

    wait_until(ready, timeout, interval=0.05, desc=f"topic {name} with {partitions} partitions")


def producer(bs, **conf):
    base = {"bootstrap.servers": bs, "linger.ms": 5, "acks": "all",
            "message.timeout.ms": 30000}
    base.update(conf)
    return ck.Producer(base)


class DeliveryLog:
    """on_delivery callback collecting (partition, offset, error) per message."""

    def __init__(self):
        self.ok = []
        self.errors = []
        self.lock = threading.Lock()

    def __call__(self, err, msg):
        with self.lock:
            if err is not None:
                self.errors.append((err, msg.topic(), msg.partition()))
            else:
                self.ok.append(msg)


def produce_all(p, topic, messages, timeout=60):
    """messages: iterable of dicts (value, key, headers, partition, timestamp).
    Returns delivered Message objects in delivery order; fails on any error."""
    dl = DeliveryLog()
    n = 0
    for m in messages:
        kw = {k: v for k, v in m.items() if v is not None}
        while True:
            try:
                p.produce(topic, on_delivery=dl, **kw)
                break
            except BufferError:
                p.poll(0.05)
        n += 1
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} messages not delivered within {timeout}s"
    assert not dl.errors, f"delivery errors: {dl.errors[:5]}"
    assert len(dl.ok) == n, (len(dl.ok), n)
    return dl.ok


def consumer(bs, **conf):
    base = {"bootstrap.servers": bs, "group.id": "samsa-it-assign",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": False,
            "socket.timeout.ms": 10000}
    base.update(conf)
    return ck.Consumer(base)


# Consumer events that are not errors for these tests.
_BENIGN_CONSUMER_ERRORS = {ck.KafkaError._PARTITION_EOF}


def consume_exact(bs, topic, counts, start=None, timeout=60, **conf):
    """Consume by assign() until `counts[partition]` messages were read from
    each partition (from `start[partition]`, default the beginning). Returns
    {partition: [Message...]} in offset order; fails on consumer errors, on a
    shortfall at the deadline, or on more than counts[p] messages in the
    batches read (callers compare watermarks to rule out extra records)."""
    c = consumer(bs, **conf)
    start = start or {}
    try:
        c.assign([ck.TopicPartition(topic, p, start.get(p, ck.OFFSET_BEGINNING))
                  for p in counts])
        got = {p: [] for p in counts}
        need = sum(counts.values())
        have = 0
        errors = []
        deadline = time.monotonic() + timeout
        while have < need:
            assert time.monotonic() < deadline, (
                f"consumed {have}/{need} within {timeout}s: "
                f"{ {p: len(v) for p, v in got.items()} } of {counts}; errors {errors[:5]}")
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error():
                    if m.error().code() not in _BENIGN_CONSUMER_ERRORS:
                        errors.append(m.error())
                    continue
                got[m.partition()].append(m)
                have += 1
        assert not errors, f"consumer errors: {errors[:5]}"
        for p, msgs in got.items():
            assert len(msgs) == counts[p], (
                f"partition {p}: read {len(msgs)} messages, expected {counts[p]}")
            offs = [m.offset() for m in msgs]
            assert offs == sorted(offs) and len(set(offs)) == len(offs), \
                f"partition {p}: offsets not strictly increasing"
        return got
    finally:
        c.close()


def watermarks(bs, topic, partition, timeout=10):
    c = consumer(bs)
    try:
        return c.get_watermark_offsets(ck.TopicPartition(topic, partition), timeout=timeout)
    finally:
        c.close()


def unique_topic(request, suffix=""):
    base = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:120]
    return f"{base}{suffix}"


def raw_conn(broker, timeout=10.0):
    import kproto
    return kproto.Conn(broker.host, broker.port, timeout=timeout)
