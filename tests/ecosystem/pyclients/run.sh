#!/usr/bin/env bash
# The pyclients ecosystem suite: confluent-kafka, kafka-python and aiokafka
# from PyPI (pinned in requirements.txt, installed by deps.sh into
# build/venv-pyclients) against one Samsa broker ($SAMSA_BROKER) that
# conftest.py starts on a free port from SAMSA_ECO_PORT_BASE (default 28500).
# pytest writes JUnit XML to build/ecosystem/pyclients-junit.xml and the
# compatibility results to $SAMSA_COMPAT_DIR/pyclients.jsonl; the last line
# is "pyclients: N passed, N failed, N skipped". Extra arguments go to pytest
# (e.g. -k aiokafka).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="${PYCLIENTS_VENV:-$ROOT/build/venv-pyclients}"
export SAMSA_BROKER="${SAMSA_BROKER:-$ROOT/build/samsa-broker}"
export SAMSA_ECO_PORT_BASE="${SAMSA_ECO_PORT_BASE:-28500}"
export SAMSA_COMPAT_DIR="${SAMSA_COMPAT_DIR:-$ROOT/build/compat}"
JUNIT="$ROOT/build/ecosystem/pyclients-junit.xml"

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "pyclients: no virtualenv at ${VENV#"$ROOT"/}: run scripts/deps.sh (or $HERE/deps.sh)" >&2
  echo "pyclients: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
mkdir -p "$(dirname "$JUNIT")" "$SAMSA_COMPAT_DIR"
rm -f "$JUNIT"
: >"$SAMSA_COMPAT_DIR/pyclients.jsonl"

cd "$HERE"
"$VENV/bin/python" -m pytest -c "$HERE/pytest.ini" --junitxml="$JUNIT" -o junit_family=xunit2 "$@" .
rc=$?

# Count from the JUnit XML (errors count as failures); no XML: one failure.
read -r passed failed skipped < <("$VENV/bin/python" - "$JUNIT" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 1, 0)
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
print(n["tests"] - n["failures"] - n["errors"] - n["skipped"], n["failures"] + n["errors"], n["skipped"])
PY
)
# pytest exit 5 = no tests collected: a failure here.
if [[ $rc -eq 5 || ($rc -ne 0 && $failed -eq 0) ]]; then failed=$((failed + 1)); rc=1; fi
echo "pyclients: $passed passed, $failed failed, $skipped skipped"
exit $rc
