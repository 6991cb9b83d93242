"""`samsa group list|describe|reset-offsets|delete` against a live broker
(needs the broker's consumer-group support: FindCoordinator, Join/Sync,
OffsetCommit/Fetch, List/Describe/DeleteGroups). Committed offsets are
checked with confluent-kafka, and an active member is a real
confluent-kafka consumer in this process."""

import threading
import time

import confluent_kafka as ck
import pytest

from conftest import consumer, create_topic, produce_all, producer, wait_until
from test_cli_common import EXIT_FAIL, EXIT_NOTFOUND, EXIT_USAGE, cli, one_line_error  # noqa: F401
from test_cli_produce_consume import committed


def commit_offsets(bs, group, topic, offsets):
    c = consumer(bs, **{"group.id": group})
    try:
        c.commit(offsets=[ck.TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        c.close()


def setup_group(bs, topic="events", partitions=3, per_partition=10, group="billing", offsets=None,
                timestamps=None):
    create_topic(bs, topic, partitions)
    msgs = []
    for p in range(partitions):
        for i in range(per_partition):
            m = {"value": b"%d-%d" % (p, i), "partition": p}
            if timestamps:
                m["timestamp"] = timestamps(p, i)
            msgs.append(m)
    produce_all(producer(bs), topic, msgs)
    if offsets is not None:
        commit_offsets(bs, group, topic, offsets)
    return topic


class Member:
    """A confluent-kafka consumer that joins `group` and keeps polling."""

    def __init__(self, bs, group, topic):
        self.c = consumer(bs, **{"group.id": group, "session.timeout.ms": 10000,
                                 "heartbeat.interval.ms": 500})
        self.assigned = threading.Event()
        self.stop = threading.Event()
        self.c.subscribe([topic], on_assign=lambda c, ps: self.assigned.set())
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        assert self.assigned.wait(30), "member never got an assignment"

    def _run(self):
        while not self.stop.is_set():
            self.c.poll(0.1)

    def close(self):
        self.stop.set()
        self.t.join(10)
        self.c.close()


# --- list ------------------------------------------------------------------------------------

def test_group_list(cli, broker):
    bs = broker.bootstrap
    assert cli.ok("group", "list", "--json").json() == []
    assert "No consumer groups" in cli.ok("group", "list").err
    setup_group(bs, offsets={0: 1})
    commit_offsets(bs, "analytics", "events", {1: 2})
    j = cli.ok("group", "list", "--json").json()
    assert [(g["group"], g["state"]) for g in j] == [("analytics", "Empty"), ("billing", "Empty")]
    lines = cli.ok("group", "list").out.splitlines()
    assert lines[0].split() == ["GROUP", "STATE", "TYPE"]
    assert [ln.split()[:2] for ln in lines[1:]] == [["analytics", "Empty"], ["billing", "Empty"]]


# --- describe ----------------------------------------------------------------------------------

def test_group_describe_offsets_and_lag(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 10, 1: 4, 2: 0})
    j = cli.ok("group", "describe", "billing", "--json").json()
    assert j["group"] == "billing" and j["state"] == "Empty" and j["members"] == []
    assert j["coordinator"] == {"id": 0, "host": "127.0.0.1", "port": broker.port}
    assert [(o["topic"], o["partition"], o["committed_offset"], o["log_end_offset"], o["lag"])
            for o in j["offsets"]] == [("events", 0, 10, 10, 0), ("events", 1, 4, 10, 6),
                                       ("events", 2, 0, 10, 10)]
    assert j["total_lag"] == 16
    human = cli.ok("group", "describe", "billing").out
    assert "State:        Empty" in human and "Total lag:    16" in human and "Members:      0" in human
    rows = [ln.split() for ln in human.splitlines() if ln.startswith("events")]
    assert rows == [["events", "0", "10", "10", "0", "-"], ["events", "1", "4", "10", "6", "-"],
                    ["events", "2", "0", "10", "10", "-"]]


def test_group_describe_active_member(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 3})
    m = Member(bs, "billing", "events")
    try:
        def stable():
            j = cli.ok("group", "describe", "billing", "--json").json()
            return j if j["state"] == "Stable" and j["members"] else None
        j = wait_until(stable, 30, interval=0.5)
        (mem,) = j["members"]
        assert mem["member_id"] and mem["client_id"] and mem["host"]
        assert sorted((a["topic"], a["partition"]) for a in mem["assignment"]) == \
            [("events", 0), ("events", 1), ("events", 2)]
        assert j["assignor"] in ("range", "roundrobin", "cooperative-sticky")
        assigned = {o["partition"]: o for o in j["offsets"]}
        assert set(assigned) == {0, 1, 2}
        assert all(o["member_id"] == mem["member_id"] for o in assigned.values())
        human = cli.ok("group", "describe", "billing").out
        assert "State:        Stable" in human and "events[0,1,2]" in human and mem["member_id"] in human
    finally:
        m.close()


def test_group_describe_unknown(cli, broker):
    r = cli("group", "describe", "nobody")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "group 'nobody' does not exist")


# --- reset-offsets -------------------------------------------------------------------------------

