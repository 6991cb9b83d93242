#!/usr/bin/env bash
# Install what the Java ecosystem suite needs, so run.sh can run Maven
# offline (-o): a JDK and Maven (Debian packages, when missing), then every
# artifact of pom.xml (kafka-clients, kafka-streams, JUnit, slf4j and the
# pinned plugins with the Surefire JUnit Platform provider) into ~/.m2, and
# the tests compiled once.  A quick no-op when pom.xml has not changed since
# the last successful run and the artifacts are still in ~/.m2.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="$ROOT/build/ecosystem-java"
REPO="${MAVEN_REPO:-$HOME/.m2/repository}"
KAFKA="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
SUREFIRE="$(sed -n 's:.*<surefire.version>\(.*\)</surefire.version>.*:\1:p' "$HERE/pom.xml")"
stamp="$OUT/.deps.sha256"
want="$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" &&
      -d "$REPO/org/apache/kafka/kafka-streams/$KAFKA" &&
      -d "$REPO/org/apache/maven/surefire/surefire-junit-platform/$SUREFIRE" ]]; then
  echo "deps: java suite (kafka-clients $KAFKA): present"
  exit 0
fi
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
  echo "deps: java suite: apt-get install maven openjdk-17-jdk-headless"
  SUDO=(); [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Lock::Timeout=300 update </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    maven openjdk-17-jdk-headless </dev/null
fi
echo "deps: java suite: mvn dependency:go-offline, test-compile, Surefire provider"
mvn -B -q -f "$HERE/pom.xml" dependency:go-offline </dev/null | sed "s/\x1b\[[0-9;]*m//g"
# go-offline misses what Surefire resolves when it runs (the JUnit Platform
# provider and launcher): a run that selects no test fetches them.
mvn -B -q -f "$HERE/pom.xml" test -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false </dev/null \
  | sed "s/\x1b\[[0-9;]*m//g"
mkdir -p "$OUT"
echo "$want" >"$stamp"
echo "deps: java suite (kafka-clients $KAFKA): ready"
