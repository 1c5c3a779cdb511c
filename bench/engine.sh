#!/bin/sh
# The DNS engine's throughput beside dnsperf: 10,000 distinct names against the same local NSD, in one run.
#
#   sh bench/engine.sh [BUILD]      (make bench runs it)
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
n=${BENCH_NAMES:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-bench.XXXXXX") || exit 1
cleanup() {
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

command -v dnsperf >/dev/null || { echo "bench: dnsperf is missing (sh tools/deps.sh --bench)" >&2; exit 1; }

# One zone with n names; both tools ask the same names of the same server.
mkdir -p "$tmp/zones" "$tmp/nsd"
{
	echo '$ORIGIN bench.test.'
	echo '$TTL 300'
	echo '@ IN SOA ns.bench.test. h.bench.test. 1 3600 600 86400 60'
	echo '@ IN NS ns'
	echo 'ns IN A 127.0.0.1'
	i=0
	while [ $i -lt "$n" ]; do
		echo "h$i IN A 198.51.100.$((i % 250 + 1))"
		i=$((i + 1))
	done
} > "$tmp/zones/bench.test.zone"
i=0
while [ $i -lt "$n" ]; do
	echo "h$i.bench.test A"
	i=$((i + 1))
done > "$tmp/names"

port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$tmp/zones") || exit 1

"$root/$build/tests/enginebench" "127.0.0.1:$port" "$tmp/names" > "$tmp/engine.out" || {
	cat "$tmp/engine.out"; exit 1; }
# dnsperf: one pass over the names, with as many queries outstanding as the engine allows
dnsperf -s 127.0.0.1 -p "$port" -d "$tmp/names" -n 1 -q 1024 -c 1 > "$tmp/dnsperf.out" 2>&1 || {
	cat "$tmp/dnsperf.out"; exit 1; }

eng_qps=$(awk '/^qps/ {print $2}' "$tmp/engine.out")
eng_ok=$(awk '/^answered/ {print $2}' "$tmp/engine.out")
perf_qps=$(awk '/Queries per second/ {print $4}' "$tmp/dnsperf.out")
perf_lost=$(awk '/Queries lost/ {print $3}' "$tmp/dnsperf.out")

echo "names:                 $n distinct A queries, NSD on 127.0.0.1:$port"
printf "why550 engine:         %10.0f queries/s (%s answered)\n" "$eng_qps" "$eng_ok"
printf "dnsperf:               %10.0f queries/s (%s lost)\n" "$perf_qps" "$perf_lost"
awk -v a="$eng_qps" -v b="$perf_qps" 'BEGIN { printf "ratio engine/dnsperf:  %10.2f (target >= 0.50)\n", a / b }'
