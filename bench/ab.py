#!/usr/bin/env python3
"""A/B of two samsa-broker builds on this host: the single-broker figures of
an old and a new build, run alternately (old, new, old, new, ...) so that
the host's drift falls on both, with the same client (`samsa perf` of the
new build).  Used to check that a change does not slow the embedded
single broker (docs/benchmarks.md, "Analysis").

    /usr/bin/python3 bench/ab.py OLD_BUILD_DIR NEW_BUILD_DIR [--pairs 5]

Per pair and build, on a fresh data directory and a free port:
  produce 100 B, 1 partition, 3 M messages, acks=1 and acks=all (msg/s);
  e2e latency at 1,000 msg/s, 10,000 messages (p50, p99 in ms).
Prints each run and then the median and range per build and figure.
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    a = ap.parse_args()
    cli = os.path.join(a.new, "samsa")
    tmp = os.environ.get("BENCH_TMPDIR", "/var/tmp")
    runs = {"old": [], "new": []}
    for i in range(a.pairs):
        for name in ("old", "new"):
            r = one_run(os.path.join(getattr(a, name), "samsa-broker"), cli, tmp)
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
