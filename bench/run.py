#!/usr/bin/python3
"""Samsa benchmark harness: `make bench` runs this (bench/README.md has the details).

Starts every system on 127.0.0.1 (free ports, data in one temporary directory
on the real disk), runs the workloads, writes the raw results as JSON and
hands them to bench/report.py, which prints the tables and writes
docs/benchmarks.md and docs/benchmarks-throughput.svg.

Systems
  samsa            build/samsa-broker, default settings
  samsa-flush1000  the same with log.flush.interval.ms=1000
  kafka            Apache Kafka 4.4.0, one KRaft node (tests/ecosystem/kafka/kafka.py),
                   default settings, -Xmx1g -Xms1g; warmed up before its first figure
  mock             librdkafka's mock cluster (bench/mock_cluster.c): a broker
                   that keeps 5 MiB per partition in memory and does nothing else
  redis            redis-server, no persistence (--save '' --appendonly no)
  redis-aof        redis-server --appendonly yes --appendfsync everysec
  nats             nats-server -js -sd DIR (JetStream, file storage)
Samsa, Kafka and the mock are driven by `samsa perf`, Redis by bench/redis_bench.c,
NATS by bench/nats_bench.c (same payload sizes and kind of payload).

Workloads (each figure BENCH_REPS times, default 3; runs interleaved across
systems so background noise spreads evenly)
  produce     one producer, unlimited rate: 100 B and 1 KiB, acks=1 and
              acks=all, 1 and (100 B) 32 partitions
  consume     a 32-partition topic filled once, then read to the end (page cache)
  e2e         end-to-end latency at 1,000 msg/s and at 50% of the system's
              peak (its produce 100 B / 1 partition / acks=1 median)
  efficiency  server CPU seconds per GB of payload (the server process's
              threads' on-CPU time from /proc/PID/task/*/schedstat, checked
              against utime+stime in /proc/PID/stat), for every run; plus a
              dedicated 1 KiB, 64 KiB-batch run into fresh memory and (Samsa,
              Kafka) one into backed memory (a ballast written and deleted first)
  startup     Samsa and Kafka: idle RSS of an empty broker; start-up with
              1,000 partitions holding data after a clean shutdown, process
              start to Metadata listing a leader for every partition
  perftest    Samsa and Kafka: Kafka's kafka-producer-perf-test and
              kafka-consumer-perf-test (make bench-perftest: only this)
  scale       Samsa only: 10,000 partitions producing; start-up after a clean
              shutdown and after kill -9 with 1,000 partitions holding data;
              idle RSS

Environment
  BENCH_QUICK=1     smoke run (1 repetition, short runs, smaller scale test);
                    writes its report to BUILD/bench/, not docs/
  BENCH_REPS=N      repetitions (default 3, quick 1)
  BENCH_ONLY=a,b    only these workloads (produce,efficiency,consume,e2e,startup,perftest,scale)
  BENCH_SYSTEMS=a,b only these systems
  BENCH_TMPDIR=DIR  where the data directories go (default /var/tmp)
  BENCH_KEEP=1      keep the temporary directory (logs, data)
  BENCH_PORT_BASE=N servers' ports from N up (default 31000, 900 ports; below
                    the kernel's ephemeral range)
  KAFKA_HEAP=...    Kafka's heap flags (default -Xmx1g -Xms1g)
  BENCH_SCALE_PARTITIONS=N         total partitions of the scale test (10000)
  BENCH_SCALE_MAX_OPEN_FILES=N     samsa.max.open.files of the scale broker (2000)
  BENCH_SCALE_TOPIC_PARTITIONS=N   partitions per topic in the scale and
                    start-up tests (default 10000: one topic, one producer);
                    one `samsa perf produce` per topic

  /usr/bin/python3 bench/run.py [--build DIR] [--no-build] [--out-md F] [--out-svg F]
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Sizes of the runs. Full: the whole `make bench` takes about 13-15 minutes on 2 cores.
CFG = dict(
    reps=1 if QUICK else 3,
    produce_s=1 if QUICK else 4,             # each produce run
    consume_msgs={100: 200_000, 1024: 50_000} if QUICK else {100: 1_000_000, 1024: 300_000},
    consume_parts=32,
    e2e_low_s=2 if QUICK else 10,             # 1,000 msg/s
    e2e_high_s=1 if QUICK else 3,             # 50% of peak
    eff_s=1 if QUICK else 3,
    eff_backed_msgs=200_000 if QUICK else 600_000,   # 1 KiB messages of the backed-memory pass
    warmup_s=2 if QUICK else 5,              # Kafka's JIT warm-up, per message size
    perftest_msgs={100: 500_000, 1024: 200_000} if QUICK else {100: 2_000_000, 1024: 500_000},
    scale_parts=1000 if QUICK else 10000,
    scale_s=2 if QUICK else 8,
    startup_parts=200 if QUICK else 1000,
    startup_msgs_per_part=100 if QUICK else 400,
)
if os.environ.get("BENCH_REPS"):
    CFG["reps"] = int(os.environ["BENCH_REPS"])
if os.environ.get("BENCH_SCALE_PARTITIONS"):
    CFG["scale_parts"] = int(os.environ["BENCH_SCALE_PARTITIONS"])
TOPIC_PARTS = int(os.environ.get("BENCH_SCALE_TOPIC_PARTITIONS", "10000"))
SCALE_MAX_OPEN_FILES = int(os.environ.get("BENCH_SCALE_MAX_OPEN_FILES", "2000"))

ALL_SYSTEMS = ["samsa", "samsa-flush1000", "kafka", "mock", "redis", "redis-aof", "nats"]
KAFKA = {"samsa", "samsa-flush1000", "kafka", "mock"}       # Kafka protocol: driven by `samsa perf`
BROKERS = {"samsa", "samsa-flush1000", "kafka"}              # topics made and deleted by the admin API
WORKLOADS = ["produce", "efficiency", "consume", "e2e", "startup", "perftest", "scale"]

_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup():
    """In the child: die with the harness (PR_SET_PDEATHSIG), own process group."""
    _libc.prctl(1, signal.SIGTERM)
    os.setpgid(0, 0)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "31000"))
PORT_SPAN = 900
_next_port = [PORT_BASE]


def free_port():
    """A port below the kernel's ephemeral range (which starts at 32768):
    the next one in [BENCH_PORT_BASE, +900) that binds, so runs on a shared
    machine stay out of each other's way and out of the clients' source
    ports."""
    for _ in range(PORT_SPAN):
        port = _next_port[0]
        _next_port[0] = PORT_BASE + (port + 1 - PORT_BASE) % PORT_SPAN
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in [{PORT_BASE}, {PORT_BASE + PORT_SPAN})")


def metadata_partitions(port, topics, timeout=1.0):
    """Metadata v5 for `topics` straight over a socket (no client process, so
    it can be polled every few ms during a start-up): the number of their
    partitions that have a leader and no error, or None when the broker does
    not answer (not listening yet, connection closed)."""
    def s16(b):
        return struct.pack(">h", len(b)) + b
    body = struct.pack(">i", len(topics)) + b"".join(s16(t.encode()) for t in topics) + b"\x00"
    req = struct.pack(">hhi", 3, 5, 1) + s16(b"bench") + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
            c.settimeout(timeout)
            c.sendall(struct.pack(">i", len(req)) + req)
            buf = b""
            while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
                chunk = c.recv(1 << 20)
                if not chunk:
                    return None
                buf += chunk
    except OSError:
        return None
    pos = 8 + 4   # size, correlation id, throttle_time_ms

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take(">h")
        v = buf[pos:pos + max(n, 0)]
        pos += max(n, 0)
        return v
    try:
        for _ in range(take(">i")):                 # brokers
            take(">i"); string(); take(">i"); string()
        string(); take(">i")                        # cluster id, controller id
        ready = 0
        for _ in range(take(">i")):                 # topics
            terr = take(">h"); string(); take(">b")
            for _ in range(take(">i")):             # partitions
                perr = take(">h"); take(">i"); leader = take(">i")
                for _ in range(3):                  # replicas, isr, offline
                    n = take(">i")
                    pos += 4 * n
                ready += terr == 0 and perr == 0 and leader >= 0
        return ready
    except struct.error:
        return None


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def proc_cpu(pid):
    """CPU time of the whole process, seconds: (precise, ticks).

    precise: the sum over its threads of /proc/PID/task/TID/schedstat (ns on
    the CPU); ticks: utime + stime from /proc/PID/stat (1/CLK_TCK resolution,
    but it also keeps the time of threads that have exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = (int(fields[11]) + int(fields[12])) / CLK_TCK
        sys_ticks = int(fields[12]) / CLK_TCK
    except OSError:
        return None
    precise = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    precise += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        precise = None
    return (precise / 1e9 if precise else None, ticks, sys_ticks)


def kernel_thread_cpu():
    """{pid: (comm, CPU seconds)} of every kernel thread (PF_KTHREAD)."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[6]) & 0x00200000:
            out[pid] = (comm, (int(fields[11]) + int(fields[12])) / tck)
    return out


def cpu_delta(a, b):
    """Seconds between two proc_cpu() samples: the precise figure, unless
    the tick count grew clearly more (threads exited in between)."""
    if a is None or b is None:
        return None
    ticks = b[1] - a[1]
    if a[0] is None or b[0] is None:
        return ticks
    precise = b[0] - a[0]
    if ticks > precise * 1.05 + 3.0 / CLK_TCK:
        return ticks
    return precise


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "Threads"):
                    out[k] = int(v.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return out


# ----------------------------------------------------------------------- servers

class Server:
    """A server process we started; stopped by PID only."""

    def __init__(self, name, workdir):
        self.name = name
        self.workdir = Path(workdir)
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None
        self.argv = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv, env=None):
        self.starts += 1
        self.argv = [str(a) for a in argv]
        self.log_path = self.workdir / f"{self.name}-{self.starts}.log"
        with open(self.log_path, "wb") as lf:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=lf,
                                         stderr=subprocess.STDOUT, cwd=self.workdir,
                                         preexec_fn=_child_setup, env=env)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   + self.log_text()[-2000:])
            if self.ready():
                return
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n" + self.log_text()[-2000:])

    def ready(self):
        return port_open(self.port)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signal our process by PID; SIGKILL if it does not exit. Returns seconds taken."""
        if not self.running():
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} (pid {self.pid}) did not stop in {timeout}s: SIGKILL")
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - t0

    def cpu(self):
        return proc_cpu(self.pid) if self.running() else None

    def error_lines(self, limit=5):
        """ERROR lines of every log of this server (all its starts)."""
        out = []
        for p in sorted(self.workdir.glob(f"{self.name}-*.log")):
            out += [l[:200] for l in p.read_text(errors="replace").splitlines() if " ERROR " in l]
        return out[:limit]

    def status(self):
        return proc_status(self.pid) if self.running() else {}

    def command(self):
        return " ".join(shlex.quote(a) for a in self.argv) if self.argv else ""


