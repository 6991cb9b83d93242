#!/usr/bin/env bash
# The Go clients suite: `go test -json` in this module (franz-go + kadm,
# sarama, kafka-go against one Samsa broker that TestMain starts on a free
# port from $SAMSA_ECO_PORT_BASE, default 27500), its output shown as
# `go test -v` would, and the last line "go: N passed, N failed, N skipped"
# counted over the leaf tests (a test with subtests counts as its subtests).
# Offline: deps.sh filled the module and build caches (GOPROXY=off here).
# Compatibility lines go to $SAMSA_COMPAT_DIR/go.jsonl (main_test.go).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"
export SAMSA_BROKER="$(realpath -m "${SAMSA_BROKER:-$ROOT/build/samsa-broker}")"
export SAMSA_ECO_PORT_BASE="${SAMSA_ECO_PORT_BASE:-27500}"
export GOFLAGS="-mod=mod -buildvcs=false" GOPROXY=off GOTOOLCHAIN=local
cd "$HERE"
if [[ ! -x "$SAMSA_BROKER" ]]; then
  echo "go: no broker binary $SAMSA_BROKER (make first)" >&2
  echo "go: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
go test -json -count=1 -parallel 8 -timeout 150s . 2>&1 | /usr/bin/python3 -u "$HERE/summary.py"
rc=("${PIPESTATUS[@]}")
# go test's own exit status counts too (e.g. the broker did not exit 0).
if [[ ${rc[0]} -ne 0 && ${rc[1]} -eq 0 ]]; then
  echo "go: go test exited ${rc[0]}" >&2
  exit 1
fi
exit "${rc[1]}"
