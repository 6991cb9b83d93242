"""Disk full. The test mounts its own small tmpfs (needs root / CAP_SYS_ADMIN;
skipped otherwise) and runs a broker with log.dirs on it:

* produce until the filesystem is full: the producer gets
  KAFKA_STORAGE_ERROR (56) - raw Produce and confluent-kafka both, and what
  each sees is printed;
* the broker stays up and serves every acknowledged message, byte-exact;
* CreateTopics and an OffsetCommit on the full disk get a clear error, not a
  crash;
* after space is freed (a ballast file the test placed there is deleted),
  writes are accepted again at the next offset;
* nothing written before is damaged: the whole log is re-read, CRC-checked,
  after the recovery, after a clean restart and after kill -9.
"""

import os
import subprocess

import confluent_kafka as ck
import pytest

import kproto
from conftest import create_topic, port_open, producer, unique_topic, wait_until, watermarks
from test_torture import find_coordinator, offset_commit, offset_fetch, read_range

FS_MB = 8
BALLAST_MB = 2


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "smallfs"
    mnt.mkdir()
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_MB}m,mode=0755",
                         "samsa-it-tmpfs", str(mnt)], capture_output=True, text=True)
    if cp.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root/CAP_SYS_ADMIN): {cp.stderr.strip()}")
    try:
        yield mnt
    finally:
        r = subprocess.run(["umount", str(mnt)], capture_output=True, text=True)
        if r.returncode != 0:  # a broker still holding files: lazy unmount
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def produce_raw(c, topic, values, acks=1):
    return kproto.produce(c, topic, 0, kproto.record_batch(values), acks=acks)


def create_topics_raw(c, names):
    """CreateTopics v4 (1 partition, RF 1): [(name, error_code, message)]."""
    v = c.pick(kproto.CREATE_TOPICS, 2, 4)
    w = kproto.W().array(names, lambda w, n: w.string(n).i32(1).i16(1).array(
        [], None).array([], None)).i32(10000).bool(False)
    r = c.call(kproto.CREATE_TOPICS, v, w.done())
    r.i32()
    return r.array(lambda r: (r.string(), r.i16(), r.string()))


