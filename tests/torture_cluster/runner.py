#!/usr/bin/python3
"""The cluster fault runner (`make torture-cluster`, issue 14): ZooKeeper and
3 brokers (tests/integration/cluster.py), the workload of workload.py, the
faults of faults.py injected on a schedule drawn from a seed, then the checks
of checks.py. Prints the seed first; the same seed and options replay the
same schedule (which fault, which target, hold times; what the cluster does
in between is real time and varies).

Schedule: ROUNDS rounds; each round runs every fault kind once (or those of
--kinds), in an order shuffled by the seed. After each fault the cluster
must be whole again (faults.wait_whole, bounded); a bound exceeded ends the
schedule, and the checks still run. At the end: producers flushed, the whole
topic read back, the history checked, the replicas' logs compared byte for
byte, every broker stopped with SIGTERM (exit 0), every broker log scanned
for sanitizer reports.

Isolation: brokers run in network namespaces (netns.py) when root can make
them, else on 127.0.0.1 and the "partition" fault is skipped with a printed
reason. Each broker's log.dirs is its own tmpfs when root can mount one (the
"disk_full" fault fills it), else a plain directory and disk_full is skipped
with a printed reason. Both are removed by name at the end, also on failure.

  /usr/bin/python3 tests/torture_cluster/runner.py [--seed N] [--rounds N]
      [--kinds a,b] [--session-timeout-ms MS] [--json FILE] [--keep]
  SAMSA_BROKER=build-san/samsa-broker ...   against the ASan + UBSan build

run() is also what tests/integration/test_torture_cluster.py calls.
"""
import argparse
import atexit
import bisect
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "integration")]

import checks  # noqa: E402
import faults  # noqa: E402
from cluster import Cluster  # noqa: E402
from conftest import free_port  # noqa: E402
from netns import Netns  # noqa: E402
from workload import Workload  # noqa: E402
from zk import ZooKeeper  # noqa: E402

TMPFS_MB = 1024
# kazoo reports every lost ZooKeeper connection (a fault here) as a warning.
logging.getLogger("kazoo").setLevel(logging.ERROR)


class Ctx:
    """What the faults act on."""


def log(msg):
    print(f"[torture {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _mount_tmpfs(path, tag):
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m,mode=0755",
                         f"{tag}-tmpfs", str(path)], capture_output=True, text=True)
    return None if cp.returncode == 0 else (cp.stderr.strip() or f"mount exited {cp.returncode}")


def _umount(path):
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def schedule(rng, rounds, kinds):
    out = []
    for _ in range(rounds):
        r = list(kinds)
        rng.shuffle(r)
        out += r
    return out


def summarize(records, workload):
    """Per fault kind: injections, skips, acknowledgements during the fault
    windows, unavailability (median, max)."""
    times = workload.ack_times()
    rows = {}
    for rec in records:
        row = rows.setdefault(rec["kind"], {"runs": 0, "skipped": 0, "acked": 0, "gaps": []})
        if rec.get("skipped"):
            row["skipped"] += 1
            row["skip_reason"] = rec["skipped"]
            continue
        if "unavailable" not in rec:
            continue
        row["runs"] += 1
        row["acked"] += bisect.bisect_right(times, rec["t_end"]) - \
            bisect.bisect_left(times, rec["t0"])
        row["gaps"].append(rec["unavailable"])
    for row in rows.values():
        g = row.pop("gaps")
        row["unavailable_median"] = round(statistics.median(g), 2) if g else None
        row["unavailable_max"] = round(max(g), 2) if g else None
    return rows


