#!/usr/bin/python3
"""Cluster figures of issue 13 (`make bench-cluster`), on a three-broker
cluster on loopback: Debian's ZooKeeper and three samsa-broker processes
started by the test harness (tests/integration/cluster.py: free ports, data
in one temporary directory on the real disk, stopped by PID), with
zookeeper.session.timeout.ms=6000.

Figures (each printed as a table and written as JSON)
  throughput  `samsa perf produce` (100 B, one partition, acks=all,
              unlimited rate) to an RF=3 topic and to an RF=1 topic of the
              same cluster, BENCH_REPS repetitions alternating the order;
              medians and the ratio RF=3 / RF=1 (target >= 0.5)
  latency     `samsa perf produce --rate 10000 --linger-ms 0` for 10 s, RF=3, acks=all:
              produce->ack p50 / p99 / p99.9 / max (target: p99 <= 5 ms)
  failover    kill -9 of a partition's leader (a fresh RF=3 topic with
              min.insync.replicas=2 each time, so every kill starts from a
              full ISR), then one produce with acks=all: time from the
              signal to that produce's acknowledgement by the new leader
              (librdkafka's own retries and metadata refresh included);
              the killed broker is restarted before the next round.
              BENCH_KILLS rounds (default 20); median and max (target 8 s).
              The same with SIGTERM (controlled shutdown; target 1 s).
  window      the unavailability a producer sees during a SIGTERM of the
              leader (issue 14): an idempotent producer sends one message
              every 2 ms (acks=all) to a fresh RF=3 topic; the leader gets
              SIGTERM; the figure is the longest time between two
              consecutive acknowledgements from the last one before the
              signal until 300 after the broker exited.  BENCH_KILLS rounds;
              median and max.

Environment
  BENCH_QUICK=1   smoke run: 1 repetition, 2 s runs, 3 kills of each kind
  BENCH_REPS=N    repetitions of the throughput and latency runs (default 3)
  BENCH_KILLS=N   failover rounds of each kind (default 20)
  BENCH_ONLY=a,b  some of: throughput, latency, failover
  BENCH_FAILOVER=a,b  kinds of failover rounds: kill9, sigterm, window (default all)
  BENCH_TMPDIR    where the data directories go (default /var/tmp; never tmpfs)
  BENCH_KEEP=1    keep the temporary directory (broker and ZooKeeper logs)
  BENCH_BROKER_OVERRIDES=k=v,k=v   broker config for every broker (diagnosis)
  BENCH_PRODUCER_CONF=k=v,k=v      librdkafka settings of the window rounds' producer
                  (e.g. topic.metadata.refresh.fast.interval.ms=20: the
                  client's own wait left out)

  /usr/bin/python3 bench/cluster_bench.py [--build DIR] [--out FILE.json]
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import confluent_kafka as ck  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
KILLS = int(os.environ.get("BENCH_KILLS", "3" if QUICK else "20"))
TPUT_S = 2 if QUICK else 4
LAT_S = 2 if QUICK else 10
LAT_RATE = 10_000
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(","))) or \
    {"throughput", "latency", "failover"}


def log(msg):
    print(f"[bench-cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, cli, cluster):
        self.cli = cli
        self.c = cluster
        self.results = {"throughput": [], "latency": [], "failover": []}

    def perf(self, topic, *args, timeout=300):
        """`samsa perf produce` against the cluster; its JSON summary."""
        # Warm-up messages, not measured: a new librdkafka producer's first
        # messages wait up to a second for its connection to the leader
        # (librdkafka issue #1686; a client effect, seen against any broker).
        argv = [self.cli, "-b", self.c.bootstrap, "--timeout", "60", "--json", "-q", "perf",
                "produce", topic, "-P", "1", "-s", "100", "-a", "all", "--warmup-records", "1000",
                *map(str, args)]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        for line in reversed(p.stdout.splitlines()):
            if line.startswith("{"):
                d = json.loads(line)
                if d.get("type") == "summary":
                    if p.returncode != 0:
                        log(f"  perf exit {p.returncode}: {p.stderr.strip()[-300:]}")
                    return d
        raise RuntimeError(f"samsa perf exit {p.returncode}, no summary: {p.stderr.strip()[-500:]}")

    def throughput(self):
        for rep in range(REPS):
            for rf in ((3, 1) if rep % 2 == 0 else (1, 3)):
                t = f"tput-rf{rf}-{rep}"
                self.c.create_topic(t, partitions=1, rf=rf)
                s = self.perf(t, "-d", f"{TPUT_S}s", "-n", 1_000_000_000)
                rec = {"rf": rf, "rep": rep, "msgs_per_sec": s["msgs_per_sec"],
                       "mb_per_sec": s["mb_per_sec"], "failed": s.get("failed"),
                       "latency_ms": s.get("latency_ms")}
                self.results["throughput"].append(rec)
                log(f"  throughput RF={rf} rep {rep}: {s['msgs_per_sec']:,.0f} msg/s "
                    f"{s['mb_per_sec']:.1f} MB/s")

    def latency(self):
        for rep in range(REPS):
            t = f"lat-rf3-{rep}"
            self.c.create_topic(t, partitions=1, rf=3)
            # linger 0 like make bench's e2e runs: the broker's path, not client batching
            s = self.perf(t, "--rate", LAT_RATE, "--linger-ms", 0, "-d", f"{LAT_S}s",
                          "-n", 1_000_000_000)
            lat = s.get("latency_ms") or {}
            self.results["latency"].append({"rep": rep, "rate": LAT_RATE,
                                            "msgs_per_sec": s["msgs_per_sec"], "latency_ms": lat})
            log(f"  latency at {LAT_RATE} msg/s rep {rep}: p50 {lat.get('p50')} p99 "
                f"{lat.get('p99')} max {lat.get('max')} ms")

    def failover_round(self, kind, k):
        t = f"failover-{kind}-{k}"
        self.c.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
        acked = []
        p = ck.Producer({"bootstrap.servers": self.c.bootstrap, "acks": "all", "linger.ms": 0,
                         "message.timeout.ms": 60000, "socket.timeout.ms": 10000,
                         "retry.backoff.ms": 50})

        def on_delivery(err, msg):
            acked.append((time.monotonic(), err))
        p.produce(t, b"warm-up", partition=0, on_delivery=on_delivery)
        assert p.flush(30) == 0 and acked[-1][1] is None, f"{t}: warm-up produce failed {acked}"
        leader = self.c.leader_of(t, 0)
        was_controller = self.c.controller() == leader
        b = self.c.brokers[leader]
        t0 = time.monotonic()
        if kind == "kill9":
            b.proc.send_signal(signal.SIGKILL)
        else:
            b.proc.send_signal(signal.SIGTERM)
        p.produce(t, b"after", partition=0, on_delivery=on_delivery)
        left = p.flush(90)
        rc = b.proc.wait(60)
        b.returncodes.append(rc)
        ok = left == 0 and acked[-1][1] is None
        secs = acked[-1][0] - t0 if ok else None
        new = self.c.wait_leader(t, 0, not_in=[leader])["leader"]
        rec = {"kind": kind, "round": k, "killed": leader, "was_controller": was_controller,
               "new_leader": new, "seconds": None if secs is None else round(secs, 4),
               "error": None if ok else str(acked[-1][1] if acked else f"{left} undelivered"),
               "exit_code": rc}
        self.results["failover"].append(rec)
        log(f"  {kind} round {k}: broker {leader}{' (controller)' if was_controller else ''} -> "
            f"{new}: {rec['seconds']} s{'' if ok else ' ERROR ' + rec['error']}")
        self.c.start(leader)      # back before the next round (waits for its registration)

    def window_round(self, k):
        from cluster import SeqProducer
        t = f"window-{k}"
        self.c.create_topic(t, partitions=1, rf=3, config={"min.insync.replicas": "2"})
        for _ in range(3):
            self.c.wait_isr(t, 0, n=3)
        conf = dict(kv.split("=", 1) for kv in
                    filter(None, os.environ.get("BENCH_PRODUCER_CONF", "").split(",")))
        sp = SeqProducer(self.c.bootstrap, t, interval=0.002, **conf).start()
        try:
            sp.wait_acked(200)
            leader = self.c.leader_of(t, 0)
            was_controller = self.c.controller() == leader
            b = self.c.brokers[leader]
            t0 = time.monotonic()
            b.proc.send_signal(signal.SIGTERM)
            rc = b.proc.wait(60)
            b.returncodes.append(rc)
            n = sp.n_acked()
            sp.wait_acked(n + 300)
        finally:
            sp.stop()
        times = [ts for _, _, ts in sp.acked]
        last_before = max(ts for ts in times if ts <= t0)
        after = sorted(ts for ts in times if ts >= last_before)
        gap = max(b2 - a for a, b2 in zip(after, after[1:]))
        rec = {"kind": "window", "round": k, "killed": leader, "was_controller": was_controller,
               "seconds": round(gap, 4), "errors": len(sp.errors), "exit_code": rc}
        self.results["failover"].append(rec)
        log(f"  window round {k}: broker {leader}{' (controller)' if was_controller else ''}: "
            f"{rec['seconds']} s without an acknowledgement, {len(sp.errors)} errors")
        self.c.start(leader)

    def failover(self):
        kinds = os.environ.get("BENCH_FAILOVER", "kill9,sigterm,window").split(",")
        for kind in ("kill9", "sigterm"):
            for k in range(KILLS if kind in kinds else 0):
                self.failover_round(kind, k)
        for k in range(KILLS if "window" in kinds else 0):
            self.window_round(k)


def med(xs):
    return statistics.median(xs) if xs else None


def summarize(res):
    out = {}
    tp = {rf: [r["msgs_per_sec"] for r in res["throughput"] if r["rf"] == rf] for rf in (1, 3)}
    if tp[1] and tp[3]:
        out["throughput"] = {"rf1_msgs_per_sec": med(tp[1]), "rf3_msgs_per_sec": med(tp[3]),
                             "ratio": round(med(tp[3]) / med(tp[1]), 3), "target_ratio": 0.5}
    if res["latency"]:
        lat = [r["latency_ms"] for r in res["latency"]]
        out["latency"] = {k: med([x[k] for x in lat if x.get(k) is not None])
                          for k in ("p50", "p99", "p99_9", "max")}
        out["latency"].update(rate=LAT_RATE, target_p99_ms=5)
    for kind, target in (("kill9", 8.0), ("sigterm", 1.0), ("window", 1.0)):
        rs = [r for r in res["failover"] if r["kind"] == kind]
        ok = [r["seconds"] for r in rs if r["seconds"] is not None]
        if rs:
            out[f"failover_{kind}"] = {"rounds": len(rs), "failed": len(rs) - len(ok),
                                       "median_s": med(ok), "max_s": max(ok) if ok else None,
                                       "target_s": target}
    return out


def print_tables(s):
    print("\n## Cluster figures (3 brokers on loopback, zookeeper.session.timeout.ms=6000)\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    if "throughput" in s:
        t = s["throughput"]
        print(f"| produce 100 B, 1 partition, acks=all, RF=1 | {t['rf1_msgs_per_sec']:,.0f} msg/s | |")
        print(f"| produce 100 B, 1 partition, acks=all, RF=3 | {t['rf3_msgs_per_sec']:,.0f} msg/s | |")
        print(f"| RF=3 / RF=1 | {t['ratio']:.2f}x | >= 0.5x |")
    if "latency" in s:
        lt = s["latency"]
        print(f"| latency at {lt['rate']:,} msg/s, RF=3, acks=all: p50 / p99 / p99.9 / max | "
              f"{lt['p50']} / {lt['p99']} / {lt['p99_9']} / {lt['max']} ms | p99 <= 5 ms |")
    for kind, name in (("kill9", "kill -9 of the leader"), ("sigterm", "SIGTERM of the leader"),
                       ("window", None)):
        f = s.get(f"failover_{kind}")
        if f and name is None:
            print(f"| longest gap between acks, 2 ms producer, SIGTERM of the leader "
                  f"({f['rounds']} rounds): median / max | {f['median_s']} / {f['max_s']} s | |")
        elif f:
            print(f"| failover after {name} ({f['rounds']} rounds, {f['failed']} failed): "
                  f"median / max | {f['median_s']} / {f['max_s']} s | <= {f['target_s']:g} s |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--out", default=None, help="results JSON (default BUILD/bench/cluster-results.json)")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    # the harness (conftest) reads the broker binary from the environment at import
    os.environ["SAMSA_BROKER"] = str(build / "samsa-broker")
    from cluster import Cluster
    from conftest import free_port
    from zk import ZooKeeper
    cli = str(build / "samsa")
    for f in (build / "samsa-broker", build / "samsa"):
        if not f.exists():
            sys.exit(f"bench-cluster: {f} missing (run make)")

    base = os.environ.get("BENCH_TMPDIR", "/var/tmp")
    tmp = Path(tempfile.mkdtemp(prefix="samsa-bench-cluster.", dir=base))
    log(f"data in {tmp}; reps {REPS}, kills {KILLS}, only {sorted(ONLY)}")
    zk = ZooKeeper(tmp, free_port())
    c = None
    started = datetime.datetime.now(datetime.timezone.utc)
    bench = None
    overrides = dict(kv.split("=", 1) for kv in
                     filter(None, os.environ.get("BENCH_BROKER_OVERRIDES", "").split(",")))
    try:
        zk.start()
        c = Cluster(tmp / "cluster", zk, n=3, overrides=overrides).start_all()
        bench = Bench(cli, c)
        for name in ("throughput", "latency", "failover"):
            if name in ONLY:
                log(name)
                getattr(bench, name)()
    finally:
        problems = c.stop_all() if c else []
        zk.stop()
        for pr in problems:
            log(f"stop: {pr}")
        if os.environ.get("BENCH_KEEP", "") not in ("", "0"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summary = summarize(bench.results)
    out = Path(args.out) if args.out else build / "bench" / "cluster-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started": started.isoformat(), "quick": QUICK, "reps": REPS,
                               "kills": KILLS, "broker_overrides": overrides, "summary": summary, "runs": bench.results},
                              indent=1) + "\n")
    print_tables(summary)
    log(f"results in {out}")


if __name__ == "__main__":
    main()
