"""min.insync.replicas and acks=all with real processes (docs/replication.md
§3), driven by the LeaderAndIsr test hook: NOT_ENOUGH_REPLICAS before the
append (nothing written), NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR
shrank below min.insync.replicas while an acks=-1 produce waited for the
high watermark, acks=1 unaffected; AlterPartition on a broker that is not
the active controller answers NOT_CONTROLLER."""

import threading

import kproto
from conftest import create_topic, free_port, raw_conn, unique_topic, wait_until

HOOKS = {"samsa.test.hooks.enable": "true"}
A_ID, B_ID = 0, 1
MIN2 = {"min.insync.replicas": "2"}


def batch(i):
    return kproto.record_batch([b"v%d-%d" % (i, k) for k in range(3)])


def set_state(a, t, epoch, isr, partition_epoch=0):
    """A leads t-0 with replicas [A, B] and this ISR; B is a port nobody
    listens on (it never fetches)."""
    st = {"partition": 0, "leader": A_ID, "leader_epoch": epoch,
          "partition_epoch": partition_epoch, "replicas": [A_ID, B_ID], "isr": list(isr)}
    with raw_conn(a) as c:
        res = kproto.leader_and_isr(c, 1, {t: [st]},
                                    live_leaders=[(B_ID, "127.0.0.1", free_port())])
    assert res == {"error_code": 0, "partitions": {(t, 0): 0}}, res


def log_size(broker, t):
    return sum(p.stat().st_size for _, p in broker.segments(t, 0))


def high_watermark(broker, t):
    with raw_conn(broker) as c:
        return kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP)["offset"]


def test_single_broker_min_insync_above_the_isr(broker, request):
    """Embedded mode: ISR = {self}; a topic asking min.insync.replicas=2
    refuses acks=all (as Kafka does) and writes nothing; acks=1 works; a
    topic at the default (1) takes acks=all."""
    t = create_topic(broker.bootstrap, unique_topic(request), 1, config=MIN2)
    t1 = create_topic(broker.bootstrap, unique_topic(request, "-one"), 1)
    with raw_conn(broker) as c:
        r = kproto.produce(c, t, 0, batch(0), acks=-1)
        assert r["error_code"] == kproto.NOT_ENOUGH_REPLICAS, r
        assert r["base_offset"] == -1, r
        assert high_watermark(broker, t) == 0
        assert log_size(broker, t) == 0
        r = kproto.produce(c, t, 0, batch(1), acks=1)
        assert (r["error_code"], r["base_offset"]) == (0, 0), r
        r = kproto.produce(c, t1, 0, batch(2), acks=-1)
        assert (r["error_code"], r["base_offset"]) == (0, 0), r


def test_not_enough_replicas_before_append(broker_factory, request):
    """ISR {A} below min.insync.replicas=2: acks=-1 is refused before the
    append; once the ISR is {A, B} it is accepted (and waits for B)."""
    a = broker_factory(HOOKS)
    t = create_topic(a.bootstrap, unique_topic(request), 1, config=MIN2)
    set_state(a, t, 1, [A_ID])
    with raw_conn(a) as c:
        r = kproto.produce(c, t, 0, batch(0), acks=-1)
        assert r["error_code"] == kproto.NOT_ENOUGH_REPLICAS, r
        assert log_size(a, t) == 0
        r = kproto.produce(c, t, 0, batch(1), acks=1)
        assert (r["error_code"], r["base_offset"]) == (0, 0), r
        size = log_size(a, t)
        r = kproto.produce(c, t, 0, batch(2), acks=-1)
        assert r["error_code"] == kproto.NOT_ENOUGH_REPLICAS, r
        assert log_size(a, t) == size
    set_state(a, t, 2, [A_ID, B_ID])
    with raw_conn(a) as c:
        r = kproto.produce(c, t, 0, batch(3), acks=-1, timeout_ms=300)
        assert r["error_code"] == 7, r        # REQUEST_TIMED_OUT: B never fetches
        assert log_size(a, t) > size


def test_not_enough_replicas_after_append(broker_factory, request):
    """An acks=-1 produce parked on ISR {A, B} (B never fetches); the ISR
    shrinks to {A} at the same leader epoch, a new partition epoch (what the
    ISR manager installs after AlterPartition; a LeaderAndIsr here): the HW
    reaches the batch, and the produce is answered
    NOT_ENOUGH_REPLICAS_AFTER_APPEND: the data is in the log, on too few
    replicas. With min.insync.replicas=1 the same shrink answers NONE. (A
    new leader epoch would answer NOT_LEADER_OR_FOLLOWER instead, C9.)"""
    a = broker_factory(HOOKS)
    t = create_topic(a.bootstrap, unique_topic(request), 1, config=MIN2)
    t1 = create_topic(a.bootstrap, unique_topic(request, "-one"), 1)
    for topic in (t, t1):
        set_state(a, topic, 1, [A_ID, B_ID])
    out = {}

    def produce(topic):
        with raw_conn(a, timeout=30) as c:
            out[topic] = kproto.produce(c, topic, 0, batch(0), acks=-1, timeout_ms=20000)

    threads = [threading.Thread(target=produce, args=(topic,)) for topic in (t, t1)]
    for th in threads:
        th.start()
    for topic in (t, t1):
        wait_until(lambda: log_size(a, topic) > 0, desc=f"{topic}: the batch appended")
    assert out == {}, out                      # both parked: B holds the HW
    for topic in (t, t1):
        set_state(a, topic, 1, [A_ID], partition_epoch=1)
    for th in threads:
        th.join(25)
    assert out[t]["error_code"] == kproto.NOT_ENOUGH_REPLICAS_AFTER_APPEND, out
    assert out[t1]["error_code"] == 0, out
    assert high_watermark(a, t) == 3           # in the log, committed by the ISR {A}
    with raw_conn(a) as c:
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0)
        assert f["error_code"] == 0 and f["records"], f


def test_alter_partition_not_controller(broker, request):
    """A broker that is not the active controller (here: no controller at
    all, embedded mode) answers every version with NOT_CONTROLLER."""
    t = create_topic(broker.bootstrap, unique_topic(request), 1)
    with raw_conn(broker) as c:
        for v, key in ((0, t), (1, t), (2, b"\x01" * 16)):
            res = kproto.alter_partition(c, 0, -1, {key: [(0, 0, [0], 0)]}, version=v)
            assert res == {"error_code": kproto.NOT_CONTROLLER, "partitions": {}}, (v, res)
