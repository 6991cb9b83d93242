"""The checks of a cluster fault run, on the history workload.py recorded and
the whole topic read back at the end (read_log). check() returns the
violations (strings with the history excerpt that shows each one) and
figures; it never raises on a violation, so a run reports all of them.

  lost        an acknowledged message is not in the log at its acknowledged
              offset (searched elsewhere to tell lost from moved)
  phantom     a record in the log, or a delivery to a consumer, that no
              producer sent
  duplicate   an id twice in the log (idempotent producers must not write one),
              except a client's resend under a bumped producer epoch, which
              no broker can recognise (epoch_bump_duplicate): reported as a
              note and counted in client_epoch_bump_duplicates
  order       per partition and per producer, ids increase along offsets
  dirty read  a consumer was given a record that is not the log's record at
              that offset (read above the high watermark, then truncated)
  offsets     a group's committed offset that went backwards between two
              samples, or beyond the log end
  undelivered a message still unacknowledged after the final flush, a
              delivery error or a fatal producer error
Faults' own bounds (recovery, whole cluster) are enforced in faults.py.
"""
import bisect
import collections


from workload import parse_value, value_of

MAX_EXCERPTS = 5


def read_log(bootstrap, topic, partitions, timeout=300):
    """{partition: [(offset, value)]} from the log start to the high
    watermark of each partition."""
    from conftest import consume_exact, watermarks
    start, counts = {}, {}
    for p in range(partitions):
        lo, hi = watermarks(bootstrap, topic, p, timeout=30)
        start[p], counts[p] = lo, hi - lo
    want = {p: n for p, n in counts.items() if n}
    got = consume_exact(bootstrap, topic, want, start=start, timeout=timeout,
                        **{"fetch.max.bytes": 52428800}) if want else {}
    return {p: [(m.offset(), m.value()) for m in got.get(p, [])] for p in range(partitions)}


def max_gap(times, t0, t1, t_last):
    """The longest interval between consecutive times that overlaps
    [t0, t1]; an interval still open at t_last counts up to t_last."""
    i = max(bisect.bisect_left(times, t0) - 1, 0)
    j = bisect.bisect_right(times, t1)
    pts = times[i:j + 1]
    if not pts or pts[0] > t0:
        pts = [t0] + pts
    if pts[-1] < t1:
        pts.append(t_last)
    return max((b - a for a, b in zip(pts, pts[1:])), default=0.0)


def unavailability(workload, rec, t_last):
    """The longest gap without an acknowledgement on any one partition of the
    workload topic around the fault (from the last ack before t0 to the
    first after t_end), in seconds, and that partition."""
    return max((max_gap(workload.ack_times(p), rec["t0"], rec["t_end"], t_last), p)
               for p in range(workload.partitions))


def batch_header(bootstrap, topic, partition, offset):
    """The header (kproto.parse_batch_headers' dict) of the batch holding
    offset, read with a Fetch from whichever broker leads the partition;
    None if no broker answers with it."""
    import kproto
    for hp in bootstrap.split(","):
        host, port = hp.rsplit(":", 1)
        try:
            with kproto.Conn(host, int(port), timeout=10) as c:
                r = kproto.fetch(c, topic, partition, offset, max_wait_ms=0,
                                 partition_max_bytes=1 << 20)
        except (OSError, kproto.ProtocolError):
            continue
        if r.get("error_code"):
            continue
        for _, base, _, h in kproto.parse_batch_headers(r["records"]):
            if base <= offset <= base + h["last_offset_delta"]:
                return h
    return None


def epoch_bump_duplicate(bootstrap, topic, first, second):
    """True when the two copies of a record were written by one producer id
    under two producer epochs, the later copy under the higher one: the
    client bumped its epoch and resent a record it had been told was not
    written. A broker cannot recognise that resend (a new epoch restarts the
    sequence numbers, in Kafka too): librdkafka counts a batch answered
    NOT_LEADER_OR_FOLLOWER as not persisted, yet Kafka's DelayedProduce (and
    C38) answers that for a batch the old leader appended and replicated
    before losing the partition (librdkafka issue #4953, open). It is
    counted and reported, not a broker violation."""
    h1 = batch_header(bootstrap, topic, *first)
    h2 = batch_header(bootstrap, topic, *second)
    return bool(h1 and h2 and h1["producer_id"] == h2["producer_id"] >= 0
                and h2["producer_epoch"] > h1["producer_epoch"])


