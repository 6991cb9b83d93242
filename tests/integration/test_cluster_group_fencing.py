"""C13 for the group coordinator (docs/cluster.md, docs/groups.md G10): a
coordinator paused past its ZooKeeper session timeout, whose offsets
partition moved to another broker meanwhile, must not answer from its stale
in-memory offsets when it resumes. Found by the cluster fault runner
(tests/torture_cluster/): after a network partition healed, the cut-off
ex-coordinator answered OffsetFetch with committed offsets older than the
ones the new coordinator held, for the ~100 ms before it learned it had
lost its session."""
import os
import signal

import kproto
from cluster import cluster_factory, cluster_zk  # noqa: F401  (fixtures)
from conftest import stop_process, unique_topic, wait_until
from test_torture import OFFSET_FETCH, offset_commit


def coordinator_of(c, group, via):
    b = c.brokers[via]
    with kproto.Conn(b.host, b.port) as conn:
        r = kproto.find_coordinator(conn, group)
    return r["node_id"] if r["error_code"] == 0 else None


def test_paused_coordinator_does_not_serve_stale_offsets(cluster_factory, request):
    c = cluster_factory(3, session_timeout_ms=3000,
                        overrides={"offsets.topic.num.partitions": 1})
    t = unique_topic(request)
    g = t + "-g"
    c.create_topic(t, partitions=1, rf=3)
    c.ensure_offsets_topic(g)
    old = wait_until(lambda: (lambda n: n is not None and (n,))(coordinator_of(c, g, 0)), 30,
                     desc="a coordinator")[0]
    ob = c.brokers[old]
    with kproto.Conn(ob.host, ob.port) as conn:
        assert offset_commit(conn, g, t, {0: 10}) == {0: 0}
    stale = kproto.Conn(ob.host, ob.port, timeout=30)     # connected before the pause
    other = next(i for i in range(3) if i != old)
    stop_process(ob.pid)
    paused = True
    try:
        new = wait_until(lambda: (lambda n: n not in (None, old) and (n,))(
            coordinator_of(c, g, other)), 60,
            desc=f"a new coordinator, not {old}, named by broker {other} once the paused "
                 f"one's session expired")[0]
        nb = c.brokers[new]

        last = []

        def committed_20():
            with kproto.Conn(nb.host, nb.port) as conn:
                last[:] = [offset_commit(conn, g, t, {0: 20})]
            return last[0] == {0: 0}
        wait_until(committed_20, 60, desc=f"a commit of 20 at the new coordinator {new} "
                                          f"(last answer {last})")
        # Queued while paused: the ex-coordinator reads it the moment it resumes.
        body = kproto.W().string(g).array([t], lambda w, x: w.string(x).array(
            [0], lambda w, p: w.i32(p))).done()
        corr = stale.send_request(OFFSET_FETCH, 2, body)
        os.kill(ob.pid, signal.SIGCONT)
        paused = False
        r = stale.recv_response(OFFSET_FETCH, 2, corr)
    finally:
        if paused:
            os.kill(ob.pid, signal.SIGCONT)
        stale.close()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i64(), r.string(), r.i16()))))
    top = r.i16()
    parts = topics[0][1] if topics else []       # a top-level error answers no topics
    off, err = (parts[0][1], parts[0][3]) if parts else (None, None)
    assert top == kproto.NOT_COORDINATOR or err == kproto.NOT_COORDINATOR or off == 20, (
        f"the resumed ex-coordinator {old} answered offset {off} (error {err}, top {top}); "
        f"the group's committed offset is 20 at coordinator {new}")
    c.wait_registered(range(3))
