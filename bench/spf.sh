#!/bin/sh
# Benchmarks SPF: the RFC 7208 suite through why550's strict evaluator beside pyspf on the same served data, and an 8-level include chain at 30 ms per round trip against its critical path.
#
#   sh bench/spf.sh [BUILD]
#
# Needs NSD, build/tests/{spfsuite,faultdns}, build/why550, /usr/bin/python3
# with python3-spf (pyspf) and python3-yaml, drill. Prints one table;
# numbers vary with the machine, ratios are what to read. Every figure is a
# whole process's wall time. Both tools cache within a test and nothing
# from one test to the next: pyspf's check2() starts each test with an
# empty cache, so spfsuite runs with --fresh-cache (an engine of its own
# per test). The chain's critical path is derived from the questions why550
# sent (bench/critical_path.py), not from the zone's design.
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
case $build in
/*) ;;
*) build=$root/$build ;;
esac
suites=${WHY550_SPF_SUITES:-$root/../shared/conformance/spf}
python=/usr/bin/python3
rtt=30
rounds=${SPF_BENCH_ROUNDS:-5}

for f in "$build/tests/spfsuite" "$build/tests/faultdns" "$build/why550"; do
	[ -x "$f" ] || { echo "bench/spf.sh: '$f' is missing: run 'make all tests'" >&2; exit 1; }
done
"$python" -c 'import spf' 2>/dev/null || {
	echo "bench/spf.sh: pyspf is missing: apt-get install python3-spf" >&2
	exit 1
}

. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-spfbench.XXXXXX") || exit 1
nsd_dir=""
fault_pid=""

cleanup() {
	trap - EXIT INT TERM
	servers_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# NSD on zone folder $1 (state in $2), the fault server in front ($3: more options); sets $nsport $port.
start_servers() {
	nsd_dir=$2/nsd
	nsport=$(sh "$root/tests/nsd.sh" start "$nsd_dir" "$1") || exit 1
	shift 2
	faultdns_start "$build" "$nsd_dir.fault.out" --upstream "127.0.0.1:$nsport" "$@" || exit 1
	port=$fault_port
}

# Milliseconds of a monotonic-enough clock, for process wall times.
ms_now() {
	echo $(($(date +%s%N) / 1000000))
}

# pyspf over a case file on port $2; prints "ok total".
pyspf_run() {
	"$python" - "$1" "$2" <<'EOF'
import sys, urllib.parse
import spf
import DNS
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = int(sys.argv[2])
cases = []
for line in open(sys.argv[1]):
    f = [urllib.parse.unquote(x) for x in line.rstrip('\n').split('\t')]
    cases.append(f)
ok = 0
for name, host, mailfrom, helo, results, exp in cases:
    try:
        # the same budget per lookup as spfsuite: 2 tries of 300 ms
        res, _ = spf.check2(host, mailfrom, helo, timeout=0.6, querytime=0)
    except Exception:
        res = 'exception'
    if res in results.split(','):
        ok += 1
print(ok, len(cases))
EOF
}

echo "== RFC 7208 suite, same served data (NSD + fault server for TIMEOUT names)"
"$python" "$root/tests/spf_suite.py" "$suites/rfc7208-tests.yml" "$tmp/suite" > /dev/null || exit 1
w_ok=0; w_total=0; w_ms=0; p_ok=0; p_ms=0
n_total=0; n_wms=0; n_pms=0
for sc in "$tmp"/suite/[0-9]*; do
	set --
	while IFS= read -r name; do
		set -- "$@" --timeout-name "$name"
	done < "$sc/timeouts"
	start_servers "$sc/zones" "$sc" "$@"
	t0=$(ms_now)
	r=$("$build/tests/spfsuite" --resolver "127.0.0.1:$port" --cases "$sc/cases" \
	    --attempt-ms 300 --fresh-cache)
	ms=$(($(ms_now) - t0))
	ok=$(echo "$r" | sed -n 's|^strict \([0-9]*\)/.*|\1|p')
	tot=$(echo "$r" | sed -n 's|^strict [0-9]*/\([0-9]*\)$|\1|p')
	t0=$(ms_now)
	set -- $(pyspf_run "$sc/cases" "$port")
	pms=$(($(ms_now) - t0))
	servers_stop
	w_ok=$((w_ok + ok)); w_total=$((w_total + tot)); w_ms=$((w_ms + ms))
	p_ok=$((p_ok + $1)); p_ms=$((p_ms + pms))
	# scenarios without TIMEOUT names: no waiting, only work and loopback DNS
	if [ ! -s "$sc/timeouts" ]; then
		n_total=$((n_total + tot)); n_wms=$((n_wms + ms)); n_pms=$((n_pms + pms))
	fi
