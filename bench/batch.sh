#!/bin/sh
# Batch mode at scale beside dnsperf: the same NSD, zones and questions; targets/s, queries/s, the ratio, peak RSS.
#
#   sh bench/batch.sh [BUILD]      (not a test; make bench runs it)
#
# The fixture (bench/batch_fixture.awk): about 130 zones (the 12 shipped
# lists, reverse zones, 110 sender domains, ...) and N distinct targets, served by
# one NSD on loopback (tests/nsd.sh). For each size (BENCH_SIZES, default
# "10000 100000"):
#   1. why550 runs the targets once through the fault server (tests/faultdns
#      --log, forwarding to NSD), which writes down every question it sends:
#      that is dnsperf's query file, and its length the queries of a run;
#   2. dnsperf sends that file to NSD (-q BENCH_DNSPERF_Q outstanding,
#      default 256), best of 3 runs;
#   3. why550 --batch --detail summary straight to NSD, at each --jobs of
#      BENCH_JOBS (default "8 32 128 256"), timed as a whole process, its peak
#      RSS (VmHWM) read from /proc every 100 ms while it runs.
# Then the bytes per target of --detail full and summary (the smallest
# size, --jobs 32), and one run of BENCH_MILLION targets (default 1000000;
# 0 skips it) with --detail summary at --jobs 32: wall time and peak RSS.
# The lists' rate caps are off (rate = none): the NSD is ours, and the
# benchmark measures the engine, not the politeness. uptime is printed
# before and after: the machine may be shared.
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
case $build in
/*) ;;
*) build=$root/$build ;;
esac
sizes=${BENCH_SIZES:-10000 100000}
jobs_list=${BENCH_JOBS:-8 32 128 256}
million=${BENCH_MILLION:-1000000}
dq=${BENCH_DNSPERF_Q:-256}

msg() {
	echo "bench/batch.sh: $*" >&2
}

command -v dnsperf >/dev/null || { msg "dnsperf is missing (sh tools/deps.sh --bench)"; exit 1; }
for f in "$build/why550" "$build/tests/faultdns"; do
	[ -x "$f" ] || { msg "'$f' is missing: make all tests"; exit 1; }
done

. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-batchbench.XXXXXX") || exit 1
fault_pid=""
nsd_dir=""
run_pid=""
cleanup() {
	trap - EXIT INT TERM
	[ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
	servers_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

largest=0
for n in $sizes $million; do
	[ "$n" -gt "$largest" ] && largest=$n
done
mkdir -p "$tmp/zones" "$tmp/checks.d"
awk -v n="$largest" -v zones="$tmp/zones" -v targets="$tmp/targets" \
    -f "$root/bench/batch_fixture.awk" || exit 1
# the shipped configuration, without the politeness caps (the NSD is ours)
for f in "$root"/checks.d/*.conf; do
	sed -e 's/^rate = .*/rate = none/' -e 's/^budget = .*/budget = none/' "$f" \
	    > "$tmp/checks.d/${f##*/}"
done
nsd_dir=$tmp/nsd
port=$(sh "$root/tests/nsd.sh" start "$nsd_dir" "$tmp/zones") || exit 1
echo "fixture: $(ls "$tmp/zones" | wc -l) zones, NSD on 127.0.0.1:$port; $(nproc) cores"
echo "load before: $(uptime)"

