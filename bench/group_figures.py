#!/usr/bin/python3
"""Consumer-group figures for Samsa (measured and printed, nothing asserted).

  (a) rebalance: time from the last of 10 members sending JoinGroup to all 10
      holding their SyncGroup assignment (group.initial.rebalance.delay.ms=0,
      raw protocol clients: 10 sockets, KIP-394 member ids fetched first so
      the final joins all complete the same rebalance);
  (b) offset commits per second sustained: standalone commits (generation
      -1), one partition per OffsetCommit, pipelined on a few connections;
      also offsets/s with 100 partitions per request;
  (c) broker startup time with N (default 1,000,000) offset commits in
      __consumer_offsets: written with pipelined raw commits, broker stopped
      cleanly, then timed from exec until the port accepts, until the
      "loaded ... group(s)" log line (and the load time the broker logs), and
      until an OffsetFetch returns a committed offset.

Every broker runs on 127.0.0.1 on a free port with its data in a temporary
directory, and is stopped by PID.

  /usr/bin/python3 bench/group_figures.py                 # all three
  /usr/bin/python3 bench/group_figures.py --only a,b
  /usr/bin/python3 bench/group_figures.py --commits 200000 --keys-per-group 100
  SAMSA_BROKER=build-gt/samsa-broker /usr/bin/python3 bench/group_figures.py
"""

import argparse
import os
import re
import select
import shutil
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import kproto  # noqa: E402
from conftest import Broker, create_topic, port_open  # noqa: E402

BROKER_BIN = os.path.abspath(os.environ.get("SAMSA_BROKER") or ROOT / "build" / "samsa-broker")


def start_broker(workdir, **overrides):
    b = Broker(workdir, overrides={"group.initial.rebalance.delay.ms": 0, **overrides},
               binary=BROKER_BIN, name="bench")
    b.start()
    return b


def conn(b, client_id="bench"):
    c = kproto.Conn("127.0.0.1", b.port, timeout=120, client_id=client_id)
    fc = kproto.find_coordinator(c, "bench")
    assert fc["error_code"] == 0, fc
    return c


