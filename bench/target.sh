#!/bin/sh
# One whole target (every check, the demo's inputs) at 30 ms per round trip: wall time beside its critical path and a one-query-at-a-time tool.
#
#   sh bench/target.sh [BUILD]
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
delay=${BENCH_DELAY_MS:-30}
runs=${BENCH_RUNS:-7}
. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-bench.XXXXXX") || exit 1
fault_pid=""
cleanup() {
	faultdns_stop
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

mkdir -p "$tmp/nsd"
port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$root/tests/zones") || exit 1
faultdns_start "$root/$build" "$tmp/fault.out" --delay "$delay" --upstream "127.0.0.1:$port" ||
	exit 1
fport=$fault_port

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
