#!/usr/bin/python3
"""The transaction crash runner (`make txn-torture`, `make eos-check`, issue 16):
three brokers (Samsa + ZooKeeper, or Apache Kafka 4.4 KRaft nodes with
SAMSA_TXN_PEER=kafka; tests/integration/txn_peer.py), a topic of 3
partitions with RF 3 and min.insync.replicas 2, and two parts:

crash rounds (--rounds N): each round one transaction of one transactional
  id writes 10 records to each partition, then one of these faults, the
  moment found by asking the coordinator (DescribeTransactions: its state,
  and in PrepareCommit/PrepareAbort the partitions still without a marker)
  and the partitions (ListOffsets read_committed = last stable offset):
    coord_after_add      kill -9 the coordinator after AddPartitions (Ongoing)
    leader_after_add     kill -9 a partition leader after AddPartitions
    coord_after_prepare  leaders SIGSTOPped, EndTxn sent, state Prepare*:
                         kill -9 the coordinator before any marker
    coord_after_markers  one leader SIGSTOPped, the others' markers written
                         (their LSO == HW): kill -9 the coordinator
    leader_before_marker one leader SIGSTOPped in Prepare*: kill -9 it, so
                         its marker comes from the coordinator's retry
  then commit or abort (seeded), restart the victim, and a fresh producer
  with the same transactional.id (InitProducerId finishes or aborts what
  was left). The checks: every transaction is visible in read_committed
  whole (all 30 records) or not at all; one the client saw committed is
  whole, one it saw aborted is absent; every partition stable (LSO == HW)
  at the end; read_uncommitted holds everything read_committed does.

exactly-once pipeline (--eos-records N): N numbered records in eos-in,
  copier.py (consume-transform-produce, one transactional.id) copies them to
  eos-out while the runner kill -9s the copier (restarted: same id, so the
  zombie is fenced) and brokers (restarted) at random; at the end eos-out
  read_committed holds each of the N exactly once.

  /usr/bin/python3 tests/torture_txn/txn_runner.py [--seed N] [--rounds N]
      [--eos-records N] [--eos-faults N] [--json FILE] [--keep]

run() is what tests/integration/test_txn_torture.py calls (the quick round
in make test).
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "integration")]

import confluent_kafka as ck  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

import kproto  # noqa: E402
import txn_peer  # noqa: E402
from txn_peer import (end_offsets, make_topics, read_all, txn_producer,  # noqa: E402
                      wait_stable)
from conftest import wait_until  # noqa: E402

kproto.FLEX_FROM.setdefault(65, 0)   # DescribeTransactions: flexible from v0
DESCRIBE_TRANSACTIONS = 65
TOPIC = "txn-crash"
PARTS = [0, 1, 2]
PER_PART = 10
SCENARIOS = ["coord_after_add", "leader_after_add", "coord_after_prepare",
             "coord_after_markers", "leader_before_marker"]
# Broker settings both peers get: a stopped broker leaves the ISR quickly,
# so EndTxn's acks=all write of PrepareCommit does not wait on it long.
CLUSTER_CONFIG = {"replica.lag.time.max.ms": 4000}
WHOLE_TIMEOUT = 90


def log(msg):
    print(f"[txn-torture {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- what the cluster says ---------------------------------------------------------
def describe_txn(node, txn_id):
    """DescribeTransactions to one broker: dict, or None if it is not the
    coordinator (or down)."""
    try:
        with kproto.Conn("127.0.0.1", node.port, timeout=3) as c:
            body = kproto.W(True).array([txn_id], lambda w, s: w.string(s)).tags().done()
            r = c.call(DESCRIBE_TRANSACTIONS, 0, body, timeout=3)
    except (OSError, ConnectionError, kproto.ProtocolError):
        return None
    r.i32()

    def state(r):
        d = {"error": r.i16(), "id": r.string(), "state": r.string(), "timeout": r.i32(),
             "start": r.i64(), "pid": r.i64(), "epoch": r.i16()}
        d["topics"] = {}
        for t, ps in r.array(lambda r: (r.string(), r.array(lambda r: r.i32()), r.tags())[:2]):
            d["topics"][t] = ps
        r.tags()
        return d
    states = r.array(state)
    if not states or states[0]["error"] != 0:
        return None
    return states[0]


def coordinator(peer, txn_id, timeout=30):
    def find():
        for nd in peer.nodes:
            if nd.running() and not getattr(nd, "stopped", False):
                d = describe_txn(nd, txn_id)
                if d:
                    return nd, d
        return None
    return wait_until(find, timeout, interval=0.05, desc=f"coordinator of {txn_id}")


def wait_state(peer, txn_id, states, timeout=30):
    def ok():
        nd, d = coordinator(peer, txn_id, timeout)
        return (nd, d) if d["state"] in states else None
    return wait_until(ok, timeout, interval=0.01, desc=f"{txn_id} in {states}")


def leaders(bootstrap, topic):
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return {p: pm.leader for p, pm in md.topics[topic].partitions.items()}


def wait_whole(peer, topics, timeout=WHOLE_TIMEOUT):
    """Every broker running and in every partition's ISR."""
    def ok():
        bs = peer.live_bootstrap()
        md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=5)
        if len(md.brokers) != len(peer.nodes):
            return False
        for t in topics:
            tm = md.topics.get(t)
            if tm is None or tm.error is not None:
                return False
            for pm in tm.partitions.values():
                if pm.leader < 0 or len(pm.isrs) != len(peer.nodes):
                    return False
        return True
    wait_until(ok, timeout, interval=0.2, desc="cluster whole (all brokers in every ISR)")


