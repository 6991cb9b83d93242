"""Bad input and edges for the cluster (issue 14, docs/cluster.md §11):
real brokers, real ZooKeeper, kazoo to edit znodes by hand.

Each case checks that the error names the key / file / znode / broker,
that nothing was deleted (files and znodes still there, byte for byte),
that the cluster keeps serving the other topics, and that fixing the
input heals it."""

import json
import time

from cluster import cluster_factory, cluster_zk, read_values  # noqa: F401  (fixtures)
from conftest import producer, produce_all, wait_until
from test_cluster_startup import run_broker as run_broker_in

SESSION_MS = 2000


def run_broker(overrides, logdirs, timeout=60):
    """Run a broker on logdirs to its exit: (exit code, output, listened)."""
    return run_broker_in(None, overrides, timeout=timeout, logdirs=logdirs)


def snapshot(d):
    """Every file under d with its bytes."""
    return {str(f.relative_to(d)): f.read_bytes() for f in sorted(d.rglob("*")) if f.is_file()}


def meta_cluster_id(logdir):
    for ln in (logdir / "meta.properties").read_text().splitlines():
        if ln.startswith("cluster.id="):
            return ln.split("=", 1)[1]
    return None


def roundtrip(c, topic, tag):
    """Produce one record to topic-0 through the cluster and read it back."""
    p = producer(c.bootstrap, acks="all")
    produce_all(p, topic, [{"value": tag.encode(), "partition": 0}])
    return tag.encode() in read_values(c.bootstrap, topic, 0, timeout=30)


def wait_log(c, pattern, timeout=20):
    return wait_until(lambda: c.grep_logs(pattern), timeout, interval=0.1,
                      desc=f"a log line matching {pattern!r}")


# --- 1. broker id clash ---------------------------------------------------------

def test_duplicate_broker_id_names_the_znode_and_the_holder(cluster_factory, tmp_path):
    c = cluster_factory(2)
    zkc = c.zk_client()
    node = f"{c.chroot}/brokers/ids/1"
    before = zkc.get(node)
    rc, out, listened = run_broker({"node.id": 1, "zookeeper.connect": c.connect,
                                    "zookeeper.session.timeout.ms": SESSION_MS},
                                   [tmp_path / "dup"])
    assert rc != 0 and not listened, out
    assert "broker id 1 is already registered" in out, out
    assert "/brokers/ids/1 is held by the live broker at PLAINTEXT://127.0.0.1:" \
        f"{c.broker_port(1)}" in out, out
    assert "node.id must be unique" in out, out
    after = zkc.get(node)
    assert after[0] == before[0] and after[1].czxid == before[1].czxid
    assert c.registered() == [0, 1]
    c.wait_metadata([0, 1])


# --- 2. log dirs of another cluster --------------------------------------------------

def test_log_dir_of_another_cluster_is_refused_and_kept(cluster_factory, tmp_path):
    a = cluster_factory(1)
    b = cluster_factory(1)
    a.stop(0)
    ldir = a.brokers[0].logdir
    id_a = meta_cluster_id(ldir)
    id_b = json.loads(b.zk_get("/cluster/id"))["id"]
    assert id_a and id_a != id_b
    files = snapshot(ldir)
    zk_b = {p: b.zk_children(p) for p in ("/brokers/ids", "/brokers/topics")}
    # node.id 0 like b's own broker: had it registered, b's broker 0 would clash.
    rc, out, listened = run_broker({"node.id": 0, "zookeeper.connect": b.connect,
                                    "zookeeper.session.timeout.ms": SESSION_MS}, [ldir])
    assert rc != 0 and not listened, out
    assert f"{ldir}/meta.properties" in out and id_a in out and id_b in out, out
    assert b.connect in out and "nothing was deleted" in out, out
    assert snapshot(ldir) == files
    assert {p: b.zk_children(p) for p in zk_b} == zk_b
    assert json.loads(b.zk_get("/cluster/id"))["id"] == id_b
    # An empty chroot (a typo): refused as well, and /cluster/id is not created.
    empty = f"{a.zk.connect}/nobody-here"
    rc, out, _ = run_broker({"node.id": 0, "zookeeper.connect": empty,
                             "zookeeper.session.timeout.ms": SESSION_MS}, [ldir])
    assert rc != 0 and "missing" in out and id_a in out and empty in out, out
    assert a.zk_client().exists("/nobody-here/cluster/id") is None
    assert snapshot(ldir) == files
    # The right chroot still works.
    a.start(0)


