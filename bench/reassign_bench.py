#!/usr/bin/python3
"""Reassignment figures of issue 14 (`make bench-reassign`), on loopback:
Debian's ZooKeeper and four samsa-broker processes started by the test
harness (tests/integration/cluster.py; data under BENCH_TMPDIR, never
tmpfs), moved with the CLI as an operator would.

Four RF=1 topics of BENCH_PARTS partitions are filled with BENCH_MB MB each
(`samsa perf produce`, 16 KiB records, acks=1) while only brokers 0-2 run,
so every replica sits there; broker 3 then starts empty.

Brokers run with log.segment.delete.delay.ms=1000, so the moved logs are unlinked
within a second, and the latency runs come first with a pause after each
move: unlinking a deleted gigabyte under a later run would be measured too.

Figures (each printed as a table and written as JSON)
  speed        every partition of topic A moves to broker 3 with
               `samsa cluster reassign --from-json PLAN --execute` (no
               throttle): seconds from the command's start to its end (all
               done) and MB/s = bytes of the moved logs / seconds
  throttled    the same for topic B with --throttle BENCH_THROTTLE (default
               20m), then --verify (removes the throttle); Kafka's quota
               window lets about 10 s worth through at first (docs/cluster.md)
  latency      `samsa perf produce --rate BENCH_RATE --linger-ms 0 -a all`,
               100 B, to an RF=3 topic on brokers 0-2 for BENCH_LAT_S s:
               produce->ack p50 / p99 / max, alone, then while topic C moves
               to broker 3 unthrottled, then while topic D moves with the
               throttle (each move starts 1 s into the load; how long it
               ran is reported).  Dirty pages are synced before each run.

Environment
  BENCH_QUICK=1   smoke run: 64 MB topics, 4 s latency runs
  BENCH_MB, BENCH_PARTS, BENCH_THROTTLE, BENCH_RATE, BENCH_LAT_S
  BENCH_TMPDIR    where the data directories go (default /var/tmp)
  BENCH_KEEP=1    keep the temporary directory

  /usr/bin/python3 bench/reassign_bench.py [--build DIR] [--out FILE.json]
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
MB = int(os.environ.get("BENCH_MB", "64" if QUICK else "1024"))
PARTS = int(os.environ.get("BENCH_PARTS", "4"))
THROTTLE = os.environ.get("BENCH_THROTTLE", "20m")
RATE = int(os.environ.get("BENCH_RATE", "5000"))
LAT_S = int(os.environ.get("BENCH_LAT_S", "4" if QUICK else "10"))
REC = 16384


def log(msg):
    print(f"[bench-reassign {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def perf_summary(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            d = json.loads(line)
            if d.get("type") == "summary":
                return d
    return None


class Bench:
    def __init__(self, cli, c, tmp):
        self.cli, self.c, self.tmp = cli, c, tmp
        self.res = {}

    def samsa(self, *args, timeout=1800):
        argv = [self.cli, "-b", self.c.bootstrap, "--timeout", "60", *map(str, args)]
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def fill(self, topic):
        n = MB * 1024 * 1024 // REC
        p = self.samsa("--json", "-q", "perf", "produce", topic, "-P", PARTS, "--replicas", 1,
                       "-s", REC, "-a", 1, "-n", n, "--linger-ms", 20)
        s = perf_summary(p.stdout)
        assert p.returncode == 0 and s, p.stderr[-500:]
        log(f"  {topic}: {n} x {REC} B at {s['mb_per_sec']:.0f} MB/s")

    def log_bytes(self, topic):
        total = 0
        for b in self.c.brokers:
            for d in Path(b.logdir).glob(f"{topic}-*"):
                if d.name.endswith("-delete") or not d.is_dir():
                    continue
                total += sum(f.stat().st_size for f in d.glob("*.log"))
        return total

    def plan_to_3(self, topic):
        plan = {"version": 1, "partitions": [{"topic": topic, "partition": p, "replicas": [3]}
                                             for p in range(PARTS)]}
        path = self.tmp / f"plan-{topic}.json"
        path.write_text(json.dumps(plan))
        return path

    def move(self, topic, throttle=None):
        nbytes = self.log_bytes(topic)
        args = ["cluster", "reassign", "--from-json", self.plan_to_3(topic), "--execute"]
        if throttle:
            args += ["--throttle", throttle]
        t0 = time.monotonic()
        p = self.samsa(*args)
        secs = time.monotonic() - t0
        assert p.returncode == 0, p.stderr[-800:]
        if throttle:
            v = self.samsa("cluster", "reassign", "--from-json", self.plan_to_3(topic), "--verify")
            assert v.returncode == 0, v.stdout + v.stderr
        return {"topic": topic, "bytes": nbytes, "partitions": PARTS, "seconds": round(secs, 3),
                "mb_per_sec": round(nbytes / 1e6 / secs, 1), "throttle": throttle}

    def latency(self, topic, during=None, throttle=None):
        out = {}
        mover = None
        os.sync()
        if during:
            def run():
                out["move"] = self.move(during, throttle=throttle)
            mover = threading.Thread(target=run)
        argv = [self.cli, "-b", self.c.bootstrap, "--json", "-q", "perf", "produce", topic,
                "-s", 100, "-a", "all", "--rate", RATE, "--linger-ms", 0, "-d", f"{LAT_S}s",
                "-n", 1_000_000_000, "--warmup-records", 1000]
        p = subprocess.Popen(list(map(str, argv)), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)            # past the warm-up before the move starts (pacing only)
        if mover:
            mover.start()
        so, se = p.communicate(timeout=600)
        if mover:
            mover.join()
        s = perf_summary(so)
        assert p.returncode == 0 and s, se[-500:]
        lat = s.get("latency_ms") or {}
        rec = {"rate": RATE, "seconds": LAT_S, "msgs_per_sec": s["msgs_per_sec"],
               "p50": lat.get("p50"), "p99": lat.get("p99"), "max": lat.get("max")}
        if during:
            rec["move"] = out.get("move")
        return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    build = Path(args.build).resolve()
    os.environ["SAMSA_BROKER"] = str(build / "samsa-broker")
    from cluster import Cluster
    from conftest import free_port
    from zk import ZooKeeper
    cli = str(build / "samsa")
    tmp = Path(tempfile.mkdtemp(prefix="samsa-bench-reassign.",
                                dir=os.environ.get("BENCH_TMPDIR", "/var/tmp")))
    log(f"data in {tmp}; {MB} MB x 3 topics of {PARTS} partitions")
    zk = ZooKeeper(tmp, free_port())
    c = None
    started = datetime.datetime.now(datetime.timezone.utc)
    res = {}
    try:
        zk.start()
        c = Cluster(tmp / "cluster", zk, n=4, overrides={"log.segment.delete.delay.ms": 1000})
        for i in range(3):
            c.brokers[i].start(wait=False)
        for i in range(3):
            c.brokers[i].wait_ready()
        c.wait_registered(range(3))
        c.wait_metadata(range(3))
        b = Bench(cli, c, tmp)
        for t in ("bulk-a", "bulk-b", "bulk-c", "bulk-d"):
            b.fill(t)
        c.create_topic("lat", partitions=1, rf=3)
        c.start(3)
        # latency first: no deleted logs of earlier moves being unlinked
        # meanwhile (log.segment.delete.delay.ms=1000, and a pause after each move)
        os.sync()
        log("latency alone")
        res["latency_alone"] = b.latency("lat")
        log(f"  {res['latency_alone']}")
        log("latency during a reassignment")
        res["latency_moving"] = b.latency("lat", during="bulk-c")
        log(f"  {res['latency_moving']}")
        time.sleep(3)
        log("latency during a throttled reassignment")
        res["latency_throttled"] = b.latency("lat", during="bulk-d", throttle=THROTTLE)
        log(f"  {res['latency_throttled']}")
        time.sleep(3)
        os.sync()
        log("speed")
        res["speed"] = b.move("bulk-a")
        log(f"  {res['speed']}")
        time.sleep(3)
        os.sync()
        log("throttled")
        res["throttled"] = b.move("bulk-b", throttle=THROTTLE)
        log(f"  {res['throttled']}")
    finally:
        problems = c.stop_all() if c else []
        zk.stop()
        for pr in problems:
            log(f"stop: {pr}")
        if os.environ.get("BENCH_KEEP", "") in ("", "0"):
            shutil.rmtree(tmp, ignore_errors=True)
    out = Path(args.out) if args.out else build / "bench" / "reassign-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started": started.isoformat(), "quick": QUICK, "mb": MB,
                               "partitions": PARTS, "results": res}, indent=1) + "\n")
    s, t = res["speed"], res["throttled"]
    la, lm, lt = res["latency_alone"], res["latency_moving"], res["latency_throttled"]
    print(f"\n## Reassignment ({MB} MB in {PARTS} partitions to an empty broker, loopback)\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| move, no throttle | {s['seconds']} s, {s['mb_per_sec']} MB/s |")
    print(f"| move, --throttle {THROTTLE} | {t['seconds']} s, {t['mb_per_sec']} MB/s |")
    print(f"| produce {RATE} msg/s acks=all RF=3, alone: p50 / p99 / max | "
          f"{la['p50']} / {la['p99']} / {la['max']} ms |")
    mv = lm.get("move") or {}
    print(f"| the same during a move ({mv.get('seconds')} s, {mv.get('mb_per_sec')} MB/s): "
          f"p50 / p99 / max | {lm['p50']} / {lm['p99']} / {lm['max']} ms |")
    mv = lt.get("move") or {}
    print(f"| the same during a move with --throttle {THROTTLE} ({mv.get('seconds')} s, "
          f"{mv.get('mb_per_sec')} MB/s): p50 / p99 / max | {lt['p50']} / {lt['p99']} / "
          f"{lt['max']} ms |")
    log(f"results in {out}")


if __name__ == "__main__":
    main()
