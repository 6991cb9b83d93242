"""Config values that size a thread pool are bounded (regression).

The delayed-operation lists used to be a static array of 256 slots indexed
by loop id with no bound: num.network.threads=300 plus acks=-1 produces
waiting for an fsync (log.flush.interval.messages=1) parked operations past
its end (AddressSanitizer: global-buffer-overflow in delayed_park).  Now each
loop owns its list and num.network.threads is capped at 256 (the bound is in
src/config/config.h and docs/configuration.md).

- At the largest allowed thread count, 300 connections (so every loop gets
  at least one) each send one acks=-1 Produce that parks until its fsync;
  every one is answered without error and the offsets are 0..299.
- One above the bound is refused at start-up with "num.network.threads
  must be at most 256"; so is log.cleaner.threads.
"""

from concurrent.futures import ThreadPoolExecutor

import kproto
from conftest import BROKER_BIN, free_port, raw_conn, run_broker_expect_exit, wait_until

MAX_NETWORK_THREADS = 256     # CFG_MAX_NETWORK_THREADS
NCONN = 300


def test_max_network_threads_answers_parked_produces(broker_factory):
    b = broker_factory({"num.network.threads": MAX_NETWORK_THREADS,
                        "log.flush.interval.messages": 1,
                        "auto.create.topics.enable": "true"})
    topic = "bounded-threads"
    with raw_conn(b, timeout=60) as c:
        kproto.metadata(c, [topic], allow_auto_create=True)
        wait_until(lambda: kproto.metadata(c, [topic])["topics"][topic]["partitions"],
                   timeout=30, desc=f"{topic} auto-created")
    conns = [raw_conn(b, timeout=120) for _ in range(NCONN)]
    try:
        def one(i):
            return kproto.produce(conns[i], topic, 0, kproto.record_batch([b"m%d" % i]),
                                  acks=-1, timeout_ms=60000)

        with ThreadPoolExecutor(max_workers=64) as pool:
            results = list(pool.map(one, range(NCONN)))
    finally:
        for c in conns:
            c.close()
    errors = [(i, r["error_code"]) for i, r in enumerate(results) if r["error_code"] != 0]
    assert not errors, f"{len(errors)} produce(s) failed: {errors[:10]}\n{b.log_tail()}"
    assert sorted(r["base_offset"] for r in results) == list(range(NCONN)), b.log_tail()
    assert b.running(), b.log_tail()


def test_thread_counts_above_the_bound_are_refused(tmp_path):
    for key, value, bound in [("num.network.threads", 300, MAX_NETWORK_THREADS),
                              ("num.network.threads", MAX_NETWORK_THREADS + 1, MAX_NETWORK_THREADS),
                              ("log.cleaner.threads", 257, 256)]:
        argv = [BROKER_BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{free_port()}",
                "--override", f"log.dirs={tmp_path / 'data'}", "--override", f"{key}={value}"]
        rc, out = run_broker_expect_exit(argv)
        assert rc != 0, out
        assert f"{key} must be at most {bound}" in out, out
