#!/usr/bin/env bash
# Run or replay the libFuzzer targets built by `make fuzz-build`.
#
#   tests/fuzz/run.sh run     BINDIR SECONDS TARGET...   fuzz each target SECONDS
#   tests/fuzz/run.sh regress BINDIR 0       TARGET...   replay regressions + corpus
#
# run: each target fuzzes in BINDIR/work/<target>/corpus, a copy of the
# committed corpus (tests/fuzz/corpus/<target>) that keeps what the run
# finds; the committed corpus and tests/fuzz/regressions/<target> are read
# too but never written.  Crash, leak, timeout and OOM inputs land in
# BINDIR/work/<target>/ and are listed with the command that reproduces
# them.  Exit status 1 if any target failed.
#
# regress: every file in tests/fuzz/regressions/<target>/ is run once, then
# the committed corpus is replayed once (-runs=0).  Fast: no mutation.
#
# Options for libFuzzer can be added with FUZZ_FLAGS="...".  The per-input
# timeout is FUZZ_TIMEOUT seconds (default 10).  FUZZ_JOBS targets run at
# once (default 1; make test passes the core count): each libFuzzer process
# is single-threaded, so each target still gets its SECONDS on a core of its
# own; a target's output is printed when it ends, the summary in order.
set -uo pipefail

mode=${1:?mode}
bindir=${2:?bindir}
secs=${3:?seconds}
shift 3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 1
timeout_s=${FUZZ_TIMEOUT:-10}
extra=${FUZZ_FLAGS:-}
# LeakSanitizer on every input, UBSan reports are fatal (built with
# -fno-sanitize-recover), ASan errors abort with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
start_all=$SECONDS

stat_of() { # file key
  awk -v k="stat::$2:" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}

list_files() { # dir -> files, one per line (none if missing/empty)
  [[ -d $1 ]] && find "$1" -maxdepth 1 -type f ! -name '.*' ! -name 'README*' | sort
}

one() { # target -> prints its output; its summary line in $bindir/work/$t.summary
  local t=$1
  bin="$bindir/$t"
  if [[ ! -x $bin ]]; then
    echo "fuzz: $bin missing (make fuzz-build)" >&2
    echo "$t missing" >"$bindir/work/$t.summary"
    return 1
  fi
  corpus="tests/fuzz/corpus/$t"
  regress="tests/fuzz/regressions/$t"
  t0=$SECONDS
  if [[ $mode == regress ]]; then
    log="$bindir/work/$t.regress.log"
    mkdir -p "$bindir/work"
    : >"$log"
    mapfile -t files < <(list_files "$regress")
    rc=0
    if ((${#files[@]})); then
      # shellcheck disable=SC2086
      "$bin" -timeout="$timeout_s" $extra "${files[@]}" >>"$log" 2>&1 || rc=$?
    fi
    n_corpus=0
    if [[ $rc -eq 0 && -d $corpus ]]; then
      n_corpus=$(list_files "$corpus" | wc -l)
      # shellcheck disable=SC2086
      "$bin" -runs=0 -timeout="$timeout_s" $extra "$corpus" >>"$log" 2>&1 || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
      echo "fuzz-regress: $t FAILED (exit $rc); log: $log"
      tail -n 40 "$log"
    fi
    printf '%-22s %4d regression input(s), %4d corpus input(s) replayed in %3d s  %s\n' \
      "$t" "${#files[@]}" "$n_corpus" $((SECONDS - t0)) "$([[ $rc -eq 0 ]] && echo ok || echo FAIL)" \
      >"$bindir/work/$t.summary"
    return $rc
  fi

  work="$bindir/work/$t"
  mkdir -p "$work/corpus"
  rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*
  if [[ -d $corpus ]]; then cp -n "$corpus"/* "$work/corpus/" 2>/dev/null || true; fi
  dirs=("$work/corpus")
  [[ -d $corpus ]] && dirs+=("$corpus")
  [[ -n $(list_files "$regress") ]] && dirs+=("$regress")
  log="$work/fuzz.log"
  echo "fuzz: $t for ${secs}s ($(find "$work/corpus" -type f | wc -l) inputs in the working corpus)"
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$secs" -timeout="$timeout_s" -print_final_stats=1 \
      -artifact_prefix="$work/" $extra "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(stat_of "$log" number_of_executed_units)
  eps=$(stat_of "$log" average_exec_per_sec)
  newu=$(stat_of "$log" new_units_added)
  rss=$(stat_of "$log" peak_rss_mb)
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  status=ok
  if [[ $rc -ne 0 ]]; then
    status="FAIL (exit $rc)"
    echo "fuzz: $t FAILED; last lines of $log:"
    grep -v '^"' "$log" | tail -n 40
    for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [[ -e $f ]] || continue
      echo "  input:     $f"
      echo "  reproduce: $bin $f"
      echo "  keep it:   mkdir -p $regress && cp $f $regress/   (then fix the bug)"
    done
  fi
  printf '%-22s %12s execs %8s/s  cov %5s  +%-5s new  rss %4s MB  %4d s  %s\n' \
    "$t" "$execs" "$eps" "${cov:-?}" "$newu" "$rss" $((SECONDS - t0)) "$status" \
    >"$work.summary"
  return $rc
}

mkdir -p "$bindir/work"
max_jobs=${FUZZ_JOBS:-1}
running=0
for t in "$@"; do
  if ((running >= max_jobs)); then wait -n; running=$((running - 1)); fi
  rm -f "$bindir/work/$t.summary" "$bindir/work/$t.status"
  ( one "$t" >"$bindir/work/$t.out" 2>&1; rc=$?; echo $rc >"$bindir/work/$t.status"
    cat "$bindir/work/$t.out" ) &
  running=$((running + 1))
done
wait
for t in "$@"; do
  summary+=("$(cat "$bindir/work/$t.summary" 2>/dev/null || echo "$t: no summary")")
  [[ "$(cat "$bindir/work/$t.status" 2>/dev/null)" == 0 ]] || failed+=("$t")
done

echo "== fuzz $mode summary ($((SECONDS - start_all)) s)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#@} target(s) passed"
