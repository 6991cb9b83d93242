"""`samsa produce` and `samsa consume` against a live broker. What the CLI
produced is read back with confluent-kafka; what it consumes was written
with confluent-kafka; group commits are checked through the group's
committed offsets."""

import base64
import os
import pty
import select
import signal
import subprocess
import time

import confluent_kafka as ck

from conftest import (consume_exact, consumer, create_topic, produce_all, producer, wait_until,
                      watermarks)
from test_cli_common import (CLI_BIN, EXIT_FAIL, EXIT_INTR, EXIT_NOTFOUND, EXIT_USAGE, cli,  # noqa: F401
                             cli_env, one_line_error)


def committed(bs, group, topic, partitions):
    c = consumer(bs, **{"group.id": group})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


# --- produce ---------------------------------------------------------------------------

def test_produce_lines_from_stdin(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "lines", 1)
    data = "".join(f"line {i}\n" for i in range(1000)) + "\n" + "crlf\r\n" + "last-no-newline"
    r = cli.ok("produce", "lines", input=data)
    assert r.out == ""
    assert "Produced 1,003 messages to 'lines'" in r.err
    got = consume_exact(bs, "lines", {0: 1003})[0]
    values = [m.value() for m in got]
    assert values[:1000] == [b"line %d" % i for i in range(1000)]
    assert values[1000:] == [b"", b"crlf", b"last-no-newline"]
    assert all(m.key() is None and m.headers() is None for m in got)


def test_produce_file_keys_headers_partition_compression_acks(cli, broker, tmp_path):
    bs = broker.bootstrap
    create_topic(bs, "keyed", 3)
    f = tmp_path / "in.txt"
    f.write_text("k1::v1\nk2::v2::with::seps\nno separator here\n::empty-key\n")
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        r = cli.ok("produce", "keyed", "-f", str(f), "-K", "::", "-H", "src=test", "-H", "codec=" + codec,
                   "-p", "2", "-z", codec, "-a", "1")
    got = consume_exact(bs, "keyed", {2: 16})[2]
    assert watermarks(bs, "keyed", 0)[1] == watermarks(bs, "keyed", 1)[1] == 0
    first = got[:4]
    assert [(m.key(), m.value()) for m in first] == [
        (b"k1", b"v1"), (b"k2", b"v2::with::seps"), (None, b"no separator here"), (b"", b"empty-key")]
    assert [m.headers() for m in got[::4]] == [[("src", b"test"), ("codec", c.encode())]
                                              for c in ("gzip", "snappy", "lz4", "zstd")]


def test_produce_json_summary_and_acks0(cli, broker):
    create_topic(broker.bootstrap, "acks0", 1)
    r = cli.ok("produce", "acks0", "-a", "0", "--json", input="a\nb\nc\n")
    j = r.json()
    assert (j["topic"], j["produced"], j["failed"], j["bytes"], j["errors"]) == ("acks0", 3, 0, 3, [])
    assert r.err == ""
    wait_until(lambda: watermarks(broker.bootstrap, "acks0", 0)[1] == 3, 10)


def test_produce_unknown_topic_is_not_created(cli, broker):
    r = cli("produce", "ghost", input="x\n")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "topic 'ghost' does not exist")
    from test_cli_topic import partitions_of
    assert partitions_of(broker.bootstrap, "ghost") is None


def test_produce_bad_partition_and_missing_file(cli, broker):
    create_topic(broker.bootstrap, "two", 2)
    r = cli("produce", "two", "-p", "2", input="x\n")
    assert r.rc == EXIT_USAGE, r
    one_line_error(r, "topic 'two' has 2 partitions; there is no partition 2")
    r = cli("produce", "two", "-f", "/nonexistent/input.txt")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "cannot open /nonexistent/input.txt")
    assert watermarks(broker.bootstrap, "two", 0)[1] == 0


def test_produce_delivery_failure_is_reported(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "tiny", 1, config={"max.message.bytes": "200"})
    big = "x" * 1000
    r = cli("produce", "tiny", "-X", "linger.ms=0", input=big + "\n")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "1 of 1 message to 'tiny' failed", "Message size too large")
    r = cli("produce", "tiny", "--json", "-X", "linger.ms=0", input=big + "\n")
    assert r.rc == EXIT_FAIL
    assert r.json()["failed"] == 1 and r.json()["errors"][0]["code"] == "MSG_SIZE_TOO_LARGE"
    assert watermarks(bs, "tiny", 0)[1] == 0
    # a small message still goes through
    cli.ok("produce", "tiny", input="ok\n")
    assert watermarks(bs, "tiny", 0)[1] == 1


