"""Session fixtures of the differential suite: one Samsa broker and one Apache
Kafka node (tests/ecosystem/kafka/kafka.py), started once, with aligned
settings (README.md lists them), and the `o` fixture (an oracle.Oracle bound
to the running test's name). The terminal summary prints the counts run.sh
reports: scenarios, fields compared, differences allowlisted.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "kafka"))

import kafka as kafka_peer  # noqa: E402
import oracle  # noqa: E402

SAMSA_BIN = os.path.abspath(os.environ.get("SAMSA_BROKER") or ROOT / "build" / "samsa-broker")

# Settings both brokers get. Everything else stays at each broker's default,
# which is Kafka's default in Samsa too (docs/configuration.md).
ALIGNED = {
    # The same broker id, so leader/replica/coordinator ids compare as they are.
    "node.id": 0,
    # No 3 s wait before the first rebalance of a new group (both default to
    # 3000): the group scenarios would spend most of the budget waiting.
    "group.initial.rebalance.delay.ms": 0,
}


def _free_port(lo, hi, taken):
    for p in range(lo, hi):
        if p in taken:
            continue
        with socket.socket() as s:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        taken.add(p)
        return p
    raise RuntimeError(f"no free port in [{lo}, {hi})")


class Samsa:
    def __init__(self, workdir, port):
        self.dir, self.port = Path(workdir), port
        self.log_path = self.dir / "samsa.log"
        self.proc = None

    def start(self, timeout=10):
        args = [SAMSA_BIN]
        conf = dict(ALIGNED, **{"listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
                                "log.dirs": str(self.dir / "data")})
        for k, v in conf.items():
            args += ["--override", f"{k}={v}"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"samsa exited {self.proc.returncode}: {self.log_tail()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise RuntimeError(f"samsa not listening on {self.port}: {self.log_tail()}")

    def log_tail(self):
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


class _Running:
    """A broker started outside the session (development: DIFF_SAMSA_PORT,
    DIFF_KAFKA_PORT point at brokers started by dev.py)."""

    def __init__(self, port):
        self.port = port

    def stop(self):
        return 0

    def log_tail(self):
        return ""


@pytest.fixture(scope="session")
def brokers():
    if os.environ.get("DIFF_SAMSA_PORT"):
        yield _Running(int(os.environ["DIFF_SAMSA_PORT"])), _Running(int(os.environ["DIFF_KAFKA_PORT"]))
        return
    base = oracle.env_port_base()
    taken = set()
    sport = _free_port(base, base + 900, taken)
    kport = _free_port(base, base + 900, taken)
    cport = _free_port(base, base + 900, taken)
    work = Path(tempfile.mkdtemp(prefix="samsa-diff-"))
    (work / "samsa").mkdir()
    samsa = Samsa(work / "samsa", sport)
    kafka = kafka_peer.KafkaPeer(work / "kafka", kport, cport, node_id=ALIGNED["node.id"],
                                 config={k: v for k, v in ALIGNED.items() if k != "node.id"})
    t0 = time.monotonic()
    err = []
    t = threading.Thread(target=lambda: err.append(None) if kafka.start() else None)
    t.start()
    try:
        samsa.start()
    finally:
        t.join()
    if not err:
        samsa.stop()
        kafka.stop()
        raise RuntimeError(f"Apache Kafka did not start: {kafka.log_tail()}")
    oracle.Stats.kafka_start_s = time.monotonic() - t0
    try:
        yield samsa, kafka
    finally:
        rc = samsa.stop()
        kafka.stop()
        if rc != 0:
            print(f"\nsamsa exited {rc}:\n{samsa.log_tail()}")
        if os.environ.get("DIFF_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\ndifferential: logs kept in {work}")


@pytest.fixture(scope="session")
def _oracle(brokers):
    samsa, kafka = brokers
    schemas = oracle.Schemas.load()
    o = oracle.Oracle(samsa.port, kafka.port, schemas, oracle.Allowlist())
    # The offsets topic exists before the group scenarios (both create it on
    # the first FindCoordinator; Kafka answers COORDINATOR_NOT_AVAILABLE until then).
    for side in o.sides():
        oracle.wait_coordinator(side, "diff-warmup")
        # ... and so does the transaction state topic
        oracle.wait_coordinator(side, "diff-warmup", key_type=1)
        # Kafka answers COORDINATOR_LOAD_IN_PROGRESS until its first producer id block
        oracle.wait_until(lambda: side.call(oracle.INIT_PRODUCER_ID, 4, {
            "transactional_id": None, "transaction_timeout_ms": 60000, "producer_id": -1,
            "producer_epoch": -1})["error_code"] == 0, timeout=30,
            desc=f"{side.name}: InitProducerId")
    yield o
    for side in o.sides():
        side.close()


@pytest.fixture
def o(_oracle, request):
    _oracle.begin(request.node.name)
    oracle.Stats.scenarios += 1
    yield _oracle
    _oracle.end()


def pytest_terminal_summary(terminalreporter):
    s = oracle.Stats
    stats = {"scenarios": s.scenarios, "fields_compared": s.fields,
             "fields_normalised": s.normalised, "differences_allowlisted": s.allowlisted,
             "differences_failing": s.differences,
             "kafka_start_s": round(getattr(s, "kafka_start_s", 0), 1)}
    terminalreporter.write_line(
        f"differential counts: {s.scenarios} scenarios run, {s.fields} fields compared "
        f"({s.normalised} normalised), {s.allowlisted} differences allowlisted, "
        f"{s.differences} not allowlisted; broker start-up (Kafka's, Samsa's in "
        f"parallel) {stats['kafka_start_s']} s")
    out = os.environ.get("DIFF_STATS")
    if out:
        Path(out).write_text(json.dumps(stats) + "\n")
