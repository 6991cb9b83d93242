#!/usr/bin/env bash
# The kafka-tools ecosystem suite: Apache Kafka's own command-line tools
# (the pinned release's jars, unchanged) against Samsa - one broker, and a
# ZooKeeper + 3-broker cluster for the replica tools.  pytest (Debian's),
# JUnit XML in build/ecosystem/kafka-tools/junit.xml, every tool run's
# command line and output in build/ecosystem/kafka-tools/tools.log, results
# per tool in $SAMSA_COMPAT_DIR/kafka-tools.jsonl.  Ends with the line
# "kafka-tools: N passed, N failed, N skipped".  Assumes deps.sh ran.
#
# Environment: SAMSA_BROKER (default build/samsa-broker), SAMSA_COMPAT_DIR
# (default build/compat), SAMSA_ECO_PORT_BASE (default 29500; ports are
# taken from [base, base+900)).  Extra arguments go to pytest (-k ...).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export SAMSA_BROKER="$(realpath -m "${SAMSA_BROKER:-$ROOT/build/samsa-broker}")"
export SAMSA_COMPAT_DIR="$(realpath -m "${SAMSA_COMPAT_DIR:-$ROOT/build/compat}")"
export SAMSA_ECO_PORT_BASE="${SAMSA_ECO_PORT_BASE:-29500}"
OUT="$ROOT/build/ecosystem/kafka-tools"
mkdir -p "$SAMSA_COMPAT_DIR" "$OUT"
rm -f "$SAMSA_COMPAT_DIR/kafka-tools.jsonl" "$OUT/junit.xml"

cd "$HERE" || exit 1
/usr/bin/python3 -m pytest --junitxml="$OUT/junit.xml" "$@" .
rc=$?

# The summary line from the JUnit XML (errors count as failures).
line="$(/usr/bin/python3 - "$OUT/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("kafka-tools: 0 passed, 1 failed, 0 skipped")
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
k = sum(int(s.get("skipped", 0)) for s in suites)
print(f"kafka-tools: {n - f - k} passed, {f} failed, {k} skipped")
PY
)"
echo "$line"
[[ $rc -eq 0 && "$line" == *" 0 failed"* ]] || exit 1
