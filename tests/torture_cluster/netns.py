"""Network namespaces for the cluster fault runner: one namespace per broker,
each joined by a veth pair to a bridge in the root namespace, so that a
broker can be cut off from the other brokers, from ZooKeeper and from the
clients at once (fault "partition") by taking its link down, and healed by
bringing it up.

Layout of one run (every name carries the run's tag, e.g. "sqa1b2"; Linux
interface names are at most 15 characters):

    root namespace                       namespace <tag>-<i> (broker i)
    bridge <tag>b  10.X.Y.1/24  --veth-- <tag>h<i> (host side, on the bridge)
      ZooKeeper listens here               <tag>n<i>  10.X.Y.(10+i)/24
      the clients run here                 lo up; broker i listens on it

The /24 is picked at random among 10.200-249.*.0 and checked against the
root namespace's routes, so two runs on one machine never share a subnet.
Cutting = `ip link set <tag>h<i> down` (no carrier: nothing in or out,
established TCP connections stall and time out as on a real partition).

Needs root (CAP_NET_ADMIN) and `ip`. `Netns.unavailable()` says why not,
when not, so the caller can skip the fault with a printed reason.
`close()` deletes the namespaces and the bridge by name (the veths go with
their namespace); it is idempotent, and `cleanup_stale(tag)` does the same
for a crashed run. Runs only `ip`; never touches anything without the tag.
"""
import os
import random
import shutil
import subprocess


def _ip(*args, check=True):
    cp = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and cp.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {cp.stderr.strip()}")
    return cp


class Netns:
    """The namespaces, veths and bridge of one run."""

    def __init__(self, n, rng=None, tag=None):
        rng = rng or random.Random()
        self.n = n
        # The tag is what makes the names unique to this run (pid + random).
        self.tag = tag or f"sq{(os.getpid() ^ rng.getrandbits(20)) & 0xfffff:05x}"
        self.bridge = f"{self.tag}b"
        self.subnet = None
        self.created = False
        self._rng = rng
        self.up = [True] * n

    # --- names ---------------------------------------------------------------------
    def ns(self, i):
        return f"{self.tag}-{i}"

    def host_if(self, i):
        return f"{self.tag}h{i}"

    def ns_if(self, i):
        return f"{self.tag}n{i}"

    @property
    def gateway(self):
        """The bridge's address: ZooKeeper listens here."""
        return f"{self.subnet}.1"

    def addr(self, i):
        return f"{self.subnet}.{10 + i}"

    # --- availability ----------------------------------------------------------------
    @staticmethod
    def unavailable():
        """None when namespaces can be made here, else the reason."""
        if shutil.which("ip") is None:
            return "the `ip` command (iproute2) is not installed"
        if os.geteuid() != 0:
            return "not root: network namespaces need CAP_NET_ADMIN"
        probe = f"sqprobe{os.getpid() & 0xffff:04x}"
        cp = _ip("netns", "add", probe, check=False)
        if cp.returncode != 0:
            return f"`ip netns add` failed: {cp.stderr.strip()}"
        _ip("netns", "del", probe, check=False)
        return None

    def _pick_subnet(self):
        routes = _ip("-4", "route", "show").stdout + _ip("-4", "addr", "show").stdout
        for _ in range(200):
            net = f"10.{self._rng.randrange(200, 250)}.{self._rng.randrange(0, 256)}"
            if f"{net}." not in routes:
                return net
        raise RuntimeError("no free 10.200-249.*.0/24 subnet for the run's bridge")

    # --- life cycle ------------------------------------------------------------------
    def create(self):
        self.subnet = self._pick_subnet()
        self.created = True          # from here on close() has something to remove
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for i in range(self.n):
            _ip("netns", "add", self.ns(i))
            _ip("link", "add", self.host_if(i), "type", "veth", "peer", "name", self.ns_if(i))
            _ip("link", "set", self.ns_if(i), "netns", self.ns(i))
            _ip("link", "set", self.host_if(i), "master", self.bridge, "up")
            _ip("-n", self.ns(i), "addr", "add", f"{self.addr(i)}/24", "dev", self.ns_if(i))
            _ip("-n", self.ns(i), "link", "set", self.ns_if(i), "up")
            _ip("-n", self.ns(i), "link", "set", "lo", "up")
        return self

    def cut(self, i):
        """Cut broker i off from everything (its link down)."""
        _ip("link", "set", self.host_if(i), "down")
        self.up[i] = False

    def heal(self, i):
        _ip("link", "set", self.host_if(i), "up")
        self.up[i] = True

    def close(self):
        """Remove everything of this run by name; errors are ignored (a part
        may never have been made). Safe to call twice."""
        if not self.created:
            return
        cleanup_stale(self.tag, self.n)
        self.created = False


def cleanup_stale(tag, n):
    for i in range(n):
        _ip("netns", "del", f"{tag}-{i}", check=False)
        _ip("link", "del", f"{tag}h{i}", check=False)
    _ip("link", "del", f"{tag}b", check=False)