def _revive_crashed(ctx, k, violations):
    """After a Broken fault: a broker that died by itself (a crash, not one
    of the faults) is recorded with the end of its log, started again, and
    the schedule goes on once the cluster is whole. False: it is not."""
    crashed = [i for i, b in enumerate(ctx.cluster.brokers) if not b.running()]
    if not crashed:
        return False
    for i in crashed:
        b = ctx.cluster.brokers[i]
        tail = "\n".join(b.log_text().splitlines()[-12:])
        violations.append(f"fault {k}: broker {i} died (exit {b.proc.returncode}); its log ends:\n{tail}")
        log(f"broker {i} died (exit {b.proc.returncode}): starting it again")
        try:
            faults.restart(ctx, i)
        except (faults.Broken, AssertionError) as e:
            violations.append(f"fault {k}: broker {i} did not come back: {e}")
            return False
    try:
        faults.wait_whole(ctx, {})
    except faults.Broken as e:
        violations.append(f"fault {k}: not whole after restarting {crashed}: {e}")
        return False
    return True


def _zk_short_kept_serving(records, session_s):
    """docs/cluster.md C13: a ZooKeeper outage well inside the session
    timeout (under half of it: the lease is renewed every timeout / 4) must
    not stop produce on the existing leaders."""
    v = []
    for rec in records:
        if rec["kind"] == "zk_short" and "unavailable" in rec and \
                rec["outage"] < session_s / 2 and rec["unavailable"] >= session_s:
            v.append(f"fault {rec['n']} (zk_short): a ZooKeeper outage of {rec['outage']:.1f} s "
                     f"(session timeout {session_s:.0f} s) stopped acknowledgements on partition "
                     f"{rec['unavailable_partition']} for {rec['unavailable']:.1f} s")
    return v


def _setup_isolation(ctx, n, rng, base):
    """Namespaces and tmpfs log dirs where this machine allows them; the
    reason printed where it does not."""
    ctx.netns, ctx.netns_reason = None, Netns.unavailable()
    if ctx.netns_reason is None:
        ctx.netns = Netns(n, rng=random.Random(rng.getrandbits(32) ^ os.getpid()))
        atexit.register(ctx.netns.close)
        try:
            ctx.netns.create()
        except RuntimeError as e:
            ctx.netns.close()
            ctx.netns, ctx.netns_reason = None, str(e)
    if ctx.netns is None:
        log(f"fault 'partition' will be skipped: {ctx.netns_reason}")
    ctx.tmpfs, ctx.tmpfs_reason, ctx.mounts = [], None, []
    for i in range(n):
        d = base / f"broker{i}-logs"
        d.mkdir(parents=True)
        if ctx.tmpfs_reason is None:
            ctx.tmpfs_reason = _mount_tmpfs(d, ctx.netns.tag if ctx.netns else "samsa-torture")
            if ctx.tmpfs_reason is None:
                ctx.mounts.append(d)
                atexit.register(_umount, d)
        ctx.tmpfs.append(d)
    logdirs = [d / "data" for d in ctx.tmpfs]
    if ctx.tmpfs_reason is not None:
        ctx.tmpfs_reason = f"cannot mount a tmpfs (needs root/CAP_SYS_ADMIN): {ctx.tmpfs_reason}"
        log(f"fault 'disk_full' will be skipped: {ctx.tmpfs_reason}")
        ctx.tmpfs = None
    return logdirs


def _teardown(ctx, keep_data=False):
    """Stop everything; keep_data: copy each broker's tmpfs log dirs next to
    it (<dir>-kept) before unmounting, so a failed run's logs can be read."""
    problems = []
    if getattr(ctx, "cluster", None) is not None:
        for b in ctx.cluster.brokers:        # a broker left paused would never exit
            if b.running():
                try:
                    os.kill(b.pid, 18)       # SIGCONT
                except OSError:
                    pass
        problems += ctx.cluster.stop_all()
    if getattr(ctx, "zk", None) is not None:
        ctx.zk.stop()
    for d in getattr(ctx, "mounts", []):
        if keep_data:
            shutil.copytree(d, Path(str(d) + "-kept"), dirs_exist_ok=True)
        _umount(d)
    if getattr(ctx, "netns", None) is not None:
        ctx.netns.close()
    return problems