done
printf '%-28s %10s %12s %14s\n' "whole processes" "passed" "total ms" "ms per test"
printf '%-28s %6s/%-3s %12s %14s\n' "why550 strict (spfsuite)" "$w_ok" "$w_total" "$w_ms" \
    "$(echo "scale=2; $w_ms / $w_total" | bc)"
printf '%-28s %6s/%-3s %12s %14s\n' "pyspf $("$python" -c 'import spf; print(spf.__version__)')" \
    "$p_ok" "$w_total" "$p_ms" "$(echo "scale=2; $p_ms / $w_total" | bc)"
echo "pyspf / why550 time ratio: $(echo "scale=2; $p_ms / ($w_ms + 0.001)" | bc)x" \
    "(one process per scenario each; the TIMEOUT tests cost both the same 600 ms" \
    "budget per lookup)"
printf '%-28s %10s %12s %14s\n' "without TIMEOUT scenarios:" "tests" "total ms" "ms per test"
printf '%-28s %10s %12s %14s\n' "  why550 strict" "$n_total" "$n_wms" \
    "$(echo "scale=3; $n_wms / $n_total" | bc)"
printf '%-28s %10s %12s %14s\n' "  pyspf" "$n_total" "$n_pms" \
    "$(echo "scale=3; $n_pms / $n_total" | bc)"
echo "pyspf / why550 time ratio without timeouts: $(echo "scale=1; $n_pms / ($n_wms + 0.001)" | bc)x"

echo
echo "== include chain of 8 levels (chain.spf.test) at $rtt ms per round trip"
mkdir -p "$tmp/chain"
start_servers "$root/tests/zones" "$tmp/chain" --delay "$rtt" --log "$tmp/chain.log"
chain() {
	"$build/why550" --config-dir "$root/checks.d" --resolver "127.0.0.1:$port" \
	    --checks spf --ip 192.0.2.77 --from bench@chain.spf.test --format json
}
chain > "$tmp/chain.json"
"$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[c for c in d["checks"] if c["name"]=="spf"][0]; assert c["result"]=="pass", c["result"]' \
    "$tmp/chain.json" || { echo "bench/spf.sh: the chain did not pass" >&2; exit 1; }
# the critical path of the questions the first run sent
"$python" "$root/bench/critical_path.py" "$tmp/chain.log" "$nsport" "$rtt" \
    --ip 192.0.2.77 --name chain.spf.test > "$tmp/path" || exit 1
floor=$(sed -n 's/^critical_path_ms //p' "$tmp/path")
hops=$(sed -n 's/^critical_path_rounds //p' "$tmp/path")
best=""
sum=0
i=0
while [ "$i" -lt "$rounds" ]; do
	t0=$(ms_now)
	chain > /dev/null
	ms=$(($(ms_now) - t0))
	sum=$((sum + ms))
	[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	i=$((i + 1))
done
mean=$((sum / rounds))
# the process with nothing to ask: start, configuration, output
t0=$(ms_now)
"$build/why550" --config-dir "$root/checks.d" --resolver "127.0.0.1:$port" --checks bounce \
    --bounce "550 5.7.1 blocked" --format json > /dev/null
bare=$(($(ms_now) - t0))
t0=$(ms_now)
"$python" - "$port" <<'EOF'
import sys
import spf, DNS
DNS.defaults['server'] = ['127.0.0.1']
DNS.defaults['port'] = int(sys.argv[1])
r = spf.check2('192.0.2.77', 'bench@chain.spf.test', 'bench.test', timeout=5, querytime=0)
EOF
pyms=$(($(ms_now) - t0))
servers_stop
printf '%-48s %8s %8s\n' "whole processes" "ms" "x floor"
printf '%-48s %8s %8s\n' "critical path ($hops questions in a row x $rtt ms)" "$floor" "1.00"
printf '%-48s %8s %8s\n' "why550 --checks spf, best of $rounds (both views)" "$best" \
    "$(echo "scale=2; $best / $floor" | bc)"
printf '%-48s %8s %8s\n' "why550 --checks spf, mean of $rounds" "$mean" \
    "$(echo "scale=2; $mean / $floor" | bc)"
printf '%-48s %8s\n' "why550 asking nothing (the process alone)" "$bare"
printf '%-48s %8s %8s\n' "pyspf, one run" "$pyms" "$(echo "scale=2; $pyms / $floor" | bc)"
echo "target: within 1.20x of the floor plus the process alone"
