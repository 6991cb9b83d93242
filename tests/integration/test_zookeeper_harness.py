"""The ZooKeeper harness itself: the server the cluster tests rely on starts,
serves a chroot, keeps ephemeral nodes for a session's life only, survives a
restart with its data, and is stopped by PID."""
import pytest

from conftest import free_port, wait_until
from zk import ZooKeeper


@pytest.fixture
def zk(tmp_path):
    z = ZooKeeper(tmp_path, free_port())
    if not z.available():
        pytest.fail("ZooKeeper is not installed (scripts/deps.sh installs Debian's zookeeper)")
    z.start()
    yield z
    z.stop()


def test_zookeeper_serves_a_chroot_and_ephemeral_nodes(zk):
    root = zk.client()
    try:
        root.ensure_path("/samsa")
        c = zk.client("/samsa")
        try:
            c.create("/brokers/ids/1", b'{"version":5}', ephemeral=True, makepath=True)
            assert root.get("/samsa/brokers/ids/1")[0] == b'{"version":5}'
        finally:
            c.stop()
            c.close()
        # the session is gone, so is its ephemeral node
        wait_until(lambda: not root.exists("/samsa/brokers/ids/1"), timeout=10,
                   desc="ephemeral node removed with its session")
        assert root.exists("/samsa/brokers/ids") is not None
    finally:
        root.stop()
        root.close()


def test_zookeeper_keeps_its_data_across_kill9(zk):
    c = zk.client()
    c.create("/controller_epoch", b"7")
    c.stop()
    c.close()
    zk.kill9()
    zk.start()
    c = zk.client()
    try:
        assert c.get("/controller_epoch")[0] == b"7"
    finally:
        c.stop()
        c.close()
