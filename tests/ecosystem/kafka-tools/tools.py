"""Kafka's own command-line tools, run the way bin/kafka-*.sh runs them:
`java -cp build/kafka/<version>/libs/* <main class> ARGS`, from the jars
tests/ecosystem/kafka/deps.sh fetched (kafka.py: java(), classpath()),
unchanged.

    cp = kt("kafka-topics", "--bootstrap-server", bs, "--list")   # CompletedProcess
    cp.stdout, cp.stderr, cp.returncode

TOOLS maps each script name to its main class in Kafka 4.4 (bin/<script>.sh
execs kafka-run-class.sh with that class).  The JVM gets a small heap, the
serial GC and C1 only (-XX:TieredStopAtLevel=1): a tool run is short and
these halve its start-up; they change no tool behaviour.  Logging is
Kafka's tools-log4j2.yaml (WARN and up to stderr).  Every run's command
line and output go to the log passed to set_log() for the test report.
"""

import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "ecosystem" / "kafka"))
import kafka  # noqa: E402  (tests/ecosystem/kafka/kafka.py)

TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-configs": "org.apache.kafka.tools.ConfigCommand",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
    "kafka-log-dirs": "org.apache.kafka.tools.LogDirsCommand",
    "kafka-reassign-partitions": "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
    "kafka-leader-election": "org.apache.kafka.tools.LeaderElectionCommand",
    "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-cluster": "org.apache.kafka.tools.ClusterTool",
    "kafka-groups": "org.apache.kafka.tools.GroupsCommand",
    "kafka-dump-log": "org.apache.kafka.tools.DumpLogSegments",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-acls": "org.apache.kafka.tools.AclCommand",
}
JVM_OPTS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            "-Xlog:disable", "-Xlog:all=warning:stderr"]   # JVM warnings off stdout
# kafka.py's log4j2 config (WARN and up), sent to stderr as Kafka's
# tools-log4j2.yaml does: stdout is the tools' output.
LOG4J2 = kafka.LOG4J2.replace("      name: STDOUT\n", "      name: STDOUT\n      target: SYSTEM_ERR\n")
assert "SYSTEM_ERR" in LOG4J2
_log = None
_log4j = None
_cds = None
runs = 0                # JVM starts so far (the suite's cost is mostly these)


def available():
    return kafka.available()


def version():
    """The tools' version as the client library reports it (AppInfoParser
    reads kafka/kafka-version.properties from kafka-clients)."""
    jar = kafka.LIBS / f"kafka-clients-{kafka.VERSION}.jar"
    with zipfile.ZipFile(jar) as z:
        for line in z.read("kafka/kafka-version.properties").decode().splitlines():
            if line.startswith("version="):
                return line.split("=", 1)[1].strip()
    return kafka.VERSION


def set_log(path):
    """Where run() appends each command line and its output; also where the
    log4j2 config file goes."""
    global _log, _log4j
    _log = Path(path)
    _log4j = _log.parent / "tools-log4j2.yaml"
    _log4j.write_text(LOG4J2)


def prepare_cds(directory, bootstrap):
    """A class-data-sharing archive of the classes a tool run loads (JDK
    AppCDS, -XX:ArchiveClassesAtExit), made once per JDK and jar set by one
    kafka-consumer-groups run against `bootstrap` and reused by every later
    run (-XX:SharedArchiveFile): it halves a tool's start-up CPU.  Safe
    across processes (a lock file; the archive is renamed into place)."""
    global _cds
    import fcntl
    import hashlib
    jdk = Path(os.path.realpath(kafka.java() if os.sep in kafka.java() else
                                shutil.which(kafka.java()) or kafka.java()))
    h = hashlib.sha1(f"{jdk}:{jdk.stat().st_mtime if jdk.exists() else 0}".encode())
    for jar in sorted(kafka.LIBS.glob("*.jar")):
        h.update(f"{jar.name}:{jar.stat().st_size}".encode())
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"tools-{h.hexdigest()[:16]}.jsa"
    with open(d / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            _cds = None
            cmd = argv("kafka-consumer-groups", "--bootstrap-server", bootstrap, "--describe",
                       "--all-groups")
            cmd.insert(1, f"-XX:ArchiveClassesAtExit={tmp}")
            subprocess.run(cmd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
            if tmp.exists():
                os.replace(tmp, path)
    _cds = path if path.exists() else None
    return _cds


def argv(script, *args):
    cls = TOOLS[script]
    extra = [f"-Dlog4j2.configurationFile={_log4j}"] if _log4j else []
    if _cds:
        extra.append(f"-XX:SharedArchiveFile={_cds}")
    return [kafka.java(), *JVM_OPTS, *extra, "-cp", kafka.classpath(), cls, *map(str, args)]


def kt(script, *args, input=None, timeout=120, ok=True):
    """Run one tool; with ok, assert it exited 0.  Returns the
    CompletedProcess (text)."""
    global runs
    cmd = argv(script, *args)
    t0 = time.monotonic()
    runs += 1
    try:
        cp = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL if input is None else None,
                            env={k: v for k, v in os.environ.items() if k != "KAFKA_OPTS"})
    except subprocess.TimeoutExpired as e:
        _write(script, args, None, e.stdout, e.stderr, time.monotonic() - t0)
        raise AssertionError(f"{script} {' '.join(map(str, args))}: no exit within {timeout} s")
    _write(script, args, cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0)
    if ok:
        assert cp.returncode == 0, (f"{script} {' '.join(map(str, args))} exited "
                                    f"{cp.returncode}:\n{cp.stdout[-3000:]}\n{cp.stderr[-3000:]}")
    return cp


def _write(script, args, rc, out, err, secs):
    if not _log:
        return
    if isinstance(out, bytes):
        out = out.decode(errors="replace")
    if isinstance(err, bytes):
        err = err.decode(errors="replace")
    with open(_log, "a") as f:
        f.write(f"$ {script} {shlex.join(map(str, args))}   # exit {rc}, {secs:.1f} s\n")
        f.write(out or "")
        if err:
            f.write("--- stderr\n" + err)
        f.write("\n")
