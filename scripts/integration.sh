#!/usr/bin/env bash
# Run the Samsa integration suite: pytest (tests/integration) then the kafkajs
# tests (tests/integration/node). Every test starts its own broker(s) on
# 127.0.0.1 and a free port. Exits non-zero if anything failed.
#
#   scripts/integration.sh                 everything
#   scripts/integration.sh -k kcat         extra args go to pytest
#   SAMSA_BROKER=build-san/samsa-broker scripts/integration.sh
#   SAMSA_IT_NODE=0 scripts/integration.sh  skip the kafkajs tests
#   SAMSA_IT_PYTEST=0 scripts/integration.sh  only the kafkajs tests
#   SAMSA_IT_JOBS=0 scripts/integration.sh    pytest in one process (default: 2 xdist workers;
#                                             make passes IT_JOBS=4, SAN_IT_JOBS=3; make test SAN_IT_NODE=0)
#
# Ends with one line "integration: N passed, N failed, N skipped" (both parts).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export SAMSA_BROKER="$(realpath -m "${SAMSA_BROKER:-$ROOT/build/samsa-broker}")"
# Absolute too: the kafkajs tests run from tests/integration/node, where the
# Makefile's relative build/samsa names nothing.
export SAMSA_CLI="$(realpath -m "${SAMSA_CLI:-$ROOT/build/samsa}")"
PY=/usr/bin/python3   # Debian's python: the one that sees python3-confluent-kafka etc.

if [[ ! -x "$SAMSA_BROKER" ]]; then
  echo "integration: broker binary $SAMSA_BROKER missing (run make first)" >&2
  echo "integration: 0 passed, 1 failed"
  exit 1
fi
echo "integration: broker $SAMSA_BROKER"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/samsa-it.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
py_rc=0 node_rc=0

# The kafkajs tests (their brokers take kernel-chosen ports, outside
# pytest's blocks) run alongside pytest: they mostly wait on rebalances.
# Their output is printed after pytest's.
run_node() {
  if [[ ! -d tests/integration/node/node_modules/kafkajs ]]; then
    echo "integration: kafkajs not installed; run scripts/deps.sh" >&2
    echo "not ok 1 - kafkajs missing" >"$tmp/node.tap"
    echo "# fail 1" >>"$tmp/node.tap"
    return 1
  fi
  local t0=$SECONDS rc=0
  (cd tests/integration/node && node --test --test-reporter=spec \
      --test-reporter-destination=stdout --test-reporter=tap \
      --test-reporter-destination="$tmp/node.tap" test/ </dev/null) || rc=$?
  echo "   node exit $rc after $((SECONDS - t0)) s"
  return $rc
}
node_pid=
if [[ "${SAMSA_IT_NODE:-1}" != 0 ]]; then
  run_node >"$tmp/node.out" 2>&1 &
  node_pid=$!
fi

if [[ "${SAMSA_IT_PYTEST:-1}" != 0 ]]; then
  echo "== pytest tests/integration"
  # Tests spend most of their time waiting on clients and timers, so two
  # pytest-xdist workers halve the wall time on 2 cores; each worker has its
  # own port block (conftest.free_port).  SAMSA_IT_JOBS=0: one process.
  jobs=(); if [[ "${SAMSA_IT_JOBS:-2}" != 0 ]] && "$PY" -c 'import xdist' 2>/dev/null; then
    jobs=(-n "${SAMSA_IT_JOBS:-2}")
  fi
  "$PY" -m pytest tests/integration -q -p no:cacheprovider --tb=short -ra "${jobs[@]}" \
      --durations=15 --junitxml="$tmp/pytest.xml" "$@" </dev/null
  py_rc=$?
  echo "   pytest exit $py_rc after $((SECONDS - start)) s"
fi

if [[ -n $node_pid ]]; then
  wait "$node_pid"
  node_rc=$?
  echo "== node --test tests/integration/node (kafkajs, run alongside pytest)"
  cat "$tmp/node.out"
fi

# Combined counts: pytest from its JUnit XML, node from its TAP summary.
read -r p_pass p_fail p_skip < <("$PY" - "$tmp/pytest.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 0, 0); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e, s)
EOF
)
n_pass=0 n_fail=0 n_skip=0
if [[ -f "$tmp/node.tap" ]]; then
  n_pass=$(awk '/^# pass /{print $3}' "$tmp/node.tap" | tail -1)
  n_fail=$(awk '/^# fail /{print $3}' "$tmp/node.tap" | tail -1)
  n_skip=$(awk '/^# skipped /{print $3}' "$tmp/node.tap" | tail -1)
  n_pass=${n_pass:-0} n_fail=${n_fail:-0} n_skip=${n_skip:-0}
  # a crashed runner (no summary) counts as a failure
  if [[ $node_rc -ne 0 && $n_fail -eq 0 ]]; then n_fail=1; fi
fi
if [[ $py_rc -ne 0 && $p_fail -eq 0 ]]; then p_fail=1; fi   # e.g. collection error, exit 5

# The failed tests by name, last, so that the tail of a CI log names them.
"$PY" - "$tmp/pytest.xml" <<'EOF2'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    sys.exit()
for case in root.iter("testcase"):
    for bad in list(case.findall("failure")) + list(case.findall("error")):
        msg = (bad.get("message") or "").splitlines()
        print(f"   FAILED {case.get('classname')}::{case.get('name')}: {msg[0][:300] if msg else ''}")
EOF2
if [[ -f "$tmp/node.tap" ]]; then
  grep '^not ok' "$tmp/node.tap" | sed 's/^/   FAILED kafkajs: /'
fi
echo "== integration took $((SECONDS - start)) s: pytest $p_pass passed/$p_fail failed/$p_skip skipped," \
     "kafkajs $n_pass passed/$n_fail failed/$n_skip skipped"
echo "integration: $((p_pass + n_pass)) passed, $((p_fail + n_fail)) failed, $((p_skip + n_skip)) skipped"
[[ $py_rc -eq 0 && $node_rc -eq 0 ]]
