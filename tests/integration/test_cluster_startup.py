"""Cluster-mode start-up refusals (docs/cluster.md §2): a broker that
cannot reach ZooKeeper says so, names zookeeper.connect and exits once
zookeeper.connection.timeout.ms runs out, serving nothing meanwhile; a
broker started with a node.id that a live broker holds is refused with a
clear message, and the holder keeps its registration."""

import subprocess
import time

from cluster import cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import BROKER_BIN, free_port, port_open


def run_broker(tmp_path, overrides, timeout=60, logdirs=None):
    """Run a broker to its exit; (exit code, output, whether it ever
    listened on its port).  logdirs: its log.dirs (default a new one)."""
    port = free_port()
    dirs = ",".join(str(d) for d in logdirs) if logdirs else f"{tmp_path}/data-{port}"
    argv = [BROKER_BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"log.dirs={dirs}"]
    for k, v in overrides.items():
        argv += ["--override", f"{k}={v}"]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    listened = False
    deadline = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < deadline:
        listened |= port_open(port)
        time.sleep(0.05)
    if p.poll() is None:
        p.kill()
        p.wait()
        raise AssertionError(f"broker still running after {timeout}s:\n{p.stdout.read()}")
    return p.returncode, p.stdout.read(), listened


def test_unreachable_zookeeper_names_the_key_and_gives_up(tmp_path):
    dead = f"127.0.0.1:{free_port()}"          # nothing listens there
    start = time.monotonic()
    rc, out, listened = run_broker(tmp_path, {"node.id": 5, "zookeeper.connect": dead + "/x",
                                              "zookeeper.connection.timeout.ms": 1500})
    took = time.monotonic() - start
    assert rc != 0, out
    assert f"zookeeper.connect={dead}/x" in out and "could not connect to ZooKeeper" in out, out
    assert took >= 1.4, f"gave up after {took:.2f}s, before zookeeper.connection.timeout.ms"
    assert not listened, "served clients without a cluster"


def test_a_second_broker_with_a_registered_id_is_refused(cluster_factory, tmp_path):
    c = cluster_factory(2)
    owner_epoch = c.zk_client().get(f"{c.chroot}/brokers/ids/1")[1].czxid
    # The newcomer waits up to its own session timeout for the node to go
    # (a restarted broker replacing its dying session), then gives up.
    rc, out, listened = run_broker(tmp_path, {"node.id": 1, "zookeeper.connect": c.connect,
                                              "zookeeper.session.timeout.ms": 2000})
    assert rc != 0, out
    assert "broker id 1 is already registered" in out and "node.id must be unique" in out, out
    assert not listened
    assert c.zk_client().get(f"{c.chroot}/brokers/ids/1")[1].czxid == owner_epoch
    assert c.registered() == [0, 1]
