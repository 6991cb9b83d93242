"""kafka-consumer-groups against one Samsa broker: --list, --describe with
a live member (its client id, host, committed offset, log end and lag per
partition), then with the group empty --reset-offsets --to-earliest,
--to-offset and --shift-by (each --execute, checked with OffsetFetch), and
--delete (checked with ListGroups)."""

import confluent_kafka as ck
import kproto
import pytest
from conftest import make_topic, produce_values, unique, wait_until
from tools import kt

pytestmark = pytest.mark.tool("kafka-consumer-groups")


def committed(b, g, t):
    with kproto.Conn(b.host, b.port) as c:
        offs = kproto.offset_fetch(c, g, {t: [0, 1]})["offsets"]
    return {p: offs[(t, p)][0] for p in (0, 1)}


def table(out):
    """Rows of a GROUP ... table as dicts keyed by its header."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    i = next(i for i, ln in enumerate(lines) if ln.startswith("GROUP "))
    head = lines[i].split()
    return [dict(zip(head, ln.split())) for ln in lines[i + 1:] if not ln.startswith("GROUP ")]


def test_consumer_groups_describe_reset_delete(samsa, request):
    bs = samsa.bootstrap
    t, g = make_topic(samsa, unique(request), partitions=2), unique(request, "-g")
    for p in (0, 1):
        produce_values(samsa, t, p, [f"v{i}" for i in range(10)])

    c = ck.Consumer({"bootstrap.servers": bs, "group.id": g, "client.id": "kt-member",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.subscribe([t])
        # poll drives the join; the records it returns are not committed
        wait_until(lambda: (c.poll(0.1), len(c.assignment()) == 2)[1], timeout=30,
                   desc="an assignment of both partitions")
        c.commit(offsets=[ck.TopicPartition(t, 0, 4), ck.TopicPartition(t, 1, 10)],
                 asynchronous=False)

        listed = kt("kafka-consumer-groups", "--bootstrap-server", bs, "--list").stdout.split()
        assert g in listed

        out = kt("kafka-consumer-groups", "--bootstrap-server", bs, "--describe",
                 "--group", g).stdout
        rows = {r["PARTITION"]: r for r in table(out) if r.get("TOPIC") == t}
        assert set(rows) == {"0", "1"}, out
        for p, cur, lag in (("0", "4", "6"), ("1", "10", "0")):
            r = rows[p]
            assert (r["GROUP"], r["CURRENT-OFFSET"], r["LOG-END-OFFSET"], r["LAG"]) == \
                (g, cur, "10", lag), out
            assert r["CONSUMER-ID"].startswith("kt-member-"), out
            assert r["HOST"] == "/127.0.0.1" and r["CLIENT-ID"] == "kt-member", out
    finally:
        c.close()                        # leaves the group: Empty, offsets kept

    def reset(*how):
        out = kt("kafka-consumer-groups", "--bootstrap-server", bs, "--reset-offsets",
                 "--group", g, *how, "--execute").stdout
        return {r["PARTITION"]: r["NEW-OFFSET"] for r in table(out) if r.get("TOPIC") == t}

    assert reset("--topic", t, "--to-earliest") == {"0": "0", "1": "0"}
    assert committed(samsa, g, t) == {0: 0, 1: 0}
    assert reset("--topic", f"{t}:1", "--to-offset", 7) == {"1": "7"}
    assert committed(samsa, g, t) == {0: 0, 1: 7}
    assert reset("--all-topics", "--shift-by", 2) == {"0": "2", "1": "9"}
    assert committed(samsa, g, t) == {0: 2, 1: 9}

    out = kt("kafka-consumer-groups", "--bootstrap-server", bs, "--delete", "--group", g).stdout
    assert f"Deletion of requested consumer groups ('{g}') was successful." in out
    with kproto.Conn(samsa.host, samsa.port) as conn:
        assert g not in kproto.list_groups(conn)["groups"]