def sigstop(nd):
    os.kill(nd.pid, signal.SIGSTOP)
    nd.stopped = True


def sigcont(nd):
    if getattr(nd, "stopped", False):
        if nd.running():
            os.kill(nd.pid, signal.SIGCONT)
        nd.stopped = False


def crash_restart(nd):
    if nd.running():
        nd.kill9()
    nd.stopped = False
    nd.start(wait=True)


# --- one transaction per round ---------------------------------------------------------
class Ender(threading.Thread):
    """Commit or abort in a thread (the fault happens while it waits):
    result 'committed', 'aborted' or 'unknown' (what the client saw)."""

    def __init__(self, p, commit):
        super().__init__(daemon=True)
        self.p, self.commit, self.result, self.error = p, commit, None, None

    def run(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.commit:
                    self.p.commit_transaction(60)
                    self.result = "committed"
                else:
                    self.p.abort_transaction(60)
                    self.result = "aborted"
                return
            except ck.KafkaException as e:
                err = e.args[0]
                self.error = err
                if err.retriable():
                    continue
                if err.txn_requires_abort():
                    try:
                        self.p.abort_transaction(60)
                        self.result = "aborted"
                    except ck.KafkaException as e2:
                        self.error = e2.args[0]
                        self.result = "unknown"
                    return
                self.result = "unknown"
                return
        self.result = "unknown"


def new_producer(bs, txn_id):
    """A producer with txn_id, initialised (retried while the cluster settles)."""
    deadline = time.monotonic() + 120
    while True:
        p = txn_producer(bs, txn_id, acks="all", **{"transaction.timeout.ms": 30000,
                                                    "message.timeout.ms": 30000,
                                                    "socket.timeout.ms": 10000})
        try:
            p.init_transactions(60)
            return p
        except ck.KafkaException as e:
            if time.monotonic() > deadline:
                raise
            log(f"init_transactions: {e.args[0]}; again")
            time.sleep(0.5)


def crash_round(peer, rng, rnd, txn_id, scenario, commit):
    bs = peer.bootstrap
    p = new_producer(bs, txn_id)
    p.begin_transaction()
    for part in PARTS:
        for i in range(PER_PART):
            p.produce(TOPIC, value=f"r{rnd}-p{part}-{i}", partition=part)
    assert p.flush(60) == 0, "records not delivered"
    cnode, d = coordinator(peer, txn_id)
    assert d["state"] == "Ongoing", d
    lead = leaders(bs, TOPIC)
    others = [peer.node(lead[pt]) for pt in PARTS if lead[pt] != cnode.node_id]
    victim = stopped = None
    detail = ""
    ender = Ender(p, commit)
    if scenario == "coord_after_add":
        victim = cnode
        crash_restart_async = True
    elif scenario == "leader_after_add":
        victim = peer.node(lead[rng.choice(PARTS)])
        crash_restart_async = True
    else:
        crash_restart_async = False
    if crash_restart_async:
        victim.kill9()
        detail = f"{victim.name} killed in Ongoing"
        victim.start(wait=False)
        ender.start()
    elif scenario == "coord_after_prepare":
        stopped = list({n.node_id: n for n in others}.values())
        for n in stopped:
            sigstop(n)
        ender.start()
        nd, d = wait_state(peer, txn_id, ("PrepareCommit", "PrepareAbort"))
        detail = f"{d['state']} with markers pending on {d['topics']}; stopped {[n.name for n in stopped]}"
        cnode.kill9()
        victim = cnode
    elif scenario in ("coord_after_markers", "leader_before_marker"):
        if not others:
            # the coordinator leads every partition: no leader to hold back
            stopped = []
        else:
            stopped = [rng.choice(others)]
        for n in stopped:
            sigstop(n)
        ender.start()
        nd, d = wait_state(peer, txn_id, ("PrepareCommit", "PrepareAbort", "CompleteCommit",
                                          "CompleteAbort"))
        if scenario == "coord_after_markers":
            held = [pt for pt in PARTS if stopped and lead[pt] == stopped[0].node_id]
            free = [pt for pt in PARTS if pt not in held]

            def marked():
                d2 = describe_txn(cnode, txn_id)
                pending = set((d2 or {}).get("topics", {}).get(TOPIC, []))
                return d2 is not None and not (pending & set(free))
            wait_until(marked, 30, interval=0.01,
                       desc=f"markers on partitions {free} (leaders not stopped)")
            detail = f"markers on {free}, not on {held}"
            cnode.kill9()
            victim = cnode
        else:
            victim = stopped[0] if stopped else cnode
            detail = f"{d['state']}: {victim.name} killed before its marker"
            victim.kill9()
            victim.stopped = False
            stopped = []
    for n in stopped or []:
        sigcont(n)
    if not victim.running():
        victim.start(wait=False)
    ender.join(180)
    assert not ender.is_alive(), "commit/abort did not return in 180 s"
    victim.wait_ready(60)
    p.flush(10)
    return {"round": rnd, "scenario": scenario, "asked": "commit" if commit else "abort",
            "client": ender.result, "error": str(ender.error) if ender.error else None,
            "victim": victim.name, "detail": detail}


def check_crash_rounds(peer, results):
    """Atomic, durable, isolated: returns a list of problems."""
    bs = peer.live_bootstrap()
    problems = []
    wait_stable(bs, TOPIC, PARTS, timeout=120)
    rc = read_all(bs, TOPIC, PARTS, "read_committed", stable=False)
    ru = read_all(bs, TOPIC, PARTS, "read_uncommitted", stable=False)
    seen = {}
    for part, recs in rc.items():
        for off, _, v in recs:
            v = v.decode()
            rnd = int(v.split("-")[0][1:])
            seen.setdefault(rnd, []).append((part, v))
    full = PER_PART * len(PARTS)
    for r in results:
        got = seen.get(r["round"], [])
        vals = sorted(v for _, v in got)
        want = sorted(f"r{r['round']}-p{pt}-{i}" for pt in PARTS for i in range(PER_PART))
        r["outcome"] = "committed" if vals == want else ("aborted" if not got else "PARTIAL")
        if got and vals != want:
            problems.append(f"round {r['round']} ({r['scenario']}): {len(got)} of {full} "
                            f"records visible read_committed (partial or duplicated)")
        if r["client"] == "committed" and vals != want:
            problems.append(f"round {r['round']} ({r['scenario']}): client saw the commit, "
                            f"read_committed has {len(got)} of {full}")
        if r["client"] == "aborted" and got:
            problems.append(f"round {r['round']} ({r['scenario']}): client saw the abort, "
                            f"read_committed has {len(got)} records")
    ru_vals = {v for recs in ru.values() for _, _, v in recs}
    lost = [v for recs in rc.values() for _, _, v in recs if v not in ru_vals]
    if lost:
        problems.append(f"{len(lost)} read_committed records missing from read_uncommitted")
    return problems


def run_crash_rounds(peer, rng, rounds, txn_id="txn-crash-id"):
    results = []
    for rnd in range(rounds):
        scenario = SCENARIOS[rnd % len(SCENARIOS)] if rounds >= len(SCENARIOS) and rnd < len(
            SCENARIOS) else rng.choice(SCENARIOS)
        commit = rng.random() < 0.7
        t0 = time.monotonic()
        res = crash_round(peer, rng, rnd, txn_id, scenario, commit)
        res["seconds"] = round(time.monotonic() - t0, 2)
        log(f"round {rnd}: {scenario} asked {res['asked']}, client {res['client']}"
            f" ({res['error']}); {res['detail']} [{res['seconds']} s]")
        results.append(res)
        wait_whole(peer, [TOPIC])
    return results


# --- exactly-once pipeline ------------------------------------------------------------------
EOS_IN, EOS_OUT, EOS_GROUP, EOS_TXN = "eos-in", "eos-out", "eos-group", "eos-copier"


class Copier:
    def __init__(self, peer, workdir):
        self.peer, self.log_path, self.proc, self.starts = peer, Path(workdir) / "copier.log", None, 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as f:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "copier.py"), self.peer.bootstrap, EOS_IN, EOS_OUT,
                 EOS_GROUP, EOS_TXN], stdout=f, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()


