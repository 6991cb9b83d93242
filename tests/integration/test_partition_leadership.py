"""Partition state and leadership (docs/cluster-metadata.md): a partition
this broker does not lead, marked so through LeaderAndIsr (served only with
the test hook samsa.test.hooks.enable=true).

Broker 2 is a registered live leader (LeaderAndIsr LiveLeaders) with a port
nothing listens on: clients learn of it but cannot reach it."""

import time

import confluent_kafka as ck

import kproto
from conftest import (consumer, create_topic, free_port, produce_all, producer, raw_conn,
                      unique_topic, wait_until)

HOOKS = {"samsa.test.hooks.enable": "true"}


def state(partition, leader, epoch, replicas, isr=None):
    return {"partition": partition, "leader": leader, "leader_epoch": epoch,
            "replicas": replicas, "isr": isr if isr is not None else replicas}


def lead_elsewhere(conn, t, port2, epoch=1, controller_epoch=1, version=4):
    """Mark t-0 as led by broker 2 at `epoch` (replicas/ISR [2, 0])."""
    res = kproto.leader_and_isr(conn, controller_epoch, {t: [state(0, 2, epoch, [2, 0])]},
                                live_leaders=[(2, "127.0.0.1", port2)], version=version)
    assert res["error_code"] == 0, res
    assert list(res["partitions"].values()) == [0], res
    return res


def lead_here(conn, t, epoch, controller_epoch=1):
    res = kproto.leader_and_isr(conn, controller_epoch, {t: [state(0, 0, epoch, [0, 2], [0])]})
    assert res == {"error_code": 0, "partitions": {(t, 0): 0}}, res


def one_batch(value=b"v"):
    return kproto.record_batch([value])


def test_leader_and_isr_needs_the_test_hook(broker, request):
    """Off by default: not advertised, and a request closes the connection
    like any unknown API."""
    t = unique_topic(request)
    create_topic(broker.bootstrap, t, 1)
    with raw_conn(broker) as c:
        assert kproto.LEADER_AND_ISR not in c.versions()
        c.send_request(kproto.LEADER_AND_ISR, 4, kproto.W(True).i32(0).i32(1).i64(-1)
                       .array([], None).array([], None).tags().done())
        assert c.wait_closed(), "LeaderAndIsr without the test hook must close the connection"
    with raw_conn(broker) as c:  # still served: nothing changed
        assert kproto.produce(c, t, 0, one_batch())["error_code"] == 0


def test_led_elsewhere_refuses_data_requests(broker_factory, request):
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    with raw_conn(b) as c:
        assert c.versions()[kproto.LEADER_AND_ISR] == (0, 7)
        assert kproto.produce(c, t, 0, one_batch(b"before"))["error_code"] == 0
        lead_elsewhere(c, t, port2)

        md = kproto.metadata(c, [t], version=8)
        assert sorted(md["brokers"]) == [(0, "127.0.0.1", b.port, None), (2, "127.0.0.1", port2, None)]
        p = md["topics"][t]["partitions"][0]
        assert (p["error_code"], p["leader"], p["leader_epoch"]) == (0, 2, 1), p
        assert (p["replicas"], p["isr"], p["offline"]) == ([2, 0], [2, 0], []), p
        assert sorted(x["node_id"] for x in kproto.describe_cluster(c)["brokers"]) == [0, 2]

        NL = kproto.NOT_LEADER_OR_FOLLOWER
        assert kproto.produce(c, t, 0, one_batch())["error_code"] == NL
        assert kproto.fetch(c, t, 0, 0, max_wait_ms=0)["error_code"] == NL
        assert kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP)["error_code"] == NL
        assert kproto.delete_records(c, t, 0, 0)["error_code"] == NL
        assert kproto.offset_for_leader_epoch(c, t, 0, 0)["error_code"] == NL

        # KIP-951: the current leader and its endpoint.
        r = kproto.produce(c, t, 0, one_batch(), version=10)
        assert r["error_code"] == NL
        assert r["current_leader"] == {"leader_id": 2, "leader_epoch": 1}, r
        assert r["node_endpoints"] == [{"node_id": 2, "host": "127.0.0.1", "port": port2,
                                        "rack": None}], r
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0, version=12)
        assert f["error_code"] == NL and f["current_leader"] == {"leader_id": 2, "leader_epoch": 1}


