"""Fencing of controller requests in a real cluster (docs/cluster.md C2, C3,
C4): a broker refuses a LeaderAndIsr from an older controller epoch, or
stamped for an earlier registration of itself (broker epoch = the czxid of
/brokers/ids/N), or older than the state it holds, and applies nothing.

The stale requests are sent by hand (kproto) to a broker of a running
3-broker cluster, as a deposed controller or a delayed packet would; what
the broker then serves is read back through Metadata and a produce."""

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import wait_until


def broker_epoch(c, i):
    """The czxid of /brokers/ids/i: broker i's epoch."""
    return c.zk_client().get(f"{c.chroot}/brokers/ids/{i}")[1].czxid


def lai(c, target, topic, state, controller_epoch, broker_epoch_):
    with kproto.Conn("127.0.0.1", c.brokers[target].port, timeout=10) as conn:
        return kproto.leader_and_isr(conn, controller_epoch, {topic: [state]}, version=6,
                                     controller_id=c.controller(), broker_epoch=broker_epoch_)


def current_state(c, topic, via):
    p = c.partition(topic, 0, via=via)
    return {"partition": 0, "leader": p["leader"], "leader_epoch": p["leader_epoch"],
            "isr": p["isr"], "replicas": p["replicas"]}


def test_stale_controller_and_broker_epochs_are_refused(cluster_factory):
    c = cluster_factory(3)
    t = "fenced"
    c.create_topic(t, partitions=1, rf=3)
    leader = c.wait_leader(t, 0)["leader"]
    follower = next(i for i in c.live() if i != leader)
    st = current_state(c, t, follower)
    epoch = c.controller_epoch()
    assert epoch is not None and epoch >= 1

    # An order that would make the follower leader at a newer leader epoch...
    coup = dict(st, leader=follower, leader_epoch=st["leader_epoch"] + 5, isr=[follower])

    # C2: from an older controller epoch: refused, nothing applied.
    r = lai(c, follower, t, coup, epoch - 1, broker_epoch(c, follower))
    assert r["error_code"] == kproto.STALE_CONTROLLER_EPOCH, r
    # C3: from the current controller epoch but for an earlier life of the
    # follower (a broker epoch below its registration's czxid): refused.
    r = lai(c, follower, t, coup, epoch, broker_epoch(c, follower) - 1)
    assert r["error_code"] == kproto.STALE_BROKER_EPOCH, r

    # Nothing moved: the follower does not lead, every broker agrees on the
    # leader, and produce goes through the real leader.
    for i in c.live():
        assert c.partition(t, 0, via=i)["leader"] == leader
    with kproto.Conn("127.0.0.1", c.brokers[follower].port, timeout=10) as conn:
        res = kproto.produce(conn, t, 0, kproto.record_batch([b"x"]), acks=-1)
        assert res["error_code"] == kproto.NOT_LEADER_OR_FOLLOWER, res
    with kproto.Conn("127.0.0.1", c.brokers[leader].port, timeout=10) as conn:
        res = kproto.produce(conn, t, 0, kproto.record_batch([b"y"]), acks=-1)
        assert res["error_code"] == 0, res


def test_old_leader_epoch_and_old_partition_epoch_are_ignored(cluster_factory):
    c = cluster_factory(3)
    t = "stale-state"
    c.create_topic(t, partitions=1, rf=3)
    leader = c.wait_leader(t, 0)["leader"]
    follower = next(i for i in c.live() if i != leader)
    st = current_state(c, t, follower)
    epoch = c.controller_epoch()
    be = broker_epoch(c, follower)

    # C4: an older leader epoch naming the follower leader is ignored for
    # the partition (the request itself is from the current controller).
    old = dict(st, leader=follower, leader_epoch=st["leader_epoch"] - 1)
    r = lai(c, follower, t, old, epoch, be)
    assert list(r["partitions"].values()) == [kproto.STALE_CONTROLLER_EPOCH], r
    assert c.partition(t, 0, via=follower)["leader"] == leader
    # The same leader epoch with an older partition epoch (a delayed copy of
    # an earlier order) cannot shrink the ISR the broker holds.
    stale = dict(st, isr=[leader], partition_epoch=-1)
    r = lai(c, follower, t, stale, epoch, be)
    assert list(r["partitions"].values()) == [kproto.STALE_CONTROLLER_EPOCH], r
    assert sorted(c.partition(t, 0, via=follower)["isr"]) == sorted(st["isr"])

    # The controller's own view never moved; a restart of the follower
    # gives it a new broker epoch, and the old one is refused from then on.
    c.restart(follower)
    wait_until(lambda: broker_epoch(c, follower) != be, 30, desc="a new registration")
    coup = dict(st, leader=follower, leader_epoch=st["leader_epoch"] + 5, isr=[follower])
    r = lai(c, follower, t, coup, c.controller_epoch(), be)
    assert r["error_code"] == kproto.STALE_BROKER_EPOCH, r
    c.wait_isr(t, 0, n=3)
    assert c.leader_of(t, 0) == leader
