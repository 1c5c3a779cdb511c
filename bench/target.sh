#!/bin/sh
# One whole target (every check, the demo's inputs) at 30 ms per round trip: wall time beside its critical path and a one-query-at-a-time tool.
#
#   sh bench/target.sh [BUILD]
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
delay=${BENCH_DELAY_MS:-30}
runs=${BENCH_RUNS:-7}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-bench.XXXXXX") || exit 1
fpid=""
cleanup() {
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

mkdir -p "$tmp/nsd"
port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$root/tests/zones") || exit 1
"$root/$build/tests/faultdns" --port 0 --delay "$delay" --upstream "127.0.0.1:$port" \
	> "$tmp/fault.out" &
fpid=$!
i=0
while [ ! -s "$tmp/fault.out" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
fport=$(awk '/^port/ {print $2}' "$tmp/fault.out")
[ -n "$fport" ] || { echo "bench: the delaying server did not start" >&2; exit 1; }

i=0
while [ $i -lt "$runs" ]; do
	"$root/$build/why550" --ip 203.0.113.7 --helo mail.shop.test --from news@shop.test \
		--to alice@example.test --message "$root/tests/data/demo.eml" \
		--resolver "127.0.0.1:$fport" --config-dir "$root/checks.d" --format json \
		> "$tmp/run.json"
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["duration_ms"], d["dns"]["queries"], d["dns"]["sent"])' "$tmp/run.json" >> "$tmp/times"
	i=$((i + 1))
done
sort -n "$tmp/times" | awk -v runs="$runs" -v d="$delay" '
	{ t[NR] = $1; q = $2; s = $3 }
	END {
		med = t[int((NR + 1) / 2)]
		floor = 3 * d
		printf "one target, all 10 checks, %d ms per round trip (%d runs)\n", d, runs
		printf "  questions asked %d, packets sent %d\n", q, s
		printf "  why550 median wall time            %6d ms\n", med
		printf "  critical path (PTR -> A -> DBL)     %6d ms  (3 round trips)\n", floor
		printf "  one query at a time (%d packets)   %6d ms\n", s, s * d
		printf "  why550 / critical path = %.2fx; one-at-a-time / why550 = %.0fx\n", med / floor, s * d / med
	}'
