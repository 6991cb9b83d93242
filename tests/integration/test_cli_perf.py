"""`samsa perf produce|consume|e2e` against a live broker: the counts it
reports match what is in the log (watermarks), the summary has the
documented fields, progress lines come every --interval, limits (count,
duration, rate) hold."""

import json
import re

from conftest import create_topic, produce_all, producer, watermarks
from test_cli_common import EXIT_FAIL, EXIT_NOTFOUND, EXIT_USAGE, cli, one_line_error  # noqa: F401
from test_cli_produce_consume import committed

LAT_KEYS = ["avg", "min", "p50", "p95", "p99", "p99_9", "max"]


def log_total(bs, topic, partitions):
    return sum(watermarks(bs, topic, p)[1] - watermarks(bs, topic, p)[0] for p in range(partitions))


def check_latency(lat):
    assert list(lat) == LAT_KEYS, lat
    assert 0 <= lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["p99_9"] <= lat["max"], lat
    assert lat["min"] <= lat["avg"] <= lat["max"], lat


def test_perf_produce_count_json(cli, broker):
    r = cli.ok("perf", "produce", "bench", "-n", "20000", "-s", "64", "--json")
    j = r.json()
    assert j["type"] == "summary" and j["mode"] == "produce" and j["topic"] == "bench"
    assert j["messages"] == 20000 and j["failed"] == 0 and j["bytes"] == 20000 * 64
    assert j["msgs_per_sec"] > 0 and j["mb_per_sec"] > 0 and j["duration_s"] > 0
    check_latency(j["latency_ms"])
    assert j["settings"]["size"] == 64 and j["settings"]["producers"] == 1
    assert "Created topic 'bench'" in r.err
    assert log_total(broker.bootstrap, "bench", j["settings"]["partitions"]) == 20000


def test_perf_produce_options(cli, broker):
    r = cli.ok("perf", "produce", "opts", "-n", "30000", "--producers", "3", "-P", "3", "-s", "200",
               "-z", "lz4", "-a", "1", "--batch-size", "64k", "--batch-messages", "500", "--linger-ms", "2",
               "-X", "queue.buffering.max.messages=5000", "--json")
    j = r.json()
    assert j["messages"] == 30000 and j["failed"] == 0
    s = j["settings"]
    assert (s["partitions"], s["producers"], s["acks"], s["compression"], s["batch_size"],
            s["batch_messages"], s["linger_ms"]) == (3, 3, "1", "lz4", "65536", 500, 2)
    assert s["properties"] == ["queue.buffering.max.messages=5000"]
    assert log_total(broker.bootstrap, "opts", 3) == 30000
    assert "3 producers, acks=1, compression=lz4" in r.err


def test_perf_produce_duration_rate_and_progress(cli, broker):
    r = cli.ok("perf", "produce", "paced", "-d", "2.5s", "--rate", "400", "--interval", "0.5s")
    m = re.search(r"Produced ([\d,]+) messages .* in ([\d.]+) s, 0 failed", r.out)
    assert m, r
    n, secs = int(m.group(1).replace(",", "")), float(m.group(2))
    assert 800 <= n <= 1050, r          # 400/s for 2.5 s
    assert 2.0 <= secs <= 4.0, r
    assert re.search(r"throughput\s+\d+ msg/s", r.out)
    assert re.search(r"latency ms\s+avg [\d.]+  p50 [\d.]+  p95 [\d.]+  p99 [\d.]+  p99\.9 [\d.]+  max [\d.]+",
                     r.out), r.out
    progress = [ln for ln in r.err.splitlines() if "acked" in ln]
    assert len(progress) >= 3, r.err
    assert all("msg/s" in ln and "MB/s" in ln for ln in progress)


def test_perf_progress_json_lines(cli, broker):
    r = cli.ok("perf", "produce", "pj", "-d", "1.2s", "--rate", "1000", "--interval", "0.4s", "--json")
    prog = [json.loads(ln) for ln in r.err.splitlines() if ln.startswith("{")]
    assert len(prog) >= 2 and all(p["type"] == "progress" and "acked" in p for p in prog), r.err
    assert r.json()["type"] == "summary"


def test_perf_produce_existing_topic_partition_mismatch(cli, broker):
    create_topic(broker.bootstrap, "fixed", 2)
    r = cli("perf", "produce", "fixed", "-n", "10", "-P", "4")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "topic 'fixed' exists with 2 partitions, not 4")
    cli.ok("perf", "produce", "fixed", "-n", "10", "-P", "2", "-q")
    assert log_total(broker.bootstrap, "fixed", 2) == 10


def test_perf_produce_failures_exit_1(cli, broker):
    create_topic(broker.bootstrap, "tinyperf", 1, config={"max.message.bytes": "200"})
    r = cli("perf", "produce", "tinyperf", "-n", "50", "-s", "1000", "--json")
    assert r.rc == EXIT_FAIL, r
    assert r.json()["failed"] == 50 and "too large" in r.json()["error"]
    assert r.err.splitlines()[-1] == "samsa: error: 50 messages failed: Message size too large", r


def test_perf_consume_until_end(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "pc", 3)
    produce_all(producer(bs), "pc", [{"value": b"x" * 50, "partition": i % 3} for i in range(3000)])
    j = cli.ok("perf", "consume", "pc", "--json").json()
    assert j["mode"] == "consume" and j["messages"] == 3000 and j["bytes"] == 150000
    check_latency(j["latency_ms"])
    r = cli.ok("perf", "consume", "pc", "-n", "1000")
    assert "Consumed 1,000 messages" in r.out and re.search(r"age ms\s+avg", r.out)
    assert "until the end" in cli.ok("perf", "consume", "pc").err


def test_perf_consume_group_commits(cli, broker):
    bs = broker.bootstrap
    cli.ok("perf", "produce", "pcg", "-n", "2000", "-P", "2", "-q")
    j = cli.ok("perf", "consume", "pcg", "-g", "perfgrp", "-n", "2000", "--json").json()
    assert j["messages"] == 2000 and j["settings"]["group"] == "perfgrp"
    # (the sticky partitioner may have put every message in one partition: -1001 = none committed)
    assert sum(max(o, 0) for o in committed(bs, "perfgrp", "pcg", 2).values()) == 2000


def test_perf_consume_unknown_topic(cli):
    r = cli("perf", "consume", "ghost")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "topic 'ghost' does not exist")


def test_perf_e2e(cli, broker):
    r = cli.ok("perf", "e2e", "lat", "-n", "2000", "--rate", "2000", "-P", "2", "-X", "fetch.wait.max.ms=5",
               "-X", "linger.ms=1", "--json")
    j = r.json()
    assert j["mode"] == "e2e" and j["messages"] == 2000 and j["produced"] == 2000
    assert j["missing"] == 0 and j["failed"] == 0 and j["error"] is None
    check_latency(j["latency_ms"])
    check_latency(j["produce_latency_ms"])
    assert j["latency_ms"]["p50"] < 1000
    assert log_total(broker.bootstrap, "lat", 2) == 2000
    human = cli.ok("perf", "e2e", "lat", "-d", "1s", "--rate", "500", "--interval", "0.3s")
    assert re.search(r"e2e ms\s+avg [\d.]+  p50", human.out) and re.search(r"produce ms\s+avg", human.out)
    assert "0 missing" in human.out
    assert len([ln for ln in human.err.splitlines() if "received" in ln]) >= 2


def test_perf_e2e_too_small_payload(cli):
    r = cli("perf", "e2e", "lat", "-s", "10")
    assert r.rc == EXIT_USAGE
    one_line_error(r, "at least 16 bytes")
