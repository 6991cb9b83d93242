#!/usr/bin/env bash
# Fetch Apache Kafka's jars (pom.xml: broker, tools, pinned) into
# build/kafka/<version>/libs with Maven; a no-op when they are there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
LIBS="$ROOT/build/kafka/$VERSION/libs"
stamp="$LIBS/.pom.sha256"
want="$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "deps: kafka $VERSION jars: present"
  exit 0
fi
command -v mvn >/dev/null || { echo "deps: kafka: mvn missing (Maven is needed for the Kafka jars)" >&2; exit 1; }
echo "deps: kafka $VERSION jars: mvn dependency:copy-dependencies"
rm -rf "$LIBS.tmp"
mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" </dev/null
rm -rf "$LIBS"
mv "$LIBS.tmp" "$LIBS"
echo "$want" >"$stamp"
echo "deps: kafka $VERSION jars: $(ls "$LIBS" | wc -l) in ${LIBS#"$ROOT"/}"