def test_log_dir_of_another_node_or_two_clusters_is_refused(cluster_factory, tmp_path):
    c = cluster_factory(1)
    c.stop(0)
    ldir = c.brokers[0].logdir
    files = snapshot(ldir)
    rc, out, listened = run_broker({"node.id": 7, "zookeeper.connect": c.connect,
                                    "zookeeper.session.timeout.ms": SESSION_MS}, [ldir])
    assert rc != 0 and not listened, out
    assert f"{ldir}/meta.properties: stored node.id 0 does not match configured node.id 7" \
        in out, out
    assert snapshot(ldir) == files
    assert 7 not in c.registered()
    other = tmp_path / "other"
    other.mkdir()
    (other / "meta.properties").write_text("version=1\nnode.id=0\n"
                                           "cluster.id=AAAAAAAAAAAAAAAAAAAAAA\n")
    rc, out, _ = run_broker({"node.id": 0, "zookeeper.connect": c.connect,
                             "zookeeper.session.timeout.ms": SESSION_MS}, [ldir, other])
    assert rc != 0 and "belong to different clusters" in out, out
    assert "AAAAAAAAAAAAAAAAAAAAAA" in out and meta_cluster_id(ldir) in out, out
    assert snapshot(ldir) == files
    c.start(0)


def test_damaged_cluster_id_refuses_a_start_and_heals(cluster_factory, tmp_path):
    c = cluster_factory(1)
    zkc = c.zk_client()
    good = zkc.get(c.chroot + "/cluster/id")[0]
    zkc.set(c.chroot + "/cluster/id", b"{\"id\": 42}")
    # A running broker keeps its id; a new one refuses to start.
    rc, out, listened = run_broker({"node.id": 5, "zookeeper.connect": c.connect,
                                    "zookeeper.session.timeout.ms": SESSION_MS},
                                   [tmp_path / "fresh"])
    assert rc != 0 and not listened, out
    assert "/cluster/id" in out and "does not decode" in out, out
    assert zkc.get(c.chroot + "/cluster/id")[0] == b"{\"id\": 42}"
    assert not (tmp_path / "fresh" / "meta.properties").exists()
    zkc.set(c.chroot + "/cluster/id", good)
    c.stop(0)
    c.start(0)


# --- 3. ZooKeeper data edited into nonsense -------------------------------------------

def test_damaged_topic_config_and_state_znodes_are_reported_kept_and_heal(cluster_factory):
    c = cluster_factory(2, session_timeout_ms=SESSION_MS)
    c.create_topic("good", rf=2)
    c.create_topic("victim", rf=2)
    zkc = c.zk_client()
    cases = [
        ("/brokers/topics/victim", b'{"version":2,"partitions":{"x":[0,1]}}', "partition \"x\""),
        ("/brokers/topics/victim", b'{"version":2,"partitions":{"0":[0,-1]}}', "not a broker id"),
        ("/brokers/topics/victim", b'{"version":2,"partitions":{"0":[1,1]}}', "names broker 1 twice"),
        ("/brokers/topics/victim", b"not json at all", "not valid JSON"),
        ("/config/topics/victim", b'{"version":1,"config":[1]}', "must be an object"),
    ]
    for n, (path, junk, why) in enumerate(cases):
        full = c.chroot + path
        good = zkc.get(full)[0]
        zkc.set(full, junk)
        wait_log(c, f"{path} does not decode .*{why}")
        time.sleep(0.5)
        # reported once per change, not on every re-read
        hits = c.grep_logs(f"{path} does not decode .*{why}")
        assert len(hits) <= 3, hits          # broker 0, broker 1, controller: once each
        assert zkc.get(full)[0] == junk      # never rewritten
        # the rest keeps working: the good topic, and a new topic
        assert roundtrip(c, "good", f"m{n}")
        c.create_topic(f"fresh{n}", rf=2)
        assert all(c.partition("victim", 0, via=i) is not None for i in c.live())
        zkc.set(full, good)
        wait_until(lambda: len(c.grep_logs(f"{path} decodes again")) >= 1, 20, interval=0.1,
                   desc=f"{path} reported repaired")
    assert roundtrip(c, "victim", "healed")
    for i in c.live():
        assert c.brokers[i].logdir.joinpath("victim-0").is_dir()

    # A partition state: only the controller reads it, when it has to act on
    # the partition (here: a replica leaves); then it leaves it alone.
    path = "/brokers/topics/victim/partitions/0/state"
    full = c.chroot + path
    zkc.set(full, b"garbage")
    other = 1 - c.controller()
    c.stop(other)
    wait_log(c, f"{path} does not decode .*not valid JSON.*partition left alone")
    assert zkc.get(full)[0] == b"garbage"
    assert roundtrip(c, "good", "while-bad-state")
    c.start(other)
    st = json.loads(good_state := json.dumps({"controller_epoch": c.controller_epoch(),
                                              "leader": 1 - other, "version": 1,
                                              "leader_epoch": 100, "isr": [1 - other]}))
    assert st
    zkc.set(full, good_state.encode())
    wait_log(c, f"{path} decodes again")
    c.wait_isr("victim", 0, n=2)
    assert roundtrip(c, "victim", "healed-state")