def test_current_leader_epoch_fencing(broker_factory, request):
    """KIP-320: older than ours FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH,
    checked before leadership (as Kafka does)."""
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    with raw_conn(b) as c:
        lead_elsewhere(c, t, port2, epoch=3)
        for fn in (lambda e: kproto.fetch(c, t, 0, 0, max_wait_ms=0, current_leader_epoch=e),
                   lambda e: kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP,
                                                 current_leader_epoch=e),
                   lambda e: kproto.offset_for_leader_epoch(c, t, 0, 0, current_leader_epoch=e)):
            assert fn(2)["error_code"] == kproto.FENCED_LEADER_EPOCH
            assert fn(4)["error_code"] == kproto.UNKNOWN_LEADER_EPOCH
            assert fn(3)["error_code"] == kproto.NOT_LEADER_OR_FOLLOWER
        f = kproto.fetch(c, t, 0, 0, max_wait_ms=0, current_leader_epoch=2, version=12)
        assert f["current_leader"] == {"leader_id": 2, "leader_epoch": 3}, f
        lead_here(c, t, epoch=5)
        ok = kproto.fetch(c, t, 0, 0, max_wait_ms=0, current_leader_epoch=5)
        assert ok["error_code"] == 0, ok
        assert kproto.fetch(c, t, 0, 0, max_wait_ms=0, current_leader_epoch=3)["error_code"] == \
            kproto.FENCED_LEADER_EPOCH


def test_stale_controller_and_leader_epochs_are_refused(broker_factory, request):
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    with raw_conn(b) as c:
        lead_elsewhere(c, t, port2, epoch=4, controller_epoch=7)
        # An older controller epoch: the whole request refused, nothing applied.
        res = kproto.leader_and_isr(c, 6, {t: [state(0, 0, 9, [0])]})
        assert res["error_code"] == kproto.STALE_CONTROLLER_EPOCH, res
        # A current controller with an older leader epoch: that partition ignored.
        res = kproto.leader_and_isr(c, 7, {t: [state(0, 0, 3, [0])]})
        assert res == {"error_code": 0, "partitions": {(t, 0): kproto.STALE_CONTROLLER_EPOCH}}, res
        p = kproto.metadata(c, [t], version=8)["topics"][t]["partitions"][0]
        assert (p["leader"], p["leader_epoch"]) == (2, 4), p
        # Unknown partitions and partitions not assigned here are refused.
        res = kproto.leader_and_isr(c, 7, {t: [state(5, 0, 9, [0]), state(0, 2, 9, [2, 3])],
                                           "no-such-topic": [state(0, 0, 1, [0])]})
        assert sorted(res["partitions"].values()) == [3, 3, 3], res
        # v7: per-topic (by id) response.
        res = lead_elsewhere(c, t, port2, epoch=6, controller_epoch=8, version=7)
        assert (kproto.metadata(c, [t], version=8)["topics"][t]["partitions"][0]["leader_epoch"]
                == 6)


def test_client_produces_again_once_led_here(broker_factory, request):
    """confluent-kafka: while broker 2 (unreachable) leads, nothing is
    delivered; once this broker leads again at a newer epoch, the same
    producer delivers and a consumer reads it back."""
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    with raw_conn(b) as c:
        lead_elsewhere(c, t, port2)
    md = ck.admin.AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(t, timeout=10)
    assert sorted(md.brokers) == [0, 2] and md.brokers[2].port == port2
    part = md.topics[t].partitions[0]
    assert (part.leader, part.replicas, part.isrs) == (2, [2, 0], [2, 0])
    p = producer(b.bootstrap, **{"topic.metadata.refresh.interval.ms": 500,
                                 "message.timeout.ms": 60000})
    delivered = []
    p.produce(t, b"while-led-elsewhere", partition=0,
              on_delivery=lambda err, msg: delivered.append(err))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        p.poll(0.1)
    assert delivered == [], "delivered while broker 2 leads"
    with raw_conn(b) as c:
        lead_here(c, t, epoch=2)
    p.flush(30)
    assert delivered == [None], delivered
    produce_all(p, t, [dict(value=b"after", partition=0)])
    cons = consumer(b.bootstrap)
    try:
        cons.assign([ck.TopicPartition(t, 0, 0)])
        got = []
        wait_until(lambda: got.extend(m.value() for m in cons.consume(10, 0.5) if not m.error())
                   or len(got) >= 2, timeout=20, desc="consume both")
        assert got == [b"while-led-elsewhere", b"after"]
    finally:
        cons.close()
    with raw_conn(b) as c:
        md = kproto.metadata(c, [t], version=8)["topics"][t]["partitions"][0]
        assert (md["leader"], md["leader_epoch"], md["isr"]) == (0, 2, [0]), md
        # New batches carry the new leader epoch (the log's epoch cache).
        assert kproto.list_offsets(c, t, 0, kproto.LATEST_TIMESTAMP, version=4)["leader_epoch"] == 2


