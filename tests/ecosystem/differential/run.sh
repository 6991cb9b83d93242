#!/usr/bin/env bash
# The differential suite: Samsa and Apache Kafka 4.4.0 (KRaft, one node)
# get the same raw requests; responses are compared field by field
# (README.md). Needs tests/ecosystem/kafka/deps.sh to have run (the Kafka
# jars, whose kafka-clients jar also carries the message schemas the codec
# reads). Ends with "differential: N passed, N failed, N skipped".
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
export SAMSA_BROKER="${SAMSA_BROKER:-$ROOT/build/samsa-broker}"
export SAMSA_ECO_PORT_BASE="${SAMSA_ECO_PORT_BASE:-30500}"
OUT="${SAMSA_COMPAT_DIR:-$ROOT/build/compat}"
mkdir -p "$OUT"
xml="$OUT/differential-junit.xml"
export DIFF_STATS="$OUT/differential-stats.json"
rm -f "$xml" "$DIFF_STATS"
cd "$HERE"
/usr/bin/python3 -m pytest -q -p no:cacheprovider --junitxml="$xml" "$@"
rc=$?
if [[ -f "$DIFF_STATS" ]]; then
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("differential: %(scenarios)d scenarios run, %(fields_compared)d fields compared (%(fields_normalised)d normalised), %(differences_allowlisted)d differences allowlisted, %(differences_failing)d not allowlisted; Kafka start-up %(kafka_start_s)s s" % s)' "$DIFF_STATS"
fi
read -r p f s < <(/usr/bin/python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    ts = r if r.tag == "testsuite" else r.find("testsuite")
    t, f, e, s = (int(ts.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(t - f - e - s, f + e, s)
except Exception:
    print(0, 1, 0)
PY
)
echo "differential: $p passed, $f failed, $s skipped"
[[ $rc -eq 0 ]] || exit 1