def check(workload, log, undelivered, bootstrap=None, topic=None):
    v = []                                      # violations
    f = collections.Counter()                   # figures
    notes = []                                  # reported, not violations
    client_dups = set()                         # (partition, offset) of a resent copy
    at = {p: dict(recs) for p, recs in log.items()}
    where = {}                                  # value -> (partition, offset)
    acks = {value_of(pr.k, seq): (p, off, t) for pr in workload.producers
            for seq, p, off, t in pr.acked}
    for p, recs in log.items():
        for off, val in recs:
            if val in where:
                a = acks.get(val)
                what = (f"{val!r} at {where[val]} and ({p}, {off}); "
                        + (f"acknowledged at ({a[0]}, {a[1]}) t={a[2]:.3f}" if a else "never acknowledged"))
                if bootstrap and epoch_bump_duplicate(bootstrap, topic, where[val], (p, off)):
                    f["client_epoch_bump_duplicates"] += 1
                    client_dups.add((p, off))
                    notes.append(f"client duplicate after a producer epoch bump "
                                 f"(librdkafka #4953): {what}")
                else:
                    v.append(f"duplicate: {what}")
            where.setdefault(val, (p, off))
    f["log_records"] = sum(len(r) for r in log.values())

    # lost: every acknowledgement against the log
    for pr in workload.producers:
        f["sent"] += pr.sent
        f["acked"] += len(pr.acked)
        f["delivery_errors"] += len(pr.errors)
        if pr.fatal:
            v.append(f"producer {pr.k}: fatal error {pr.fatal}")
        for seq, err, t in pr.errors[:MAX_EXCERPTS]:
            # message.timeout.ms outlasts every fault: only retriable errors
            # are expected, and librdkafka retries those itself.
            v.append(f"delivery error: producer {pr.k} seq {seq} t={t:.3f}: {err}")
        for seq, p, off, t in pr.acked:
            val = value_of(pr.k, seq)
            if at.get(p, {}).get(off) == val:
                continue
            f["lost"] += 1
            if f["lost"] <= MAX_EXCERPTS:
                v.append(f"lost: {val!r} acknowledged at ({p}, {off}) t={t:.3f}; the log has "
                         f"{at.get(p, {}).get(off)!r} there and {val!r} at {where.get(val)}")
    if f["lost"] > MAX_EXCERPTS:
        v.append(f"lost: {f['lost']} acknowledged messages in all")
    for k, left in undelivered.items():
        if left:
            v.append(f"undelivered: producer {k} still had {left} messages after its final flush")

    # phantom, order
    sent = {pr.k: pr.sent for pr in workload.producers}
    for p, recs in log.items():
        last = {}
        for off, val in recs:
            pv = parse_value(val)
            if pv is None or pv[0] not in sent or pv[1] >= sent[pv[0]]:
                v.append(f"phantom: ({p}, {off}) holds {val!r}, never sent")
                continue
            k, seq = pv
            if (p, off) in client_dups:
                continue                      # reported above
            if k in last and seq <= last[k][0]:
                v.append(f"order: partition {p}: producer {k} seq {seq} at offset {off} after "
                         f"seq {last[k][0]} at offset {last[k][1]}")
            last[k] = (seq, off)

    # deliveries to the group's consumers
    seen = collections.Counter()
    for m in workload.members:
        f["commits"] += len(m.commits)
        f["commit_errors"] += m.commit_errors
        for p, off, val, t in m.deliveries:
            seen[(p, off)] += 1
            pv = parse_value(val)
            if pv is None or pv[0] not in sent or pv[1] >= sent[pv[0]]:
                v.append(f"phantom delivery: consumer {m.k} got {val!r} at ({p}, {off}), "
                         f"never sent")
            elif at.get(p, {}).get(off) != val:
                v.append(f"dirty read: consumer {m.k} got {val!r} at ({p}, {off}) t={t:.3f}; "
                         f"the log has {at.get(p, {}).get(off)!r} there")
    f["deliveries"] = sum(seen.values())
    f["redeliveries"] = sum(n - 1 for n in seen.values())   # at-least-once after rebalances

    # committed offsets never go backwards
    ends = {p: (recs[-1][0] + 1 if recs else 0) for p, recs in log.items()}
    prev = {}
    for t, s in workload.poller.samples:
        for p, off in s.items():
            if p in prev and off < prev[p][1]:
                v.append(f"offsets: partition {p} committed {off} at t={t:.3f} after "
                         f"{prev[p][1]} at t={prev[p][0]:.3f}")
            if off > ends.get(p, 0):
                v.append(f"offsets: partition {p} committed {off} beyond the log end {ends[p]}")
            prev[p] = (t, off)
    f["offset_samples"] = len(workload.poller.samples)
    return v, dict(f), notes


def replicas_identical(cluster, topic, partitions):
    """Every replica's partition log, as bytes on disk (its .log segments in
    order), equals every other's: a divergent tail left on a returning
    broker shows here. Call once producers stopped and the ISR is full."""
    v = []
    for p in range(partitions):
        logs = {}
        for i, b in enumerate(cluster.brokers):
            segs = b.segments(topic, p)
            if segs:
                logs[i] = b"".join(path.read_bytes() for _, path in segs)
        if len(set(logs.values())) > 1:
            sizes = {i: len(x) for i, x in logs.items()}
            ref = min(logs.values(), key=len)
            diff = next((k for k in range(len(ref))
                         if any(x[k] != ref[k] for x in logs.values())), len(ref))
            v.append(f"replicas differ: {topic}-{p} sizes {sizes}, first difference at byte {diff}")
    return v