def test_group_coordinator_follows_offsets_partition_leader(broker_factory, request):
    b = broker_factory(HOOKS)
    t, port2, g = unique_topic(request), free_port(), unique_topic(request, "-g")
    create_topic(b.bootstrap, t, 1)
    with raw_conn(b) as c:
        fc = kproto.find_coordinator(c, g)     # creates __consumer_offsets
        assert (fc["error_code"], fc["node_id"]) == (0, 0), fc
        md = kproto.metadata(c, ["__consumer_offsets"], version=8)
        parts = sorted(md["topics"]["__consumer_offsets"]["partitions"])
        res = kproto.leader_and_isr(c, 1, {"__consumer_offsets": [state(i, 2, 1, [2, 0])
                                                                  for i in parts]},
                                    live_leaders=[(2, "127.0.0.1", port2)])
        assert set(res["partitions"].values()) == {0}, res
        fc = kproto.find_coordinator(c, g)
        assert (fc["error_code"], fc["node_id"], fc["host"], fc["port"]) == \
            (0, 2, "127.0.0.1", port2), fc
        assert kproto.join_group(c, g)["error_code"] == kproto.NOT_COORDINATOR
        assert kproto.offset_commit(c, g, {(t, 0): 1}) == {(t, 0): kproto.NOT_COORDINATOR}


def test_replication_factor_against_live_brokers(broker_factory, request):
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    a = ck.admin.AdminClient({"bootstrap.servers": b.bootstrap})

    def create(name, rf):
        fut = a.create_topics([ck.admin.NewTopic(name, 1, rf)], request_timeout=15)[name]
        try:
            fut.result(15)
            return None
        except ck.KafkaException as e:
            return e.args[0]

    err = create(t + "-rf2", 2)
    assert err.code() == ck.KafkaError.INVALID_REPLICATION_FACTOR
    assert "larger than available brokers: 1" in err.str()
    with raw_conn(b) as c:
        lead_elsewhere(c, t, port2)
    assert create(t + "-rf2", 2) is None
    err = create(t + "-rf3", 3)
    assert "larger than available brokers: 2" in err.str()
    with raw_conn(b) as c:
        p = kproto.metadata(c, [t + "-rf2"], version=8)["topics"][t + "-rf2"]["partitions"][0]
        assert (p["leader"], p["replicas"], p["isr"]) == (0, [0, 2], [0]), p


def test_parked_fetch_answers_when_leadership_moves(broker_factory, request):
    """A long-poll Fetch parked at the log end is answered NOT_LEADER_OR_FOLLOWER
    as soon as another broker becomes leader (Kafka's DelayedFetch), not at
    its max wait."""
    import threading
    b = broker_factory(HOOKS)
    t, port2 = unique_topic(request), free_port()
    create_topic(b.bootstrap, t, 1)
    out = {}

    def long_poll():
        with raw_conn(b, timeout=30) as c:
            start = time.monotonic()
            out["resp"] = kproto.fetch(c, t, 0, 0, max_wait_ms=20000, version=12)
            out["took"] = time.monotonic() - start

    th = threading.Thread(target=long_poll)
    th.start()
    time.sleep(0.5)  # let it park
    assert "resp" not in out, out
    with raw_conn(b) as c:
        lead_elsewhere(c, t, port2, epoch=2)
    th.join(25)
    assert out["resp"]["error_code"] == kproto.NOT_LEADER_OR_FOLLOWER, out
    assert out["resp"]["current_leader"] == {"leader_id": 2, "leader_epoch": 2}, out
    assert out["took"] < 10, out
