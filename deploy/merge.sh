#!/bin/sh
# Merges why550 batch outputs (the shards of one input, or a file completed by --resume) into one file in input line order.
#
#   deploy/merge.sh OUTPUT.ndjson... > results.ndjson
#
# Lines are ordered by their "line" (the input line they answer); when a
# line number comes twice (an "interrupted" line that a later --resume
# answered), the one that comes later in the files given wins. The lines
# are copied byte for byte. Needs jq; sorts with sort(1), so it holds only
# a line at a time in memory whatever the size of the input.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 OUTPUT.ndjson... > results.ndjson" >&2; exit 64; }
command -v jq > /dev/null || { echo "$0: jq is not installed" >&2; exit 69; }
tab=$(printf '\t')
for f; do
	# each output line is one JSON document: its line number, a tab, the line itself
	jq -r '.line' "$f" | paste - "$f"
done | sort -t "$tab" -k1,1n -s |
    awk -F '\t' 'NR > 1 && $1 != key { print line } { key = $1; line = $0 } END { if (NR > 0) print line }' |
    cut -f 2-