def group_done(bs, n_parts, ends):
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": EOS_GROUP, "enable.auto.commit": False,
                     "socket.timeout.ms": 5000})
    try:
        tps = c.committed([ck.TopicPartition(EOS_IN, p) for p in range(n_parts)], timeout=5)
        return all(tp.offset == ends[tp.partition] for tp in tps)
    except ck.KafkaException:
        return False
    finally:
        c.close()


def run_eos(peer, rng, workdir, n, faults, timeout=600):
    bs = peer.bootstrap
    nparts = 3
    make_topics(bs, [EOS_IN, EOS_OUT], partitions=nparts, rf=3,
                config={"min.insync.replicas": "2"})
    p = ck.Producer({"bootstrap.servers": bs, "enable.idempotence": True, "linger.ms": 5})
    for i in range(n):
        p.produce(EOS_IN, value=f"{i:07d}", partition=i % nparts)
    assert p.flush(60) == 0
    ends = end_offsets(bs, EOS_IN, range(nparts))
    copier = Copier(peer, workdir)
    copier.start()
    deadline = time.monotonic() + timeout
    done_faults = []
    fault_at = sorted(rng.uniform(0.5, 1.0 + n / 400) for _ in range(faults))
    t0 = time.monotonic()
    while True:
        assert time.monotonic() < deadline, f"pipeline not done in {timeout} s; copier log " \
            f"{copier.log_path}"
        if fault_at and time.monotonic() - t0 >= fault_at[0]:
            fault_at.pop(0)
            if rng.random() < 0.5:
                copier.kill9()
                done_faults.append("copier")
                log("eos: kill -9 copier; restart (same transactional.id)")
                copier.start()
            else:
                nd = rng.choice(peer.nodes)
                nd.kill9()
                done_faults.append(nd.name)
                log(f"eos: kill -9 {nd.name}; restart")
                nd.start(wait=True)
        if not copier.running():
            rc = copier.proc.returncode
            log(f"eos: copier exited {rc}; restart")
            copier.start()
        if not fault_at and group_done(peer.live_bootstrap(), nparts, ends):
            break
        time.sleep(0.2)
    copier.kill9()
    wait_whole(peer, [EOS_IN, EOS_OUT])
    out = read_all(peer.live_bootstrap(), EOS_OUT, range(nparts), "read_committed", timeout=120)
    vals = [v.decode() for recs in out.values() for _, _, v in recs]
    counts = {}
    for v in vals:
        counts[v] = counts.get(v, 0) + 1
    want = {f"{i:07d}" for i in range(n)}
    problems = []
    dup = sorted(v for v, c in counts.items() if c > 1)
    missing = sorted(want - set(counts))
    extra = sorted(set(counts) - want)
    if dup:
        problems.append(f"eos: {len(dup)} records more than once in read_committed output, "
                        f"e.g. {dup[:5]}")
    if missing:
        problems.append(f"eos: {len(missing)} records missing, e.g. {missing[:5]}")
    if extra:
        problems.append(f"eos: unexpected records {extra[:5]}")
    return {"records": n, "faults": done_faults, "copier_starts": copier.starts,
            "output": len(vals)}, problems


