#!/bin/sh
# Runs the RFC 7208 and RFC 4408 SPF conformance suites through the strict evaluator and through the why550 command line, on the real engine, one NSD per scenario.
#
#   sh tests/scenario_spf.sh
#
# Each scenario's zone data (tests/spf_suite.py) is served by its own NSD
# (tests/nsd.sh) behind the fault server, which never answers the
# scenario's TIMEOUT names (--timeout-name). build/tests/spfsuite runs the
# cases through the C API and counts the strict results that the suite
# accepts (and libspf2's, through the adapter, for comparison); then
# tests/spf_cli.py runs every case again as a why550 invocation (--ip,
# --helo, --from as the suite gives them) against the same servers, with
# checks.d plus the suite's default explanation, and compares the spf
# check's result. Prints the counts; exits non-zero when RFC 7208 through
# the API is below its target (203 of 203) or when any case of either
# suite fails through the command line.
#
# Environment: WHY550_ROOT, WHY550_BUILD, WHY550_TMP (set by tests/run.sh;
# defaults: this tree, its build folder, /tmp); WHY550_SPF_SUITES (the
# folder of the YAML files; default ../shared/conformance/spf of the tree).
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
build=${WHY550_BUILD:-$root/build}
suites=${WHY550_SPF_SUITES:-$root/../shared/conformance/spf}
target_7208=203
python=/usr/bin/python3

msg() {
	echo "scenario_spf.sh: $*" >&2
}

for f in "$build/tests/spfsuite" "$build/tests/faultdns" "$build/why550"; do
	[ -x "$f" ] || { msg "'$f' is missing: build it with 'make tests'"; exit 1; }
done
[ -f "$suites/rfc7208-tests.yml" ] || { msg "no suite in '$suites'"; exit 1; }

. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${WHY550_TMP:-/tmp}/spf-suite.XXXXXX") || exit 1
nsd_dir=""
fault_pid=""

cleanup() {
	trap - EXIT INT TERM
	servers_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# checks.d as shipped, and the explanation and receiver name the suite expects
mkdir -p "$tmp/conf"
cp "$root"/checks.d/*.conf "$tmp/conf/"
printf '[spf]\ndefault_explanation = DEFAULT\nreceiver = receiver.test\n' > "$tmp/conf/zz-spf-suite.conf"

# Starts NSD on $1/zones and the fault server in front of it; sets $fault_port.
start_servers() {
	nsd_dir=$1/nsd
	nsport=$(sh "$root/tests/nsd.sh" start "$nsd_dir" "$1/zones") || {
		nsd_dir=""
		msg "cannot start nsd for '$1'"
		return 1
	}
	set --
	while IFS= read -r name; do
		set -- "$@" --timeout-name "$name"
	done < "$scenario/timeouts"
	faultdns_start "$build" "$scenario/fault.out" --upstream "127.0.0.1:$nsport" "$@"
}

# Runs one suite; sets $strict, $receiver, $cli, $total.
run_suite() {
	out=$tmp/$2
	"$python" "$root/tests/spf_suite.py" "$1" "$out" > /dev/null || {
		msg "cannot convert '$1'"
		exit 1
	}
	strict=0
	receiver=0
	cli=0
	total=0
	for scenario in "$out"/[0-9]*; do
		start_servers "$scenario" || exit 1
		"$build/tests/spfsuite" --resolver "127.0.0.1:$fault_port" \
		    --cases "$scenario/cases" --attempt-ms 300 --receiver \
		    > "$scenario/result" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ]; then
			"$python" "$root/tests/spf_cli.py" "$scenario/cases" "$build/why550" \
			    "127.0.0.1:$fault_port" "$tmp/conf" > "$scenario/cli" 2>&1
			rc=$?
		fi
		servers_stop
		if [ "$rc" -ne 0 ]; then
			msg "the suite failed to run on '$scenario' (exit status $rc)"
			cat "$scenario/result" "$scenario/cli" >&2
			exit 1
		fi
		grep '^FAIL' "$scenario/result" | sed "s|^|$2 scenario ${scenario##*/}: |"
		grep '^FAIL' "$scenario/cli" | sed "s|^|$2 scenario ${scenario##*/} (command line): |"
		c=$(sed -n 's|^cli \([0-9]*\)/\([0-9]*\)$|\1|p' "$scenario/cli")
		cli=$((cli + ${c:-0}))
		s=$(sed -n 's|^strict \([0-9]*\)/\([0-9]*\)$|\1|p' "$scenario/result")
		t=$(sed -n 's|^strict \([0-9]*\)/\([0-9]*\)$|\2|p' "$scenario/result")
		r=$(sed -n 's|^receiver \([0-9]*\)/\([0-9]*\)$|\1|p' "$scenario/result")
		strict=$((strict + ${s:-0}))
		total=$((total + ${t:-0}))
		receiver=$((receiver + ${r:-0}))
	done
}

bad=0
run_suite "$suites/rfc7208-tests.yml" rfc7208
s7208=$strict
echo "spf rfc7208: strict $strict/$total passed (target $target_7208), command line $cli/$total, libspf2 receiver view $receiver/$total"
[ "$cli" -eq "$total" ] || bad=1
if [ -f "$suites/rfc4408-tests.yml" ]; then
	run_suite "$suites/rfc4408-tests.yml" rfc4408
	echo "spf rfc4408: strict $strict/$total passed, command line $cli/$total, libspf2 receiver view $receiver/$total"
	[ "$cli" -eq "$total" ] || bad=1
fi
if [ "$s7208" -lt "$target_7208" ]; then
	msg "rfc7208: $s7208 of $target_7208 passed: below target"
	exit 1
fi
[ "$bad" -eq 0 ] || msg "a case failed through the command line (above)"
exit "$bad"
