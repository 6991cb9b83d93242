#!/usr/bin/env bash
# Install the pyclients suite's Python packages (requirements.txt: the
# clients from PyPI, pytest and its plugins, every package pinned with its
# hashes) into a virtualenv outside git, build/venv-pyclients, made with
# Debian's /usr/bin/python3 (python3-venv is installed if it is missing).
# Only wheels are installed (--only-binary), so no compiler runs. A no-op
# when the venv was made from this requirements.txt (stamp file).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="${PYCLIENTS_VENV:-$ROOT/build/venv-pyclients}"
REQ="$HERE/requirements.txt"
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$VENV/bin/python" ]]; then
  echo "deps: pyclients venv: present"
  exit 0
fi

# `python3 -m venv` needs ensurepip, which Debian ships in python3-venv.
if ! /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "deps: pyclients: installing python3-venv"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo -n); fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Lock::Timeout=300 update </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Lock::Timeout=300 python3-venv </dev/null
fi

echo "deps: pyclients venv: creating ${VENV#"$ROOT"/} from ${REQ#"$ROOT"/}"
rm -rf "$VENV"
/usr/bin/python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$REQ" </dev/null
echo "$want" >"$stamp"
"$VENV/bin/python" -c 'import confluent_kafka, kafka, aiokafka
print("deps: pyclients venv: confluent-kafka %s (librdkafka %s), kafka-python %s, aiokafka %s"
      % (confluent_kafka.__version__, confluent_kafka.libversion()[0], kafka.__version__,
         aiokafka.__version__))'