# --- driver -----------------------------------------------------------------------------------
def run(workdir, seed=None, rounds=10, eos_records=2000, eos_faults=4, zk=None):
    """Returns (report dict, problems list)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log(f"seed {seed}, peer {txn_peer.PEER}, rounds {rounds}, eos {eos_records}/{eos_faults}")
    own_zk = None
    if txn_peer.PEER == "samsa" and zk is None:
        from zk import ZooKeeper
        own_zk = zk = ZooKeeper(Path(workdir) / "zk")
        zk.start()
    peer = txn_peer.cluster_nodes(Path(workdir) / "cluster", 3, config=CLUSTER_CONFIG, zk=zk)
    report = {"seed": seed, "peer": txn_peer.PEER}
    problems = []
    try:
        make_topics(peer.bootstrap, [TOPIC], partitions=len(PARTS), rf=3,
                    config={"min.insync.replicas": "2"})
        wait_whole(peer, [TOPIC])
        if rounds:
            results = run_crash_rounds(peer, rng, rounds)
            problems += check_crash_rounds(peer, results)
            report["rounds"] = results
        if eos_records:
            eos, eos_problems = run_eos(peer, rng, workdir, eos_records, eos_faults)
            problems += eos_problems
            report["eos"] = eos
    except Exception as e:
        import traceback
        problems.append(f"runner: {e.__class__.__name__}: {e}\n{traceback.format_exc()}")
        problems.append(peer.log_tails(40))
    finally:
        for nd in peer.nodes:
            sigcont(nd)
        problems += peer.stop_all()
        if own_zk:
            own_zk.stop()
    return report, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("TXN_ROUNDS", "20")))
    ap.add_argument("--eos-records", type=int, default=int(os.environ.get("EOS_RECORDS", "5000")))
    ap.add_argument("--eos-faults", type=int, default=int(os.environ.get("EOS_FAULTS", "8")))
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="samsa-txn-torture.")
    t0 = time.monotonic()
    report, problems = run(workdir, a.seed, a.rounds, a.eos_records, a.eos_faults)
    report["seconds"] = round(time.monotonic() - t0, 1)
    report["problems"] = problems
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))
    outcomes = [r.get("outcome") for r in report.get("rounds", [])]
    log(f"{len(outcomes)} rounds: {outcomes.count('committed')} committed, "
        f"{outcomes.count('aborted')} aborted, {outcomes.count('PARTIAL')} partial; "
        f"eos {report.get('eos')}; {report['seconds']} s")
    for p in problems:
        log(f"PROBLEM: {p}")
    if a.keep or problems:
        log(f"work directory kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    log("PASS" if not problems else f"FAIL ({len(problems)} problems), seed {report['seed']}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
