"""Corrupted segment tail: after the broker is stopped (cleanly, or by
kill -9) the active .log gets garbage appended, is truncated mid-batch, gets
a byte flipped in its last batch, or ends in a header claiming a huge batch.
On start the broker must come up, log a truncation warning, serve every
good message and none of the corrupted ones, and accept new writes at the
right offset."""

import os
import random
import re
import struct

import pytest

import kproto
from conftest import (consume_exact, create_topic, produce_all, producer, unique_topic,
                      watermarks)

BATCHES = 20
PER_BATCH = 5


def fill(b, t):
    p = producer(b.bootstrap, **{"linger.ms": 0})
    n = 0
    for i in range(BATCHES):
        produce_all(p, t, [dict(value=b"b%02d-m%d" % (i, j), key=b"k%d" % j, partition=0)
                           for j in range(PER_BATCH)])
        n += PER_BATCH
    return n


def warning_lines(text):
    return [ln for ln in text.splitlines() if re.search(r"\bWARN(ING)?\b", ln)]


def corrupt(path, how):
    data = path.read_bytes()
    batches = list(kproto.parse_batch_headers(data))
    assert batches and sum(len(data[p:p + n]) for p, _, n, _ in batches) == len(data), \
        "segment does not parse as whole batches before corruption"
    pos, base, total, hdr = batches[-1]
    last_offset = base + hdr["last_offset_delta"]
    if how == "garbage":
        with open(path, "ab") as f:
            f.write(random.Random(5).randbytes(137))
        return base + hdr["last_offset_delta"] + 1  # next offset = log end before corruption
    if how == "truncate":
        os.truncate(path, pos + total // 2)
    elif how == "flip":
        with open(path, "r+b") as f:
            at = pos + total - 3  # inside the last record's payload: CRC must catch it
            f.seek(at)
            byte = f.read(1)[0]
            f.seek(at)
            f.write(bytes([byte ^ 0x5A]))
    elif how == "huge-length":
        with open(path, "ab") as f:
            f.write(struct.pack(">qiib", last_offset + 1, 1 << 30, -1, 2) + b"\0" * 40)
        return last_offset + 1
    else:
        raise ValueError(how)
    return base  # everything from the last batch on is gone


@pytest.mark.parametrize("shutdown", ["clean", "kill9"])
@pytest.mark.parametrize("how", ["garbage", "truncate", "flip", "huge-length"])
def test_corrupted_tail_is_truncated(broker, request, how, shutdown):
    bs, t = broker.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    n = fill(broker, t)
    assert watermarks(bs, t, 0) == (0, n)
    if shutdown == "clean":
        broker.stop()
    else:
        broker.kill9()
    segs = broker.segments(t, 0)
    assert len(segs) == 1, segs
    good = corrupt(segs[-1][1], how)
    log_before = len(broker.log_text())

    broker.start()
    new_log = broker.log_text()[log_before:]
    warns = [ln for ln in warning_lines(new_log) if re.search(r"(?i)truncat", ln)]
    assert warns, f"no truncation warning in the log after start:\n{new_log[-3000:]}"

    assert watermarks(bs, t, 0) == (0, good)
    got = consume_exact(bs, t, {0: good})[0]
    want = [b"b%02d-m%d" % (i // PER_BATCH, i % PER_BATCH) for i in range(good)]
    assert [m.value() for m in got] == want
    # raw fetch from 0 returns only well-formed batches up to the new end
    with kproto.Conn("127.0.0.1", broker.port) as c:
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert f["error_code"] == 0 and f["high_watermark"] == good, f
        recs = kproto.parse_records(f["records"])  # verifies every CRC
        assert [r["offset"] for r in recs] == list(range(good))

    out = produce_all(producer(bs), t, [dict(value=b"after-recovery", partition=0)])
    assert out[0].offset() == good
    got = consume_exact(bs, t, {0: 1}, start={0: good})[0]
    assert got[0].value() == b"after-recovery"

    # and the repaired log survives another restart unchanged
    broker.restart()
    assert watermarks(bs, t, 0) == (0, good + 1)
