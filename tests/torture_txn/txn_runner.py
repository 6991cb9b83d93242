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
TOPIC = "txn-crash"          # 3 partitions, one replica order: one leader
TOPIC_B = "txn-crash-b"      # 3 partitions, leaders spread
PARTS = [0, 1, 2]
TXN_ID_POOL = 50
FIND_COORDINATOR = 10
PER_PART = 10
SCENARIOS = ["coord_after_add", "leader_after_add", "coord_after_prepare",
             "coord_after_markers", "leader_before_marker"]
# Broker settings both peers get: a stopped broker leaves the ISR quickly
# (1.5 s), so EndTxn's acks=all write of PrepareCommit does not wait on it
# long and the Prepare state is there to see for the rest of its session
# timeout; leadership goes back to the preferred replicas within seconds
# after a restart, so each round starts from the same layout.
CLUSTER_CONFIG = {"replica.lag.time.max.ms": 1500,
                  "auto.leader.rebalance.enable": "true",
                  "leader.imbalance.check.interval.seconds": 2,
                  "leader.imbalance.per.broker.percentage": 0}
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
    seen = []

    def ok():
        nd, d = coordinator(peer, txn_id, timeout)
        if not seen or seen[-1] != (nd.name, d["state"]):
            seen.append((nd.name, d["state"]))
        return (nd, d) if d["state"] in states else None
    try:
        return wait_until(ok, timeout, interval=0.01, desc=f"{txn_id} in {states}")
    except AssertionError as e:
        raise AssertionError(f"{e}; states seen: {seen}") from None


def leaders(bootstrap, topic):
    """{partition: leader}, once Metadata names a leader for every partition
    (a broker whose metadata lags may not know the topic for a moment)."""
    def ask():
        md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
        tm = md.topics.get(topic)
        if tm is None or tm.error is not None or len(tm.partitions) != len(PARTS):
            return None
        got = {p: pm.leader for p, pm in tm.partitions.items()}
        return got if all(v >= 0 for v in got.values()) else None
    return wait_until(ask, 30, interval=0.1, desc=f"leaders of {topic}")


def wait_whole(peer, topics, timeout=WHOLE_TIMEOUT):
    """Every broker running, in every partition's ISR, and every partition
    led by its preferred replica (topics and __transaction_state)."""
    topics = list(topics) + ["__transaction_state"]
    def ok():
        bs = peer.live_bootstrap()
        md = AdminClient({"bootstrap.servers": bs}).list_topics(timeout=5)
        if len(md.brokers) != len(peer.nodes):
            return False
        for t in topics:
            tm = md.topics.get(t)
            if tm is None and t == "__transaction_state":
                continue                # not created yet (first FindCoordinator does)
            if tm is None or tm.error is not None:
                return False
            for pm in tm.partitions.values():
                if pm.leader < 0 or len(pm.isrs) != len(peer.nodes):
                    return False
                if pm.leader != pm.replicas[0]:
                    return False
        return True
    wait_until(ok, timeout, interval=0.2,
               desc="cluster whole (all brokers in every ISR, preferred leaders)")


def sigstop(nd):
    os.kill(nd.pid, signal.SIGSTOP)
    nd.stopped = True


def sigcont(nd):
    if getattr(nd, "stopped", False):
        if nd.running():
            os.kill(nd.pid, signal.SIGCONT)
        nd.stopped = False


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


def find_coordinator(peer, txn_id, timeout=30):
    """FindCoordinator (v1, key_type 1) through any live broker: node id."""
    def ask():
        for nd in peer.nodes:
            if not nd.running() or getattr(nd, "stopped", False):
                continue
            try:
                with kproto.Conn("127.0.0.1", nd.port, timeout=3) as c:
                    r = c.call(FIND_COORDINATOR, 1,
                               kproto.W().string(txn_id).i8(1).done(), timeout=3)
            except (OSError, ConnectionError, kproto.ProtocolError):
                continue
            r.i32()
            err, _msg, node_id = r.i16(), r.string(), r.i32()
            if err == 0:
                return node_id + 1          # (0 is falsy for wait_until)
        return None
    return wait_until(ask, timeout, interval=0.1, desc=f"coordinator of {txn_id}") - 1


def pick_txn_id(peer, rng, avoid):
    """A transactional id of the pool whose coordinator is not `avoid`
    (None: any), so a leader can be held back without holding back the
    coordinator; (id, coordinator node id, whether avoid was honoured)."""
    ids = [f"txn-crash-{k}" for k in range(TXN_ID_POOL)]
    rng.shuffle(ids)
    for tid in ids[:12]:
        c = find_coordinator(peer, tid)
        if avoid is None or c != avoid:
            return tid, c, True
    return ids[0], find_coordinator(peer, ids[0]), False


