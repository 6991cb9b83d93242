#!/usr/bin/env bash
# Install whatever Samsa needs to build and test that is missing on this
# Debian 12 machine. Idempotent; a no-op (well under a second) when all is
# present. Safe without a terminal (CI=true, no stdin), as root or via sudo.
#
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh --bench    benchmark-only packages (make bench), nothing else
#
# Debian packages are checked with one dpkg-query call; `apt-get update` runs
# only when something is missing. The kafkajs tests' node_modules is
# (re)installed with `npm ci` when it is missing or package-lock.json changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/tests/integration/node"

# --- Debian packages --------------------------------------------------------
# Build: compiler + the libraries the Makefile links (LDLIBS), librdkafka for
# the CLI, the ZooKeeper C client for later issues, clang + libFuzzer's
# runtime for the fuzz targets (make fuzz, fuzz-regress).
BUILD_PKGS=(
  build-essential
  libisal-dev libcjson-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libssl-dev
  librdkafka-dev libzookeeper-mt-dev
  clang libclang-rt-14-dev
)
# Tests: real Kafka clients. Python packages run under /usr/bin/python3.
# python3-lz4/-snappy/-zstandard give kafka-python its compression codecs.
# zookeeper: the real server cluster-mode tests start (tests/integration/zk.py
# runs its jar on a free port; the package starts no daemon), python3-kazoo
# to read what the brokers wrote there.
TEST_PKGS=(
  kcat openssl
  python3-pytest python3-pytest-timeout python3-pytest-xdist
  python3-confluent-kafka python3-kafka
  python3-lz4 python3-snappy python3-zstandard
  zookeeper python3-kazoo
)
# Not installed here on purpose: zookeeperd (its postinst starts a system
# daemon on 2181; tests start their own servers), redis-server/nats-server
# (benchmarks only).
# Benchmarks only (--bench): the systems `make bench` compares Samsa with, and
# hiredis for bench/redis_bench.c. bench/run.py starts its own servers on free
# ports (a redis started by the package's postinst is not used). Apache Kafka
# (a JVM; its jars come from Maven Central through tests/ecosystem/kafka/deps.sh,
# run below in --bench mode too).
BENCH_PKGS=(redis-server nats-server libhiredis-dev default-jre-headless maven)
MODE="${1:-}"
case "$MODE" in
  ""|--bench) ;;
  *) printf 'usage: scripts/deps.sh [--bench]\n' >&2; exit 2 ;;
esac

say() { printf 'deps: %s\n' "$*"; }

if [[ "$MODE" == --bench ]]; then
  want=("${BENCH_PKGS[@]}")
else
  want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
  # Node: the machine may carry a nodesource nodejs that bundles npm; Debian's
  # `npm` package conflicts with it, so ask for packages only for missing commands.
  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm  >/dev/null 2>&1 || want+=(npm)
fi

missing=()
# One dpkg-query for all; packages it doesn't know are reported on stderr.
installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${want[@]}" 2>/dev/null || true)"
for p in "${want[@]}"; do
  if ! grep -qE "^${p//+/\\+} ii" <<<"$installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  say "missing Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    say "ERROR: not root and no password-less sudo; install as root:"
    say "  apt-get install -y ${missing[*]}"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-y -q -o Dpkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
            -o Dpkg::Options::=--force-confold)
  say "apt-get update"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Lock::Timeout=300 update </dev/null
  say "apt-get install ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install "${APT_OPTS[@]}" --no-install-recommends "${missing[@]}" </dev/null
  say "Debian packages installed"
else
  say "Debian packages: all ${#want[@]} present"
fi

# --- npm (kafkajs) ----------------------------------------------------------
if [[ "$MODE" != --bench && -f "$NODE_DIR/package-lock.json" ]]; then
  stamp="$NODE_DIR/node_modules/.samsa-lock.sha256"
  want_sum="$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)"
  have_sum="$(cat "$stamp" 2>/dev/null || true)"
  if [[ "$want_sum" != "$have_sum" ]]; then
    say "npm ci in tests/integration/node (node_modules missing or lock changed)"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
    printf '%s\n' "$want_sum" >"$stamp"
    say "node_modules installed"
  else
    say "node_modules: up to date"
  fi
fi

# --- ecosystem suites (tests/ecosystem/*/deps.sh) ---------------------------
# Each suite installs its own clients from the registries (Maven Central,
# the Go module proxy, PyPI), pinned by its lock file, and is a quick no-op
# when they are present.
if [[ "$MODE" != --bench ]]; then
  for d in "$ROOT"/tests/ecosystem/*/deps.sh; do
    [[ -f "$d" ]] || continue
    say "$(basename "$(dirname "$d")"): ${d#"$ROOT"/}"
    bash "$d" </dev/null
  done
else
  say "kafka (make bench): tests/ecosystem/kafka/deps.sh"
  bash "$ROOT/tests/ecosystem/kafka/deps.sh" </dev/null
fi
