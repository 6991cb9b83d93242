#!/usr/bin/env bash
# The Java ecosystem suite: Apache Kafka's Java client (kafka-clients) and
# Kafka Streams against a Samsa broker the tests start themselves (see
# README.md).  One offline Maven run (deps.sh filled ~/.m2); the counts come
# from the Surefire XML reports; the last line is
#   java: N passed, N failed, N skipped
# Env: SAMSA_BROKER (default build/samsa-broker), SAMSA_ECO_PORT_BASE (26500:
# the broker takes the first free port of [base, base+100)), SAMSA_COMPAT_DIR
# (build/compat: java.jsonl, one compatibility result per test and feature).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export SAMSA_BROKER="$(realpath -m "${SAMSA_BROKER:-$ROOT/build/samsa-broker}")"
export SAMSA_ECO_PORT_BASE="${SAMSA_ECO_PORT_BASE:-26500}"
export SAMSA_COMPAT_DIR="$(realpath -m "${SAMSA_COMPAT_DIR:-$ROOT/build/compat}")"
REPORTS="$ROOT/build/ecosystem-java/surefire-reports"

fail() {
  echo "java: $*" >&2
  echo "java: 0 passed, 1 failed, 0 skipped"
  exit 1
}
[[ -x "$SAMSA_BROKER" ]] || fail "no broker binary at $SAMSA_BROKER (make first)"
command -v mvn >/dev/null || fail "mvn missing (run tests/ecosystem/java/deps.sh)"
mkdir -p "$SAMSA_COMPAT_DIR"
rm -rf "$REPORTS"

start=$SECONDS
# Debian's Maven 3.8 prints bare colour resets even in batch mode: dropped.
mvn -o -B -q -f "$HERE/pom.xml" test </dev/null 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
rc=${PIPESTATUS[0]}

# Count from the Surefire reports: one <testsuite> per class.
read -r passed failed skipped < <(/usr/bin/python3 - "$REPORTS" <<'PY'
import glob, sys
import xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
            print(f"  FAILED {case.get('classname')}.{case.get('name')}", file=sys.stderr)
        elif case.find("skipped") is not None:
            s += 1
            sk = case.find("skipped")
            why = sk.get("message") or (sk.text or "").strip().split("\n")[0]
            print(f"  skipped {case.get('classname')}.{case.get('name')}: {why}", file=sys.stderr)
        else:
            p += 1
print(p, f, s)
PY
)
passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  echo "java: mvn exited $rc with no failed test in the reports (build or broker start failure)" >&2
  failed=1
fi
echo "java: Maven run took $((SECONDS - start)) s; reports in ${REPORTS#"$ROOT"/}"
echo "java: $passed passed, $failed failed, $skipped skipped"
[[ $rc -eq 0 && $failed -eq 0 ]]
