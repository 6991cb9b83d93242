"""The faults of a cluster fault run, each a function fault(ctx, rec) that
injects one fault, heals it and waits (on conditions, with bounds) until the
cluster is whole again: every broker running and registered, every partition
of the workload topic and of __consumer_offsets with a full ISR agreed by
every broker. It fills rec (a dict) with its times (time.monotonic(): t0 =
injected, t_heal = healing action done, t_end = whole again), its target and
what it saw; a bound exceeded raises Broken, which ends the schedule (the
final checks still run). Hold times come from ctx.rng, so a seed replays the
same schedule.

Kinds (docs/reliability.md, "Cluster fault runs"):
  kill_leader      kill -9 of a partition's leader; restart after a hold
  kill_controller  kill -9 of the broker holding /controller; restart
  pause_leader     SIGSTOP of a leader until the others elected another
                   (longer than zookeeper.session.timeout.ms), then SIGCONT:
                   it must find itself fenced, re-register, truncate, rejoin
  partition        a broker's link down (netns.py): cut off from the others,
                   ZooKeeper and clients; long (until its leaderships moved /
                   its registration expired) or short (a third of the session
                   timeout); then up
  zk_short         ZooKeeper kill -9, restarted at once (same port, data dir):
                   an outage shorter than the session timeout
  zk_long          ZooKeeper kill -9 for longer than the session timeout
  rolling_restart  SIGTERM, start, wait for full ISR, next broker, all brokers
  disk_full        the log dir (a tmpfs) of the broker leading the fewest
                   workload partitions filled with a ballast file until it
                   has no space, held until the broker left an ISR (bounded),
                   then the ballast deleted
"""
import os
import signal
import time

from kazoo.exceptions import KazooException

import kproto
from conftest import stop_process

CONSUMER_OFFSETS = "__consumer_offsets"


class Broken(Exception):
    """The cluster did not become whole again within a bound."""


def poll(cond, timeout, desc, interval=0.05):
    """cond()'s first truthy value; Broken after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = cond()
        except (OSError, kproto.ProtocolError, AssertionError, KazooException):
            v = None        # a broker or ZooKeeper not answering (yet): a fault's effect
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Broken(f"timed out after {timeout:.0f} s waiting for {desc}")
        time.sleep(interval)


# --- what the brokers say ----------------------------------------------------------
def states(ctx, i):
    """{(topic, p): state} of the workload topic and __consumer_offsets as
    broker i reports them, or None when it does not answer."""
    b = ctx.cluster.brokers[i]
    try:
        with kproto.Conn(b.host, b.port, timeout=3) as c:
            md = kproto.metadata(c, [ctx.topic, CONSUMER_OFFSETS])
    except (OSError, kproto.ProtocolError):
        return None
    out = {}
    for t, tm in md["topics"].items():
        if tm["error_code"] != 0:
            continue
        for p, st in tm["partitions"].items():
            out[(t, p)] = st
    return out


def not_whole(ctx):
    """Why the cluster is not whole (a string), or None when it is."""
    c = ctx.cluster
    dead = [i for i, b in enumerate(c.brokers) if not b.running()]
    if dead:
        return f"brokers {dead} not running"
    reg = c.registered()
    if reg != list(range(len(c.brokers))):
        return f"registered {reg}"
    views = [states(ctx, i) for i in range(len(c.brokers))]
    if any(v is None for v in views):
        return "a broker does not answer Metadata"
    first = views[0]
    want = ctx.partitions + ctx.offsets_partitions
    if len(first) != want:
        return f"{len(first)} of {want} partitions known"
    n = len(c.brokers)
    for key, st in first.items():
        rf = len(st["replicas"])
        if st["leader"] < 0 or len(st["isr"]) != min(rf, n):
            return f"{key}: leader {st['leader']} isr {sorted(st['isr'])}"
        for v in views[1:]:
            o = v.get(key)
            if o is None or (o["leader"], o["leader_epoch"], sorted(o["isr"])) != \
                    (st["leader"], st["leader_epoch"], sorted(st["isr"])):
                return f"{key}: brokers disagree"
    return None


def wait_whole(ctx, rec):
    last = [None]

    def whole():
        last[0] = not_whole(ctx)
        return last[0] is None
    try:
        poll(whole, ctx.whole_timeout, "a whole cluster", interval=0.1)
    except Broken as e:
        raise Broken(f"{e} (last: {last[0]})") from None
    rec["t_end"] = time.monotonic()


def leader_of(ctx, p, via):
    for i in via:
        st = (states(ctx, i) or {}).get((ctx.topic, p))
        if st and st["leader"] >= 0:
            return st["leader"]
    return -1


def wait_moved(ctx, parts, old, via):
    """Until a broker in via reports, for every partition in parts, a leader
    other than old."""
    def moved():
        for i in via:
            v = states(ctx, i)
            if v and all(v.get((ctx.topic, p), {}).get("leader", -1) not in (-1, old)
                         for p in parts):
                return True
        return False
    poll(moved, ctx.failover_timeout, f"partitions {parts} led by another than {old}")


def led_by(ctx, i, via):
    for j in via:
        v = states(ctx, j)
        if v is not None:
            return [p for (t, p), st in v.items() if t == ctx.topic and st["leader"] == i]
    return []


def zk_read(fn, desc):
    """fn() (a ZooKeeper read through kazoo), retried while ZooKeeper is
    away or the harness's own session is being re-established."""
    return poll(lambda: [fn()], 60, desc)[0]


