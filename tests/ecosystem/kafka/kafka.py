"""Apache Kafka as a peer: one KRaft node (combined broker and controller)
started from the Maven jars that deps.sh put in build/kafka/<version>/libs,
with `java -cp`, on 127.0.0.1 and ports the caller picks, its data in a
directory of the caller's. Used by the differential tests, Kafka's own
tools tests and `make bench`.

    k = KafkaPeer(workdir, port, controller_port, config={...})
    k.start()            # formats the storage dir, starts, waits for the port
    k.bootstrap          # "127.0.0.1:<port>"
    k.run_tool("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", ...)
    k.stop()             # SIGTERM by PID, SIGKILL after a timeout

Settings: the broker's defaults, except what a single node needs (the
internal topics' replication factor 1) and what the caller passes. The JVM
gets KAFKA_HEAP (default -Xmx1g -Xms1g, Kafka's own kafka-server-start.sh
default) and Kafka's default GC flags; its log (WARN and up) goes to
<workdir>/kafka.log.
"""

import base64
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def kafka_version():
    m = re.search(r"<kafka.version>(.+?)</kafka.version>", (HERE / "pom.xml").read_text())
    return m.group(1)


VERSION = kafka_version()
LIBS = ROOT / "build" / "kafka" / VERSION / "libs"
HEAP = os.environ.get("KAFKA_HEAP", "-Xmx1g -Xms1g")
# kafka-run-class.sh's defaults for the server
JVM_FLAGS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
             "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true"]
LOG4J2 = """\
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        Pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
"""


def available():
    """True when deps.sh fetched the jars, unless SAMSA_KAFKA_PEER=0: the
    sanitizer pass of make test sets it, as the Apache Kafka side of a
    comparison runs no Samsa code (its Samsa side still runs there)."""
    if os.environ.get("SAMSA_KAFKA_PEER") == "0":
        return False
    return (LIBS / f"kafka_2.13-{VERSION}.jar").exists()


def unavailable_reason():
    """Why available() is false, for a test's skip message."""
    if os.environ.get("SAMSA_KAFKA_PEER") == "0":
        return "SAMSA_KAFKA_PEER=0: no Apache Kafka peer in this run (the sanitizer pass)"
    return "Apache Kafka jars absent (tests/ecosystem/kafka/deps.sh)"


def classpath():
    return str(LIBS / "*")


def java():
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else "java"


def tool_cmd(main_class, *args, heap="-Xmx512m"):
    """argv that runs one of Kafka's tool classes (what bin/kafka-*.sh run)."""
    return [java(), *heap.split(), "-cp", classpath(), main_class, *map(str, args)]


def _port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class KafkaPeer:
    def __init__(self, workdir, port, controller_port, config=None, node_id=1):
        self.dir = Path(workdir)
        self.port, self.cport, self.node_id = port, controller_port, node_id
        self.config = {
            "process.roles": "broker,controller",
            "node.id": node_id,
            "controller.quorum.voters": f"{node_id}@127.0.0.1:{controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.dir / "data"),
            "offsets.topic.replication.factor": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
        }
        self.config.update(config or {})
        self.proc = None
        self.argv = None
        self.log_path = self.dir / "kafka.log"

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def _write_config(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        props = self.dir / "server.properties"
        props.write_text("".join(f"{k}={v}\n" for k, v in self.config.items()))
        (self.dir / "log4j2.yaml").write_text(LOG4J2)
        return props

    def start(self, timeout=90, wait=True):
        """Formats the storage directory (first start only) and starts the
        node; with wait, returns once its port accepts connections."""
        if not available():
            raise RuntimeError(f"Apache Kafka {VERSION} jars missing in {LIBS}: "
                               "run scripts/deps.sh (tests/ecosystem/kafka/deps.sh)")
        props = self._write_config()
        if not (self.dir / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            fmt = subprocess.run(
                tool_cmd("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", props,
                         "--ignore-formatted")
                + [],
                capture_output=True, text=True, timeout=120,
                env=self._env())
            if fmt.returncode != 0:
                raise RuntimeError(f"kafka storage format failed ({fmt.returncode}): "
                                   f"{fmt.stdout[-2000:]}{fmt.stderr[-2000:]}")
        log = open(self.log_path, "ab")
        argv = [java(), *HEAP.split(), *JVM_FLAGS,
                f"-Dlog4j2.configurationFile={self.dir / 'log4j2.yaml'}",
                "-cp", classpath(), "kafka.Kafka", str(props)]
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self._env())
        log.close()
        if not wait:
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Apache Kafka exited {self.proc.returncode} at start-up; "
                                   f"log {self.log_path}:\n{self.log_tail()}")
            if _port_open(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Apache Kafka not listening on {self.port} after {timeout} s; "
                           f"log {self.log_path}:\n{self.log_tail()}")

    def _env(self):
        env = dict(os.environ)
        env.pop("KAFKA_OPTS", None)
        return env

    def log_tail(self, n=4000):
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def run_tool(self, main_class, *args, timeout=120, input=None, heap="-Xmx512m"):
        """Run one of Kafka's tools (e.g. org.apache.kafka.tools.TopicCommand);
        returns the CompletedProcess (text)."""
        return subprocess.run(tool_cmd(main_class, *args, heap=heap), capture_output=True,
                              text=True, timeout=timeout, input=input, env=self._env())

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode
