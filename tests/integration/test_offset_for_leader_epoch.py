"""OffsetForLeaderEpoch (key 23) on a single broker, raw protocol v3.

The answers come from the partition's leader-epoch cache with Kafka's rules
(KIP-101, KIP-279; LeaderEpochFileCache.endOffsetFor): the current (latest)
epoch ends at the log end offset; an epoch newer than any known, or -1, is
UNDEFINED (-1, -1). A single broker leads in epoch 0 from the start, so
epoch 0 of an empty partition is (0, 0), as Kafka answers. The answers
survive a restart (the cache is rebuilt from leader-epoch-checkpoint and
the batch headers).
"""

import kproto
from conftest import create_topic, raw_conn, unique_topic

OFFSET_FOR_LEADER_EPOCH = 23


def epoch_end(c, topic, partition, epoch, current=-1):
    """(error_code, leader_epoch, end_offset) for one partition, v3."""
    w = kproto.W().i32(-1)          # replica_id: a consumer
    w.array([topic], lambda w, t: w.string(t).array(
        [partition], lambda w, p: w.i32(p).i32(current).i32(epoch)))
    r = c.call(OFFSET_FOR_LEADER_EPOCH, 3, w.done())
    r.i32()                          # throttle_time_ms
    topics = r.array(lambda r: (r.string(), r.array(
        lambda r: (r.i16(), r.i32(), r.i32(), r.i64()))))
    err, part, ep, end = topics[0][1][0]
    assert part == partition
    return err, ep, end


def test_offset_for_leader_epoch_from_the_epoch_cache(broker_factory, request):
    b = broker_factory({})
    t = unique_topic(request)
    create_topic(b.bootstrap, t, 2)
    with raw_conn(b) as c:
        assert epoch_end(c, t, 1, 0) == (0, 0, 0)         # empty: the current epoch starts at 0
        for n in (3, 4):
            r = kproto.produce(c, t, 0, kproto.record_batch([b"v%d" % i for i in range(n)]))
            assert r["error_code"] == 0, r
        assert epoch_end(c, t, 0, 0) == (0, 0, 7)         # the latest epoch: the log end
        assert epoch_end(c, t, 0, 0, current=0) == (0, 0, 7)
        assert epoch_end(c, t, 0, 1) == (0, -1, -1)       # newer than any known epoch
        assert epoch_end(c, t, 0, -1) == (0, -1, -1)      # UNDEFINED asked
    b.restart()
    with raw_conn(b) as c:
        assert epoch_end(c, t, 0, 0) == (0, 0, 7)
        assert epoch_end(c, t, 1, 0) == (0, 0, 0)
