"""Consumer groups: shared helpers for the test_groups_*.py files, and the
entry point of the out-of-process group member the eviction and static
membership tests kill with SIGKILL (`python3 test_groups_common.py member
...`, one JSON line per event on stdout).

In-process members are confluent-kafka (librdkafka 1.7) or kafka-python
consumers polled by a thread of their own; each records its assign/revoke
callbacks (with a timestamp) and every message it receives. Messages carry a
unique sequence number in their value (b"seq-%08d"), so tests check that
every message reached exactly one member of a group.

Its one test checks kproto's consumer-protocol encoders against
kafka-python's (no broker). Importing this file must stay cheap: the child
process imports it too.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import confluent_kafka as ck

import kproto
from kproto import MEMBER_ID_REQUIRED

HERE = Path(__file__).resolve().parent

# Broker settings for group tests: no initial rebalance delay, short
# sessions allowed (so eviction tests take seconds, not minutes).
GROUP_BROKER = {"group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000}


def seq_value(n):
    return b"seq-%08d" % n


def seq_of(value):
    assert value.startswith(b"seq-"), value
    return int(value[4:12])


def seq_messages(first, count, partitions):
    """Messages first..first+count-1, round-robin over `partitions` (a list):
    returns [dict(value, partition)] and {seq: partition}."""
    msgs = [dict(value=seq_value(first + i), partition=partitions[i % len(partitions)])
            for i in range(count)]
    return msgs, {seq_of(m["value"]): m["partition"] for m in msgs}


def wait_for(cond, timeout, desc):
    """conftest.wait_until, with `desc` either a string or a callable giving
    the diagnostics at the time of failure."""
    from conftest import wait_until
    try:
        return wait_until(cond, timeout, desc=desc if isinstance(desc, str) else "condition")
    except AssertionError as e:
        if callable(desc):
            raise AssertionError(f"{e}: {desc()}") from None
        raise


def log_count(broker, pattern, since=0):
    return len(re.findall(pattern, broker.log_text()[since:]))


# --- in-process confluent-kafka member ------------------------------------------------
class Member:
    """A confluent-kafka group member polled by its own thread.

    assignment: the partitions it currently owns (eager: replaced on assign,
    cleared on revoke; cooperative: add/remove increments). events: list of
    (monotonic time, "assign"/"revoke", sorted partitions). received: list of
    (partition, offset, seq). commit_each: commit every message's offset
    synchronously after receiving it (at-least-once -> exactly-once here).
    max_messages: process (and commit) at most that many; later messages are
    polled and dropped, so rebalances still complete (a consumer that "stops
    half-way" deterministically, however fast the machine).
    """

    def __init__(self, bs, group, topic, name="m", cooperative=False, commit_each=False,
                 commit_on_revoke=False, start=True, max_messages=None, **conf):
        base = {"bootstrap.servers": bs, "group.id": group, "client.id": name,
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "enable.partition.eof": False, "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 300, "fetch.wait.max.ms": 100,
                "socket.timeout.ms": 10000}
        if cooperative:
            base["partition.assignment.strategy"] = "cooperative-sticky"
        base.update(conf)
        self.name, self.topic, self.cooperative = name, topic, cooperative
        self.commit_each, self.commit_on_revoke = commit_each, commit_on_revoke
        self.max_messages = max_messages
        self.lock = threading.Lock()
        self.assignment = set()
        self.events = []
        self.received = []
        self.errors = []
        self.position = {}          # partition -> next offset to process
        self.stop_flag = threading.Event()
        self.closed = threading.Event()
        self.close_time = None
        self.c = ck.Consumer(base)
        self.t = threading.Thread(target=self._run, name=f"member-{name}", daemon=True)
        if start:
            self.start()

    def start(self):
        self.c.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.t.start()
        return self

    # callbacks run inside poll() on the member's thread
    def _on_assign(self, c, parts):
        ps = sorted(p.partition for p in parts)
        if self.cooperative:
            c.incremental_assign(parts)
        else:
            c.assign(parts)
        with self.lock:
            if self.cooperative:
                self.assignment |= set(ps)
            else:
                self.assignment = set(ps)
            self.events.append((time.monotonic(), "assign", ps))

    def _on_revoke(self, c, parts):
        ps = sorted(p.partition for p in parts)
        if self.commit_on_revoke:
            with self.lock:
                offs = [ck.TopicPartition(self.topic, p, self.position[p])
                        for p in ps if p in self.position]
            if offs:
                try:
                    c.commit(offsets=offs, asynchronous=False)
                except ck.KafkaException as e:
                    with self.lock:
                        self.errors.append(("commit-on-revoke", str(e)))
        if self.cooperative:
            c.incremental_unassign(parts)
        else:
            c.unassign()
        with self.lock:
            if self.cooperative:
                self.assignment -= set(ps)
            else:
                self.assignment = set()
            for p in ps:
                self.position.pop(p, None)
            self.events.append((time.monotonic(), "revoke", ps))

    def _run(self):
        try:
            while not self.stop_flag.is_set():
                m = self.c.poll(0.1)
                if m is None:
                    continue
                if self.max_messages is not None and len(self.received) >= self.max_messages:
                    continue    # keep polling (rebalances need it), process nothing more
                if m.error():
                    with self.lock:
                        self.errors.append(("consume", str(m.error())))
                    continue
                if self.commit_each:
                    try:
                        self.c.commit(message=m, asynchronous=False)
                    except ck.KafkaException as e:
                        with self.lock:
                            self.errors.append(("commit", str(e)))
                        continue
                with self.lock:
                    self.received.append((m.partition(), m.offset(), seq_of(m.value())))
                    self.position[m.partition()] = m.offset() + 1
        finally:
            self.c.close()      # LeaveGroup (dynamic members)
            self.close_time = time.monotonic()
            self.closed.set()

    def close(self, timeout=30):
        """Graceful close (LeaveGroup) on the member's own thread."""
        self.stop_flag.set()
        self.t.join(timeout)
        assert self.closed.is_set(), f"member {self.name} did not close within {timeout}s"

    # snapshots
    def owned(self):
        with self.lock:
            return set(self.assignment)

    def seqs(self):
        with self.lock:
            return [s for _, _, s in self.received]

    def counts(self):
        with self.lock:
            return (sum(1 for e in self.events if e[1] == "assign"),
                    sum(1 for e in self.events if e[1] == "revoke"))


def balanced(members, nparts):
    """True when every member owns something, no partition is owned twice and
    together they own all `nparts` partitions."""
    owned = [m.owned() for m in members]
    union = set().union(*owned)
    return (all(owned) and sum(len(o) for o in owned) == len(union)
            and union == set(range(nparts)))


def assert_exactly_once(members, expected, owner_check=True):
    """expected: {seq: partition}. Every seq received exactly once in total;
    nothing unexpected."""
    seen = {}
    for m in members:
        with m.lock:
            rec = list(m.received)
        for p, off, s in rec:
            assert s in expected, f"{m.name} received unexpected seq {s} (p{p}@{off})"
            assert expected[s] == p, f"seq {s} came from partition {p}, sent to {expected[s]}"
            assert s not in seen, (f"seq {s} (p{p}@{off}) delivered twice: to {seen[s]} "
                                   f"and {m.name}")
            seen[s] = m.name
    missing = sorted(set(expected) - set(seen))
    assert not missing, f"{len(missing)} messages never delivered, e.g. {missing[:10]}"


def total_received(members, expected):
    n = 0
    for m in members:
        n += sum(1 for s in m.seqs() if s in expected)
    return n


# --- raw protocol member ---------------------------------------------------------------
def group_conn(broker):
    """A raw connection after FindCoordinator (which creates __consumer_offsets)."""
    from conftest import raw_conn
    rc = raw_conn(broker)
    fc = kproto.find_coordinator(rc, "any")
    assert fc["error_code"] == 0 and fc["port"] == broker.port, fc
    return rc


class RawMember:
    """One group member over its own connection: join (answering
    MEMBER_ID_REQUIRED), sync (as leader it assigns every partition to
    itself), heartbeat."""

    def __init__(self, broker, group, topic, nparts=1, instance_id=None, session_ms=30000,
                 client_id="raw-member", rebalance_ms=30000):
        self.conn = group_conn(broker)
        self.conn.client_id = client_id
        self.group, self.topic, self.nparts = group, topic, nparts
        self.instance_id = instance_id
        self.session_ms, self.rebalance_ms = session_ms, rebalance_ms
        self.member_id, self.generation = "", -1

    def protocols(self):
        return [("range", kproto.consumer_subscription([self.topic]))]

    def join(self):
        r = self.send_join()
        if r["error_code"] == MEMBER_ID_REQUIRED:
            self.member_id = r["member_id"]
            r = self.send_join()
        return self.joined(r)

    def send_join(self, wait=True):
        """One JoinGroup; wait=False: only send, returns (corr, version) for
        kproto.recv_join_group (the broker parks joins during a rebalance)."""
        kw = dict(member_id=self.member_id, protocols=self.protocols(),
                  session_timeout_ms=self.session_ms, rebalance_timeout_ms=self.rebalance_ms,
                  group_instance_id=self.instance_id)
        if not wait:
            return kproto.send_join_group(self.conn, self.group, **kw)
        return kproto.join_group(self.conn, self.group, **kw)

    def joined(self, r):
        assert r["error_code"] == 0, r
        self.member_id, self.generation = r["member_id"], r["generation_id"]
        self.leader = r["leader"] == self.member_id
        self.join_resp = r
        return r

    def sync(self, plan=None):
        """SyncGroup; the leader sends `plan` ({member_id: [partitions]};
        default: every partition to itself). Returns the assigned {topic: [p]}."""
        corr, v = self.send_sync(plan)
        return self.synced(kproto.recv_sync_group(self.conn, corr, v))

    def send_sync(self, plan=None):
        assign = None
        if self.leader:
            if plan is None:
                plan = {m["member_id"]: [] for m in self.join_resp["members"]}
                plan[self.member_id] = list(range(self.nparts))
            assign = {mid: kproto.consumer_assignment({self.topic: ps} if ps else {})
                      for mid, ps in plan.items()}
        return kproto.send_sync_group(self.conn, self.group, self.generation, self.member_id,
                                      assign, group_instance_id=self.instance_id)

    def synced(self, r):
        assert r["error_code"] == 0, r
        return kproto.parse_consumer_assignment(r["assignment"])["assigned"]

    def join_and_sync(self):
        self.join()
        return self.sync()

    def heartbeat(self):
        return kproto.heartbeat(self.conn, self.group, self.generation, self.member_id,
                                group_instance_id=self.instance_id)

    def close(self):
        self.conn.close()


def test_consumer_protocol_encoders_match_kafka_python():
    """kproto's subscription/assignment bytes equal kafka-python's, and parse back."""
    from kafka.coordinator.protocol import (ConsumerProtocolMemberAssignment,
                                            ConsumerProtocolMemberMetadata)
    sub = kproto.consumer_subscription(["a", "bb"], user_data=b"ud")
    assert sub == ConsumerProtocolMemberMetadata(0, ["a", "bb"], b"ud").encode()
    assert kproto.parse_consumer_subscription(sub) == {"version": 0, "topics": ["a", "bb"],
                                                      "user_data": b"ud"}
    asg = kproto.consumer_assignment({"a": [0, 2], "bb": [1]})
    assert asg == ConsumerProtocolMemberAssignment(0, [("a", [0, 2]), ("bb", [1])], None).encode()
    assert kproto.parse_consumer_assignment(asg)["assigned"] == {"a": [0, 2], "bb": [1]}
    assert kproto.parse_consumer_assignment(b"")["assigned"] == {}
    v1 = kproto.parse_consumer_subscription(
        kproto.consumer_subscription(["a"], owned={"a": [3]}, version=1))
    assert v1["owned"] == {"a": [3]}


# --- out-of-process member ----------------------------------------------------------
class ChildMember:
    """A confluent-kafka group member in its own Python process (so it can be
    killed with SIGKILL). Reads its JSON event lines in a thread."""

    def __init__(self, bs, group, topic, name, instance_id=None, session_timeout_ms=6000,
                 heartbeat_ms=300):
        argv = [sys.executable, str(HERE / "test_groups_common.py"), "member",
                "--bootstrap", bs, "--group", group, "--topic", topic, "--name", name,
                "--session-timeout", str(session_timeout_ms), "--heartbeat", str(heartbeat_ms)]
        if instance_id:
            argv += ["--instance-id", instance_id]
        self.name = name
        self.lock = threading.Lock()
        self.assignment = set()
        self.events = []
        self.received = []
        self.stderr_lines = []
        if shutil.which("setpriv"):   # dies with the test process
            argv = [shutil.which("setpriv"), "--pdeathsig", "KILL", "--"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=HERE)
        self.pid = self.proc.pid
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                if ev["ev"] == "assign":
                    self.assignment = set(ev["p"])
                    self.events.append((time.monotonic(), "assign", ev["p"]))
                elif ev["ev"] == "revoke":
                    self.assignment = set()
                    self.events.append((time.monotonic(), "revoke", ev["p"]))
                elif ev["ev"] == "msg":
                    self.received.append((ev["p"], ev["o"], ev["s"]))

    def _read_err(self):
        for line in self.proc.stderr:
            with self.lock:
                self.stderr_lines.append(line.decode(errors="replace").rstrip())

    def owned(self):
        with self.lock:
            return set(self.assignment)

    def seqs(self):
        with self.lock:
            return [s for _, _, s in self.received]

    def kill9(self):
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        """Test teardown: SIGKILL by PID if still running."""
        if self.proc.poll() is None:
            self.kill9()

    def diag(self):
        with self.lock:
            return f"child {self.name} pid {self.pid} events {self.events} stderr {self.stderr_lines[-20:]}"


def _child_member(args):
    conf = {"bootstrap.servers": args.bootstrap, "group.id": args.group,
            "client.id": args.name, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": False,
            "session.timeout.ms": args.session_timeout,
            "heartbeat.interval.ms": args.heartbeat, "fetch.wait.max.ms": 100}
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id
    c = ck.Consumer(conf)

    def out(**ev):
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()

    def on_assign(c, parts):
        c.assign(parts)
        out(ev="assign", p=sorted(p.partition for p in parts))

    def on_revoke(c, parts):
        c.unassign()
        out(ev="revoke", p=sorted(p.partition for p in parts))

    c.subscribe([args.topic], on_assign=on_assign, on_revoke=on_revoke)
    while True:   # runs until killed
        m = c.poll(0.1)
        if m is None:
            continue
        if m.error():
            sys.stderr.write(f"consumer error: {m.error()}\n")
            continue
        out(ev="msg", p=m.partition(), o=m.offset(), s=seq_of(m.value()))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    mp = sub.add_parser("member")
    mp.add_argument("--bootstrap", required=True)
    mp.add_argument("--group", required=True)
    mp.add_argument("--topic", required=True)
    mp.add_argument("--name", default="child")
    mp.add_argument("--instance-id")
    mp.add_argument("--session-timeout", type=int, default=6000)
    mp.add_argument("--heartbeat", type=int, default=300)
    a = ap.parse_args()
    if a.cmd == "member":
        _child_member(a)
