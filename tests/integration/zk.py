"""A real ZooKeeper server for tests: Debian's `zookeeper` package (its jar,
started with the JVM directly, standalone mode), on 127.0.0.1 and a free
port from conftest's block, data in the test's own directory, stopped by
PID.  Cluster-mode tests point brokers at `zk.connect` (optionally with a
chroot) and read what the brokers wrote with `zk.client()` (kazoo), as an
operator would with zkCli.sh.

Start-up costs ~1-2 s of JVM start; a module-scoped fixture shares one
server between the tests of a file, each test using its own chroot.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ZK_JAR = os.environ.get("SAMSA_ZK_JAR", "/usr/share/java/zookeeper.jar")
# log4j.properties of the package's example config (console appender off by default).
ZK_CONF_DIR = "/etc/zookeeper/conf_example"
JAVA = shutil.which("java") or "/usr/bin/java"
READY_TIMEOUT = float(os.environ.get("SAMSA_ZK_READY_TIMEOUT", "30"))


def four_letter(port, word, timeout=1.0, host="127.0.0.1"):
    """Send a ZooKeeper four-letter command; the answer, or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                b = s.recv(4096)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return None


class ZooKeeper:
    """One standalone ZooKeeper server process."""

    def __init__(self, workdir, port, tick_ms=500, name="zookeeper", host="127.0.0.1"):
        self.workdir = Path(workdir)
        self.host = host        # the address it listens on (a bridge's, for brokers in netns)
        self.port = port
        self.tick_ms = tick_ms
        self.name = name
        self.datadir = self.workdir / f"{name}-data"
        self.cfg = self.workdir / f"{name}.cfg"
        self.log_path = self.workdir / f"{name}-{port}.log"
        self.proc = None

    @property
    def connect(self):
        return f"{self.host}:{self.port}"

    def available(self):
        return os.path.exists(ZK_JAR) and os.access(JAVA, os.X_OK)

    def start(self, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.datadir.mkdir(parents=True, exist_ok=True)
        # Session timeouts between 2 and 20 ticks are what the server grants:
        # 500 ms ticks allow 1-10 s sessions, short enough for failover tests.
        self.cfg.write_text(
            f"tickTime={self.tick_ms}\n"
            f"dataDir={self.datadir}\n"
            f"clientPort={self.port}\n"
            f"clientPortAddress={self.host}\n"
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=ruok,srvr,stat,cons\n"
            f"minSessionTimeout={2 * self.tick_ms}\n"
            "maxSessionTimeout=60000\n")
        argv = [JAVA, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dzookeeper.jmx.log4j.disable=true",
                "-cp", f"{ZK_JAR}:{ZK_CONF_DIR}",
                "org.apache.zookeeper.server.ZooKeeperServerMain", str(self.cfg)]
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--"] + argv
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir)
        if wait:
            self.wait_ready()
        return self

    def start_or_fail(self):
        """start(), or fail the calling test when the package is missing."""
        if not self.available():
            import pytest
            pytest.fail("ZooKeeper is not installed (scripts/deps.sh installs Debian's zookeeper)")
        return self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     f"{self.log_tail()}")
            if (four_letter(self.port, "ruok", host=self.host) or "") == "imok":
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not ready on {self.connect} within {timeout}s:\n"
                             f"{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if not self.running():
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill9(self):
        assert self.running(), f"{self.name} is not running"
        self.proc.kill()
        self.proc.wait()

    def restart(self, wait=True):
        """Start again after a stop or kill9: same port, same data dir, so
        the znodes and the sessions it had are there (a crash-restart)."""
        return self.start(wait=wait)

    def client(self, chroot=""):
        """A started kazoo client (the caller stops it)."""
        from kazoo.client import KazooClient
        c = KazooClient(hosts=self.connect + chroot, timeout=10)
        c.start(timeout=10)
        return c

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
