#!/bin/sh
# Benchmark: one IP against 50 DNS blocklists over a link that delays every answer, why550 beside rblcheck and a one-round-trip floor.
#
#   sh bench/dnsbl.sh [BUILD]          (BUILD defaults to build)
#
# Environment: DELAY_MS (default 30), LISTS (default 50), RUNS (default 11),
# RBL_RUNS (default 5: rblcheck asks the lists one after another).
#
# What it does: writes LISTS fixture zones (bench1.bl.test ...) into a temp
# folder and serves them with NSD on loopback (tests/nsd.sh); starts
# BUILD/tests/faultdns on 127.0.1.53:53 with --delay DELAY_MS in front of
# NSD (the machine has no netem: the delay is made in user space); then, in
# one run, times
#   - why550 --checks dnsbl with a checks.d holding the LISTS lists,
#   - rblcheck (Debian package) on the same lists, which reads
#     /etc/resolv.conf: it gets a private one in a mount namespace
#     (unshare -m + bind mount), the machine's file is not touched,
#   - the floor: one query through the same link (drill, one process start
#     plus one round trip),
# and prints the medians and their ratios. Needs root (port 53, unshare).
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
delay=${DELAY_MS:-30}
nlists=${LISTS:-50}
runs=${RUNS:-11}
rbl_runs=${RBL_RUNS:-5}
ip=198.51.100.77
addr=127.0.1.53

msg() {
	echo "bench/dnsbl.sh: $*" >&2
}

for tool in rblcheck drill unshare nsd; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		msg "'$tool' is missing: sh tools/deps.sh --bench"
		exit 1
	}
done
[ -x "$build/why550" ] && [ -x "$build/tests/faultdns" ] || {
	msg "build why550 and the fault server first: make all tests"
	exit 1
}
[ "$(id -u)" -eq 0 ] || { msg "needs root: port 53 and a mount namespace"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-bench.XXXXXX") || exit 1
fault_pid=""
cleanup() {
	[ -n "$fault_pid" ] && kill "$fault_pid" 2>/dev/null && wait "$fault_pid" 2>/dev/null
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM HUP PIPE

# LISTS zones: each lists its RFC 5782 test point; every tenth lists the IP too
mkdir -p "$tmp/zones" "$tmp/checks.d"
rev=$(echo "$ip" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }')
{
	echo "[dnsbl]"
	echo "threshold = 3"
} > "$tmp/checks.d/dnsbl.conf"
zones=""
i=1
while [ "$i" -le "$nlists" ]; do
	z="bench$i.bl.test"
	zones="$zones $z"
	{
		printf '$ORIGIN %s.\n$TTL 300\n' "$z"
		printf '@ IN SOA ns.bl.test. hostmaster.bl.test. 1 3600 600 86400 60\n'
		printf '@ IN NS ns.bl.test.\n2.0.0.127 IN A 127.0.0.2\n'
		if [ $((i % 10)) -eq 0 ]; then
			printf '%s IN A 127.0.0.2\n%s IN TXT "listed by %s"\n' "$rev" "$rev" "$z"
		fi
	} > "$tmp/zones/$z.zone"
	printf '[dnsbl "%s"]\nweight = 1\ncode = 127.0.0.2 listed\n' "$z" >> "$tmp/checks.d/dnsbl.conf"
	i=$((i + 1))
done

nsd_port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$tmp/zones") || exit 1
"$build/tests/faultdns" --addr "$addr" --port 53 --delay "$delay" \
    --upstream "127.0.0.1:$nsd_port" > "$tmp/fault.out" 2>&1 &
fault_pid=$!
n=0
until grep -q '^port' "$tmp/fault.out" 2>/dev/null; do
	n=$((n + 1))
	[ "$n" -gt 50 ] && { msg "faultdns did not start: $(cat "$tmp/fault.out")"; exit 1; }
	sleep 0.1
done
echo "nameserver $addr" > "$tmp/resolv.conf"

# wall time of a command in microseconds
now_us() {
	date +%s%6N
}

# median of the numbers on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	    else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

time_runs() {
	count=$1
	shift
	k=0
	while [ "$k" -lt "$count" ]; do
		t0=$(now_us)
		"$@" > "$tmp/last.out" 2>&1
		t1=$(now_us)
		echo $((t1 - t0))
		k=$((k + 1))
	done | median
}

run_why550() {
	"$build/why550" --config-dir "$tmp/checks.d" --checks dnsbl --ip "$ip" \
	    --resolver "$addr:53" --format json
}

run_rblcheck() {
	set -- -c
	for z in $zones; do
		set -- "$@" -s "$z"
	done
	unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec rblcheck "$@"' \
	    "$tmp/resolv.conf" "$@" "$ip"
}

run_floor() {
	drill -p 53 @"$addr" "2.0.0.127.bench1.bl.test" A
}

# the result must be right before it is timed
run_why550 > "$tmp/why550.json"
listed=$(/usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["checks"] if c["name"] == "dnsbl"][0]
print(sum(1 for l in c["lists"] if l["status"] == "listed"), len(c["lists"]),
      sum(1 for l in c["lists"] if l["selftest"] == "ok"))' "$tmp/why550.json") || {
	msg "why550 gave no usable result"; exit 1; }
set -- $listed
[ "$1" -eq $((nlists / 10)) ] && [ "$2" -eq "$nlists" ] && [ "$3" -eq "$nlists" ] || {
	msg "why550: $1 listed of $2 lists, $3 self-tests ok (want $((nlists / 10)), $nlists, $nlists)"
	exit 1
}
rbl_listed=$(run_rblcheck 2>&1 | grep -v 'not listed' | grep -c 'listed by' || true)
[ "$rbl_listed" -eq $((nlists / 10)) ] || {
	msg "rblcheck found $rbl_listed listings (want $((nlists / 10))): $(run_rblcheck 2>&1 | head -3)"
	exit 1
}

floor=$(time_runs "$runs" run_floor)
why=$(time_runs "$runs" run_why550)
rbl=$(time_runs "$rbl_runs" run_rblcheck)

echo "dnsbl benchmark: 1 IP, $nlists lists, every answer delayed ${delay} ms (faultdns in front of NSD)"
echo "  why550 asks A + TXT + 2 self-test points per list: $((nlists * 4)) questions"
echo "  rblcheck asks A per list, one after another: $nlists questions"
awk -v f="$floor" -v w="$why" -v r="$rbl" -v runs="$runs" -v rr="$rbl_runs" 'BEGIN {
	printf "  %-34s %10s\n", "median wall time", "ms"
	printf "  %-34s %10.1f   (%d runs)\n", "floor: one query (drill)", f / 1000, runs
	printf "  %-34s %10.1f   (%d runs)\n", "why550 --checks dnsbl", w / 1000, runs
	printf "  %-34s %10.1f   (%d runs)\n", "rblcheck", r / 1000, rr
	printf "  why550 / floor     = %.2fx   (target <= 1.3x)\n", w / f
	printf "  rblcheck / why550  = %.1fx   (target >= 30x)\n", r / w
}'
