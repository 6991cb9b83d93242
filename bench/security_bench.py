#!/usr/bin/python3
"""Security figures of issue 17 (`make bench-security`): what TLS costs on a
single Samsa broker on loopback, the same broker serving a PLAINTEXT and an
SSL listener side by side (certificates from tests/integration/security.py).

Figures, each the median of BENCH_REPS runs:
  produce     `samsa perf produce` (librdkafka, acks=all, 1 KiB values): MB/s
  consume     `samsa perf consume` of what was produced: MB/s
  kTLS        whether file chunks went out with kernel TLS (SSL_sendfile):
              needs the kernel's `tls` ULP (/proc/sys/net/ipv4/tcp_available_ulp);
              without it the figure is "not available" and the SSL numbers are
              the fallback path (pread + SSL_write)
  connect     connections set up per second by one client thread for
              BENCH_SECONDS: TCP connect, (TLS handshake,) one ApiVersions
              request and its answer, close (handshakes completed)
  memory      the broker's RSS growth per idle connection, 500 connections
              each after one ApiVersions (KiB)

Environment
  BENCH_QUICK=1      smoke run: 1 repetition, fewer records
  BENCH_REPS=N       repetitions (default 3)
  BENCH_SECONDS=S    length of each connection-rate run (default 3)
  BENCH_RECORDS=N    records per produce run (default 300000)
  BENCH_TMPDIR       where data directories go (default /var/tmp)

  /usr/bin/python3 bench/security_bench.py [--build DIR] [--out FILE.json]

The sasl part adds the SCRAM handshake cost here (see its section).
"""
import argparse
import json
import os
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "1" if QUICK else "3"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "50000" if QUICK else "300000"))


