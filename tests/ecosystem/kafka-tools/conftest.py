"""kafka-tools suite: fixtures and the compatibility hook.

Brokers: Samsa's own test harness (tests/integration/conftest.py Broker,
cluster.py Cluster, zk.py ZooKeeper), loaded from there, with ports from
[$SAMSA_ECO_PORT_BASE, +900) (default 29500).
  samsa       one broker for the whole session (tests use unique topic and
              group names), group.initial.rebalance.delay.ms=0 so groups
              form at once; stopped by PID at the end, exit 0 required
  zk_cluster  (module) ZooKeeper + 3 brokers, for the tools that need
              replicas (reassignment, leader election, under-replication)

Every test is marked @pytest.mark.tool("kafka-xxx", ...); its outcome (pass,
fail, skip with the reason) is written as one JSON line per tool to
$SAMSA_COMPAT_DIR/kafka-tools.jsonl with feature "tool.kafka-xxx".
"""

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
IT = ROOT / "tests" / "integration"
PORT_BASE = int(os.environ.get("SAMSA_ECO_PORT_BASE", "29500"))
PORT_RANGE = 900

# The integration harness, under its own module name: this file is the
# "conftest" module of this suite, so it re-exports what cluster.py imports
# from "conftest".
os.environ["SAMSA_TEST_PORT_BASE"] = str(PORT_BASE)
_spec = importlib.util.spec_from_file_location("samsa_it_conftest", IT / "conftest.py")
it = importlib.util.module_from_spec(_spec)
sys.modules["samsa_it_conftest"] = it
_spec.loader.exec_module(it)
it._PORT_BASE, it._PORT_BLOCK = PORT_BASE, PORT_RANGE
STOP_TIMEOUT, Broker, admin, consume_exact, free_port, wait_until, watermarks = (
    it.STOP_TIMEOUT, it.Broker, it.admin, it.consume_exact, it.free_port, it.wait_until,
    it.watermarks)
sys.path.insert(0, str(IT))        # kproto, zk, cluster
sys.path.insert(0, str(HERE))

import tools  # noqa: E402

COMPAT = Path(os.environ.get("SAMSA_COMPAT_DIR") or ROOT / "build" / "compat") / "kafka-tools.jsonl"
OUT = ROOT / "build" / "ecosystem" / "kafka-tools"


def pytest_configure(config):
    config.addinivalue_line("markers", "tool(*scripts): the Kafka tools a test covers "
                                       "(compat feature tool.<script>)")
    OUT.mkdir(parents=True, exist_ok=True)
    tools.set_log(OUT / "tools.log")
    (OUT / "tools.log").write_text("")


@pytest.fixture(scope="session", autouse=True)
def kafka_jars():
    if not tools.available():
        pytest.fail(f"Apache Kafka {tools.kafka.VERSION} jars missing in {tools.kafka.LIBS}: "
                    "run tests/ecosystem/kafka-tools/deps.sh (or scripts/deps.sh)")


@pytest.fixture(scope="session")
def samsa(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("samsa"), name="samsa",
               overrides={"group.initial.rebalance.delay.ms": 0})
    b.start()
    tools.prepare_cds(OUT / "cds", b.bootstrap)
    yield b
    b.stop()        # asserts exit 0
    reports = b.sanitizer_reports()
    assert not reports, "sanitizer report in the broker log:\n" + "\n".join(reports[:20])


@pytest.fixture(scope="module")
def zk_cluster(tmp_path_factory):
    from cluster import Cluster
    from zk import ZooKeeper
    zk = ZooKeeper(tmp_path_factory.mktemp("zk"), free_port()).start_or_fail()
    c = Cluster(tmp_path_factory.mktemp("cluster"), zk, n=3,
                overrides={"auto.leader.rebalance.enable": "false",
                           "group.initial.rebalance.delay.ms": 0})
    try:
        c.start_all()
        yield c
    finally:
        problems = c.stop_all()
        zk.stop()
        assert not problems, "\n".join(problems)


def unique(request, suffix=""):
    """A topic or group name unique to the test."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:100] + suffix


# --- compatibility results ---------------------------------------------------------
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    item.__dict__.setdefault("_kt_reports", []).append(rep)
    if rep.failed and rep.when == "call":
        try:
            rep.sections.append(("Kafka tools run so far (tail)",
                                 (OUT / "tools.log").read_text(errors="replace")[-6000:]))
        except OSError:
            pass


def _reason(rep):
    lr = rep.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:           # a skip: (file, line, reason)
        return re.sub(r"^Skipped: ", "", str(lr[2]))
    text = getattr(rep, "longreprtext", "") or str(lr or "")
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    return " ".join(ln[1:].strip() for ln in lines[:3])[:400] or text[-400:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    marker = item.get_closest_marker("tool")
    if not marker:
        return
    reps = item.__dict__.get("_kt_reports", [])
    bad = next((r for r in reps if r.failed), None)
    skipped = next((r for r in reps if r.skipped), None)
    result, reason = ("fail", _reason(bad)) if bad else \
        ("skip", _reason(skipped)) if skipped else ("pass", "")
    COMPAT.parent.mkdir(parents=True, exist_ok=True)
    with open(COMPAT, "a") as f:
        for script in marker.args:
            f.write(json.dumps({"client": "kafka-tools", "lang": "Java", "version": tools.version(),
                                "feature": f"tool.{script}", "result": result,
                                "test": item.name, "reason": reason}) + "\n")


# --- setting up state without a JVM ----------------------------------------------
def make_topic(b, name, partitions=1, config=None):
    """CreateTopics (confluent-kafka AdminClient), waiting for its metadata."""
    it.create_topic(b.bootstrap, name, partitions=partitions, config=config)
    return name


def produce_values(b, topic, partition, values, keys=None):
    """One record batch (kproto, raw): returns its size in bytes."""
    import kproto
    batch = kproto.record_batch([v.encode() if isinstance(v, str) else v for v in values],
                                keys=keys)
    with kproto.Conn(b.host, b.port) as c:
        r = kproto.produce(c, topic, partition, batch)
    assert r["error_code"] == 0, r
    return len(batch)


def commit_offsets(b, group, offsets):
    """A standalone OffsetCommit (kproto) once the group has a coordinator
    (the first FindCoordinator creates __consumer_offsets)."""
    import kproto
    with kproto.Conn(b.host, b.port) as c:
        wait_until(lambda: kproto.find_coordinator(c, group)["error_code"] == 0, timeout=15,
                   desc=f"a coordinator for {group}")
        got = kproto.offset_commit(c, group, offsets)
    assert got == {tp: 0 for tp in offsets}, got
