"""kafka-producer-perf-test and kafka-consumer-perf-test against one Samsa
broker, small record counts: the producer's summary line names every
record sent (and the log holds them), the consumer's CSV line counts every
record and byte consumed."""

import re

import pytest
from conftest import make_topic, unique, watermarks
from tools import kt

N, SIZE = 5000, 100


@pytest.fixture(scope="module")
def perf_topic(samsa, request):
    return make_topic(samsa, unique(request, "-perf"))


@pytest.mark.tool("kafka-producer-perf-test")
def test_producer_perf(samsa, perf_topic):
    out = kt("kafka-producer-perf-test", "--topic", perf_topic, "--num-records", N,
             "--record-size", SIZE, "--throughput", -1, "--bootstrap-server", samsa.bootstrap,
             "--command-property", "acks=all").stdout
    last = [ln for ln in out.splitlines() if ln.strip()][-1]
    m = re.match(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
                 r"([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, "
                 r"(\d+) ms 99th, (\d+) ms 99.9th\.$", last)
    assert m, out
    assert int(m.group(1)) == N and float(m.group(2)) > 0
    assert float(m.group(4)) <= float(m.group(5))
    assert watermarks(samsa.bootstrap, perf_topic, 0) == (0, N)


@pytest.mark.tool("kafka-consumer-perf-test")
def test_consumer_perf(samsa, perf_topic):
    if watermarks(samsa.bootstrap, perf_topic, 0)[1] < N:
        pytest.fail("test_producer_perf did not fill the topic")
    out = kt("kafka-consumer-perf-test", "--bootstrap-server", samsa.bootstrap, "--topic",
             perf_topic, "--num-records", N, "--timeout", 30000).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    i = next(i for i, ln in enumerate(lines) if ln.startswith("start.time"))
    head = [h.strip() for h in lines[i].split(",")]
    row = dict(zip(head, (v.strip() for v in lines[i + 1].split(","))))
    assert int(row["data.consumed.in.nMsg"]) == N, out
    assert abs(float(row["data.consumed.in.MB"]) - N * SIZE / 2**20) < 0.001, out
    assert float(row["nMsg.sec"]) > 0
