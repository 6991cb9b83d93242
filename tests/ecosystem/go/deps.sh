#!/usr/bin/env bash
# Fetch the Go suite's modules (go.mod/go.sum: franz-go, kadm, sarama,
# kafka-go, pinned) into the module cache and warm the build cache with a
# build of the test binary, so run.sh compiles offline and quickly. Both
# caches are Go's defaults (GOMODCACHE, GOCACHE), outside the repo. A stamp in
# build/ecosystem-go/ (go.mod, go.sum, go version) makes a repeat a no-op.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "deps: go: the Go toolchain is missing (go.mod needs go >= $(sed -n 's/^go //p' "$HERE/go.mod"))" >&2
  exit 1
fi
cd "$HERE"
export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local
STAMP_DIR="$ROOT/build/ecosystem-go"
stamp="$STAMP_DIR/deps.stamp"
want="$( (cat go.mod go.sum; go version; go env GOMODCACHE GOCACHE) | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && go mod download 2>/dev/null; then
  echo "deps: go: modules and test build present"
  exit 0
fi
echo "deps: go: go mod download + a warm-up build of the test binary"
go mod download
mkdir -p "$STAMP_DIR"
go test -c -o "$STAMP_DIR/go.test" .
rm -f "$STAMP_DIR/go.test"
echo "$want" >"$stamp"
echo "deps: go: ready ($(go version | cut -d' ' -f3), $(grep -c . go.sum) go.sum lines)"
