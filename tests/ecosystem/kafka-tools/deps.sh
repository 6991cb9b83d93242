#!/usr/bin/env bash
# The kafka-tools suite needs Apache Kafka's jars (tests/ecosystem/kafka
# fetches them, pinned, into build/kafka/<version>/libs), Debian's
# pytest/pytest-timeout, confluent-kafka and ZooKeeper (scripts/deps.sh
# installs those for the integration tests).  A no-op when present.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$HERE/../kafka/deps.sh"