# Runs why550 on targets file $1 with --jobs $2 and the further options; sets $wall_ms and $rss_kb.
timed_run() {
	t=$1
	j=$2
	shift 2
	s=$(date +%s%N)
	"$build/why550" --config-dir "$tmp/checks.d" --resolver "127.0.0.1:$port" \
	    --batch "$t" --jobs "$j" "$@" > "$tmp/out" 2> "$tmp/err" &
	run_pid=$!
	rss_kb=0
	while kill -0 "$run_pid" 2>/dev/null; do
		while IFS= read -r l; do
			case $l in
			VmHWM:*)
				set -- $l
				[ "$2" -gt "$rss_kb" ] && rss_kb=$2
				;;
			esac
		done < "/proc/$run_pid/status" 2>/dev/null
		sleep 0.1
	done
	wait "$run_pid"
	rc=$?
	run_pid=""
	e=$(date +%s%N)
	wall_ms=$(((e - s) / 1000000))
	# 0 clean, 1 at risk, 2 blocked, 3 inconclusive: the fixture has each
	case $rc in
	0|1|2|3) ;;
	*) msg "why550 exited $rc:"; head -n 5 "$tmp/err" >&2; exit 1 ;;
	esac
}

# Best queries/s of 3 dnsperf runs over query file $1.
dnsperf_qps() {
	best=0
	for _ in 1 2 3; do
		q=$(dnsperf -s 127.0.0.1 -p "$port" -d "$1" -n 1 -q "$dq" -c 1 2>&1 |
		    awk '/Queries per second/ { printf "%d", $4 }')
		[ "${q:-0}" -gt "$best" ] && best=$q
	done
	echo "$best"
}

printf '\n%-9s %5s %9s %10s %11s %9s %8s %9s\n' targets jobs "wall s" targets/s \
    queries/s "dnsperf" ratio "peak RSS"
for n in $sizes; do
	head -n "$n" "$tmp/targets" > "$tmp/t$n"
	faultdns_start "$build" "$tmp/fault.out" --upstream "127.0.0.1:$port" \
	    --log "$tmp/capture.log" || exit 1
	"$build/why550" --config-dir "$tmp/checks.d" --resolver "127.0.0.1:$fault_port" \
	    --batch "$tmp/t$n" --jobs 32 --detail summary > /dev/null 2>&1
	faultdns_stop
	awk '{ print $2, $3 }' "$tmp/capture.log" > "$tmp/queries$n"
	nq=$(wc -l < "$tmp/queries$n")
	perf=$(dnsperf_qps "$tmp/queries$n")
	for j in $jobs_list; do
		timed_run "$tmp/t$n" "$j" --detail summary
		awk -v n="$n" -v j="$j" -v ms="$wall_ms" -v q="$nq" -v p="$perf" -v r="$rss_kb" 'BEGIN {
			s = ms / 1000
			printf "%-9d %5d %9.1f %10.0f %11.0f %9d %7.2fx %6.1f MB\n", n, j, s, n / s,
			    q / s, p, q / s / p, r / 1024
		}'
	done
	echo "          ($nq queries for $n targets: $(awk '{ print $2 }' "$tmp/queries$n" |
	    sort | uniq -c | sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }'))"
done

small=$(echo $sizes | awk '{ print $1 }')
echo
for d in full summary; do
	timed_run "$tmp/t$small" 32 --detail "$d"
	bytes=$(wc -c < "$tmp/out")
	awk -v d="$d" -v b="$bytes" -v n="$small" -v ms="$wall_ms" 'BEGIN {
		printf "--detail %-8s %8.0f bytes per target (%d targets, --jobs 32, %.1f s)\n",
		    d, b / n, n, ms / 1000
	}'
done

if [ "$million" -gt 0 ]; then
	head -n "$million" "$tmp/targets" > "$tmp/tm"
	timed_run "$tmp/tm" 32 --detail summary
	lines=$(wc -l < "$tmp/out")
	awk -v n="$million" -v l="$lines" -v ms="$wall_ms" -v r="$rss_kb" 'BEGIN {
		s = ms / 1000
		printf "\n%d targets, --detail summary, --jobs 32: %.0f s wall (%.0f targets/s), " \
		    "peak RSS %.1f MB, %d lines out\n", n, s, n / s, r / 1024, l
	}'
fi
echo "load after: $(uptime)"
echo "targets: queries/s at least 0.50x dnsperf; throughput not falling as jobs grow; RSS at most 64 MB"
