"""Bounded file descriptors: a broker with samsa.max.open.files=64 serves a
topic of 320 partitions (several segments each) - produce to all, consume
all back byte for byte - while its open descriptors (/proc/PID/fd), sampled
all along, stay within the cap plus a fixed headroom (sockets, the event
loops' epoll/eventfds, the dir lock, transient checkpoint files, the files
a queued Fetch response still holds). Then a clean restart and a kill -9
restart (recovery of every partition) under the same cap, data intact."""

import os
import threading
import time

import confluent_kafka as ck
import pytest

from conftest import consume_exact, create_topic, producer, produce_all, unique_topic

CAP = 64
PARTS = 320
PER_PART = 40
# Beyond the cap: client connections (admin, producer, consumer: ~2 each),
# transient files (a checkpoint .tmp, a dir opened for fsync, a segment
# being created before the cache closes an old one) and the segment files
# referenced by Fetch responses in flight after the cache let them go
# (bounded by the consumer's fetch.max.bytes below: a few partitions each).
HEADROOM = 40
CONSUMER_CONF = {
    # Small responses: each holds a few partitions' files, not all 320.
    "fetch.max.bytes": 16384, "max.partition.fetch.bytes": 4096,
    "message.max.bytes": 4096, "receive.message.max.bytes": 65536,
}


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except FileNotFoundError:
        return 0


class FdSampler:
    """Samples a process's descriptor count every few ms in a thread."""

    def __init__(self, pid):
        self.pid = pid
        self.max = 0
        self.samples = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            n = fd_count(self.pid)
            self.max = max(self.max, n)
            self.samples += 1
            time.sleep(0.003)

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.max


def value(part, seq):
    return b"p%03d-%05d-" % (part, seq) + b"x" * 80


def produce_everything(bs, topic):
    p = producer(bs, **{"linger.ms": 2, "batch.size": 1000})
    # Round-robin over the partitions: consecutive batches hit different
    # files, so the 64-file cache keeps turning over.
    msgs = ({"value": value(part, seq), "partition": part}
            for seq in range(PER_PART) for part in range(PARTS))
    produce_all(p, topic, msgs, timeout=120)


def check_everything(bs, topic):
    got = consume_exact(bs, topic, {p: PER_PART for p in range(PARTS)}, timeout=120,
                        **CONSUMER_CONF)
    for part, msgs in got.items():
        assert [m.offset() for m in msgs] == list(range(PER_PART)), f"partition {part}"
        assert [m.value() for m in msgs] == [value(part, s) for s in range(PER_PART)], \
            f"partition {part}: data differs"


def segment_files(broker, topic):
    return sum(len(broker.segments(topic, p)) for p in range(PARTS))


@pytest.mark.slow
def test_many_partitions_with_a_small_fd_cap(broker_factory, request):
    b = broker_factory({"samsa.max.open.files": CAP, "log.segment.bytes": 1500,
                        "num.network.threads": 2})
    base = fd_count(b.pid)
    bs, t = b.bootstrap, unique_topic(request)
    limit = base + CAP + HEADROOM

    s = FdSampler(b.pid)
    create_topic(bs, t, PARTS, timeout=60)
    produce_everything(bs, t)
    produced_max = s.stop()
    assert segment_files(b, t) >= 2 * PARTS, "expected several segments per partition"
    assert produced_max <= limit, f"{produced_max} fds while producing (base {base}, cap {CAP})"

    s = FdSampler(b.pid)
    check_everything(bs, t)
    consumed_max = s.stop()
    assert consumed_max <= limit, f"{consumed_max} fds while consuming (base {base}, cap {CAP})"
    # Without the cache this broker would hold one .log per segment and
    # three files per active segment.
    assert segment_files(b, t) > limit

    # Clean restart: loads every partition, serves everything again.
    b.stop()
    b.start()
    s = FdSampler(b.pid)
    check_everything(bs, t)
    assert s.stop() <= limit

    # kill -9: every partition recovers (re-reads its segments), still
    # within the cap; a produce after recovery lands at the right offset.
    b.kill9()
    b.start(wait=False)
    s = FdSampler(b.pid)
    b.wait_ready(timeout=60)
    check_everything(bs, t)
    recovered_max = s.stop()
    assert recovered_max <= limit, f"{recovered_max} fds during recovery (cap {CAP})"
    print(f"fds: base {base}, cap {CAP}: producing {produced_max}, consuming {consumed_max}, "
          f"recovering {recovered_max}; {segment_files(b, t)} segments")
    dl = produce_all(producer(bs), t, [{"value": b"after", "partition": 7}])
    assert dl[0].offset() == PER_PART
    assert "recovering" in b.log_text() or "unclean" in b.log_text()


@pytest.mark.slow
def test_restart_many_partitions_default_cap(broker_factory, request):
    """2,000 partitions with the default cap (half of RLIMIT_NOFILE):
    restart clean and after kill -9, data intact, startup quick."""
    n = 2000
    b = broker_factory({"num.network.threads": 2})
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, n, timeout=120)
    p = producer(bs, **{"linger.ms": 5})
    produce_all(p, t, ({"value": b"%d" % part, "partition": part} for part in range(n)), timeout=120)
    for how in ("clean", "kill"):
        if how == "clean":
            b.stop()
        else:
            b.kill9()
        t0 = time.monotonic()
        b.start(wait=False)
        b.wait_ready(timeout=60)
        took = time.monotonic() - t0
        assert took < 30, f"{how} restart of {n} partitions took {took:.1f}s"
        got = consume_exact(bs, t, {part: 1 for part in range(0, n, 97)}, timeout=60)
        for part, msgs in got.items():
            assert msgs[0].value() == b"%d" % part
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": "g"})
    try:
        assert len(c.list_topics(t, timeout=10).topics[t].partitions) == n
    finally:
        c.close()