def broker_epoch(ctx, i):
    c = ctx.cluster
    return c.zk_client().get(f"{c.chroot}/brokers/ids/{i}")[1].czxid


def others(ctx, i):
    return [j for j in range(len(ctx.cluster.brokers)) if j != i]


def hold(ctx, lo, hi):
    """A hold time of the schedule (part of the fault, not a synchronisation)."""
    time.sleep(ctx.rng.uniform(lo, hi))


def restart(ctx, i):
    """Start broker i again and wait for its registration."""
    ctx.cluster.brokers[i].start(wait=True)
    poll(lambda: i in ctx.cluster.registered(), ctx.failover_timeout,
         f"broker {i}'s registration")


# --- the faults ---------------------------------------------------------------------
def kill_leader(ctx, rec):
    p = ctx.rng.randrange(ctx.partitions)
    victim = leader_of(ctx, p, range(len(ctx.cluster.brokers)))
    rec.update(target=victim, partition=p)
    rec["t0"] = time.monotonic()
    ctx.cluster.kill(victim)
    wait_moved(ctx, [p], victim, others(ctx, victim))
    hold(ctx, 0, 2)
    restart(ctx, victim)
    rec["t_heal"] = time.monotonic()
    wait_whole(ctx, rec)


def kill_controller(ctx, rec):
    victim = zk_read(ctx.cluster.controller, "the controller")
    rec.update(target=victim)
    rec["t0"] = time.monotonic()
    ctx.cluster.kill(victim)
    new = poll(lambda: (lambda c: c is not None and c != victim and (c,))(
        ctx.cluster.controller()), ctx.failover_timeout, "a new controller")[0]
    rec["new_controller"] = new
    hold(ctx, 0, 2)
    restart(ctx, victim)
    rec["t_heal"] = time.monotonic()
    wait_whole(ctx, rec)


def pause_leader(ctx, rec):
    p = ctx.rng.randrange(ctx.partitions)
    victim = leader_of(ctx, p, range(len(ctx.cluster.brokers)))
    epoch = zk_read(lambda: broker_epoch(ctx, victim), f"broker {victim}'s epoch")
    pid = ctx.cluster.brokers[victim].pid
    rec.update(target=victim, partition=p)
    rec["t0"] = time.monotonic()
    stop_process(pid)
    try:
        wait_moved(ctx, [p], victim, others(ctx, victim))
        rec["paused_for"] = time.monotonic() - rec["t0"]
        hold(ctx, 0, 1)
    finally:
        os.kill(pid, signal.SIGCONT)
    rec["t_heal"] = time.monotonic()
    poll(lambda: victim in ctx.cluster.registered() and broker_epoch(ctx, victim) != epoch,
         ctx.failover_timeout, f"broker {victim} registered again with a new broker epoch")
    wait_whole(ctx, rec)


