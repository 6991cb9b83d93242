"""DescribeLogDirs (key 35) against a broker with two log dirs, raw requests
(kproto; the Debian clients have no describeLogDirs; Kafka's kafka-log-dirs
tool runs against Samsa in tests/ecosystem/kafka-tools):

- every version 0-5: one result per log.dirs entry, absolute paths (a
  relative entry from the broker's working directory), each partition in
  the dir that holds it with its size in bytes, offset lag 0, not future;
  v3+ top-level error 0, v4+ the volume's total/usable bytes, v5 not cordoned;
- named partitions: only those, unknown topics and partitions left out, a
  topic with none of its named partitions here left out;
- a dir that vanished (renamed away while the broker runs) answers
  KAFKA_STORAGE_ERROR with no topics and sizes -1, the other dir normally.
"""

import os

import kproto
from conftest import create_topic, raw_conn, unique_topic

KAFKA_STORAGE_ERROR = 56


def two_dir_broker(broker_factory, tmp_path):
    d1 = tmp_path / "dir-a"
    b = broker_factory(overrides={"log.dirs": f"{d1},./dir-b"})
    return b, d1, tmp_path / "dir-b"


def where(res):
    """{(topic, partition): (log_dir, size)} over every healthy result."""
    out = {}
    for d in res["results"]:
        for t, parts in d["topics"].items():
            for p, info in parts.items():
                assert (t, p) not in out, f"{t}-{p} listed twice"
                out[(t, p)] = (d["log_dir"], info["size"])
    return out


def test_describe_log_dirs_all_versions(broker_factory, tmp_path, request):
    b, d1, d2 = two_dir_broker(broker_factory, tmp_path)
    topic = unique_topic(request)
    create_topic(b.bootstrap, topic, partitions=4)
    batch = kproto.record_batch([b"v" * 100, b"w" * 50], keys=[b"k", None])
    with raw_conn(b) as c:
        lo, hi = c.versions()[kproto.DESCRIBE_LOG_DIRS]
        assert (lo, hi) == (0, 5)
        for p in range(4):
            for _ in range(p + 1):            # partition p holds p+1 batches
                assert kproto.produce(c, topic, p, batch)["error_code"] == 0
        for v in range(0, 6):
            res = kproto.describe_log_dirs(c, version=v)
            assert res["throttle_time_ms"] == 0
            assert res["error_code"] == (0 if v >= 3 else None)
            dirs = [d["log_dir"] for d in res["results"]]
            assert dirs == [str(d1), str(d2)], (v, dirs)
            for d in res["results"]:
                assert d["error_code"] == 0
                if v >= 4:
                    st = os.statvfs(d["log_dir"])
                    assert d["total_bytes"] == st.f_blocks * st.f_frsize
                    # usable space moves with other writers: same order of size
                    assert 0 < d["usable_bytes"] <= d["total_bytes"]
                else:
                    assert d["total_bytes"] is None
                assert d["is_cordoned"] == (False if v >= 5 else None)
                for parts in d["topics"].values():
                    for info in parts.values():
                        assert info["offset_lag"] == 0 and info["is_future"] is False
            found = where(res)
            for p in range(4):
                log_dir, size = found[(topic, p)]
                assert size == (p + 1) * len(batch), (v, p, size)
                assert os.path.isdir(os.path.join(log_dir, f"{topic}-{p}"))
            # the broker spreads partitions over the dir with the fewest
            used = {found[(topic, p)][0] for p in range(4)}
            assert used == {str(d1), str(d2)}


def test_describe_log_dirs_named_partitions(broker_factory, tmp_path, request):
    b, d1, d2 = two_dir_broker(broker_factory, tmp_path)
    t1, t2 = unique_topic(request, "-a"), unique_topic(request, "-b")
    create_topic(b.bootstrap, t1, partitions=3)
    create_topic(b.bootstrap, t2, partitions=1)
    with raw_conn(b) as c:
        res = kproto.describe_log_dirs(c, {t1: [0, 2, 7], t2: [5], "no-such-topic": [0]},
                                       version=4)
        found = where(res)
        assert set(found) == {(t1, 0), (t1, 2)}, found
        assert all(size == 0 for _, size in found.values())
        for d in res["results"]:
            assert t2 not in d["topics"] and "no-such-topic" not in d["topics"]
            for parts in d["topics"].values():
                assert parts, f"{d['log_dir']}: a topic with no partitions listed"
        # an empty list names nothing (null names everything)
        res = kproto.describe_log_dirs(c, {}, version=2)
        assert [d["topics"] for d in res["results"]] == [{}, {}]
        assert len(res["results"]) == 2


def test_describe_log_dirs_failed_dir(broker_factory, tmp_path, request):
    b, d1, d2 = two_dir_broker(broker_factory, tmp_path)
    topic = unique_topic(request)
    create_topic(b.bootstrap, topic, partitions=2)
    gone = tmp_path / "dir-b.gone"
    with raw_conn(b) as c:
        before = where(kproto.describe_log_dirs(c, version=4))
        assert {before[(topic, p)][0] for p in range(2)} == {str(d1), str(d2)}
        os.rename(d2, gone)
        try:
            res = kproto.describe_log_dirs(c, version=4)
        finally:
            os.rename(gone, d2)
        a, bad = res["results"]
        assert bad["log_dir"] == str(d2)
        assert bad["error_code"] == KAFKA_STORAGE_ERROR
        assert bad["topics"] == {} and bad["total_bytes"] == -1 and bad["usable_bytes"] == -1
        assert a["error_code"] == 0 and a["total_bytes"] > 0
        assert any(p in a["topics"].get(topic, {}) for p in range(2))
        # back in place: the dir answers again
        assert kproto.describe_log_dirs(c, version=4)["results"][1]["error_code"] == 0
