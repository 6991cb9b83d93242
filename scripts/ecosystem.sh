#!/usr/bin/env bash
# Run the ecosystem suites: real third-party Kafka clients and tools against
# Samsa (and, for the differential suite, against Apache Kafka too). Each
# suite lives in tests/ecosystem/<suite>/ with a run.sh that starts what it
# needs, ends with the line "<suite>: N passed, N failed, N skipped" and
# writes one JSON line per (client, feature) result into
# $SAMSA_COMPAT_DIR/<suite>.jsonl (docs/compatibility.md explains the format).
# The compatibility matrix is then written to $SAMSA_COMPAT_DIR/compatibility.md
# (`make compat-doc` copies it to docs/).
#
#   scripts/ecosystem.sh              every suite, in the order of SUITES
#   scripts/ecosystem.sh java go      only these
#
# Runs against the release build ($SAMSA_BROKER, $SAMSA_CLI); the sanitizer
# pass covers the broker with the integration suite. Ends with one line
# "ecosystem: N passed, N failed, N skipped".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export SAMSA_BROKER="$(realpath -m "${SAMSA_BROKER:-$ROOT/build/samsa-broker}")"
export SAMSA_CLI="$(realpath -m "${SAMSA_CLI:-$ROOT/build/samsa}")"
export SAMSA_COMPAT_DIR="$(realpath -m "${SAMSA_COMPAT_DIR:-$ROOT/build/compat}")"
mkdir -p "$SAMSA_COMPAT_DIR"

# Every tests/ecosystem/<suite>/ with a run.sh, in this order first.
SUITES=()
for s in java go pyclients kafka-tools differential tests/ecosystem/*/; do
  s="$(basename "$s")"
  [[ -x "tests/ecosystem/$s/run.sh" && " ${SUITES[*]} " != *" $s "* ]] && SUITES+=("$s")
done
(($#)) && SUITES=("$@")

total_p=0 total_f=0 total_s=0 rc=0 start=$SECONDS
summary=()
for s in "${SUITES[@]}"; do
  dir="tests/ecosystem/$s"
  if [[ ! -x "$dir/run.sh" ]]; then
    echo "ecosystem: no suite $dir/run.sh" >&2
    summary+=("   $s: missing"); total_f=$((total_f + 1)); rc=1
    continue
  fi
  echo "== ecosystem suite $s"
  t0=$SECONDS
  rm -f "$SAMSA_COMPAT_DIR/$s.jsonl"
  out="$(mktemp)"
  "$dir/run.sh" </dev/null 2>&1 | tee "$out"
  src=${PIPESTATUS[0]}
  line="$(grep -E "^$s: [0-9]+ passed, [0-9]+ failed" "$out" | tail -1)"
  rm -f "$out"
  read -r p f k < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"${line:-x: 0 passed, 1 failed}")
  k=${k:-0}
  if [[ $src -ne 0 && ${f:-0} -eq 0 ]]; then f=1; fi   # a crashed suite counts as failed
  total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + k))
  [[ $src -ne 0 ]] && rc=1
  summary+=("   $s: $p passed, $f failed, $k skipped in $((SECONDS - t0)) s (exit $src)")
done

/usr/bin/python3 scripts/compat_matrix.py "$SAMSA_COMPAT_DIR" >"$SAMSA_COMPAT_DIR/compatibility.md" \
  || { echo "ecosystem: compat_matrix.py failed" >&2; rc=1; }
echo "== ecosystem took $((SECONDS - start)) s; matrix: $SAMSA_COMPAT_DIR/compatibility.md"
printf '%s\n' "${summary[@]}"
echo "ecosystem: $total_p passed, $total_f failed, $total_s skipped"
exit $rc