def run(seed=None, rounds=1, kinds=None, session_timeout_ms=6000, partitions=6,
        producers=3, consumers=2, workdir=None, keep=False, lag_ms=None, whole_timeout=90):
    """One fault run. Returns a dict: seed, faults (records), summary,
    violations (strings; empty = every check passed), figures, seconds."""
    seed = random.randrange(1 << 31) if seed is None else seed
    kinds = list(kinds or faults.KINDS)
    log(f"seed {seed} (replay: make torture-cluster SEED={seed} ROUNDS={rounds}"
        f"{' KINDS=' + ','.join(kinds) if kinds != list(faults.KINDS) else ''})")
    rng = random.Random(seed)
    plan = schedule(rng, rounds, kinds)
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="samsa-torture-", dir=workdir))
    ctx = Ctx()
    ctx.rng, ctx.topic, ctx.partitions = rng, "torture", partitions
    ctx.offsets_partitions = 3
    ctx.session_s = session_timeout_ms / 1000
    ctx.lag_s = (lag_ms or session_timeout_ms) / 1000
    ctx.failover_timeout = ctx.session_s * 3 + 30
    ctx.whole_timeout = whole_timeout
    ctx.cluster = ctx.zk = None
    records, violations, figures, notes = [], [], {}, []
    workload = None
    try:
        n = 3
        logdirs = _setup_isolation(ctx, n, rng, base)
        host = ctx.netns.gateway if ctx.netns else "127.0.0.1"
        ctx.zk = ZooKeeper(base, free_port(), host=host).start()
        overrides = {"default.replication.factor": 3, "min.insync.replicas": 2,
                     "offsets.topic.num.partitions": ctx.offsets_partitions,
                     "offsets.topic.replication.factor": 3,
                     "replica.lag.time.max.ms": int(ctx.lag_s * 1000),
                     "group.initial.rebalance.delay.ms": 0,
                     "log.segment.bytes": 8 << 20}
        ctx.cluster = Cluster(base / "cluster", ctx.zk, n=n, chroot="/torture",
                              overrides=overrides, session_timeout_ms=session_timeout_ms,
                              hosts=[ctx.netns.addr(i) for i in range(n)] if ctx.netns else None,
                              netns=[ctx.netns.ns(i) for i in range(n)] if ctx.netns else None,
                              logdirs=logdirs)
        ctx.cluster.start_all()
        ctx.cluster.create_topic(ctx.topic, partitions=partitions, rf=3,
                                 config={"min.insync.replicas": "2"})
        ctx.cluster.ensure_offsets_topic("torture-group")
        log(f"cluster up: brokers {ctx.cluster.bootstrap}, ZooKeeper {ctx.zk.connect}, "
            f"data {base}; {len(plan)} faults: {' '.join(plan)}")
        workload = Workload(ctx.cluster.bootstrap, ctx.topic, partitions, producers, consumers)
        workload.start()
        faults.poll(lambda: workload.n_acked() >= 200, 60, "the first 200 acknowledgements")
        for k, kind in enumerate(plan):
            rec = {"kind": kind, "n": k}
            records.append(rec)
            try:
                faults.KINDS[kind](ctx, rec)
            except faults.Broken as e:
                rec["error"] = str(e)
                violations.append(f"fault {k} ({kind}, target {rec.get('target')}): {e}")
                log(f"#{k} {kind}: BROKEN: {e}")
                if not _revive_crashed(ctx, k, violations):
                    break
                continue
            if rec.get("skipped"):
                log(f"#{k} {kind}: skipped: {rec['skipped']}")
                continue
            # The next fault starts once every partition is acknowledged again.
            try:
                faults.poll(lambda: workload.acked_everywhere_after(rec["t_end"]) or
                            workload.fatal(), ctx.whole_timeout,
                            "an acknowledgement on every partition after the fault")
            except faults.Broken as e:
                violations.append(f"fault {k} ({kind}): {e}")
                break
            rec["t_acked"] = time.monotonic()
            log(f"#{k} {kind} (t={rec['t0']:.3f}): target {rec.get('target')} "
                f"{ {x: rec[x] for x in rec if x not in ('kind', 'n', 'target', 't0', 't_heal', 't_end', 't_acked', 'steps')} } "
                f"whole after {rec['t_end'] - rec['t0']:.1f} s, acked everywhere after "
                f"{rec['t_acked'] - rec['t0']:.1f} s")
            if workload.fatal():
                violations += workload.fatal()
                break
        # --- the end: quiesce, read back, check
        undelivered = workload.stop_producers(timeout=120)
        for rec in records:
            if "t_end" in rec:
                gap, part = checks.unavailability(workload, rec, time.monotonic())
                rec["unavailable"], rec["unavailable_partition"] = round(gap, 3), part
        violations += _zk_short_kept_serving(records, ctx.session_s)
        for i, b in enumerate(ctx.cluster.brokers):     # after a Broken schedule
            if not b.running():
                log(f"broker {i} is down (exit {b.proc.returncode}): starting it for the checks")
                faults.restart(ctx, i)
        try:
            last = {}
            faults.wait_whole(ctx, last)
        except faults.Broken as e:
            violations.append(f"final: {e}")
        workload.stop_consumers()
        log_data = checks.read_log(ctx.cluster.bootstrap, ctx.topic, partitions)
        v, figures, notes = checks.check(workload, log_data, undelivered,
                                         bootstrap=ctx.cluster.bootstrap, topic=ctx.topic)
        violations += v
        if not any(v.startswith("final:") for v in violations):
            violations += checks.replicas_identical(ctx.cluster, ctx.topic, partitions)
    except Exception as e:            # the harness itself failed: report, still clean up
        violations.append(f"harness: {type(e).__name__}: {e}\n" +
                          "".join(traceback.format_exc().splitlines(True)[-8:]))
        if workload is not None:
            for pr in workload.producers:
                pr._stop.set()
    finally:
        violations += [f"stop: {p}" for p in _teardown(ctx, keep_data=keep or bool(violations))]
        if not keep and not violations:
            shutil.rmtree(base, ignore_errors=True)
    res = {"seed": seed, "rounds": rounds, "kinds": kinds, "faults": records,
           "summary": summarize(records, workload) if workload else {},
           "violations": violations, "figures": figures, "notes": notes,
           "seconds": round(time.monotonic() - started, 1), "data": str(base),
           "broker": ctx.cluster.brokers[0].binary if ctx.cluster else None,
           "netns": ctx.netns_reason or "used", "tmpfs": ctx.tmpfs_reason or "used"}
    return res


