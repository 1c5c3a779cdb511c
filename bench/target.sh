#!/bin/sh
# One whole target (every check, the demo's inputs) at 30 ms per round trip: process wall time beside the critical path of the questions it sent.
#
#   sh bench/target.sh [BUILD]
#
# NSD serves tests/zones; the fault server in front of it delays every
# answer by BENCH_DELAY_MS (default 30) and logs each question. Every
# figure is a whole process's wall time, the median of BENCH_RUNS (default
# 7) runs. The critical path is derived by bench/critical_path.py from the
# questions of the first run and their answers: the longest chain of
# questions that need an earlier answer, times the delay. Beside it: the
# process alone (a run that asks nothing), and one question at a time.
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
case $build in
/*) ;;
*) build=$root/$build ;;
esac
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

command -v drill >/dev/null || { echo "bench/target.sh: drill is missing (ldnsutils)" >&2; exit 1; }
mkdir -p "$tmp/nsd"
port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$root/tests/zones") || exit 1
faultdns_start "$build" "$tmp/fault.out" --delay "$delay" --upstream "127.0.0.1:$port" \
    --log "$tmp/questions.log" || exit 1
fport=$fault_port

# Milliseconds of wall time of one process: the command and its arguments.
wall_ms() {
	s=$(date +%s%N)
	"$@" > /dev/null 2>&1
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

target() {
	"$build/why550" --ip 203.0.113.7 --helo mail.shop.test --from news@shop.test \
	    --to alice@example.test --message "$root/tests/data/demo.eml" \
	    --resolver "127.0.0.1:$fport" --config-dir "$root/checks.d" --format json
}

# the first run's questions are the ones the critical path is derived from
wall_ms target > /dev/null
cp "$tmp/questions.log" "$tmp/first.log"
i=0
while [ "$i" -lt "$runs" ]; do
	wall_ms target
	i=$((i + 1))
done | median > "$tmp/why550.ms"
# the process with nothing to ask: start, configuration, output
i=0
while [ "$i" -lt "$runs" ]; do
	wall_ms "$build/why550" --bounce "550 5.7.1 blocked" --checks bounce \
	    --resolver "127.0.0.1:$fport" --config-dir "$root/checks.d" --format json
	i=$((i + 1))
done | median > "$tmp/bare.ms"

/usr/bin/python3 "$root/bench/critical_path.py" "$tmp/first.log" "$port" "$delay" \
    --ip 203.0.113.7 --name mail.shop.test --name shop.test --name example.test \
    > "$tmp/path" || exit 1
q=$(sed -n 's/^questions //p' "$tmp/path")
rounds=$(sed -n 's/^critical_path_rounds //p' "$tmp/path")
taken=$(sed -n 's/^rounds_taken //p' "$tmp/path")
med=$(cat "$tmp/why550.ms")
bare=$(cat "$tmp/bare.ms")
floor=$((rounds * delay))
echo "one target, every check, $delay ms per round trip; process wall time, median of $runs runs"
printf "  questions sent (fault server log)        %6d\n" "$q"
printf "  why550                                   %6d ms  (%d round trips)\n" "$med" "$taken"
printf "  the process asking nothing               %6d ms\n" "$bare"
printf "  critical path (from the questions)       %6d ms  (%d round trips)\n" "$floor" "$rounds"
printf "  critical path + the process              %6d ms\n" $((floor + bare))
printf "  one question at a time                   %6d ms\n" $((q * delay))
awk -v m="$med" -v f="$floor" -v b="$bare" -v q="$q" -v d="$delay" 'BEGIN {
	printf "  why550 / (critical path + process) = %.2fx; one at a time / why550 = %.0fx\n",
	    m / (f + b), q * d / m
}'
