"""kafka-console-producer and kafka-console-consumer against one Samsa
broker: keys and headers in, the same keys, headers, partitions and offsets
out (--from-beginning, --max-messages); a consumer in a group commits what
it printed (checked with OffsetFetch)."""

import kproto
import pytest
from conftest import make_topic, produce_values, unique
from tools import kt

LINES = [("h1:v1,h2:v2", "k1", "hello"), ("trace:abc", "k2", "world"), ("x:", "k3", "tab-free text")]


def produce_lines(bs, topic):
    text = "".join(f"{h}\t{k}\t{v}\n" for h, k, v in LINES)
    kt("kafka-console-producer", "--bootstrap-server", bs, "--topic", topic,
       "--reader-property", "parse.key=true", "--reader-property", "parse.headers=true",
       input=text)


@pytest.mark.tool("kafka-console-producer", "kafka-console-consumer")
def test_console_keys_headers_from_beginning(samsa, request):
    bs = samsa.bootstrap
    t = make_topic(samsa, unique(request))
    produce_lines(bs, t)
    cp = kt("kafka-console-consumer", "--bootstrap-server", bs, "--topic", t, "--from-beginning",
            "--max-messages", len(LINES), "--timeout-ms", 30000,
            "--formatter-property", "print.key=true", "--formatter-property", "print.headers=true",
            "--formatter-property", "print.partition=true",
            "--formatter-property", "print.offset=true")
    got = [ln.split("\t") for ln in cp.stdout.splitlines() if ln]
    want = [["Partition:0", f"Offset:{i}", h, k, v] for i, (h, k, v) in enumerate(LINES)]
    assert got == want, cp.stdout
    assert f"Processed a total of {len(LINES)} messages" in cp.stderr


@pytest.mark.tool("kafka-console-consumer")
def test_console_consumer_group_commits(samsa, request):
    bs = samsa.bootstrap
    t, g = make_topic(samsa, unique(request)), unique(request, "-g")
    produce_values(samsa, t, 0, [f"m{i}" for i in range(5)])
    cp = kt("kafka-console-consumer", "--bootstrap-server", bs, "--topic", t, "--group", g,
            "--from-beginning", "--max-messages", 3, "--timeout-ms", 30000)
    assert cp.stdout.split() == ["m0", "m1", "m2"], cp.stdout
    with kproto.Conn(samsa.host, samsa.port) as c:
        offs = kproto.offset_fetch(c, g, {t: [0]})
    # the consumer commits what it consumed when it closes (auto commit):
    # the 3 it printed; never less, never past the end
    off = offs["offsets"][(t, 0)][0]
    assert 3 <= off <= 5, offs