def cpu_seconds(pid):
    """utime + stime of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# --- (a) ---------------------------------------------------------------------------------
def figure_a(workdir, rounds, members=10):
    b = start_broker(workdir)
    try:
        topic = "bench-rebalance"
        create_topic(b.bootstrap, topic, members)
        sub = [("range", kproto.consumer_subscription([topic]))]
        conns = [conn(b, f"m{i}") for i in range(members)]
        times = []
        for rnd in range(rounds):
            g = f"bench-rebalance-{rnd}"
            ids = []
            for c in conns:        # KIP-394: get a member id first (no join yet)
                r = kproto.join_group(c, g, protocols=sub)
                assert r["error_code"] == kproto.MEMBER_ID_REQUIRED, r
                ids.append(r["member_id"])
            pend = []
            for c, mid in zip(conns, ids):
                pend.append(kproto.send_join_group(c, g, member_id=mid, protocols=sub))
            t0 = time.perf_counter()          # the last member has joined
            joins = [kproto.recv_join_group(c, *p) for c, p in zip(conns, pend)]
            assert all(j["error_code"] == 0 and j["generation_id"] == 1 for j in joins), joins
            leader = joins[0]["leader"]
            plan = {mid: kproto.consumer_assignment({topic: [i]}) for i, mid in enumerate(ids)}
            syncs = []
            for c, j in zip(conns, joins):    # followers first, the leader last
                if j["member_id"] != leader:
                    syncs.append((c, kproto.send_sync_group(c, g, 1, j["member_id"])))
            lc = conns[ids.index(leader)]
            syncs.append((lc, kproto.send_sync_group(lc, g, 1, leader, plan)))
            res = [kproto.recv_sync_group(c, *p) for c, p in syncs]
            t1 = time.perf_counter()
            assert all(r["error_code"] == 0 and r["assignment"] for r in res), res
            times.append((t1 - t0) * 1000)
            kproto.leave_group(conns[0], g, [(m, None) for m in ids])
        for c in conns:
            c.close()
    finally:
        b.stop()
    print(f"(a) {members} members, last JoinGroup -> all {members} SyncGroup assignments, "
          f"{rounds} rounds: median {statistics.median(times):.2f} ms, "
          f"p95 {pct(times, 95):.2f} ms, min {min(times):.2f} ms, max {max(times):.2f} ms")
    return times


# --- pipelined standalone commits ----------------------------------------------------------
def commit_frame(c, group, topic, partitions, offset, version=7):
    """A complete OffsetCommit frame (size prefix included) and its corr id."""
    w = kproto.W(False).string(group).i32(-1).string("").string(None)
    w.array([topic], lambda w, t: w.string(t).array(
        list(partitions), lambda w, p: w.i32(p).i64(offset).i32(-1).string("")))
    c.corr += 1
    payload = c.header(kproto.OFFSET_COMMIT, version, c.corr) + w.done()
    return struct.pack(">i", len(payload)) + payload


class Pipe:
    """Keeps up to `window` OffsetCommit requests in flight on one connection."""

    def __init__(self, c, make_frame, window):
        self.c, self.make, self.window = c, make_frame, window
        self.inflight = 0
        self.buf = bytearray()
        self.done = self.errors = 0
        self.c.sock.setblocking(False)
        self.out = bytearray()

    def fill(self, allow=True):
        while allow and self.inflight < self.window:
            self.out += self.make()
            self.inflight += 1
        if self.out:
            try:
                n = self.c.sock.send(self.out)
                del self.out[:n]
            except BlockingIOError:
                pass

    def read(self):
        try:
            data = self.c.sock.recv(1 << 20)
        except BlockingIOError:
            return
        if not data:
            raise ConnectionError("broker closed the connection")
        self.buf += data
        while len(self.buf) >= 4:
            (n,) = struct.unpack_from(">i", self.buf)
            if len(self.buf) < 4 + n:
                break
            frame = bytes(self.buf[4:4 + n])
            del self.buf[:4 + n]
            self.inflight -= 1
            # v7: corr, throttle, [topic: name, [partition, error]]
            r = kproto.R(frame)
            r.i32(), r.i32()
            for _ in range(r.i32()):
                r.string()
                for _ in range(r.i32()):
                    r.i32()
                    if r.i16():
                        self.errors += 1
                    else:
                        self.done += 1


def run_pipes(pipes, duration=None, total=None):
    """Drive all pipes until `duration` seconds passed or `total` requests were
    sent; returns the elapsed seconds once everything sent is answered."""
    t0 = time.perf_counter()
    sent = 0
    socks = {p.c.sock: p for p in pipes}
    while True:
        now = time.perf_counter()
        more = (duration is None or now - t0 < duration) and (total is None or sent < total)
        for p in pipes:
            before = p.inflight
            room = total - sent if total is not None else None
            if more and room is not None and room < p.window - p.inflight:
                p.window, w0 = p.inflight + room, p.window
                p.fill(True)
                p.window = w0
            else:
                p.fill(more)
            sent += p.inflight - before
        if not more and all(p.inflight == 0 for p in pipes):
            return time.perf_counter() - t0
        r, w, _ = select.select(list(socks), [p.c.sock for p in pipes if p.out], [], 5)
        for s in r:
            socks[s].read()


def figure_b(workdir, duration, nconns, window):
    b = start_broker(workdir)
    try:
        topic = "bench-commit"
        create_topic(b.bootstrap, topic, 100)
        out = {}
        for label, per_req in (("1 partition per request", 1), ("100 partitions per request", 100)):
            pipes = []
            for i in range(nconns):
                c = conn(b, f"committer{i}")
                counter = [0]

                def make(c=c, i=i, counter=counter, per_req=per_req):
                    counter[0] += 1
                    p0 = counter[0] % 100
                    parts = [p0] if per_req == 1 else range(100)
                    return commit_frame(c, f"bench-commit-{i}", topic, parts, counter[0])
                pipes.append(Pipe(c, make, window))
            run_pipes(pipes, duration=1.0)          # warm-up
            for p in pipes:
                p.done = p.errors = 0
            bcpu0, ccpu0 = cpu_seconds(b.pid), os.times()
            el = run_pipes(pipes, duration=duration)
            bcpu = cpu_seconds(b.pid) - bcpu0
            ccpu = sum(os.times()[:2]) - sum(ccpu0[:2])
            done = sum(p.done for p in pipes)
            errs = sum(p.errors for p in pipes)
            for p in pipes:
                p.c.close()
            out[label] = done / el
            print(f"(b) offset commits/s, standalone, {label}, {nconns} connections x "
                  f"{window} in flight, {el:.1f} s: {done / el:,.0f} offsets/s "
                  f"({done / el / per_req:,.0f} requests/s), errors {errs}; CPU: broker "
                  f"{bcpu / el * 100:.0f}%, this client {ccpu / el * 100:.0f}%")
    finally:
        b.stop()
    return out


# --- (c) ---------------------------------------------------------------------------------
def figure_c(workdir, commits, keys_per_group, nconns, window, groups=0):
    b = start_broker(workdir)
    topic = "bench-load"
    try:
        create_topic(b.bootstrap, topic, keys_per_group)
        nreq = commits // keys_per_group
        # request k commits partitions 0..keys_per_group-1 of group k % groups
        # (default: a group per request, so every commit is a distinct key)
        groups = groups or max(1, nreq)
        pipes = []
        counter = [0]
        for i in range(nconns):
            c = conn(b, f"writer{i}")

            def make(c=c):
                k = counter[0]
                counter[0] += 1
                return commit_frame(c, f"bench-load-{k % groups:07d}", topic,
                                    range(keys_per_group), 1000 + k)
            pipes.append(Pipe(c, make, window))
        el = run_pipes(pipes, total=nreq)
        done = sum(p.done for p in pipes)
        errs = sum(p.errors for p in pipes)
        for p in pipes:
            p.c.close()
        print(f"(c) wrote {done:,} offset commits ({nreq:,} requests of {keys_per_group}, "
              f"{groups:,} groups, {min(groups, nreq) * keys_per_group:,} distinct keys) in "
              f"{el:.1f} s, errors {errs}")
        probe_group = f"bench-load-{(nreq - 1) % groups:07d}"
        probe_expect = 1000 + nreq - 1
        size = sum(f.stat().st_size for f in b.logdir.glob("__consumer_offsets-*/*.log"))
        print(f"    __consumer_offsets: {size / 1e6:.1f} MB of segments")
        b.stop()
        mark = len(b.log_text())
        t0 = time.perf_counter()
        b.start(wait=False)
        t_port = t_loaded = t_fetch = None
        line = None
        while not port_open(b.port):
            assert b.running() and time.perf_counter() - t0 < 600, b.log_tail()
            time.sleep(0.001)
        t_port = time.perf_counter() - t0
        # ask at once: while the load runs, an OffsetFetch must wait or say
        # COORDINATOR_LOAD_IN_PROGRESS (14), never answer "no offset"
        wrong = []
        with conn(b) as c:
            while True:
                f = kproto.offset_fetch(c, probe_group, {topic: [keys_per_group - 1]})
                off, _, _, perr = f["offsets"][(topic, keys_per_group - 1)]
                if off == probe_expect:
                    break
                wrong.append((round((time.perf_counter() - t0) * 1000), off, perr, f["error_code"]))
                time.sleep(0.002)
            t_fetch = time.perf_counter() - t0
        m = b.wait_for_log(r"loaded \d+ group\(s\) from __consumer_offsets.*", 600, since=mark)
        line = m.group(0)
        ts = re.search(r"in ([\d.]+) ms", line)
        t_loaded = float(ts.group(1)) / 1000 if ts else float("nan")
        if wrong:
            print(f"    OffsetFetch answers before the committed offset appeared "
                  f"(ms since exec, offset, partition error, error): {wrong[:3]} ... "
                  f"{len(wrong)} in all")
        print(f"(c) restart with {done:,} commits in __consumer_offsets: port accepting "
              f"{t_port * 1000:.0f} ms after exec, load {t_loaded * 1000:.0f} ms (broker log), "
              f"first OffsetFetch (sent at once) answered correctly {t_fetch * 1000:.0f} ms "
              f"after exec")
        print(f"    broker: {line}")
        return t_port, t_loaded, line
    finally:
        if b.running():
            b.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="a,b,c")
    ap.add_argument("--rounds", type=int, default=30, help="(a) rebalances measured")
    ap.add_argument("--duration", type=float, default=5.0, help="(b) seconds per measurement")
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--window", type=int, default=64, help="requests in flight per connection")
    ap.add_argument("--commits", type=int, default=1_000_000, help="(c) commits to write")
    ap.add_argument("--keys-per-group", type=int, default=100,
                    help="(c) partitions per commit request (= offsets per group)")
    ap.add_argument("--groups", type=int, default=0,
                    help="(c) groups to spread the commits over (default: commits/keys-per-group, "
                         "every commit a distinct key)")
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    a = ap.parse_args()
    print(f"broker {BROKER_BIN}; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    work = Path(tempfile.mkdtemp(prefix="samsa-group-bench-"))
    try:
        only = set(a.only.split(","))
        if "a" in only:
            figure_a(work / "a", a.rounds)
        if "b" in only:
            figure_b(work / "b", a.duration, a.conns, a.window)
        if "c" in only:
            figure_c(work / "c", a.commits, a.keys_per_group, a.conns, a.window, a.groups)
    finally:
        if a.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
