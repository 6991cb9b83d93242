"""The pyclients suite's harness: one Samsa broker per session, and the
compatibility results.

- `broker` (session): $SAMSA_BROKER on 127.0.0.1, on the first free port
  from SAMSA_ECO_PORT_BASE (default 28500, 100 ports), data in a temp dir,
  started under setpriv --pdeathsig so it dies with pytest, stopped by PID
  with SIGTERM at the end; the session fails if it does not exit 0 or its
  log holds a sanitizer report.
- Every test names its client with `pytestmark = pytest.mark.client(NAME)`
  in its module and its features with `@pytest.mark.feature("produce", ...)`
  (keys of FEATURES in scripts/compat_matrix.py). After each test a hook
  writes one JSON line per feature to $SAMSA_COMPAT_DIR/pyclients.jsonl with
  the test's own outcome (setup, call and teardown together), the client's
  version read from the installed package.
"""

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BROKER_BIN = os.environ.get("SAMSA_BROKER") or str(ROOT / "build" / "samsa-broker")
PORT_BASE = int(os.environ.get("SAMSA_ECO_PORT_BASE", "28500"))
PORT_SPAN = 100
COMPAT_FILE = Path(os.environ.get("SAMSA_COMPAT_DIR") or ROOT / "build" / "compat") / "pyclients.jsonl"
SUITE = "pyclients"
# A broker built with SANITIZE=1 (SAMSA_BROKER=build-san/samsa-broker) reports here.
BROKER_ENV = dict(os.environ, LSAN_OPTIONS=":".join(filter(None, [
    os.environ.get("LSAN_OPTIONS"), f"suppressions={ROOT / 'tests' / 'lsan.supp'}"])))
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|"
                          r"SUMMARY: UndefinedBehaviorSanitizer")

# Broker settings for tests: no initial rebalance delay (groups form at once),
# short minimum session timeout (static-membership tests), few offsets partitions.
BROKER_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "4",
}


def _client_versions():
    import aiokafka
    import confluent_kafka
    import kafka
    return {
        "confluent-kafka": f"{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})",
        "kafka-python": kafka.__version__,
        "aiokafka": aiokafka.__version__,
    }


CLIENT_VERSIONS = _client_versions()
_names = itertools.count()


def unique(prefix):
    """A topic or group name no other test (or earlier run) uses."""
    return f"{prefix}-{os.getpid()}-{next(_names)}"


def wait_for(cond, timeout=15.0, what="condition", interval=0.05):
    """Poll cond() until it returns something truthy (returned); fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class SamsaBroker:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.port = self._free_port()
        self.log_path = self.workdir / "broker.log"
        self.proc = None

    @staticmethod
    def _free_port():
        for port in range(PORT_BASE, PORT_BASE + PORT_SPAN):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"no free port in {PORT_BASE}..{PORT_BASE + PORT_SPAN - 1}")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        argv = [BROKER_BIN]
        settings = dict(BROKER_OVERRIDES, **{
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.workdir / "data"), "node.id": "0"})
        for k, v in settings.items():
            argv += ["--override", f"{k}={v}"]
        if shutil.which("setpriv"):
            argv = ["setpriv", "--pdeathsig", "TERM", "--"] + argv
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir, env=BROKER_ENV)

        def accepting():
            if self.proc.poll() is not None:
                raise AssertionError(f"broker exited {self.proc.returncode} at start:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_for(accepting, timeout, f"the broker to listen on {self.bootstrap}", 0.02)

    def stop(self, timeout=20.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"broker pid {self.proc.pid} ignored SIGTERM for {timeout} s; killed")
        assert rc == 0, f"broker exited {rc} after SIGTERM:\n{self.log_tail()}"
        text = self.log_path.read_text(errors="replace")
        assert not SANITIZER_RE.search(text), f"sanitizer report in {self.log_path}"

    def log_tail(self, n=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no broker log)"


_REPORTS = pytest.StashKey[list]()
_BROKER_KEY = pytest.StashKey[SamsaBroker]()


@pytest.fixture(scope="session")
def broker(request, tmp_path_factory):
    b = SamsaBroker(tmp_path_factory.mktemp("samsa"))
    request.session.stash[_BROKER_KEY] = b      # its log tail goes with failures
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def bootstrap(broker):
    return broker.bootstrap


# --- compatibility results ----------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line("markers", "client(name): the client library a test module covers")
    config.addinivalue_line("markers", "feature(*keys): compat_matrix.py features a test covers")
    COMPAT_FILE.parent.mkdir(parents=True, exist_ok=True)


def _reason(rep):
    if rep.skipped and isinstance(rep.longrepr, tuple):
        return rep.longrepr[2].removeprefix("Skipped: ")
    lines = [ln for ln in str(rep.longrepr or "").splitlines() if ln.startswith("E ")]
    return (" ".join(ln[1:].strip() for ln in lines[:3]) or f"{rep.when} failed")[:300]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    reports = item.stash.setdefault(_REPORTS, [])
    reports.append(rep)
    if rep.when == "teardown":
        _record(item, reports)
    if rep.failed:
        b = item.session.stash.get(_BROKER_KEY, None)
        if b is not None:
            rep.sections.append(("samsa broker log (tail)", b.log_tail()))


def _record(item, reports):
    client = item.get_closest_marker("client")
    features = [k for m in item.iter_markers("feature") for k in m.args]
    if client is None or not features:
        return
    failed = next((r for r in reports if r.failed), None)
    skipped = next((r for r in reports if r.skipped), None)
    if failed:
        result, reason = "fail", _reason(failed)
    elif skipped:
        result, reason = "skip", _reason(skipped)
    else:
        result, reason = "pass", ""
    name = client.args[0]
    with open(COMPAT_FILE, "a") as f:
        for feat in features:
            line = {"client": name, "lang": "Python", "version": CLIENT_VERSIONS[name],
                    "feature": feat, "result": result, "test": f"{SUITE}::{item.nodeid}"}
            if reason:
                line["reason"] = reason
            f.write(json.dumps(line) + "\n")