def print_report(res):
    log(f"seed {res['seed']}, {res['rounds']} rounds, {res['seconds']} s, broker {res['broker']}")
    log(f"{'fault':16} {'runs':>5} {'skip':>5} {'acked':>9} {'unavail med':>12} {'max':>7}")
    for kind, row in res["summary"].items():
        log(f"{kind:16} {row['runs']:5} {row['skipped']:5} {row['acked']:9} "
            f"{row['unavailable_median'] if row['unavailable_median'] is not None else '-':>12} "
            f"{row['unavailable_max'] if row['unavailable_max'] is not None else '-':>7}")
        if row.get("skip_reason"):
            log(f"    skipped: {row['skip_reason']}")
    log("figures: " + ", ".join(f"{k} {v}" for k, v in sorted(res["figures"].items())))
    for n in res.get("notes", []):
        log("  note: " + n)
    if res["violations"]:
        log(f"{len(res['violations'])} VIOLATIONS (data kept in {res['data']}):")
        for v in res["violations"]:
            log("  " + v)
    else:
        log("every check passed: 0 lost, 0 phantom, 0 broker duplicates, order kept, "
            "committed offsets monotonic, replicas identical, no sanitizer report")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--kinds", default="", help="comma-separated subset of " +
                    ",".join(faults.KINDS))
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--json", default=None, help="write the result here")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    a = ap.parse_args()
    kinds = [k for k in a.kinds.split(",") if k] or None
    for k in kinds or []:
        if k not in faults.KINDS:
            ap.error(f"unknown fault kind {k!r}; known: {', '.join(faults.KINDS)}")
    res = run(seed=a.seed, rounds=a.rounds, kinds=kinds,
              session_timeout_ms=a.session_timeout_ms, keep=a.keep)
    print_report(res)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, default=str))
    return 1 if res["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
