#!/usr/bin/python3
"""Transaction figures of issue 16 (`make bench-txn`): Samsa (embedded single
node) and Apache Kafka 4.4 (one KRaft node, tests/ecosystem/kafka) in the
same run, one after the other, on loopback, with the same client
(confluent-kafka / librdkafka, acks=all, linger.ms 5, 100-byte values, a
topic of 3 partitions).

Figures, each the median of BENCH_REPS runs of BENCH_SECONDS:
  plain        idempotent producer, no transactions: records/s acknowledged
  txn 10 ms    transactional producer, a commit every 10 ms: records/s
  txn 100 ms   the same with a commit every 100 ms; ratio to plain
               (issue 16's target at 100 ms: >= 0.8)
  commit       commit_transaction() latency in those runs: p50 / p99 (ms)

Environment
  BENCH_QUICK=1      smoke run: 1 repetition of 2 s
  BENCH_REPS=N       repetitions (default 3)
  BENCH_SECONDS=S    length of each run (default 5)
  BENCH_SYSTEMS=a,b  samsa, kafka (default both)
  BENCH_TMPDIR       where data directories go (default /var/tmp)

  /usr/bin/python3 bench/txn_bench.py [--build DIR] [--out FILE.json]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2" if QUICK else "5"))
SYSTEMS = os.environ.get("BENCH_SYSTEMS", "samsa,kafka").split(",")
VALUE = b"x" * 100
TOPIC = "bench-txn"
PARTS = 3


def log(msg):
    print(f"[bench-txn {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run_plain(ck, bs, seconds):
    """No delivery callback (the transactional runs have none either: a
    Python callback per record would be the bottleneck); flush() returning
    0 with no error means every record was acknowledged."""
    errors = []
    p = ck.Producer({"bootstrap.servers": bs, "enable.idempotence": True, "acks": "all",
                     "linger.ms": 5, "queue.buffering.max.messages": 200000,
                     "error_cb": errors.append})
    i = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        for _ in range(1000):
            try:
                p.produce(TOPIC, VALUE, partition=i % PARTS)
                i += 1
            except BufferError:
                p.poll(0.001)
        p.poll(0)
    assert p.flush(60) == 0 and not [e for e in errors if e.fatal()], errors
    el = time.monotonic() - t0
    return {"rate": i / el}


def run_txn(ck, bs, seconds, interval_ms, tid):
    p = ck.Producer({"bootstrap.servers": bs, "transactional.id": tid, "acks": "all",
                     "linger.ms": 5, "queue.buffering.max.messages": 200000})
    p.init_transactions(60)
    # one transaction before the clock starts: a new producer's first one
    # waits ~1 s in librdkafka (the partitions' first registration), with
    # either broker, and would be every run's p99
    p.begin_transaction()
    for k in range(PARTS):
        p.produce(TOPIC, VALUE, partition=k)
    p.commit_transaction(60)
    committed = 0
    commits = []
    i = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        p.begin_transaction()
        n = 0
        t_begin = time.monotonic()
        while (time.monotonic() - t_begin) * 1000 < interval_ms:
            for _ in range(200):
                try:
                    p.produce(TOPIC, VALUE, partition=i % PARTS)
                    i += 1
                    n += 1
                except BufferError:
                    p.poll(0.001)
            p.poll(0)
        tc = time.monotonic()
        p.commit_transaction(60)        # flushes, then EndTxn
        commits.append((time.monotonic() - tc) * 1000)
        committed += n
    el = time.monotonic() - t0
    return {"rate": committed / el, "commit_p50": pct(commits, 0.5),
            "commit_p99": pct(commits, 0.99), "commits": len(commits)}


def bench_system(name, workdir):
    import confluent_kafka as ck
    import txn_peer
    from txn_peer import make_topics
    txn_peer.PEER = name
    peer = txn_peer.single_node(workdir / name, {"num.partitions": PARTS})
    try:
        bs = peer.bootstrap
        make_topics(bs, [TOPIC], partitions=PARTS)
        # warm-up: creates __transaction_state, JIT for Kafka
        run_txn(ck, bs, 1.0, 100, f"warm-{name}")
        run_plain(ck, bs, 1.0)
        rows = {"plain": [], "txn10": [], "txn100": []}
        for rep in range(REPS):
            order = ["plain", "txn10", "txn100"]
            if rep % 2:
                order.reverse()
            for kind in order:
                if kind == "plain":
                    r = run_plain(ck, bs, SECONDS)
                else:
                    r = run_txn(ck, bs, SECONDS, 10 if kind == "txn10" else 100,
                                f"bench-{name}-{kind}-{rep}")
                rows[kind].append(r)
                log(f"{name} rep {rep} {kind}: {r}")
        out = {}
        for kind, rs in rows.items():
            out[kind] = {"rate": statistics.median(r["rate"] for r in rs)}
            if kind != "plain":
                out[kind]["commit_p50"] = statistics.median(r["commit_p50"] for r in rs)
                out[kind]["commit_p99"] = statistics.median(r["commit_p99"] for r in rs)
                out[kind]["ratio"] = out[kind]["rate"] / out["plain"]["rate"]
        return out
    finally:
        peer.stop_all()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--out")
    a = ap.parse_args()
    os.environ.setdefault("SAMSA_BROKER", str(Path(a.build) / "samsa-broker"))
    os.environ.setdefault("SAMSA_TEST_PORT_BASE", "29600")
    base = Path(tempfile.mkdtemp(prefix="samsa-bench-txn.",
                                 dir=os.environ.get("BENCH_TMPDIR", "/var/tmp")))
    res = {"reps": REPS, "seconds": SECONDS, "load": os.getloadavg()}
    try:
        for name in SYSTEMS:
            log(f"{name}: {REPS} x {SECONDS} s per figure")
            res[name] = bench_system(name, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print("| system | plain rec/s | txn 10 ms rec/s (ratio) | txn 100 ms rec/s (ratio) "
          "| commit p50/p99 ms @10 ms | commit p50/p99 ms @100 ms |")
    print("|---|---|---|---|---|---|")
    for name in SYSTEMS:
        r = res[name]
        t10, t100 = r["txn10"], r["txn100"]
        print(f"| {name} | {r['plain']['rate']:,.0f} | {t10['rate']:,.0f} ({t10['ratio']:.2f}x) "
              f"| {t100['rate']:,.0f} ({t100['ratio']:.2f}x) "
              f"| {t10['commit_p50']:.1f} / {t10['commit_p99']:.1f} "
              f"| {t100['commit_p50']:.1f} / {t100['commit_p99']:.1f} |")
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