def partition(ctx, rec):
    if ctx.netns is None:
        rec["skipped"] = ctx.netns_reason
        return
    n = len(ctx.cluster.brokers)
    if ctx.rng.random() < 0.5:
        victim = leader_of(ctx, ctx.rng.randrange(ctx.partitions), range(n))
    else:
        victim = ctx.rng.randrange(n)
    long_cut = ctx.rng.random() < 0.75
    led = led_by(ctx, victim, others(ctx, victim))
    epoch = zk_read(lambda: broker_epoch(ctx, victim), f"broker {victim}'s epoch")
    rec.update(target=victim, variant="long" if long_cut else "short", led=led)
    rec["t0"] = time.monotonic()
    ctx.netns.cut(victim)
    try:
        if long_cut:
            # Until its session expired and its leaderships moved.
            poll(lambda: victim not in ctx.cluster.registered(), ctx.failover_timeout,
                 f"broker {victim}'s registration to expire")
            if led:
                wait_moved(ctx, led, victim, others(ctx, victim))
            hold(ctx, 0, 1)
        else:
            hold(ctx, ctx.session_s / 4, ctx.session_s / 3)
    finally:
        ctx.netns.heal(victim)
    rec["t_heal"] = time.monotonic()
    if long_cut:
        poll(lambda: victim in ctx.cluster.registered() and broker_epoch(ctx, victim) != epoch,
             ctx.failover_timeout, f"broker {victim} registered again with a new broker epoch")
    wait_whole(ctx, rec)


def _zk_outage(ctx, rec, lo, hi):
    rec["t0"] = time.monotonic()
    ctx.zk.kill9()
    hold(ctx, lo, hi)
    ctx.zk.restart()
    rec["t_heal"] = time.monotonic()
    rec["outage"] = rec["t_heal"] - rec["t0"]
    wait_whole(ctx, rec)


def zk_short(ctx, rec):
    # The JVM's start adds ~1-2 s to the hold.
    _zk_outage(ctx, rec, 0, ctx.session_s / 8)


def zk_long(ctx, rec):
    _zk_outage(ctx, rec, ctx.session_s * 1.2, ctx.session_s * 1.7)


def rolling_restart(ctx, rec):
    order = list(range(len(ctx.cluster.brokers)))
    ctx.rng.shuffle(order)
    rec.update(target=order, steps=[])
    rec["t0"] = time.monotonic()
    for i in order:
        t = time.monotonic()
        try:
            ctx.cluster.stop(i)
        except AssertionError as e:
            raise Broken(f"broker {i} did not stop cleanly: {str(e)[:300]}") from None
        restart(ctx, i)
        step = {}
        wait_whole(ctx, step)
        rec["steps"].append(round(step["t_end"] - t, 2))
    rec["t_heal"] = rec["t_end"] = time.monotonic()


def _fill(path):
    """Grow the ballast file until the file system has less than 64 KiB free."""
    with open(path, "ab") as f:
        for _ in range(64):
            st = os.statvfs(path)
            free = st.f_bavail * st.f_frsize
            if free < 65536:
                return
            size = os.fstat(f.fileno()).st_size
            try:
                os.posix_fallocate(f.fileno(), size, free)
            except OSError:
                try:
                    os.posix_fallocate(f.fileno(), size, free // 2)
                except OSError:
                    pass


def disk_full(ctx, rec):
    if ctx.tmpfs is None:
        rec["skipped"] = ctx.tmpfs_reason
        return
    n = len(ctx.cluster.brokers)
    counts = {i: len(led_by(ctx, i, range(n))) for i in range(n)}
    fewest = min(counts.values())
    victim = ctx.rng.choice(sorted(i for i in counts if counts[i] == fewest))
    ballast = ctx.tmpfs[victim] / "ballast"
    rec.update(target=victim, led=counts[victim])
    rec["t0"] = time.monotonic()
    _fill(ballast)
    try:
        def left_an_isr():
            v = states(ctx, others(ctx, victim)[0])
            return v and any(victim not in st["isr"] for (t, _), st in v.items()
                             if t == ctx.topic)
        try:
            poll(left_an_isr, ctx.lag_s + 15, f"broker {victim} out of an ISR", interval=0.1)
            rec["left_isr_after"] = time.monotonic() - rec["t0"]
        except Broken:
            rec["left_isr_after"] = None  # nothing was written to it meanwhile
        hold(ctx, 0, 1)
    finally:
        ballast.unlink()
    rec["t_heal"] = time.monotonic()
    b = ctx.cluster.brokers[victim]
    if not b.running():
        rec["exited"] = b.proc.returncode
        raise Broken(f"broker {victim} exited ({b.proc.returncode}) while its disk was full")
    wait_whole(ctx, rec)


KINDS = {f.__name__: f for f in (kill_leader, kill_controller, pause_leader, partition,
                                  zk_short, zk_long, rolling_restart, disk_full)}