@pytest.mark.parametrize("segment_bytes", [1 << 20, 40_000], ids=["1MB-segments", "40KB-segments"])
def test_disk_full(small_fs, broker_factory, request, segment_bytes):
    logs = small_fs / "logs"
    ballast = small_fs / "ballast"
    ballast.write_bytes(b"\xAA" * (BALLAST_MB << 20))
    b = broker_factory({"log.flush.interval.messages": 1, "log.segment.bytes": segment_bytes,
                        "offsets.topic.num.partitions": 1}, logdir=logs)
    bs, t = b.bootstrap, unique_topic(request)
    create_topic(bs, t, 1)
    group = "disk-full-group"
    find_coordinator(b.port, group)
    with kproto.Conn("127.0.0.1", b.port) as c:
        assert offset_commit(c, group, t, {0: 1}) == {0: 0}

    # --- fill the disk with acks=1 produces of ~16 KB batches, then smaller
    # and smaller ones down to a single 1-byte record, so that even tiny
    # writes find no room
    acked = []          # values, by offset
    free0 = free_bytes(small_fs)
    first_fail = None
    with kproto.Conn("127.0.0.1", b.port) as c:
        i = 0
        for size in (1000, 500, 200, 100, 30, 1):
            while True:
                n = 16 if size >= 100 else 1
                vals = [b"m%06d-%d-" % (i, j) + os.urandom(size) for j in range(n)]
                r = produce_raw(c, t, vals)
                i += 1
                assert i < 20000, "the filesystem never filled up"
                if r["error_code"]:
                    first_fail = first_fail or (r, sum(map(len, vals)))
                    break
                assert r["base_offset"] == len(acked), (r, len(acked))
                acked += vals
        full_err = r
        # more attempts: the same clear error, nothing appended
        for _ in range(5):
            r = produce_raw(c, t, [b"x"])
            assert r["error_code"] == full_err["error_code"], r
    assert full_err["error_code"] == 56, f"produce on a full disk: {full_err}"
    assert b.running() and port_open(b.port)
    free_full = free_bytes(small_fs)
    hw_full = watermarks(bs, t, 0)[1]
    assert hw_full == len(acked), (hw_full, len(acked))

    # --- what a real client sees (short timeout: librdkafka retries 56)
    dr = []
    p = producer(bs, **{"acks": "1", "message.timeout.ms": 3000, "retries": 2,
                        "retry.backoff.ms": 100})
    p.produce(t, b"ck-while-full", partition=0, on_delivery=lambda e, m: dr.append(e))
    p.flush(15)
    assert len(dr) == 1 and dr[0] is not None, f"confluent-kafka produce on a full disk: {dr}"
    ck_err = dr[0]

    # --- reads of everything acknowledged, byte-exact and CRC-checked
    with kproto.Conn("127.0.0.1", b.port) as c:
        recs, hw = read_range(c, t, 0, 0)
        assert [v for _, v in recs] == acked
        # metadata operations on the full disk
        ct = create_topics_raw(c, [unique_topic(request, "-new")])
        # commits go to __consumer_offsets, whose file may still have room
        # in its last page: commit until that is used up too
        last_ok_commit = 1
        for k in range(100, 1100):
            commit_err = offset_commit(c, group, t, {0: k})
            if commit_err != {0: 0}:
                break
            last_ok_commit = k
        assert commit_err != {0: 0}, "1000 commits fitted on a full disk?"
        offs, _ = offset_fetch(c, group, t, [0])
        assert offs[0][0] == last_ok_commit, (offs, last_ok_commit)
    assert b.running(), "broker died on metadata operations with a full disk"
    with kproto.Conn("127.0.0.1", b.port) as c:
        assert c.api_versions(0)["error_code"] == 0

    # --- free space: writes accepted again, at the next offset
    ballast.unlink()
    with kproto.Conn("127.0.0.1", b.port) as c:
        def accepted():
            r = produce_raw(c, t, [b"after-free-0"])
            return r if r["error_code"] == 0 else None
        r = wait_until(accepted, 30, interval=0.1, desc="produce accepted after freeing space")
        assert r["base_offset"] == len(acked), f"new write at {r['base_offset']}, expected {len(acked)}"
        acked.append(b"after-free-0")
        for k in range(1, 50):
            r = produce_raw(c, t, [b"after-free-%d" % k])
            assert r["error_code"] == 0 and r["base_offset"] == len(acked), r
            acked.append(b"after-free-%d" % k)
        # the topic refused on the full disk left nothing behind: it can be
        # created now, and used
        ct2 = create_topics_raw(c, [unique_topic(request, "-new")])
        assert ct2[0][1] == 0, f"CreateTopics after freeing space: {ct2}"
        wait_until(lambda: kproto.metadata(c, [unique_topic(request, "-new")])["topics"][
            unique_topic(request, "-new")]["error_code"] == 0, 10, desc="new topic")
        r = produce_raw(c, unique_topic(request, "-new"), [b"hello"])
        assert r["error_code"] == 0 and r["base_offset"] == 0, r
        commit_after = offset_commit(c, group, t, {0: 5000})
        assert commit_after == {0: 0}, commit_after
    # a real client too
    out = []
    p = producer(bs, **{"acks": "1"})
    p.produce(t, b"ck-after-free", partition=0, on_delivery=lambda e, m: out.append((e, m)))
    p.flush(30)
    assert out and out[0][0] is None and out[0][1].offset() == len(acked), out
    acked.append(b"ck-after-free")

    def check_all(stage):
        with kproto.Conn("127.0.0.1", b.port) as c:
            recs, hw = read_range(c, t, 0, 0)  # CRC-checks every batch
            assert hw == len(acked), f"{stage}: high watermark {hw}, expected {len(acked)}"
            assert [v for _, v in recs] == acked, f"{stage}: log content differs"
            offs, err = offset_fetch(c, group, t, [0])
            return offs[0][0]

    committed = check_all("after freeing space")
    assert committed == 5000
    b.stop()
    b.start()
    assert check_all("after a clean restart") == 5000
    b.kill9()
    b.start()
    assert check_all("after kill -9") == 5000
    warn = []
    for ln in b.log_text().splitlines():
        if ("WARN" in ln or "ERROR" in ln) and ln[25:90] not in [w[:65] for w in warn]:
            warn.append(ln[25:])
    print(f"\ndisk full ({FS_MB} MB tmpfs, segment.bytes {segment_bytes}, {free0 >> 10} KB free at start): {len(acked)} "
          f"records verified; first refused produce ({first_fail[1]} bytes of records) -> "
          f"error {first_fail[0]['error_code']}; filled to the last byte, then every "
          f"produce -> error {full_err['error_code']} "
          f"(KAFKA_STORAGE_ERROR), message {full_err.get('error_message')!r}, "
          f"{free_full >> 10} KB free; confluent-kafka saw {ck_err.name()} "
          f"({ck_err.str()}); CreateTopics -> {ct[0][1]} {ct[0][2]!r}; OffsetCommit -> "
          f"{commit_err} once the offsets segment's last page was used "
          f"({last_ok_commit - 99} commits still fitted), committed offset unchanged; after deleting {BALLAST_MB} MB of ballast: produce, CreateTopics, "
          f"OffsetCommit accepted; log intact after clean restart and kill -9. Broker "
          f"warnings/errors: " + " | ".join(ln[:160] for ln in warn[:8]))
    assert ct[0][1] != 0, "CreateTopics on a full disk reported success"
