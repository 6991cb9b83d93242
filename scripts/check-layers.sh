#!/bin/sh
# check-layers.sh - fail on any #include that points up (or across) the
# layer order.
#
# The order is read from ONE place: the line starting with "LAYERS:" in
# docs/architecture.md, lowest layer first, layers separated by "<" and
# peers of one rank by "," (e.g. "server < group, repl < broker": group and
# repl both sit on server, and neither may include the other).  A file in
# src/Y/ may include "X/..." only when X is Y or of a lower rank than Y.
# Folders in SEPARATE (the CLI, built on librdkafka) may include only
# themselves and the folders SEPARATE_MAY_USE names for them (the CLI: the
# pure security code of auth/, for its own SASL logins), and nothing may
# include them.  A folder under src/ that is in
# neither list fails too, so a new layer is placed in the order before use.
#
# Usage: scripts/check-layers.sh [ROOT]   (ROOT defaults to this checkout)
# Exit 0 when clean; 1 with one line per violation otherwise.
set -eu
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
doc="$root/docs/architecture.md"
SEPARATE="cli"
SEPARATE_MAY_USE="cli:auth"

line=$(grep -m1 '^LAYERS:' "$doc" 2>/dev/null || true)
if [ -z "$line" ]; then
    echo "check-layers: no 'LAYERS:' line in $doc" >&2
    exit 1
fi
# "name:rank" pairs, rank 1 = lowest.
ranks=$(echo "${line#LAYERS:}" | awk -F'<' '{
    for (i = 1; i <= NF; i++) {
        n = split($i, peers, ",")
        for (j = 1; j <= n; j++) { gsub(/[[:space:]]/, "", peers[j]); if (peers[j] != "") print peers[j] ":" i }
    }
}')
order=$(echo "${line#LAYERS:}" | sed -E 's/[[:space:]]+/ /g; s/^ //; s/ $//')

rank() {   # rank NAME -> its rank (1 = lowest), 0 if not a layer
    r=$(echo "$ranks" | awk -F: -v n="$1" '$1 == n { print $2; exit }')
    echo "${r:-0}"
}

is_separate() {
    for s in $SEPARATE; do [ "$s" = "$1" ] && return 0; done
    return 1
}

bad=0
for dir in "$root"/src/*/; do
    y=$(basename "$dir")
    ry=$(rank "$y")
    if [ "$ry" -eq 0 ] && ! is_separate "$y"; then
        echo "src/$y/: folder is not in the layer order (LAYERS: line of docs/architecture.md)"
        bad=1
        continue
    fi
    # file:line:#include "x/...": every quoted include naming a folder.
    out=$(cd "$root" && grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[A-Za-z0-9_]+/' \
          --include='*.c' --include='*.h' "src/$y" || true)
    [ -z "$out" ] && continue
    while IFS= read -r hit; do
        x=$(echo "$hit" | sed -E 's/^[^:]*:[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*"([A-Za-z0-9_]+)\/.*/\1/')
        [ "$x" = "$y" ] && continue
        rx=$(rank "$x")
        loc=$(echo "$hit" | cut -d: -f1,2)
        if is_separate "$y" && echo " $SEPARATE_MAY_USE " | grep -q " $y:$x "; then
            continue
        elif is_separate "$y" || is_separate "$x"; then
            echo "$loc: src/$y/ includes \"$x/...\": $y and $x are kept apart ($SEPARATE is separate)"
            bad=1
        elif [ "$rx" -eq 0 ]; then
            echo "$loc: src/$y/ includes \"$x/...\", which is not a layer"
            bad=1
        elif [ "$rx" -eq "$ry" ]; then
            echo "$loc: src/$y/ includes \"$x/...\": $x and $y are peers of one rank ($order)"
            bad=1
        elif [ "$rx" -gt "$ry" ]; then
            echo "$loc: src/$y/ includes \"$x/...\": $x is above $y ($order)"
            bad=1
        fi
    done <<EOT
$out
EOT
done
[ "$bad" -eq 0 ] && echo "check-layers: ok ($order)"
exit $bad