def crash_round(peer, rng, rnd, scenario, commit):
    """One transaction and one fault; returns what happened (the values
    written are in res['values'])."""
    bs = peer.bootstrap
    lead_a = leaders(bs, TOPIC)
    lead_b = leaders(bs, TOPIC_B)
    # the partitions of TOPIC share one replica order, so one leader (la)
    la = lead_a[0] if len(set(lead_a.values())) == 1 else None
    needs_held_leader = scenario in ("coord_after_prepare", "coord_after_markers",
                                     "leader_before_marker")
    txn_id, cid, honoured = pick_txn_id(peer, rng, la if needs_held_leader else None)
    parts = [(TOPIC, pt) for pt in PARTS]
    if scenario in ("coord_after_markers", "leader_after_add"):
        parts += [(TOPIC_B, pt) for pt in PARTS]
    p = new_producer(bs, txn_id)
    values = []
    p.begin_transaction()
    for t, part in parts:
        for i in range(PER_PART):
            v = f"r{rnd}-{t[-1]}{part}-{i}"
            values.append(v)
            p.produce(t, value=v, partition=part)
    assert p.flush(60) == 0, "records not delivered"
    cnode, d = coordinator(peer, txn_id)
    assert d["state"] == "Ongoing", d
    lead = {(TOPIC, pt): lead_a[pt] for pt in PARTS}
    lead.update({(TOPIC_B, pt): lead_b[pt] for pt in PARTS})
    victim = None
    moment = True           # the Ongoing scenarios' moment is certain
    stopped = []
    detail = "" if honoured or not needs_held_leader else "(no id with another coordinator) "
    ender = Ender(p, commit)
    if scenario in ("coord_after_add", "leader_after_add"):
        victim = cnode if scenario == "coord_after_add" else \
            peer.node(lead[rng.choice(parts)])
        victim.kill9()
        detail += f"{victim.name} killed in Ongoing (coordinator {cnode.name})"
        ender.start()
        peer.restart(victim, wait=False)
    else:
        held = peer.node(la) if la is not None and la != cnode.node_id else None
        if held is None:
            others = sorted({lead[tp] for tp in parts} - {cnode.node_id})
            held = peer.node(rng.choice(others)) if others else None
        if held is not None:
            sigstop(held)
            stopped = [held]
        ender.start()
        nd, d = wait_state(peer, txn_id, ("PrepareCommit", "PrepareAbort", "CompleteCommit",
                                          "CompleteAbort"))
        pending = {(t, pt) for t, pts in d["topics"].items() for pt in pts}
        held_parts = {tp for tp in parts if held is not None and lead[tp] == held.node_id}
        # the moment is missed when the transaction completed before it was
        # seen in Prepare*: the held broker's partitions moved first (e.g. it
        # was the controller, so ISR shrinks waited for its session to expire)
        moment = d["state"].startswith("Prepare") and held_parts <= pending
        if scenario == "coord_after_prepare":
            moment = moment and pending == set(parts)
            detail += (f"{d['state']}, no marker yet on {sorted(pending)} of {len(parts)}; "
                       f"held {held.name if held else None}; coordinator {cnode.name} killed")
            victim = cnode
            cnode.kill9()
        elif scenario == "coord_after_markers":
            free = [tp for tp in parts if held is None or lead[tp] != held.node_id]

            def marked():
                d2 = describe_txn(cnode, txn_id)
                if d2 is None:
                    return False
                pend = {(t, pt) for t, pts in d2["topics"].items() for pt in pts}
                return not (pend & set(free))
            wait_until(marked, 30, interval=0.01, desc=f"markers on {free}")
            detail += (f"markers on {len(free)} of {len(parts)} partitions "
                       f"(held {held.name if held else None}); coordinator {cnode.name} killed")
            victim = cnode
            cnode.kill9()
        else:   # leader_before_marker
            victim = held or cnode
            detail += (f"{d['state']}: {victim.name} (leader of {sorted(pending)}) killed "
                       f"before its marker")
            victim.kill9()
            victim.stopped = False
            stopped = []
    for n in stopped:
        sigcont(n)
    if not victim.running():
        peer.restart(victim, wait=False)
    ender.join(180)
    assert not ender.is_alive(), "commit/abort did not return in 180 s"
    victim.wait_ready(60)
    p.flush(10)
    return {"round": rnd, "scenario": scenario, "txn_id": txn_id,
            "asked": "commit" if commit else "abort",
            "client": ender.result, "error": str(ender.error) if ender.error else None,
            "victim": victim.name, "detail": detail, "values": values, "moment": moment}