class Samsa(Server):
    def __init__(self, name, workdir, binary, overrides=None):
        super().__init__(name, workdir)
        self.binary = binary
        self.overrides = dict(overrides or {})
        self.port = free_port()
        self.datadir = self.workdir / f"{name}-data"

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, wait=True):
        argv = [self.binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"log.dirs={self.datadir}", "--override", "node.id=0"]
        for k, v in self.overrides.items():
            argv += ["--override", f"{k}={v}"]
        self._spawn(argv)
        if wait:
            self.wait_ready()
        return self

    def started_line(self):
        return " started: " in self.log_text()

    def ready(self):
        return port_open(self.port) and self.started_line()


class Mock(Server):
    """librdkafka's mock cluster; it picks its own port. It cannot create
    topics through the admin API (no controller), so each start names them."""

    def __init__(self, workdir, binary):
        super().__init__("mock", workdir)
        self.binary = binary
        self.bootstrap = None

    def start(self, topics=()):
        self.stop()
        self._spawn([self.binary] + [f"{t}:{p}" for t, p in topics])
        self.bootstrap = None
        self.wait_ready()
        return self

    def ready(self):
        m = re.search(r"^BOOTSTRAP (\S+)", self.log_text(), re.M)
        if m:
            self.bootstrap = m.group(1)
            self.port = int(self.bootstrap.rsplit(":", 1)[1])
        return bool(m) and port_open(self.port)


class Redis(Server):
    def __init__(self, name, workdir, aof):
        super().__init__(name, workdir)
        self.aof = aof
        self.port = free_port()
        self.datadir = self.workdir / f"{name}-data"

    def start(self):
        self.datadir.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", self.port, "--dir", self.datadir,
                "--save", "", "--daemonize", "no", "--logfile", ""]
        argv += ["--appendonly", "yes", "--appendfsync", "everysec"] if self.aof else ["--appendonly", "no"]
        self._spawn(argv)
        self.wait_ready()
        return self


class Nats(Server):
    def __init__(self, workdir):
        super().__init__("nats", workdir)
        self.port = free_port()
        self.datadir = self.workdir / "nats-data"

    def start(self):
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._spawn(["nats-server", "-a", "127.0.0.1", "-p", self.port, "-js", "-sd", self.datadir])
        self.wait_ready()
        return self

    def ready(self):
        return port_open(self.port) and "Server is ready" in self.log_text()


sys.path.insert(0, str(ROOT / "tests" / "ecosystem" / "kafka"))
import kafka as kafka_peer   # noqa: E402  (tests/ecosystem/kafka/kafka.py: KafkaPeer, tool_cmd)


class Kafka(Server):
    """Apache Kafka (tests/ecosystem/kafka/kafka.py's KafkaPeer): one KRaft
    node, broker and controller in one JVM, `java -cp` on the jars,
    kafka-server-start.sh's heap (-Xmx1g -Xms1g) and GC flags, the broker's
    default settings. Ready when it answers Metadata."""

    def __init__(self, name, workdir):
        super().__init__(name, workdir)
        self.port = free_port()
        self.cport = free_port()
        self.peer = kafka_peer.KafkaPeer(self.workdir / f"{name}-data", self.port, self.cport)
        self.datadir = self.peer.dir

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, wait=True):
        self.starts += 1
        self.peer.start(wait=False)
        self.proc, self.argv, self.log_path = self.peer.proc, self.peer.argv, self.peer.log_path
        if wait:
            self.wait_ready(timeout=180)
        return self

    def ready(self):
        return metadata_partitions(self.port, []) is not None

    def error_lines(self, limit=5):
        return [l[:200] for l in self.log_text().splitlines() if "] ERROR " in l][:limit]


