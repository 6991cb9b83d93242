#!/usr/bin/env bash
# Regenerate requirements.txt (every package pinned, with its hashes) from
# requirements.in: pip-tools, itself pinned, in a throw-away virtualenv made
# with the same /usr/bin/python3 that deps.sh uses, so the resolution is for
# the interpreter the suite runs on. Run it after editing requirements.in,
# then run deps.sh (it rebuilds the venv when requirements.txt changes).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PIP_TOOLS=7.6.2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "pip-tools==$PIP_TOOLS"
cd "$HERE"
CUSTOM_COMPILE_COMMAND="tests/ecosystem/pyclients/lock.sh" \
  "$tmp/venv/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras \
  --annotation-style=line --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