def test_uneven_replica_lists_are_legal(cluster_factory):
    c = cluster_factory(2, session_timeout_ms=SESSION_MS)
    c.create_topic("t", partitions=2, rf=2)
    zkc = c.zk_client()
    full = c.chroot + "/brokers/topics/t"
    a = json.loads(zkc.get(full)[0])
    a["partitions"]["1"] = a["partitions"]["1"][:1]
    zkc.set(full, json.dumps(a).encode())
    c.create_topic("after", rf=2)        # the sync goes on
    time.sleep(1)
    assert not c.grep_logs("/brokers/topics/t does not decode")
    assert roundtrip(c, "t", "x")


def test_damaged_registration_is_ignored_then_healed(cluster_factory):
    c = cluster_factory(2, session_timeout_ms=SESSION_MS)
    zkc = c.zk_client()
    full = c.chroot + "/brokers/ids/1"
    good = zkc.get(full)[0]
    zkc.set(full, b'{"version":5,"endpoints":[]}')
    wait_log(c, "/brokers/ids/1 does not decode .*endpoints")
    assert zkc.get(full)[0] == b'{"version":5,"endpoints":[]}'
    zkc.set(full, good)
    wait_log(c, "/brokers/ids/1 decodes again")
    c.wait_metadata([0, 1])


def test_damaged_controller_epoch_holds_no_churn_and_heals(cluster_factory):
    c = cluster_factory(2, session_timeout_ms=SESSION_MS)
    c.create_topic("good", rf=2)
    zkc = c.zk_client()
    old = c.controller()
    good_epoch = c.controller_epoch()
    zkc.set(c.chroot + "/controller_epoch", b"banana")
    c.stop(old)
    other = 1 - old

    def reports():
        return [i for i, _ in c.grep_logs("/controller_epoch does not decode")].count(other)
    wait_until(lambda: reports() >= 1, 20, desc="the new holder reports /controller_epoch")
    time.sleep(1.5)              # a window in which churn would show
    # no churn: the broker now holding /controller reports it once (the old
    # one may have reported it too, in its controlled shutdown)
    assert reports() == 1
    assert c.controller() == other                  # holds /controller, does not act
    assert zkc.get(c.chroot + "/controller_epoch")[0] == b"banana"
    zkc.set(c.chroot + "/controller_epoch", str(good_epoch).encode())
    wait_until(lambda: c.controller_epoch() == good_epoch + 1, 20, interval=0.1,
               desc="the held controller acting at the next epoch")
    c.start(old)
    assert roundtrip(c, "good", "after")


def test_damaged_controller_znode_blocks_election_until_deleted(cluster_factory):
    c = cluster_factory(2, start=False, session_timeout_ms=SESSION_MS)
    zkc = c.zk_client()
    zkc.create(c.chroot + "/controller", b"who knows", makepath=True)
    for b in c.brokers:
        b.start(wait=False)
    for b in c.brokers:
        b.wait_ready()
    c.wait_registered([0, 1])
    wait_log(c, "/controller does not decode .*persistent node")
    assert zkc.get(c.chroot + "/controller")[0] == b"who knows"
    zkc.delete(c.chroot + "/controller")            # the operator's fix
    c.wait_controller()
    c.wait_metadata([0, 1])
    c.create_topic("t", rf=2)
    assert roundtrip(c, "t", "x")