# ----------------------------------------------------------------------- clients

class Bench:
    def __init__(self, build, tmp):
        self.build = Path(build)
        self.tmp = Path(tmp)
        self.samsa_cli = str(self.build / "samsa")
        self.broker = str(self.build / "samsa-broker")
        self.redis_bench = str(self.build / "bench" / "redis_bench")
        self.nats_bench = str(self.build / "bench" / "nats_bench")
        self.mock_bin = str(self.build / "bench" / "mock_cluster")
        self.stall_probe = str(self.build / "bench" / "stall_probe")
        self.servers = {}
        self.results = []
        self.names = 0
        self.commands = {}     # (workload, system) -> example command line
        self.server_commands = {}

    # -- servers
    def start_systems(self, systems):
        for s in systems:
            if s in self.servers:
                continue
            if s == "samsa":
                srv = Samsa(s, self.tmp, self.broker).start()
            elif s == "samsa-flush1000":
                srv = Samsa(s, self.tmp, self.broker, {"log.flush.interval.ms": 1000}).start()
            elif s == "kafka":
                srv = Kafka(s, self.tmp).start()
            elif s == "mock":
                srv = Mock(self.tmp, self.mock_bin).start()
            elif s == "redis":
                srv = Redis(s, self.tmp, aof=False).start()
            elif s == "redis-aof":
                srv = Redis(s, self.tmp, aof=True).start()
            elif s == "nats":
                srv = Nats(self.tmp).start()
            self.servers[s] = srv
            self.server_commands.setdefault(s, srv.command())
            log(f"started {s} (pid {srv.pid}): {srv.command()}")
            if s == "kafka":
                self.warm_up(s)

    def warm_up(self, system):
        """A JVM broker is measured warm, as in production: before its first
        figure, unmeasured, one produce of each size and a consume (large
        requests), then an end-to-end run at 1,000 msg/s (one request per
        message, a waiting fetch woken by each): a cold Kafka answered the
        first seconds of such a run 1-3 s late, the next run in ms (JIT)."""
        name = self.uniq("warmup")
        self.prepare(system, name, 1)
        for size in (100, 1024):
            self.run(self.produce_argv(system, name, size, 1, "1", secs=CFG["warmup_s"]), 180)
        self.run(self.cli(system, "--json", "-q", "perf", "consume", name), 180)
        self.run(self.cli(system, "--json", "-q", "perf", "e2e", name, "-P", "1", "-s", "100", "-a", "1",
                          "--linger-ms", "0", "--rate", "1000", "-n", 1000 * CFG["warmup_s"],
                          "-d", f"{CFG['warmup_s']}s"), 180)
        self.cleanup(system, name, 1)
        log(f"warmed up {system} ({CFG['warmup_s']} s of produce per size, one consume, "
            f"{CFG['warmup_s']} s of e2e at 1,000 msg/s)")

    def stop_all(self):
        for name, srv in list(self.servers.items()):
            if srv.running():
                srv.stop()
        self.servers.clear()

    def uniq(self, prefix):
        self.names += 1
        return f"{prefix}-{self.names}"

    # -- running a client
    def run(self, argv, timeout):
        argv = [str(a) for a in argv]
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=_child_setup)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()   # our own child, by PID
            out, err = p.communicate()
            err += f"\n(harness: killed after {timeout}s)"
        return p.returncode, out, err, time.monotonic() - t0

    @staticmethod
    def summary(out):
        for line in reversed(out.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if d.get("type") == "summary":
                    return d
        return None

    def cli(self, system, *args):
        srv = self.servers[system]
        return [self.samsa_cli, "-b", srv.bootstrap, "--timeout", "60", *args]

    def measure(self, workload, system, argv, timeout, **meta):
        srv = self.servers[system]
        cpu0 = srv.cpu()
        rc, out, err, wall = self.run(argv, timeout)
        cpu1 = srv.cpu()
        st = srv.status()
        s = self.summary(out)
        rec = dict(workload=workload, system=system, **meta, rc=rc, wall_s=round(wall, 3),
                   cmd=" ".join(shlex.quote(a) for a in map(str, argv)), summary=s,
                   server_rss_kb=st.get("VmRSS"), server_fds=st.get("fds"))
        rec["ok"] = rc == 0 and s is not None
        if (rc == 1 and s and s.get("mode") == "produce" and 0 < (s.get("failed") or 0) <= 4
                and "Queue full" in str(s.get("error"))):
            # samsa perf -d: a message refused with QUEUE_FULL when the
            # duration ends counts as "failed" (exit 1); nothing was lost.
            rec["ok"] = True
            rec["note"] = "perf counted a queue-full message at the end of -d as failed"
        if not rec["ok"]:
            rec["error"] = (err.strip().splitlines() or [f"exit {rc}"])[-1][:300]
            log(f"  {workload} {system} {meta}: FAILED ({rec['error']})")
        cpu = cpu_delta(cpu0, cpu1)
        if cpu is not None:
            rec["cpu_s"] = round(cpu, 4)
            rec["cpu_s_ticks"] = round(cpu1[1] - cpu0[1], 3)
            rec["cpu_sys_s_ticks"] = round(cpu1[2] - cpu0[2], 3)   # of which in the kernel
            if s and s.get("bytes"):
                rec["cpu_s_per_gb"] = round(rec["cpu_s"] / (s["bytes"] / 1e9), 4)
        self.commands.setdefault((workload, system), rec["cmd"])
        self.results.append(rec)
        if s:
            lat = s.get("latency_ms") or {}
            extra = f" p50 {lat.get('p50')} p99 {lat.get('p99')} ms" if workload == "e2e" and lat else ""
            log(f"  {workload:8} {system:16} {json.dumps(meta):60} {s['msgs_per_sec']:>12,.0f} msg/s "
                f"{s['mb_per_sec']:8.1f} MB/s cpu {rec.get('cpu_s')}{extra}")
        return rec

    # -- per-system operations
    def produce_argv(self, system, name, size, parts, acks, secs=None, count=None, extra=()):
        n = count if count else 1_000_000_000
        if system in KAFKA:
            a = self.cli(system, "--json", "-q", "perf", "produce", name, "-P", parts, "-s", size,
                         "-a", acks, "-n", n, *extra)
            return a + (["-d", f"{secs}s"] if secs else [])
        tool = self.redis_bench if system.startswith("redis") else self.nats_bench
        a = [tool, "produce", "-p", self.servers[system].port, "-k", name, "-S", parts, "-s", size, "-n", n]
        return a + (["-d", secs] if secs else [])

    def prepare(self, system, name, parts):
        """Creates the topic before the measured run (its cost is not measured)."""
        if system == "mock":
            self.servers["mock"].start([(name, parts)])
        elif system in BROKERS:
            rc, out, err, _ = self.run(self.cli(system, "-q", "topic", "create", name, "-p", parts), 120)
            if rc != 0:
                log(f"  {system}: cannot create topic {name}: {err.strip()[-200:]}")
            self.wait_leaders(self.servers[system], [name], parts)

    def wait_leaders(self, srv, topics, parts, timeout=60):
        """Until every partition has a leader in Metadata (Kafka's controller
        elects them after CreateTopics has answered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (metadata_partitions(srv.port, topics) or 0) >= parts:
                return True
            time.sleep(0.01)
        log(f"  {srv.name}: {topics}: not every partition has a leader after {timeout}s")
        return False

    def cleanup(self, system, name, parts):
        srv = self.servers[system]
        if system in BROKERS:
            self.run(self.cli(system, "-q", "topic", "delete", name, "--if-exists"), 120)
        elif system.startswith("redis"):
            self.run([self.redis_bench, "flush", "-p", srv.port], 120)
        elif system == "nats":
            self.run([self.nats_bench, "delete", "-p", srv.port, "-k", name, "-S", parts], 120)

    # ------------------------------------------------------------------ workloads
    def w_produce(self, systems):
        cfgs = [(100, 1, "1"), (100, 1, "all"), (100, 32, "1"), (100, 32, "all"),
                (1024, 1, "1"), (1024, 1, "all")]
        for rep in range(CFG["reps"]):
            # Each repetition runs the workloads and the systems in another order, so no
            # figure always follows the same predecessor (on this VM a run after one that
            # freed page cache can land on pages the host still backs; see the Analysis).
            order = cfgs if rep % 2 == 0 else cfgs[::-1]
            k = rep % len(systems)
            for size, parts, acks in order:
                for system in systems[k:] + systems[:k]:
                    if system not in KAFKA and acks != "1":
                        continue   # no acks setting: measured once, shown in both rows
                    name = self.uniq(f"p{size}-{parts}")
                    self.prepare(system, name, parts)
                    argv = self.produce_argv(system, name, size, parts, acks, secs=CFG["produce_s"])
                    self.measure("produce", system, argv, CFG["produce_s"] + 180, size=size,
                                 partitions=parts, acks=acks if system in KAFKA else "n/a", rep=rep)
                    self.cleanup(system, name, parts)

    def ballast(self, nbytes):
        """Backs the guest's free memory: writes nbytes into a file in the
        data directory's file system and deletes it. The freed page-cache
        pages go back to the free lists still backed by the host; the host
        takes them back only when free page reporting reaches them (its
        delay is about 2 s), so a run started at once allocates pages that
        fault no more. This is the state of any broker that has been up for
        a while (its new pages come from reclaimed page cache)."""
        path = self.tmp / "ballast.bin"
        buf = b"\0" * (1 << 20)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for _ in range(int(nbytes) >> 20):
                os.write(fd, buf)
        finally:
            os.close(fd)
        os.unlink(path)

    def page_cache_floor(self, rep, gb=1.0, backed=False):
        """The kernel's own cost of what every disk-backed broker does per
        byte ingested: 64 KiB write(2)s into a new file in the data
        directory's file system (page cache, no fsync), CPU seconds per GB
        of this process.  On a VM whose free memory is handed back to the
        host (free page reporting), new page-cache pages are also faulted in
        from the host, which this figure includes unless `backed` (a ballast
        written and deleted just before)."""
        path = self.tmp / f"floor-{rep}.bin"
        buf = os.urandom(65536)
        n = int(gb * 1e9) // len(buf)
        if backed:
            self.ballast(2 * n * len(buf))
        t0 = os.times()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for _ in range(n):
                os.write(fd, buf)
        finally:
            os.close(fd)
        t1 = os.times()
        os.unlink(path)
        cpu = (t1.user - t0.user) + (t1.system - t0.system)
        rec = dict(workload="floor", system="kernel", rep=rep, size=65536, summary=None,
                   memory="backed" if backed else "fresh",
                   cpu_s=round(cpu, 4), cpu_s_per_gb=round(cpu / (n * len(buf) / 1e9), 4), ok=True)
        self.results.append(rec)
        log(f"  floor    page-cache write ({rec['memory']} memory) {rec['cpu_s_per_gb']} CPU-s/GB")

    def w_efficiency(self, systems):
        """Per repetition and system: the fresh-memory run (fixed duration,
        pages faulted in from the host as they come), then for the brokers
        that store data the backed-memory run (a ballast twice the run's
        bytes written and deleted just before, a fixed message count)."""
        for rep in range(CFG["reps"]):
            self.page_cache_floor(rep)
            self.page_cache_floor(rep, gb=CFG["eff_backed_msgs"] * 1024 / 1e9, backed=True)
            for system in systems:
                if system not in KAFKA:
                    continue   # Redis/NATS: their 1 KiB produce runs (no batch setting)
                for memory in ("fresh", "backed"):
                    if memory == "backed" and system not in ("samsa", "kafka"):
                        continue   # the mock stores nothing; flush 1 s: the same writes as samsa
                    name = self.uniq("eff")
                    self.prepare(system, name, 1)
                    if memory == "backed":
                        argv = self.produce_argv(system, name, 1024, 1, "1", count=CFG["eff_backed_msgs"],
                                                 extra=("--batch-size", "65536"))
                        self.ballast(2 * CFG["eff_backed_msgs"] * 1024)
                    else:
                        argv = self.produce_argv(system, name, 1024, 1, "1", secs=CFG["eff_s"],
                                                 extra=("--batch-size", "65536"))
                    self.measure("efficiency", system, argv, CFG["eff_s"] + 180, size=1024, partitions=1,
                                 acks="1", batch_size=65536, rep=rep, memory=memory)
                    self.cleanup(system, name, 1)

    def w_consume(self, systems):
        parts = CFG["consume_parts"]
        for size in (100, 1024):
            n = CFG["consume_msgs"][size]
            names = {}
            for system in systems:
                name = names[system] = self.uniq(f"c{size}")
                self.prepare(system, name, parts)
                rc, out, err, _ = self.run(self.produce_argv(system, name, size, parts, "1", count=n), 600)
                if rc != 0:
                    log(f"  consume fill {system}: FAILED {err.strip()[-300:]}")
            for rep in range(CFG["reps"]):
                for system in systems:
                    name, srv = names[system], self.servers[system]
                    if system in KAFKA:
                        argv = self.cli(system, "--json", "-q", "perf", "consume", name)
                    elif system.startswith("redis"):
                        argv = [self.redis_bench, "consume", "-p", srv.port, "-k", name, "-S", parts]
                    else:
                        argv = [self.nats_bench, "consume", "-p", srv.port, "-k", name, "-S", parts, "-s", size]
                    self.measure("consume", system, argv, 600, size=size, partitions=parts,
                                 filled=n, rep=rep)
            for system in systems:
                self.cleanup(system, names[system], parts)

    def peak(self, system):
        v = [r["summary"]["msgs_per_sec"] for r in self.results
             if r["workload"] == "produce" and r["system"] == system and r["ok"]
             and r["size"] == 100 and r["partitions"] == 1 and r["acks"] in ("1", "n/a")]
        return statistics.median(v) if v else None

    def machine_stalls(self, rep, secs):
        """The machine's own latency floor, with every server idle: a thread
        pinned to each CPU sleeps 200 us at a time (bench/stall_probe.c) and
        counts wake-ups more than 1 ms late.  Kernel threads' CPU time over
        the same window names what ran instead (when it was the guest's own
        kernel; time the hypervisor takes shows up in no process)."""
        before = kernel_thread_cpu()
        self.commands.setdefault(("stalls", "machine"), f"{self.stall_probe} {secs}")
        rc, out, err, _ = self.run([self.stall_probe, secs], secs + 60)
        after = kernel_thread_cpu()
        s = self.summary(out) if rc == 0 else None
        rec = dict(workload="stalls", system="machine", rep=rep, summary=s, ok=s is not None)
        if s is None:
            rec["error"] = (err.strip().splitlines() or [f"exit {rc}"])[-1][:300]
            log(f"  stalls   FAILED ({rec['error']})")
        else:
            busy = {}
            for pid, (comm, t) in after.items():
                if pid in before and t > before[pid][1]:
                    key = comm.split("/")[0] if comm.startswith("kworker") else comm
                    busy[key] = busy.get(key, 0.0) + t - before[pid][1]
            rec["kernel_threads_cpu_s"] = {k: round(v, 3) for k, v in
                                           sorted(busy.items(), key=lambda kv: -kv[1])[:5]}
            log(f"  stalls   {s['stalls_per_s']:.2f}/s over 1 ms, longest {s['max_stall_ms']:.2f} ms; "
                f"kernel threads {rec['kernel_threads_cpu_s']}")
        self.results.append(rec)

    def w_e2e(self, systems):
        rates = {}
        for system in systems:
            pk = self.peak(system)
            if pk is None:   # produce not run: measure the peak now
                name = self.uniq("peak")
                self.prepare(system, name, 1)
                r = self.measure("produce", system,
                                 self.produce_argv(system, name, 100, 1, "1", secs=CFG["produce_s"]),
                                 CFG["produce_s"] + 180, size=100, partitions=1,
                                 acks="1" if system in KAFKA else "n/a", rep=0)
                self.cleanup(system, name, 1)
                pk = r["summary"]["msgs_per_sec"] if r["ok"] else 10000
            rates[system] = [("1000", 1000, CFG["e2e_low_s"]),
                             ("50% peak", max(1000, int(pk * 0.5)), CFG["e2e_high_s"])]
        for rep in range(CFG["reps"]):
            self.machine_stalls(rep, CFG["e2e_low_s"])
            for idx in range(2):
                for system in systems:
                    label, rate, secs = rates[system][idx]
                    name = self.uniq("e2e")
                    self.prepare(system, name, 1)
                    srv = self.servers[system]
                    if system in KAFKA:
                        wait = "0" if system == "mock" else "500"
                        argv = [self.samsa_cli, "-b", srv.bootstrap, "--timeout", "10",
                                "--json", "-q", "perf", "e2e", name, "-P", "1", "-s", "100",
                                "-a", "1", "--linger-ms", "0", "--rate", rate, "-n", rate * secs,
                                "-d", f"{secs}s", "-X", f"fetch.wait.max.ms={wait}"]
                    else:
                        tool = self.redis_bench if system.startswith("redis") else self.nats_bench
                        argv = [tool, "e2e", "-p", srv.port, "-k", name, "-s", 100, "-r", rate,
                                "-n", rate * secs, "-d", secs]
                    self.measure("e2e", system, argv, secs + 120, rate_label=label, rate=rate, size=100,
                                 partitions=1, rep=rep)
                    self.cleanup(system, name, 1)

    # -- start-up and idle memory, Samsa against Kafka (their own instances)
    def timed_metadata_start(self, srv, topics, parts, timeout=300):
        """Start; ms from the process start until the port accepts and until
        Metadata shows a leader for every one of the topics' partitions."""
        t0 = time.monotonic()
        srv.start(wait=False)
        t_acc = t_all = None
        deadline = t0 + timeout
        while time.monotonic() < deadline and t_all is None:
            if srv.proc.poll() is not None:
                raise RuntimeError(f"{srv.name} exited during start:\n{srv.log_text()[-2000:]}")
            n = metadata_partitions(srv.port, topics, timeout=5.0)
            now = time.monotonic()
            if n is not None and t_acc is None:
                t_acc = now - t0
            if n is not None and n >= parts:
                t_all = now - t0
            elif n is None:
                time.sleep(0.002)
            else:
                time.sleep(0.005)
        return dict(metadata_ms=round(t_all * 1000, 1) if t_all is not None else None,
                    answer_ms=round(t_acc * 1000, 1) if t_acc is not None else None)

    def w_startup(self, systems):
        """Idle RSS of an empty broker (2 s after it first answers Metadata),
        then start-up with CFG startup_parts partitions holding data after a
        clean shutdown: process start to Metadata listing a leader for every
        partition. Each system its own instance and data directory."""
        parts = CFG["startup_parts"]
        for system in systems:
            name = f"{system}-boot"
            srv = Kafka(name, self.tmp) if system == "kafka" else Samsa(name, self.tmp, self.broker)
            rec = dict(workload="startup", system=system, partitions=parts, idle=[], clean=[], ok=True)
            self.results.append(rec)
            self.servers[name] = srv
            try:
                for rep in range(CFG["reps"]):
                    srv.start()
                    time.sleep(2.0)
                    st = srv.status()
                    rec["idle"].append(dict(rep=rep, rss_kb=st.get("VmRSS"), threads=st.get("Threads"),
                                            fds=st.get("fds")))
                    log(f"  startup  {system}: idle RSS {st.get('VmRSS')} kB, {st.get('Threads')} threads")
                    if rep < CFG["reps"] - 1:
                        srv.stop()
                topic = f"boot-{system}"
                rc, out, err, _ = self.run([self.samsa_cli, "-b", srv.bootstrap, "--timeout", "300", "-q",
                                            "topic", "create", topic, "-p", parts], 600)
                if rc != 0:
                    raise RuntimeError(f"cannot create {topic}: {err.strip()[-300:]}")
                self.wait_leaders(srv, [topic], parts, timeout=300)
                fill = self.produce_many(srv, [(topic, parts)], count=parts * CFG["startup_msgs_per_part"])
                rec.update(fill_messages=fill["messages"], fill_bytes=fill["bytes"], fill_cmd=fill["cmd"])
                log(f"  startup  {system}: {parts} partitions, {fill['messages']:,} messages")
                for rep in range(CFG["reps"]):
                    shutdown_s = round(srv.stop(timeout=120), 3)
                    t = self.timed_metadata_start(srv, [topic], parts)
                    time.sleep(1.0)
                    st = srv.status()
                    t.update(rep=rep, shutdown_before_s=shutdown_s, rss_kb=st.get("VmRSS"))
                    rec["clean"].append(t)
                    log(f"  startup  {system}: after clean shutdown {t}")
                rec["command"] = srv.command()
                rec["broker_errors"] = srv.error_lines()
            except RuntimeError as e:
                rec.update(ok=False, error=str(e)[:500])
                log(f"  startup  {system}: FAILED {str(e)[:300]}")
            finally:
                srv.stop(signal.SIGKILL)   # its data is discarded
                self.servers.pop(name, None)
                if not KEEP:
                    shutil.rmtree(srv.datadir, ignore_errors=True)

    # -- Kafka's own load generators against Samsa and Kafka
    def perftest_cmds(self, system, topic, size, n):
        boot = self.servers[system].bootstrap
        prod = kafka_peer.tool_cmd("org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                                   "--num-records", n, "--record-size", size, "--throughput", -1,
                                   "--bootstrap-server", boot, "--command-property", "acks=1")
        cons = kafka_peer.tool_cmd("org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", boot,
                                   "--topic", topic, "--num-records", n, "--timeout", 60000)
        return prod, cons

    def w_perftest(self, systems):
        """kafka-producer-perf-test (ProducerPerformance) then
        kafka-consumer-perf-test (ConsumerPerformance) from Kafka's jars, the
        tools' defaults (producer: acks=1 given, linger.ms 5, batch.size 16384;
        consumer: a fresh group, earliest), one partition per topic."""
        for rep in range(CFG["reps"]):
            for size in (100, 1024):
                n = CFG["perftest_msgs"][size]
                for system in (systems if rep % 2 == 0 else systems[::-1]):
                    topic = self.uniq(f"pt{size}")
                    self.prepare(system, topic, 1)
                    prod, cons = self.perftest_cmds(system, topic, size, n)
                    self.measure_tool("perftest-produce", system, prod, n, size, rep)
                    self.measure_tool("perftest-consume", system, cons, n, size, rep)
                    self.cleanup(system, topic, 1)

    def measure_tool(self, workload, system, argv, n, size, rep):
        """Runs one of Kafka's perf tools and turns its last line into the
        summary shape `samsa perf --json` prints."""
        srv = self.servers[system]
        cpu0 = srv.cpu()
        rc, out, err, wall = self.run(argv, 600)
        cpu1 = srv.cpu()
        s = None
        if workload == "perftest-produce":
            m = re.search(r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg "
                          r"latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, "
                          r"(\d+) ms 99.9th", out, re.M)
            if m:
                msgs, rate = int(m.group(1)), float(m.group(2))
                s = dict(messages=msgs, bytes=msgs * size, msgs_per_sec=rate, mb_per_sec=float(m.group(3)),
                         duration_s=msgs / rate if rate else None,
                         latency_ms=dict(avg=float(m.group(4)), max=float(m.group(5)), p50=float(m.group(6)),
                                         p95=float(m.group(7)), p99=float(m.group(8)),
                                         p99_9=float(m.group(9))))
        else:
            lines = [l for l in out.splitlines() if l.strip()]
            hdr = next((i for i, l in enumerate(lines) if l.startswith("start.time")), None)
            if hdr is not None and hdr + 1 < len(lines):
                row = dict(zip([h.strip() for h in lines[hdr].split(",")],
                               [v.strip() for v in lines[hdr + 1].split(",")]))
                try:
                    msgs = int(row["data.consumed.in.nMsg"])
                    s = dict(messages=msgs, bytes=msgs * size, msgs_per_sec=float(row["fetch.nMsg.sec"]),
                             mb_per_sec=float(row["fetch.MB.sec"]),
                             duration_s=float(row["fetch.time.ms"]) / 1000,
                             total_msgs_per_sec=float(row["nMsg.sec"]),
                             rebalance_ms=float(row["rebalance.time.ms"]))
                except (KeyError, ValueError):
                    s = None
        rec = dict(workload=workload, system=system, size=size, rep=rep, rc=rc, wall_s=round(wall, 3),
                   cmd=" ".join(shlex.quote(str(a)) for a in argv), summary=s,
                   ok=rc == 0 and s is not None and s["messages"] >= n)
        if not rec["ok"]:
            rec["error"] = ((err.strip() or out.strip()).splitlines() or [f"exit {rc}"])[-1][:300]
            log(f"  {workload} {system} {size} B: FAILED ({rec['error']})")
        cpu = cpu_delta(cpu0, cpu1)
        if cpu is not None and s and s.get("bytes"):
            rec["cpu_s"] = round(cpu, 4)
            rec["cpu_s_per_gb"] = round(cpu / (s["bytes"] / 1e9), 4)
        self.commands.setdefault((workload, system), rec["cmd"])
        self.results.append(rec)
        if s:
            log(f"  {workload:16} {system:8} {size:5} B {s['msgs_per_sec']:>12,.0f} msg/s "
                f"{s['mb_per_sec']:8.1f} MB/s cpu {rec.get('cpu_s')}")
        return rec

    # -- scale (Samsa only; its own broker instances)
    def create_topics(self, srv, prefix, total, per_topic):
        """Creates ceil(total/per_topic) topics; stops at the first failure."""
        topics, t0, error = [], time.monotonic(), None
        left, i = total, 0
        while left > 0:
            n = min(per_topic, left)
            name = f"{prefix}-{i}"
            rc, out, err, _ = self.run([self.samsa_cli, "-b", srv.bootstrap, "--timeout", "900", "-q",
                                        "topic", "create", name, "-p", n], 960)
            if rc != 0:
                error = (err.strip().splitlines() or [f"exit {rc}"])[-1]
                broker_err = [l for l in srv.log_text().splitlines() if " ERROR " in l]
                if broker_err:
                    error += " | broker: " + broker_err[-1][:200]
                break
            topics.append((name, n))
            left -= n
            i += 1
        secs = time.monotonic() - t0
        # What clients see: the partition counts in a Metadata request for
        # all topics (`topic list`) and in one per topic (`topic describe`).
        rc, out, err, _ = self.run([self.samsa_cli, "-b", srv.bootstrap, "--timeout", "60", "--json",
                                    "topic", "list"], 120)
        seen = {}
        try:
            seen = {t["topic"]: t["partitions"] for t in json.loads(out)}
        except ValueError:
            pass
        visible_all = sum(seen.get(t, 0) for t, _ in topics)
        visible, _ = self.topic_stats(srv, topics)
        return topics, secs, error, visible, visible_all

    def produce_many(self, srv, topics, secs=None, count=None, size=100, spread=True):
        """One `samsa perf produce` per topic, all at once. spread: keyless
        messages spread per message (sticky.partitioning.linger.ms=0), so
        every partition gets data all the time, in batches of about one
        message; otherwise the client's default sticky partitioner (each
        batch to another partition). Samples the broker's RSS and fds."""
        procs = []
        for name, n in topics:
            argv = [self.samsa_cli, "-b", srv.bootstrap, "--timeout", "60", "--json", "-q", "perf", "produce",
                    name, "-P", n, "-s", size, "-a", "1"]
            argv += ["-X", "sticky.partitioning.linger.ms=0"] if spread else []
            argv += ["-n", count or 1_000_000_000] + (["-d", f"{secs}s"] if secs else [])
            argv = [str(a) for a in argv]
            procs.append((argv, subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, text=True,
                                                 preexec_fn=_child_setup)))
        cpu0 = srv.cpu()
        peak_rss = peak_fds = 0
        while any(p.poll() is None for _, p in procs):
            st = srv.status()
            peak_rss = max(peak_rss, st.get("VmRSS", 0))
            peak_fds = max(peak_fds, st.get("fds", 0))
            time.sleep(0.25)
        cpu1 = srv.cpu()
        sums, errors = [], []
        for argv, p in procs:
            out, err = p.communicate()
            s = self.summary(out)
            queue_full_at_end = (p.returncode == 1 and s and 0 < (s.get("failed") or 0) <= 4
                                 and "Queue full" in str(s.get("error")))   # see measure()
            if (p.returncode != 0 or not s) and not queue_full_at_end:
                errors.append((err.strip().splitlines() or [f"exit {p.returncode}"])[-1][:200])
            if s:
                sums.append(s)
        st = srv.status()
        return dict(processes=len(procs), ok=not errors and len(sums) == len(procs),
                    errors=errors[:3], msgs_per_sec=sum(s["msgs_per_sec"] for s in sums),
                    mb_per_sec=sum(s["mb_per_sec"] for s in sums),
                    messages=sum(s["messages"] for s in sums), bytes=sum(s["bytes"] for s in sums),
                    peak_rss_kb=peak_rss, peak_fds=peak_fds, rss_kb=st.get("VmRSS"),
                    hwm_kb=st.get("VmHWM"), fds=st.get("fds"),
                    cpu_s=round(cpu_delta(cpu0, cpu1), 4) if cpu0 and cpu1 else None,
                    cmd=" ".join(shlex.quote(a) for a in procs[0][0]) if procs else "")

    def topic_stats(self, srv, topics):
        """(partitions in Metadata, partitions holding data), one topic at a time."""
        seen = with_data = 0
        for name, _ in topics:
            rc, out, err, _ = self.run([self.samsa_cli, "-b", srv.bootstrap, "--timeout", "60", "--json",
                                        "topic", "describe", name], 120)
            try:
                parts = json.loads(out)["partitions"]
                seen += len(parts)
                with_data += sum(1 for p in parts if (p.get("log_end_offset") or 0) > 0)
            except (ValueError, KeyError, TypeError):
                pass
        return seen, with_data

    def partitions_with_data(self, srv, topics):
        return self.topic_stats(srv, topics)[1]

    def timed_start(self, srv):
        """Start; time until the port accepts and until the 'started' log line."""
        t0 = time.monotonic()
        srv.start(wait=False)
        t_acc = t_line = None
        deadline = t0 + 300
        while time.monotonic() < deadline and (t_acc is None or t_line is None):
            if srv.proc.poll() is not None:
                raise RuntimeError(f"{srv.name} exited during start:\n{srv.log_text()[-2000:]}")
            now = time.monotonic()
            if t_acc is None and port_open(srv.port):
                t_acc = now - t0
            if t_line is None and srv.started_line():
                t_line = now - t0
            time.sleep(0.001)
        return dict(accept_ms=round(t_acc * 1000, 1) if t_acc is not None else None,
                    started_line_ms=round(t_line * 1000, 1) if t_line is not None else None,
                    startup_ms=round(max(t_acc or 0, t_line or 0) * 1000, 1))

    def w_scale(self):
        rec = dict(workload="scale", system="samsa", config=dict(CFG, topic_partitions=TOPIC_PARTS))
        self.results.append(rec)
        # 1. Idle RSS of an empty broker.
        srv = Samsa("samsa-idle", self.tmp, self.broker)
        idle = []
        for _ in range(CFG["reps"]):
            srv.start()
            time.sleep(1.0)
            idle.append(srv.status())
            srv.stop()
        rec["idle_empty"] = idle
        rec["idle_command"] = srv.command()
        log(f"  scale: idle RSS (empty) {[i.get('VmRSS') for i in idle]} kB")

        # 2. Many partitions, all producing, with the open-file cache capped
        # well below the partition count (LRU at work).
        srv = Samsa("samsa-scale", self.tmp, self.broker,
                    overrides={"samsa.max.open.files": SCALE_MAX_OPEN_FILES})
        srv.start()
        self.servers["samsa-scale"] = srv
        total = CFG["scale_parts"]
        topics, secs, error, visible, visible_all = self.create_topics(srv, "scale", total, TOPIC_PARTS)
        created = sum(n for _, n in topics)
        st = srv.status()
        rec["many"] = dict(target_partitions=total, created_partitions=created, visible_partitions=visible,
                           visible_all_topics=visible_all,
                           topics=len(topics), create_s=round(secs, 2), create_error=error,
                           after_create=st, broker_command=srv.command(), runs=[],
                           spread_runs=[], max_open_files=SCALE_MAX_OPEN_FILES)
        log(f"  scale: created {created}/{total} partitions in {secs:.1f}s (visible {visible}); "
            f"rss {st.get('VmRSS')} kB fds {st.get('fds')}; error: {error}")
        if topics and srv.running():
            for rep in range(CFG["reps"]):
                for spread, key in ((False, "runs"), (True, "spread_runs")):
                    r = self.produce_many(srv, topics, secs=CFG["scale_s"], spread=spread)
                    r["rep"] = rep
                    rec["many"][key].append(r)
                    log(f"  scale ({'spread' if spread else 'sticky'}): {len(topics)} producers over "
                        f"{created} partitions: {r['msgs_per_sec']:,.0f} msg/s, peak rss "
                        f"{r['peak_rss_kb']} kB, peak fds {r['peak_fds']} {r['errors'] or ''}")
            rec["many"]["partitions_with_data"] = self.partitions_with_data(srv, topics)
        rec["many"]["alive"] = srv.running()
        rec["many"]["broker_errors"] = srv.error_lines()
        srv.stop(signal.SIGKILL)   # its data is discarded; a clean stop of many partitions takes long
        del self.servers["samsa-scale"]
        if not KEEP:
            shutil.rmtree(srv.datadir, ignore_errors=True)

        # 3. Start-up with N partitions holding data.
        srv = Samsa("samsa-startup", self.tmp, self.broker)
        srv.start()
        parts = CFG["startup_parts"]
        topics, secs, error, visible, visible_all = self.create_topics(srv, "boot", parts, TOPIC_PARTS)
        per_topic_msgs = {n: n * CFG["startup_msgs_per_part"] for _, n in topics}
        fill = self.produce_many(srv, topics, count=max(per_topic_msgs.values()) if topics else 1)
        with_data = self.partitions_with_data(srv, topics)
        rec["startup"] = dict(partitions=sum(n for _, n in topics), visible_partitions=visible,
                              visible_all_topics=visible_all,
                              create_s=round(secs, 2), create_error=error, partitions_with_data=with_data,
                              fill_messages=fill["messages"], fill_bytes=fill["bytes"],
                              fill_cmd=fill["cmd"], clean=[], kill9=[])
        log(f"  startup: {rec['startup']['partitions']} partitions, {with_data} with data, "
            f"{fill['messages']:,} messages")
        # Clean shutdown, timed start; the last start stays up for the kill -9 part.
        for rep in range(CFG["reps"]):
            shutdown_s = round(srv.stop(), 3)
            t = self.timed_start(srv)
            time.sleep(1.0)
            st = srv.status()
            t.update(idle_rss_kb=st.get("VmRSS"), fds=st.get("fds"), rep=rep,
                     shutdown_before_s=shutdown_s)
            rec["startup"]["clean"].append(t)
            log(f"  startup after clean shutdown: {t}")
        # More data (not flushed), kill -9, timed start (recovery); repeat.
        for rep in range(CFG["reps"]):
            more = self.produce_many(srv, topics, count=max(1, max(per_topic_msgs.values()) // 4))
            srv.stop(signal.SIGKILL)
            t = self.timed_start(srv)
            t.update(rep=rep, unflushed_messages=more["messages"],
                     recovery_log=[l[:200] for l in srv.log_text().splitlines()
                                   if re.search(r"recover|unclean", l, re.I)][:3])
            rec["startup"]["kill9"].append(t)
            log(f"  startup after kill -9: {t['startup_ms']} ms")
        rec["startup"]["broker_errors"] = srv.error_lines()
        srv.stop(signal.SIGKILL)   # its data is discarded
        if not KEEP:
            shutil.rmtree(srv.datadir, ignore_errors=True)


KEEP = os.environ.get("BENCH_KEEP", "") not in ("", "0")


def machine_info(tmp):
    info = {}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.*)$", cpu, re.M)
        info["cpu_model"] = m.group(1).strip() if m else platform.processor()
        info["cpu_mhz"] = (re.search(r"^cpu MHz\s*:\s*(.*)$", cpu, re.M) or [None, None])[1]
        flags = (re.search(r"^flags\s*:\s*(.*)$", cpu, re.M) or [None, ""])[1].split()
        info["hypervisor"] = "hypervisor" in flags
    except OSError:
        pass
    info["cpus"] = os.cpu_count()
    try:
        mem = Path("/proc/meminfo").read_text()
        info["mem_total_mb"] = int(re.search(r"MemTotal:\s*(\d+)", mem).group(1)) // 1024
    except (OSError, AttributeError):
        pass
    info["uname"] = " ".join(platform.uname())
    try:
        info["os"] = re.search(r'PRETTY_NAME="(.*)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        pass

    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    info["data_fs"] = cmd("stat", "-f", "-c", "%T", str(tmp))
    info["data_dev"] = ((cmd("df", "--output=source,fstype", str(tmp)) or "").splitlines() or [None])[-1]
    info["redis"] = cmd("redis-server", "--version")
    info["nats"] = cmd("nats-server", "--version")
    info["kafka"] = f"{kafka_peer.VERSION} (KRaft, one combined node)"
    info["kafka_heap"] = kafka_peer.HEAP
    try:
        info["java"] = subprocess.run([kafka_peer.java(), "-version"], capture_output=True, text=True,
                                      timeout=30).stderr.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        info["java"] = None
    info["cc"] = (cmd(os.environ.get("CC", "cc"), "--version") or "").splitlines()[0:1]
    info["git"] = cmd("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD")
    info["git_dirty"] = bool(cmd("git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"))
    info["loadavg_start"] = Path("/proc/loadavg").read_text().split()[:3]
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--no-build", action="store_true", help="do not run make first")
    ap.add_argument("--results", help="results JSON (default BUILD/bench/results.json)")
    ap.add_argument("--out-md")
    ap.add_argument("--out-svg")
    args = ap.parse_args()
    build = (ROOT / args.build).resolve() if not os.path.isabs(args.build) else Path(args.build)
    out_dir = build / "bench"
    if QUICK:
        md = args.out_md or str(out_dir / "benchmarks.md")
        svg = args.out_svg or str(out_dir / "benchmarks-throughput.svg")
    else:
        md = args.out_md or str(ROOT / "docs" / "benchmarks.md")
        svg = args.out_svg or str(ROOT / "docs" / "benchmarks-throughput.svg")
    results_path = Path(args.results or out_dir / "results.json")

    if not args.no_build:
        log(f"make all bench-build BUILD={args.build}")
        subprocess.run(["make", "-C", str(ROOT), "-s", f"BUILD={args.build}", "all", "bench-build"], check=True)

    only = [w for w in os.environ.get("BENCH_ONLY", ",".join(WORKLOADS)).split(",") if w]
    systems = [s for s in os.environ.get("BENCH_SYSTEMS", ",".join(ALL_SYSTEMS)).split(",") if s]
    for w in only:
        if w not in WORKLOADS:
            sys.exit(f"unknown workload {w!r} (one of {', '.join(WORKLOADS)})")
    for s in systems:
        if s not in ALL_SYSTEMS:
            sys.exit(f"unknown system {s!r} (one of {', '.join(ALL_SYSTEMS)})")

    base = Path(os.environ.get("BENCH_TMPDIR", "/var/tmp"))
    tmp = Path(tempfile.mkdtemp(prefix="samsa-bench-", dir=base))
    bench = Bench(build, tmp)
    info = machine_info(tmp)
    if info.get("data_fs") in ("tmpfs", "ramfs"):
        log(f"WARNING: {tmp} is on {info['data_fs']}; set BENCH_TMPDIR to a directory on a disk")
    started = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    log(f"{'QUICK ' if QUICK else ''}run: workloads {only}, systems {systems}, data in {tmp} "
        f"({info.get('data_fs')}), reps {CFG['reps']}")

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    interrupted = False
    try:
        needs = {"produce": systems, "efficiency": [s for s in systems if s in KAFKA],
                 "consume": [s for s in systems if s != "samsa-flush1000"], "e2e": systems,
                 "perftest": [s for s in systems if s in ("samsa", "kafka")]}
        for w in only:
            if w == "scale":
                if "samsa" in systems:
                    log("workload scale")
                    bench.w_scale()
                continue
            if w == "startup":
                ss = [s for s in systems if s in ("samsa", "kafka")]
                if ss:
                    log(f"workload startup: {ss}")
                    bench.w_startup(ss)
                continue
            ss = needs[w]
            if not ss:
                continue
            log(f"workload {w}: {ss}")
            bench.start_systems(ss)
            getattr(bench, f"w_{w}")(ss)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping servers")
    finally:
        bench.stop_all()
    info["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    doc = dict(quick=QUICK, interrupted=interrupted, started=started.isoformat(timespec="seconds"),
               elapsed_s=round(time.monotonic() - t_start, 1), config=CFG, machine=info,
               tmpdir=str(tmp), build=str(build),
               invocation="BENCH_QUICK=1 make bench" if QUICK else "make bench",
               env={k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
               server_commands=bench.server_commands,
               commands=[dict(workload=w, system=s, cmd=c) for (w, s), c in bench.commands.items()],
               results=bench.results)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(doc, indent=1))
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    shutil.copy(results_path, results_path.with_name(f"results-{stamp}.json"))
    log(f"results: {results_path} ({doc['elapsed_s']} s)")
    if KEEP:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)

    sys.path.insert(0, str(ROOT / "bench"))
    sys.dont_write_bytecode = True   # no bench/__pycache__ in the tree
    import report
    report.main([str(results_path), "--md", md, "--svg", svg])
    return 1 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