def log(msg):
    print(f"[bench-security {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def perf(samsa, bs, extra, *args):
    cp = subprocess.run([samsa, "-b", bs, *extra, "--json", "-q", "perf", *args],
                        capture_output=True, timeout=600)
    if cp.returncode != 0:
        raise RuntimeError(f"samsa perf {args}: {cp.stderr.decode(errors='replace')}")
    return json.loads(cp.stdout.decode().strip().splitlines()[-1])


API_VERSIONS_V0 = (lambda body: struct.pack(">i", len(body)) + body)(
    struct.pack(">hhih", 18, 0, 1, 5) + b"bench")


def connect_rate(port, tls_ctx, seconds):
    """Connections/s: connect, handshake, ApiVersions, close."""
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        raw = socket.create_connection(("127.0.0.1", port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # as Kafka clients do
        s = tls_ctx.wrap_socket(raw, server_hostname="localhost") if tls_ctx else raw
        s.sendall(API_VERSIONS_V0)
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed mid-answer")
            buf += chunk
        s.close()
        n += 1
    return n / (time.monotonic() - t0)


def rss_kib(pid):
    for ln in open(f"/proc/{pid}/status"):
        if ln.startswith("VmRSS"):
            return int(ln.split()[1])
    return 0


def idle_memory(pid, port, tls_ctx, n=500):
    """KiB of broker RSS per idle connection (each did one ApiVersions)."""
    before = rss_kib(pid)
    socks = []
    try:
        for _ in range(n):
            raw = socket.create_connection(("127.0.0.1", port))
            s = tls_ctx.wrap_socket(raw, server_hostname="localhost") if tls_ctx else raw
            socks.append(s)
            s.sendall(API_VERSIONS_V0)
            buf = b""
            while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
                buf += s.recv(65536)
        time.sleep(0.3)
        return (rss_kib(pid) - before) / n
    finally:
        for s in socks:
            s.close()
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out")
    a = ap.parse_args()
    build = (ROOT / a.build).resolve()
    os.environ["SAMSA_BROKER"] = str(build / "samsa-broker")
    samsa = str(build / "samsa")
    import conftest
    conftest.BROKER_BIN = str(build / "samsa-broker")
    from security import Certs, SecureBroker

    tmp = Path(tempfile.mkdtemp(prefix="bench-security-", dir=os.environ.get("BENCH_TMPDIR", "/var/tmp")))
    certs = Certs(tmp / "certs")
    b = SecureBroker(tmp, certs, "SSL", name="bench", binary=str(build / "samsa-broker")).start()
    ulp = Path("/proc/sys/net/ipv4/tcp_available_ulp")
    ulps = ulp.read_text().split() if ulp.exists() else []
    res = {"reps": REPS, "records": RECORDS, "value_bytes": 1024, "tcp_available_ulp": ulps}
    try:
        ssl_x = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={certs.ca()}"]
        listeners = {"plaintext": (b.plain_bootstrap, []), "ssl": (b.bootstrap, ssl_x)}
        prod = {k: [] for k in listeners}
        cons = {k: [] for k in listeners}
        for rep in range(REPS):
            for name, (bs, x) in listeners.items():
                topic = f"bench-{name}-{rep}"
                p = perf(samsa, bs, x, "produce", topic, "-n", str(RECORDS), "-s", "1024", "-P", "1")
                c = perf(samsa, bs, x, "consume", topic)
                assert c["messages"] == RECORDS, c
                prod[name].append(p["mb_per_sec"])
                cons[name].append(c["mb_per_sec"])
                log(f"rep {rep + 1}/{REPS} {name}: produce {p['mb_per_sec']:.1f} MB/s, "
                    f"consume {c['mb_per_sec']:.1f} MB/s")
        log_text = b.log_text()
        ktls = "kernel TLS, SSL_sendfile" in log_text
        res["ktls"] = "on" if ktls else ("not available (the kernel has no tls ULP: %s)" %
                                         (", ".join(ulps) or "none") if "tls" not in ulps
                                         else "off (OpenSSL did not enable it)")
        ctx = ssl.create_default_context(cafile=certs.ca())
        rate = {"plaintext": [], "ssl": []}
        for rep in range(REPS):
            rate["plaintext"].append(connect_rate(b.plain_port, None, SECONDS))
            rate["ssl"].append(connect_rate(b.port, ctx, SECONDS))
            log(f"rep {rep + 1}/{REPS} connections/s: plaintext {rate['plaintext'][-1]:.0f}, "
                f"ssl {rate['ssl'][-1]:.0f}")
        res["idle_kib_per_conn_plaintext"] = round(idle_memory(b.pid, b.plain_port, None), 1)
        res["idle_kib_per_conn_ssl"] = round(idle_memory(b.pid, b.port, ctx), 1)
        log(f"idle memory per connection: plaintext {res['idle_kib_per_conn_plaintext']} KiB, "
            f"ssl {res['idle_kib_per_conn_ssl']} KiB")
        for k in listeners:
            res[f"produce_mb_s_{k}"] = round(statistics.median(prod[k]), 1)
            res[f"consume_mb_s_{k}"] = round(statistics.median(cons[k]), 1)
            res[f"connections_per_s_{k}"] = round(statistics.median(rate[k]))
        res["runs"] = {"produce": prod, "consume": cons, "connect": rate}
    finally:
        b.stop()
    print()
    print("| figure (median of %d) | PLAINTEXT | SSL | SSL / PLAINTEXT |" % REPS)
    print("|---|---|---|---|")
    for label, k in (("produce MB/s (1 KiB, acks=all)", "produce_mb_s"),
                     ("consume MB/s", "consume_mb_s"),
                     ("connections/s (set-up + ApiVersions)", "connections_per_s")):
        pl, s = res[f"{k}_plaintext"], res[f"{k}_ssl"]
        print(f"| {label} | {pl} | {s} | {s / pl:.2f} |")
    print(f"| idle memory per connection, KiB (500 connections) | "
          f"{res['idle_kib_per_conn_plaintext']} | {res['idle_kib_per_conn_ssl']} | |")
    print(f"| kTLS | | {res['ktls']} | |")
    # The sasl part: the SCRAM handshake cost (bench/sasl_bench.py, its own broker).
    sys.path.insert(0, str(ROOT / "bench"))
    import sasl_bench
    res["sasl_handshake"] = sasl_bench.run(build)
    print()
    sasl_bench.print_table(res["sasl_handshake"])
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