@pytest.mark.parametrize("args,expect", [
    (["--to-earliest"], {0: 0, 1: 0, 2: 0}),
    (["--to-latest"], {0: 10, 1: 10, 2: 10}),
    (["--to-offset", "7"], {0: 7, 1: 7, 2: 7}),
    (["--to-offset", "99"], {0: 10, 1: 10, 2: 10}),          # clamped to the log end
    (["--shift-by", "-3"], {0: 2, 1: 5, 2: 0}),              # clamped to the log start
    (["--shift-by", "2"], {0: 7, 1: 10, 2: 3}),
], ids=["earliest", "latest", "offset", "offset-clamped", "shift-back", "shift-forward"])
def test_group_reset_offsets(cli, broker, args, expect):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 5, 1: 8, 2: 1})
    r = cli.ok("group", "reset-offsets", "billing", "--topic", "events", *args)
    assert "Reset offsets of group 'billing'" in r.out
    assert committed(bs, "billing", "events", 3) == expect


def test_group_reset_to_datetime(cli, broker):
    bs = broker.bootstrap
    base = 1_700_000_000_000
    setup_group(bs, offsets={0: 10, 1: 10, 2: 10}, timestamps=lambda p, i: base + i * 60_000)
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((base + 4 * 60_000) / 1000))
    j = cli.ok("group", "reset-offsets", "billing", "--topic", "events", "--to-datetime", iso, "--json").json()
    assert j["dry_run"] is False
    assert [(p["partition"], p["previous_offset"], p["new_offset"]) for p in j["partitions"]] == \
        [(0, 10, 4), (1, 10, 4), (2, 10, 4)]
    assert committed(bs, "billing", "events", 3) == {0: 4, 1: 4, 2: 4}
    # after the last message: the log end
    cli.ok("group", "reset-offsets", "billing", "--topic", "events", "--to-datetime", "2100-01-01T00:00:00Z")
    assert committed(bs, "billing", "events", 3) == {0: 10, 1: 10, 2: 10}


def test_group_reset_dry_run_and_partition_subset(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 5, 1: 5, 2: 5})
    r = cli.ok("group", "reset-offsets", "billing", "--topic", "events", "--to-earliest", "--dry-run")
    assert "Dry run" in r.out
    rows = [ln.split() for ln in r.out.splitlines() if ln.startswith("events")]
    assert rows == [["events", "0", "5", "0"], ["events", "1", "5", "0"], ["events", "2", "5", "0"]]
    assert committed(bs, "billing", "events", 3) == {0: 5, 1: 5, 2: 5}
    cli.ok("group", "reset-offsets", "billing", "--topic", "events:0,2", "--to-latest")
    assert committed(bs, "billing", "events", 3) == {0: 10, 1: 5, 2: 10}


def test_group_reset_new_group_creates_it(cli, broker):
    bs = broker.bootstrap
    setup_group(bs)
    cli.ok("group", "reset-offsets", "fresh", "--topic", "events", "--to-offset", "3")
    assert committed(bs, "fresh", "events", 3) == {0: 3, 1: 3, 2: 3}
    # and a consumer of that group starts there
    r = cli.ok("consume", "events", "-g", "fresh", "-e")
    assert len(r.out.splitlines()) == 21


def test_group_reset_refuses_an_active_group(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 5})
    m = Member(bs, "billing", "events")
    try:
        wait_until(lambda: cli.ok("group", "describe", "billing", "--json").json()["state"] == "Stable", 30,
                   interval=0.5)
        r = cli("group", "reset-offsets", "billing", "--topic", "events", "--to-earliest")
        assert r.rc == EXIT_FAIL, r
        one_line_error(r, "group 'billing' is Stable with 1 member", "stop its consumers first")
    finally:
        m.close()
    assert committed(bs, "billing", "events", 1)[0] == 5


def test_group_reset_unknown_topic_and_partition(cli, broker):
    setup_group(broker.bootstrap, offsets={0: 1})
    r = cli("group", "reset-offsets", "billing", "--topic", "ghost", "--to-earliest")
    assert r.rc == EXIT_NOTFOUND
    one_line_error(r, "topic 'ghost' does not exist")
    r = cli("group", "reset-offsets", "billing", "--topic", "events:7", "--to-earliest")
    assert r.rc == EXIT_USAGE
    one_line_error(r, "no partition 7")


# --- delete --------------------------------------------------------------------------------------

def test_group_delete(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 4})
    commit_offsets(bs, "other", "events", {0: 1})
    r = cli.ok("group", "delete", "billing")
    assert r.out == "Deleted group 'billing'.\n"
    r = cli("group", "describe", "billing")
    assert r.rc == EXIT_NOTFOUND
    assert committed(bs, "billing", "events", 1)[0] < 0
    assert [g["group"] for g in cli.ok("group", "list", "--json").json()] == ["other"]


def test_group_delete_unknown_and_active(cli, broker):
    bs = broker.bootstrap
    setup_group(bs, offsets={0: 4})
    r = cli("group", "delete", "nobody")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "group 'nobody' does not exist")
    assert cli.ok("group", "delete", "nobody", "--if-exists").rc == 0
    m = Member(bs, "billing", "events")
    try:
        r = cli("group", "delete", "billing")
        assert r.rc == EXIT_FAIL, r
        one_line_error(r, "cannot delete group 'billing'", "active members")
    finally:
        m.close()
    j = cli("group", "delete", "billing", "nobody", "--json")
    assert j.rc == EXIT_NOTFOUND
    assert j.json() == [{"group": "billing", "deleted": True, "error": None},
                        {"group": "nobody", "deleted": False, "error": "group does not exist"}]
