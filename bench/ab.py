#!/usr/bin/env python3
"""A/B of two samsa-broker builds on this host: the single-broker figures of
an old and a new build, run alternately (old, new, old, new, ...) so that
the host's drift falls on both, with the same client (`samsa perf` of the
new build).  Used to check that a change does not slow the embedded
single broker (docs/benchmarks.md, "Analysis").

    /usr/bin/python3 bench/ab.py OLD_BUILD_DIR NEW_BUILD_DIR [--pairs 5] [--workload ingest]

Per pair and build, on a fresh data directory and a free port:
  default: produce 100 B, 1 partition, 3 M messages, acks=1 and acks=all
  (msg/s); e2e latency at 1,000 msg/s, 10,000 messages (p50, p99 in ms).
  ingest: the broker's CPU seconds per GB ingested (1 KiB messages in
  64 KiB batches, acks=1, 600,000 messages), into fresh memory and into
  backed memory (a ballast file twice the data written and deleted just
  before, as bench/run.py's efficiency workload), and the broker's user
  and system shares.
Prints each run and then the median and range per build and figure.
Ports: from BENCH_PORT_BASE (default 31500) up, below the ephemeral range.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


_port = [int(os.environ.get("BENCH_PORT_BASE", "31500"))]


def free_port():
    for _ in range(900):
        _port[0] += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", _port[0]))
            except OSError:
                continue
            return _port[0]
    raise SystemExit("no free port")


def proc_cpu(pid):
    """(user, system) CPU seconds of a process (its threads' exited ones too)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, int(fields[12]) / tck


def ballast(tmp, nbytes):
    path = os.path.join(tmp, "ballast.bin")
    buf = bytes(1 << 20)
    with open(path, "wb", buffering=0) as f:
        for _ in range(nbytes >> 20):
            f.write(buf)
    os.unlink(path)


def ingest_run(broker, cli, tmp, n=600_000):
    d = tempfile.mkdtemp(dir=tmp)
    p, port = start(broker, d)
    out = {}
    try:
        for memory in ("fresh", "backed"):
            topic = f"ingest-{memory}"
            subprocess.run([cli, "-b", f"127.0.0.1:{port}", "-q", "topic", "create", topic, "-p", "1"],
                           check=True, capture_output=True, timeout=60)
            if memory == "backed":
                ballast(tmp, 2 * n * 1024)
            c0 = proc_cpu(p.pid)
            r = perf(cli, port, ["produce", topic, "-n", str(n), "-s", "1024", "-a", "1", "-P", "1",
                                 "--batch-size", "65536"])
            c1 = proc_cpu(p.pid)
            gb = r["bytes"] / 1e9
            user, system = c1[0] - c0[0], c1[1] - c0[1]
            out[f"{memory}_cpu_s_per_gb"] = round((user + system) / gb, 4)
            out[f"{memory}_sys_share"] = round(system / (user + system), 3) if user + system else None
            out[f"{memory}_mb_per_s"] = r["mb_per_sec"]
    finally:
        p.terminate()
        p.wait(30)
        shutil.rmtree(d, ignore_errors=True)
    return out


def start(broker, datadir):
    port = free_port()
    p = subprocess.Popen([broker, "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                          "--override", f"log.dirs={datadir}", "--override", "node.id=0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.02)
    p.kill()
    raise SystemExit(f"{broker} did not start")


def perf(cli, port, args):
    out = subprocess.run([cli, "-b", f"127.0.0.1:{port}", "--json", "-q", "perf"] + args,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"samsa perf {' '.join(args)} failed: {out.stderr[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_run(broker, cli, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    p, port = start(broker, d)
    try:
        r1 = perf(cli, port, ["produce", "p1", "-n", "3000000", "-s", "100", "-a", "1", "-P", "1"])
        ra = perf(cli, port, ["produce", "pa", "-n", "3000000", "-s", "100", "-a", "all", "-P", "1"])
        re = perf(cli, port, ["e2e", "e2e", "-P", "1", "-s", "100", "-a", "1", "--linger-ms", "0",
                              "--rate", "1000", "-n", "10000"])
    finally:
        p.terminate()
        p.wait(30)
        shutil.rmtree(d, ignore_errors=True)
    lat = re.get("latency_ms", re)
    return {"produce_acks1_msgs": r1["msgs_per_sec"], "produce_acksall_msgs": ra["msgs_per_sec"],
            "e2e_p50_ms": lat["p50"], "e2e_p99_ms": lat["p99"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--workload", choices=("default", "ingest"), default="default")
    a = ap.parse_args()
    run = ingest_run if a.workload == "ingest" else one_run
    cli = os.path.join(a.new, "samsa")
    tmp = os.environ.get("BENCH_TMPDIR", "/var/tmp")
    runs = {"old": [], "new": []}
    for i in range(a.pairs):
        for name in ("old", "new"):
            r = run(os.path.join(getattr(a, name), "samsa-broker"), cli, tmp)
            runs[name].append(r)
            print(f"pair {i + 1} {name}: {json.dumps(r)}", flush=True)
    print()
    for key in runs["old"][0]:
        for name in ("old", "new"):
            v = [r[key] for r in runs[name]]
            print(f"{key:22} {name}: median {statistics.median(v):.4g}  "
                  f"range {min(v):.4g}-{max(v):.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