def check_crash_rounds(peer, results):
    """Atomic, durable, isolated: returns a list of problems."""
    bs = peer.live_bootstrap()
    problems = []
    rc, ru = {}, {}
    for t in (TOPIC, TOPIC_B):
        wait_stable(bs, t, PARTS, timeout=120)
        rc[t] = read_all(bs, t, PARTS, "read_committed", stable=False)
        ru[t] = read_all(bs, t, PARTS, "read_uncommitted", stable=False)
    seen = {}
    for t in rc:
        for recs in rc[t].values():
            for _, _, v in recs:
                v = v.decode()
                seen.setdefault(int(v.split("-")[0][1:]), []).append(v)
    for r in results:
        got = sorted(seen.get(r["round"], []))
        want = sorted(r["values"])
        r["outcome"] = "committed" if got == want else ("aborted" if not got else "PARTIAL")
        what = f"round {r['round']} ({r['scenario']}, {r['detail']})"
        if got and got != want:
            problems.append(f"{what}: {len(got)} of {len(want)} records visible read_committed "
                            f"(partial or duplicated)")
        if r["client"] == "committed" and got != want:
            problems.append(f"{what}: client saw the commit, read_committed has "
                            f"{len(got)} of {len(want)}")
        if r["client"] == "aborted" and got:
            problems.append(f"{what}: client saw the abort, read_committed has {len(got)}")
    for t in rc:
        ru_vals = {v for recs in ru[t].values() for _, _, v in recs}
        lost = [v for recs in rc[t].values() for _, _, v in recs if v not in ru_vals]
        if lost:
            problems.append(f"{t}: {len(lost)} read_committed records not in read_uncommitted")
    return problems


def run_crash_rounds(peer, rng, rounds, scenarios=None):
    """The first rounds take every scenario once (shuffled), the rest draw."""
    results = []
    first = list(scenarios or SCENARIOS)
    rng.shuffle(first)
    for rnd in range(rounds):
        scenario = first[rnd] if rnd < len(first) else rng.choice(scenarios or SCENARIOS)
        commit = rng.random() < 0.7
        t0 = time.monotonic()
        res = crash_round(peer, rng, rnd, scenario, commit)
        res["seconds"] = round(time.monotonic() - t0, 2)
        log(f"round {rnd}: {scenario}{'' if res['moment'] else ' (MOMENT MISSED)'} "
            f"asked {res['asked']}, client {res['client']}"
            f" ({res['error']}); {res['detail']} [{res['seconds']} s]")
        results.append(res)
        wait_whole(peer, [TOPIC, TOPIC_B])
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
            # the first two faults: one of each kind, then drawn
            kind = ["copier", "broker"][len(done_faults)] if len(done_faults) < 2 else \
                rng.choice(["copier", "broker"])
            if kind == "copier":
                copier.kill9()
                done_faults.append("copier")
                log("eos: kill -9 copier; restart (same transactional.id)")
                copier.start()
            else:
                nd = rng.choice(peer.nodes)
                nd.kill9()
                done_faults.append(nd.name)
                log(f"eos: kill -9 {nd.name}; restart")
                peer.restart(nd)
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
def run(workdir, seed=None, rounds=10, eos_records=2000, eos_faults=4, zk=None,
        scenarios=None, session_timeout_ms=6000):
    """Returns (report dict, problems list)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log(f"seed {seed}, peer {txn_peer.PEER}, rounds {rounds}, eos {eos_records}/{eos_faults}")
    own_zk = None
    if txn_peer.PEER == "samsa" and zk is None:
        from zk import ZooKeeper
        from conftest import free_port
        own_zk = zk = ZooKeeper(Path(workdir) / "zk", free_port()).start_or_fail()
    peer = txn_peer.cluster_nodes(Path(workdir) / "cluster", 3, config=CLUSTER_CONFIG, zk=zk,
                                  session_timeout_ms=session_timeout_ms)
    report = {"seed": seed, "peer": txn_peer.PEER}
    problems = []
    try:
        ids = [nd.node_id for nd in peer.nodes]
        make_topics(peer.bootstrap, [TOPIC], config={"min.insync.replicas": "2"},
                    assignment=[ids[1:] + ids[:1]] * len(PARTS))
        make_topics(peer.bootstrap, [TOPIC_B], config={"min.insync.replicas": "2"},
                    assignment=[ids[i:] + ids[:i] for i in range(len(PARTS))])
        wait_whole(peer, [TOPIC, TOPIC_B])
        if rounds:
            results = run_crash_rounds(peer, rng, rounds, scenarios)
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
    ap.add_argument("--scenarios", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    ap.add_argument("--session-timeout-ms", type=int, default=6000,
                    help="Samsa brokers' zookeeper.session.timeout.ms")
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="samsa-txn-torture.")
    t0 = time.monotonic()
    scen = a.scenarios.split(",") if a.scenarios else None
    bad = set(scen or []) - set(SCENARIOS)
    if bad:
        ap.error(f"unknown scenarios {sorted(bad)}; known: {SCENARIOS}")
    report, problems = run(workdir, a.seed, a.rounds, a.eos_records, a.eos_faults,
                           scenarios=scen, session_timeout_ms=a.session_timeout_ms)
    report["seconds"] = round(time.monotonic() - t0, 1)
    report["problems"] = problems
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))
    outcomes = [r.get("outcome") for r in report.get("rounds", [])]
    missed = [r["round"] for r in report.get("rounds", []) if not r.get("moment", True)]
    log(f"{len(outcomes)} rounds: {outcomes.count('committed')} committed, "
        f"{outcomes.count('aborted')} aborted, {outcomes.count('PARTIAL')} partial; "
        f"moment missed in rounds {missed}; "
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
