#!/usr/bin/env bash
# Run the unit-test binary in N parallel shards (SAMSA_TEST_SHARD=K/N, see
# tests/unit/run.c); each shard's output is printed when all are done, then
# one combined "N passed, M failed" line.  The tests mostly wait (real
# ZooKeeper servers, timers, fsync), so two shards on two cores halve the
# wall time.  Extra arguments (a test-name filter) go to every shard.
#
#   scripts/unit-tests.sh build/unit-tests 2 [FILTER]
set -uo pipefail
bin=${1:?unit-test binary}
n=${2:-1}
shift 2 || shift $#
if [[ $n -le 1 ]]; then exec "$bin" "$@"; fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/samsa-unit-shards.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
pids=()
for ((k = 0; k < n; k++)); do
  SAMSA_TEST_SHARD="$k/$n" "$bin" "$@" >"$tmp/$k.log" 2>&1 &
  pids+=($!)
done
rc=0 passed=0 failed=0
for ((k = 0; k < n; k++)); do
  wait "${pids[$k]}" || rc=1
  echo "== unit-test shard $k/$n"
  cat "$tmp/$k.log"
  read -r p f < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$tmp/$k.log" | tail -1)
  if [[ -z ${p:-} ]]; then rc=1; failed=$((failed + 1)); continue; fi   # crashed shard
  passed=$((passed + p)) failed=$((failed + f))
done
echo "$passed passed, $failed failed"
exit $rc
