#!/bin/sh
# Runs every benchmark script of bench/ in turn (make bench).
set -u
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
rc=0
for b in "$root"/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b")"
	sh "$b" "$build" || rc=1
	echo
done
exit $rc
