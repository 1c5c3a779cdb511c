#!/bin/sh
# Benchmark: the SMTP probe of one domain with 3 MX hosts at 30 ms per round trip, beside swaks --quit-after RCPT on the same server and the round-trip floor.
#
#   sh bench/probe.sh [BUILD]          (BUILD defaults to build)
#
# Environment: DELAY_MS (default 30), RUNS (default 9).
#
# What it does: serves tests/zones with NSD on loopback (tests/nsd.sh)
# behind BUILD/tests/faultdns --delay DELAY_MS, and starts
# BUILD/tests/smtpfault --delay DELAY_MS with the three MX hosts of
# bench.smtp.test: the first two answer 421 (busy), the third accepts (the
# machine has no netem: both delays are made in user space, one per reply).
# Then, in one run and alternating, it times whole processes:
#   - why550 --probe --checks smtp --to alice@bench.smtp.test: the MX
#     lookup, the two busy hosts, then banner, EHLO, MAIL, RCPT, RSET, QUIT
#     with the third;
#   - swaks --quit-after RCPT (Debian package) against the third host
#     directly, which it is told (it knows neither the resolver nor the
#     busy hosts): banner, EHLO, MAIL, RCPT, QUIT;
# and prints the medians beside the floor: the round trips the probe
# actually waited for (its replies, counted in its own JSON, and the two
# DNS steps, MX then addresses) times DELAY_MS.
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
delay=${DELAY_MS:-30}
runs=${RUNS:-9}

msg() {
	echo "bench/probe.sh: $*" >&2
}

command -v swaks > /dev/null 2>&1 || { msg "'swaks' is missing: sh tools/deps.sh --bench"; exit 1; }
[ -x "$build/why550" ] && [ -x "$build/tests/faultdns" ] && [ -x "$build/tests/smtpfault" ] || {
	msg "build why550 and the test servers first: make all tests"
	exit 1
}
build=$(cd "$build" && pwd -P)
. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-bench.XXXXXX") || exit 1
fault_pid=""
smtp_pid=""
cleanup() {
	[ -n "$smtp_pid" ] && kill -TERM "$smtp_pid" 2>/dev/null && wait "$smtp_pid" 2>/dev/null
	faultdns_stop
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" > /dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$root/tests/zones") || exit 1
faultdns_start "$build" "$tmp/fault.out" --delay "$delay" --upstream "127.0.0.1:$port" ||
	exit 1
"$build/tests/smtpfault" --port 0 --delay "$delay" 127.0.25.40=busy 127.0.25.41=busy \
    127.0.25.42=ok > "$tmp/smtp.out" 2> "$tmp/smtp.err" &
smtp_pid=$!
i=0
while ! sport=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$tmp/smtp.out") || [ -z "$sport" ]; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { msg "smtpfault did not start"; cat "$tmp/smtp.err" >&2; exit 1; }
	sleep 0.1
done

mkdir "$tmp/conf"
cp "$root"/checks.d/*.conf "$tmp/conf/"
# min_interval 0: the runs follow one another on the same hosts
printf '[smtp]\nport = %s\nmin_interval = 0\nbackoff_421 = 0\n' "$sport" > "$tmp/conf/zz-bench.conf"

ms() {
	echo $(($(date +%s%N) / 1000000))
}

i=0
: > "$tmp/why550.ms"
: > "$tmp/swaks.ms"
while [ "$i" -lt "$runs" ]; do
	t0=$(ms)
	"$build/why550" --config-dir "$tmp/conf" --resolver "127.0.0.1:$fault_port" --probe \
	    --checks smtp --helo bench.example.test --from news@example.test \
	    --to alice@bench.smtp.test --format json > "$tmp/run.json"
	t1=$(ms)
	swaks --server 127.0.25.42 --port "$sport" --helo bench.example.test \
	    --from news@example.test --to alice@bench.smtp.test --quit-after RCPT \
	    > "$tmp/swaks.out" 2>&1 || { msg "swaks failed:"; cat "$tmp/swaks.out" >&2; exit 1; }
	t2=$(ms)
	echo $((t1 - t0)) >> "$tmp/why550.ms"
	echo $((t2 - t1)) >> "$tmp/swaks.ms"
	i=$((i + 1))
done

replies=$(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [x for x in d["checks"] if x["name"] == "smtp"][0]
assert c["result"] == "accepted", c["result"]
print(sum(1 for s in c["sessions"] for r in s["replies"] if r["code"] is not None), len(c["sessions"]))
' "$tmp/run.json") || { msg "the probe did not end as expected"; exit 1; }
set -- $replies
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
w=$(median "$tmp/why550.ms")
s=$(median "$tmp/swaks.ms")
floor=$(( ($1 + 2) * delay ))
echo "SMTP probe: 1 domain, 3 MX hosts (421, 421, accepts), $delay ms per round trip, $runs runs"
printf '  why550 --probe (MX lookup, %d sessions, %d replies)  %6d ms\n' "$2" "$1" "$w"
printf '  swaks --quit-after RCPT (the third host only)         %6d ms\n' "$s"
printf '  floor: (%d replies + 2 DNS steps) x %d ms              %6d ms\n' "$1" "$delay" "$floor"
awk -v w="$w" -v f="$floor" -v s="$s" \
    'BEGIN { printf "  why550 / floor = %.2fx; why550 / swaks = %.2fx\n", w / f, w / s }'