def test_produce_progress_line_only_on_a_terminal(cli, broker):
    create_topic(broker.bootstrap, "prog", 1)
    master, slave = pty.openpty()
    p = subprocess.Popen([CLI_BIN, "-b", broker.bootstrap, "produce", "prog"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=slave, env=cli_env())
    os.close(slave)
    for i in range(3):
        p.stdin.write(b"".join(b"m%d\n" % k for k in range(1000)))
        p.stdin.flush()
        time.sleep(0.7)
    p.stdin.close()
    assert p.wait(30) == 0
    seen = b""
    while select.select([master], [], [], 0.5)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    text = seen.decode(errors="replace")
    assert "\rproduced " in text and "msg/s" in text, text
    assert "Produced 3,000 messages" in text
    # not a terminal: no progress line
    r = cli.ok("produce", "prog", input="a\nb\n")
    assert "\r" not in r.err and "msg/s" not in r.err


def test_produce_interrupted_waits_for_deliveries(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "intr", 1)
    p = subprocess.Popen([CLI_BIN, "-b", bs, "produce", "intr"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
    p.stdin.write(b"".join(b"x%d\n" % i for i in range(500)))
    p.stdin.flush()
    wait_until(lambda: watermarks(bs, "intr", 0)[1] == 500, 15)
    p.send_signal(signal.SIGINT)   # stdin still open: only Ctrl-C ends it
    out, err = p.communicate(timeout=15)
    assert p.returncode == EXIT_INTR, err
    assert b"Produced 500 messages" in err


# --- consume ---------------------------------------------------------------------------------

def fill(bs, topic, partitions, per_partition, **extra):
    create_topic(bs, topic, partitions)
    msgs = [{"value": b"p%d-%d" % (p, i), "key": b"k%d" % i, "partition": p, **extra}
            for p in range(partitions) for i in range(per_partition)]
    produce_all(producer(bs), topic, msgs)
    return msgs


def test_consume_value_kv_and_json(cli, broker):
    bs = broker.bootstrap
    fill(bs, "fmt", 2, 3, headers=[("h1", b"a"), ("h1", b"b"), ("bin", b"\xff\x00")])
    r = cli.ok("consume", "fmt", "-e")
    assert sorted(r.out.splitlines()) == sorted(f"p{p}-{i}" for p in range(2) for i in range(3))
    assert "Consumed 6 messages from 'fmt'" in r.err
    r = cli.ok("consume", "fmt", "-e", "-p", "1", "-F", "kv", "-q")
    assert r.out.splitlines() == ["k0\tp1-0", "k1\tp1-1", "k2\tp1-2"] and r.err == ""
    r = cli.ok("consume", "fmt", "-e", "-p", "0", "-K", " => ")
    assert r.out.splitlines()[0] == "k0 => p0-0"
    rows = cli.ok("consume", "fmt", "-e", "-p", "0", "--json").json_lines()
    assert [(j["partition"], j["offset"], j["key"], j["value"]) for j in rows] == \
        [(0, i, f"k{i}", f"p0-{i}") for i in range(3)]
    j = rows[0]
    assert j["topic"] == "fmt" and j["timestamp_type"] == "create" and j["timestamp"] > 1_600_000_000_000
    assert j["headers"] == [{"key": "h1", "value": "a"}, {"key": "h1", "value": "b"},
                            {"key": "bin", "value": base64.b64encode(b"\xff\x00").decode(),
                             "value_encoding": "base64"}]
    assert rows == cli.ok("consume", "fmt", "-e", "-p", "0", "-F", "json").json_lines()


def test_consume_null_key_binary_value_json(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "bin", 1)
    produce_all(producer(bs), "bin", [{"value": bytes(range(256))}, {"value": None, "key": b"tomb"},
                                      {"value": "ünïcødé\n\"q\"".encode()}])
    rows = cli.ok("consume", "bin", "-e", "--json").json_lines()
    assert rows[0]["key"] is None
    assert base64.b64decode(rows[0]["value"]) == bytes(range(256)) and rows[0]["value_encoding"] == "base64"
    assert rows[1]["key"] == "tomb" and rows[1]["value"] is None
    assert rows[2]["value"] == "ünïcødé\n\"q\"" and "value_encoding" not in rows[2]


def test_consume_start_positions_and_count(cli, broker):
    bs = broker.bootstrap
    fill(bs, "pos", 1, 10)
    vals = lambda r: r.out.splitlines()  # noqa: E731
    assert vals(cli.ok("consume", "pos", "-e", "-o", "beginning")) == [f"p0-{i}" for i in range(10)]
    assert vals(cli.ok("consume", "pos", "-e", "-o", "7")) == ["p0-7", "p0-8", "p0-9"]
    assert vals(cli.ok("consume", "pos", "-e", "-o", "-2")) == ["p0-8", "p0-9"]
    assert vals(cli.ok("consume", "pos", "-e", "-o", "end")) == []
    assert vals(cli.ok("consume", "pos", "-n", "4", "-o", "3")) == ["p0-3", "p0-4", "p0-5", "p0-6"]


def test_consume_from_timestamp(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "ts", 2)
    base = 1_700_000_000_000
    produce_all(producer(bs), "ts", [{"value": b"t%d" % i, "partition": i % 2, "timestamp": base + i * 1000}
                                     for i in range(10)])
    r = cli.ok("consume", "ts", "-e", "-T", str(base + 6000))
    assert sorted(r.out.splitlines()) == ["t6", "t7", "t8", "t9"]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((base + 4000) / 1000)) + "Z"
    r = cli.ok("consume", "ts", "-e", "-T", iso)
    assert sorted(r.out.splitlines()) == [f"t{i}" for i in range(4, 10)]
    assert cli.ok("consume", "ts", "-e", "-T", "now").out == ""   # all older than now


def test_consume_unknown_topic_and_partition(cli, broker):
    r = cli("consume", "ghost", "-e")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "topic 'ghost' does not exist")
    create_topic(broker.bootstrap, "one", 1)
    r = cli("consume", "one", "-p", "3", "-e")
    assert r.rc == EXIT_USAGE
    one_line_error(r, "there is no partition 3")


def test_consume_group_commits_and_resumes(cli, broker):
    bs = broker.bootstrap
    fill(bs, "grp", 3, 5)
    r = cli.ok("consume", "grp", "-g", "readers", "-n", "6")
    assert len(r.out.splitlines()) == 6
    assert "offsets committed for group 'readers'" in r.err
    assert sum(max(o, 0) for o in committed(bs, "readers", "grp", 3).values()) == 6
    r2 = cli.ok("consume", "grp", "-g", "readers", "-e")
    first, rest = set(r.out.splitlines()), set(r2.out.splitlines())
    assert not (first & rest) and len(first | rest) == 15
    assert committed(bs, "readers", "grp", 3) == {0: 5, 1: 5, 2: 5}


def test_consume_group_explicit_offset_overrides_committed(cli, broker):
    bs = broker.bootstrap
    fill(bs, "grpo", 1, 10)
    cli.ok("consume", "grpo", "-g", "g2", "-e")
    assert committed(bs, "g2", "grpo", 1) == {0: 10}
    r = cli.ok("consume", "grpo", "-g", "g2", "-o", "4", "-e")
    assert r.out.splitlines() == [f"p0-{i}" for i in range(4, 10)]
    # -o beginning only applies when nothing is committed
    assert cli.ok("consume", "grpo", "-g", "g2", "-o", "beginning", "-e").out == ""


def test_consume_ctrl_c_ends_cleanly_and_commits(cli, broker):
    bs = broker.bootstrap
    fill(bs, "live", 2, 20)
    p = subprocess.Popen([CLI_BIN, "-b", bs, "consume", "live", "-g", "ctrlc"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=cli_env())
    lines = []
    deadline = time.monotonic() + 20
    while len(lines) < 40 and time.monotonic() < deadline:
        ln = p.stdout.readline()
        if ln:
            lines.append(ln)
    assert len(lines) == 40
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert b"Consumed 40 messages" in err and b"error" not in err
    assert committed(bs, "ctrlc", "live", 2) == {0: 20, 1: 20}
