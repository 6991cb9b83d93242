#!/usr/bin/python3
"""The SCRAM handshake cost (issue 17, sasl part), imported by
bench/security_bench.py (`make bench-security`) and runnable alone:

  /usr/bin/python3 bench/sasl_bench.py [--build DIR] [--out FILE.json]

One Samsa broker with a SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512) and a PLAINTEXT one; SCRAM users are created at 4096
iterations with `samsa user create`.  One client thread opens a
connection, runs SaslHandshake v1 + SaslAuthenticate v1 to the end (PLAIN:
one token; SCRAM: client-first, client-final, server signature checked)
and closes, BENCH_SASL_CONNECTIONS times per mechanism; the figure is the
median ms per connect+authenticate and the connections/s that makes.  The
client's own SCRAM work (PBKDF2 in hashlib, i.e. OpenSSL) is inside the
figure, as it is for any client; `client_pbkdf2_ms` is that part alone,
so the broker's share is roughly the difference.  A plain TCP connect +
ApiVersions is the baseline.

Environment: BENCH_QUICK=1 (fewer connections), BENCH_REPS (default 3),
BENCH_SASL_CONNECTIONS (default 300), BENCH_TMPDIR.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
CONNS = int(os.environ.get("BENCH_SASL_CONNECTIONS", "60" if QUICK else "300"))
ITERATIONS = 4096
USERS = {"SCRAM-SHA-256": ("scram256", "bench-256"), "SCRAM-SHA-512": ("scram512", "bench-512")}


def log(msg):
    print(f"[bench-sasl {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def one_connection(port, mech, user, pw):
    import kproto
    import sasl_util as su
    t0 = time.perf_counter()
    with kproto.Conn("127.0.0.1", port, timeout=10) as c:
        if mech is None:
            c.api_versions(0)
        else:
            err, msg, _ = su.login(c, mech, user, pw)
            if err:
                raise RuntimeError(f"{mech} login failed: {err} {msg}")
    return (time.perf_counter() - t0) * 1000


def handshake_cost(port, plain_port, conns=CONNS, reps=REPS):
    """{name: {"ms": median ms per connect+authenticate, "per_s": ...}}."""
    cases = {"tcp+ApiVersions (no SASL)": (plain_port, None, None, None),
             "PLAIN": (port, "PLAIN", "alice", "alice-secret")}
    for mech, (user, pw) in USERS.items():
        cases[f"{mech} ({ITERATIONS} iterations)"] = (port, mech, user, pw)
    out = {}
    for name, (p, mech, user, pw) in cases.items():
        meds = []
        for rep in range(reps):
            one_connection(p, mech, user, pw)                # warm-up
            ms = [one_connection(p, mech, user, pw) for _ in range(conns)]
            meds.append(statistics.median(ms))
            log(f"rep {rep + 1}/{reps} {name}: {meds[-1]:.3f} ms per connect+authenticate")
        med = statistics.median(meds)
        out[name] = {"ms": round(med, 3), "per_s": round(1000 / med), "runs_ms": meds}
    for mech in USERS:
        h = "sha256" if mech == "SCRAM-SHA-256" else "sha512"
        t0 = time.perf_counter()
        for _ in range(50):
            hashlib.pbkdf2_hmac(h, b"bench", b"0123456789abcdef", ITERATIONS)
        out[f"{mech} ({ITERATIONS} iterations)"]["client_pbkdf2_ms"] = round(
            (time.perf_counter() - t0) * 1000 / 50, 3)
    return out


def start_broker(build, tmp):
    import conftest
    import sasl_util as su
    from conftest import Broker, free_port
    conftest.BROKER_BIN = str(build / "samsa-broker")
    port, plain = free_port(), free_port()
    ov = {"listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},PLAINTEXT://127.0.0.1:{plain}",
          "inter.broker.listener.name": "PLAINTEXT"}
    ov.update(su.sasl_broker_props("SASL_PLAINTEXT", {"alice": "alice-secret"},
                                   ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")))
    b = Broker(tmp, port=port, overrides=ov, name="bench-sasl",
               binary=str(build / "samsa-broker")).start()
    b.plain_port = plain
    for mech, (user, pw) in USERS.items():
        subprocess.run([str(build / "samsa"), "-b", f"127.0.0.1:{plain}", "-q", "user", "create",
                        user, "--password", pw, "--mechanism", mech, "--iterations",
                        str(ITERATIONS)], check=True, capture_output=True, timeout=30)
    return b


def print_table(res):
    base = res["tcp+ApiVersions (no SASL)"]["ms"]
    print("| connect + authenticate (median) | ms | per s | vs PLAIN | client PBKDF2 ms |")
    print("|---|---|---|---|---|")
    plain = res["PLAIN"]["ms"]
    for name, r in res.items():
        rel = "" if name.startswith("tcp") else f"{r['ms'] / plain:.1f}x"
        print(f"| {name} | {r['ms']:.3f} | {r['per_s']} | {rel} | {r.get('client_pbkdf2_ms', '')} |")
    print(f"(baseline without SASL: {base:.3f} ms)")


def run(build):
    """Start a SASL broker from `build`, measure, stop it: the results."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sasl-", dir=os.environ.get("BENCH_TMPDIR", "/var/tmp")))
    b = start_broker(Path(build), tmp)
    try:
        return handshake_cost(b.port, b.plain_port)
    finally:
        b.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out")
    a = ap.parse_args()
    res = run((ROOT / a.build).resolve())
    print()
    print_table(res)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
