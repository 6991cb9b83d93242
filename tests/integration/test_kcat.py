"""kcat (librdkafka CLI) as an unmodified client: produce keyed lines,
consume them back with a format string, metadata as JSON."""

import json
import subprocess

from conftest import consume_exact, create_topic, unique_topic


def kcat(*args, stdin=None, timeout=60):
    cp = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=timeout)
    return cp.returncode, cp.stdout.decode(errors="replace"), cp.stderr.decode(errors="replace")


LINES = [f"k{i % 5}:line number {i} with some text" for i in range(200)]


def test_kcat_produce_keyed_then_consume(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    rc, out, err = kcat("-b", bs, "-t", t, "-P", "-K:", "-X", "acks=all",
                        stdin=("\n".join(LINES) + "\n").encode())
    assert rc == 0, err
    assert "Delivery failed" not in err and "ERROR" not in err, err
    rc, out, err = kcat("-b", bs, "-t", t, "-C", "-e", "-o", "beginning", "-f", "%k:%s\n")
    assert rc == 0, err
    assert out.splitlines() == LINES
    # the same data through librdkafka's consumer API, keys split correctly
    got = consume_exact(bs, t, {0: len(LINES)})[0]
    assert [(m.key(), m.value()) for m in got] == \
        [tuple(x.encode() for x in ln.split(":", 1)) for ln in LINES]


def test_kcat_consume_with_offsets_and_partitions(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    for p in range(3):
        rc, _, err = kcat("-b", bs, "-t", t, "-P", "-p", str(p), "-K:", "-X", "acks=all",
                          stdin="".join(f"p{p}:m{i}\n" for i in range(10)).encode())
        assert rc == 0, err
    rc, out, err = kcat("-b", bs, "-t", t, "-C", "-e", "-o", "beginning",
                        "-f", "%p %o %k %s\n")
    assert rc == 0, err
    got = sorted(tuple(line.split(" ")) for line in out.splitlines())
    want = sorted((str(p), str(i), f"p{p}", f"m{i}") for p in range(3) for i in range(10))
    assert got == want
    # -o 7 on partition 1 starts there; -c limits the count
    rc, out, err = kcat("-b", bs, "-t", t, "-C", "-p", "1", "-o", "7", "-e", "-f", "%o:%s\n")
    assert rc == 0, err
    assert out.splitlines() == ["7:m7", "8:m8", "9:m9"]
    rc, out, err = kcat("-b", bs, "-t", t, "-C", "-p", "2", "-o", "-2", "-e", "-f", "%o:%s\n")
    assert rc == 0, err
    assert out.splitlines() == ["8:m8", "9:m9"]


def test_kcat_metadata_json(broker, request):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 3)
    rc, out, err = kcat("-b", bs, "-L", "-J")
    assert rc == 0, err
    md = json.loads(out)
    assert md["controllerid"] == 0
    assert md["brokers"] == [{"id": 0, "name": bs}]
    topic = [x for x in md["topics"] if x["topic"] == t]
    assert len(topic) == 1
    parts = sorted(topic[0]["partitions"], key=lambda p: p["partition"])
    assert [(p["partition"], p["leader"], [r["id"] for r in p["replicas"]],
             [r["id"] for r in p["isrs"]]) for p in parts] == \
        [(i, 0, [0], [0]) for i in range(3)]
