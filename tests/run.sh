#!/bin/sh
# Runs every test program and scenario script against NSD and the fault server on loopback, and sums the results.
#
#   sh tests/run.sh BUILD
#
# Starts NSD (tests/nsd.sh, serving tests/zones/*.zone) and two fault
# servers (BUILD/tests/faultdns: one in front of NSD, one alone), runs every
# BUILD/tests/test_* (criterion) and then every tests/scenario_*.sh, and
# stops the servers by PID on any exit. The last line printed is
# "N passed, N failed" (", N skipped" when criterion skipped some); the exit
# status is non-zero when a test failed or crashed, a program exited
# non-zero, a sanitizer log reports anything, or no test ran at all.
#
# Environment read:
#   WHY550_SANITIZER   asan: read ASan/UBSan logs; valgrind: run the test
#                      programs under memcheck and read its logs
#   WHY550_TEST_JOBS   criterion jobs (default 2; valgrind always runs 1)
#   WHY550_TEST_TIMEOUT  seconds one program or script may take (default
#                      600, 3600 under valgrind)
#   WHY550_KEEP_TMP=1  keep the temp folder (logs, servers' files)
#   WHY550_ONLY        a shell pattern: run only the programs and scripts it
#                      matches (e.g. 'test_dns*'); default: all
# Environment given to the tests:
#   WHY550_TEST_NS     127.0.0.1:PORT of NSD
#   WHY550_TEST_FAULT  127.0.0.1:PORT of faultdns in front of NSD: fault
#                      names (see tests/tool_faultdns.c) misbehave, the
#                      rest is forwarded to NSD
#   WHY550_TEST_FAULT_ALONE  127.0.0.1:PORT of faultdns answering every
#                      name itself (192.0.2.1, 2001:db8::1, "fault", ...)
#   WHY550_BIN, WHY550_ROOT, WHY550_BUILD, WHY550_TMP  absolute paths
set -u

msg() {
	echo "run.sh: $*" >&2
}

[ $# -eq 1 ] || { echo "usage: sh tests/run.sh BUILD" >&2; exit 64; }
[ -d "$1" ] || { msg "build folder '$1' does not exist"; exit 1; }
build=$(cd "$1" && pwd -P)
root=$(cd "$(dirname "$0")/.." && pwd -P)
san=${WHY550_SANITIZER:-}
jobs=${WHY550_TEST_JOBS:-2}
only=${WHY550_ONLY:-*}
case $san in
'') limit=${WHY550_TEST_TIMEOUT:-600} ;;
asan) limit=${WHY550_TEST_TIMEOUT:-600} ;;
valgrind) limit=${WHY550_TEST_TIMEOUT:-3600} ;;
*) msg "unknown WHY550_SANITIZER '$san' (want asan or valgrind)"; exit 64 ;;
esac
if [ ! -x "$build/tests/faultdns" ]; then
	msg "'$build/tests/faultdns' is missing: build it with 'make tests'"
	exit 1
fi

. "$root/tests/faultdns.sh"
. "$root/tests/proc.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-test.XXXXXX") || exit 1
mkdir -p "$tmp/san" "$tmp/out"
server_pids=""
nsd_up=0
current=""

# Sends SIGTERM to a child, waits up to 5 s, then SIGKILL; reaps it.
end_child() {
	stop_pid "$1" || msg "pid $1 ignored SIGTERM: killed it"
	wait "$1" 2>/dev/null
}

stop_servers() {
	for pid in $server_pids; do
		end_child "$pid"
	done
	server_pids=""
	if [ "$nsd_up" -eq 1 ]; then
		sh "$root/tests/nsd.sh" stop "$tmp/nsd"
		nsd_up=0
	fi
}

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$current" ]; then
		end_child "$current"
	fi
	stop_servers
	if [ "${WHY550_KEEP_TMP:-0}" = 1 ]; then
		msg "kept '$tmp'"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP PIPE

# Starts one faultdns (name, then its options); sets $port to the port it chose.
start_faultdns() {
	name=$1
	shift
	faultdns_start "$build" "$tmp/$name.out" --pidfile "$tmp/$name.pid" "$@" || exit 1
	server_pids="$server_pids $fault_pid"
	port=$fault_port
}

# Runs a command in the background so a signal to us is handled at once.
run_bg() {
	timeout "$limit" "$@" &
	current=$!
	wait "$current"
	rc=$?
	current=""
	return "$rc"
}

# Extracts the number after "$2:" in line $1.
field() {
	echo "$1" | sed -n "s/.*$2: *\\([0-9][0-9]*\\).*/\\1/p"
}

# The sanitizers write into $tmp/san, so the servers inherit this too; a
# report from faultdns is a bug worth failing the run for as well.
case $san in
asan)
	ASAN_OPTIONS=log_path=$tmp/san/asan:detect_leaks=1:abort_on_error=0
	UBSAN_OPTIONS=log_path=$tmp/san/ubsan:print_stacktrace=1
	export ASAN_OPTIONS UBSAN_OPTIONS
	;;
esac

zonedir=$root/tests/zones
if ! ls "$zonedir"/*.zone > /dev/null 2>&1; then
	zonedir=$tmp/zones
	mkdir -p "$zonedir"
	cat > "$zonedir/harness.test.zone" <<'EOF'
$ORIGIN harness.test.
$TTL 60
@	IN SOA	ns.harness.test. hostmaster.harness.test. 1 3600 600 86400 60
@	IN NS	ns
ns	IN A	127.0.0.1
EOF
fi
nsport=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$zonedir") || {
	msg "cannot start nsd"
	exit 1
}
nsd_up=1
start_faultdns fault --upstream "127.0.0.1:$nsport"
faultport=$port
start_faultdns alone
aloneport=$port

WHY550_TEST_NS=127.0.0.1:$nsport
WHY550_TEST_FAULT=127.0.0.1:$faultport
WHY550_TEST_FAULT_ALONE=127.0.0.1:$aloneport
WHY550_BIN=$build/why550
WHY550_ROOT=$root
WHY550_BUILD=$build
WHY550_TMP=$tmp
export WHY550_TEST_NS WHY550_TEST_FAULT WHY550_TEST_FAULT_ALONE \
    WHY550_BIN WHY550_ROOT WHY550_BUILD WHY550_TMP
echo "run.sh: nsd $WHY550_TEST_NS, faultdns+nsd $WHY550_TEST_FAULT," \
    "faultdns $WHY550_TEST_FAULT_ALONE, temp $tmp"

passed=0
failed=0
skipped=0
bad=0

for bin in "$build"/tests/test_*; do
	case ${bin##*/} in
	*.*) continue ;;
	esac
	case ${bin##*/} in
	$only) ;;
	*) continue ;;
	esac
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	name=${bin##*/}
	out=$tmp/out/$name.log
	echo "==> $name"
	# criterion notices valgrind and then runs one job at a time by itself.
	if [ "$san" = valgrind ]; then
		run_bg valgrind --trace-children=yes --leak-check=full \
		    --errors-for-leak-kinds=definite,indirect \
		    --suppressions="$root/tests/valgrind.supp" \
		    --log-file="$tmp/san/vg.%p" \
		    "$bin" --json="$tmp/out/$name.json" > "$out" 2>&1
	else
		run_bg "$bin" --jobs "$jobs" \
		    --json="$tmp/out/$name.json" > "$out" 2>&1
	fi
	rc=$?
	cat "$out"
	# GCC's libubsan next to libasan ignores log_path and reports on
	# stderr, which criterion passes through: look there too.
	if [ "$san" = asan ] && grep -q -E 'runtime error:|ERROR: [A-Za-z]+Sanitizer' "$out"; then
		msg "$name: sanitizer report in its output (above)"
		bad=1
	fi
	line=$(grep 'Synthesis:' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		msg "$name: no criterion summary (exit status $rc)"
		failed=$((failed + 1))
		bad=1
		continue
	fi
	p=$(field "$line" Passing)
	f=$(field "$line" Failing)
	if [ "$(field "$line" Tested)" = 0 ]; then
		# a test program that runs nothing hides whatever it was meant to test
		msg "$name: ran no test"
		failed=$((failed + 1))
		bad=1
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	s=$(sed -n 's/^  "skipped": \([0-9][0-9]*\),*$/\1/p' \
	    "$tmp/out/$name.json" 2>/dev/null | head -n 1)
	skipped=$((skipped + ${s:-0}))
	case $rc in
	0) ;;
	124) msg "$name: timed out after $limit s"; bad=1 ;;
	*) msg "$name: exit status $rc"; bad=1 ;;
	esac
done

for script in "$root"/tests/scenario_*.sh; do
	[ -f "$script" ] || continue
	name=${script##*/}
	case $name in
	$only) ;;
	*) continue ;;
	esac
	echo "==> $name"
	if [ -x "$script" ]; then
		run_bg "$script"
	else
		run_bg sh "$script"
	fi
	rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		msg "$name: exit status $rc"
		failed=$((failed + 1))
	fi
done

# Stop the servers first, so that faultdns writes its sanitizer logs too.
stop_servers

case $san in
asan)
	for f in "$tmp"/san/asan* "$tmp"/san/ubsan*; do
		[ -s "$f" ] || continue
		echo "--- sanitizer log ${f##*/} (first 200 lines)"
		head -n 200 "$f"
		bad=1
	done
	;;
valgrind)
	# --trace-children also follows whatever the tests exec (sh, drill,
	# python3); those reports are not ours, so only the logs of programs
	# under $build are read: the criterion runner, its test workers (which
	# re-exec the test program) and why550. A log counts as an error when
	# its ERROR SUMMARY is non-zero (definite and indirect leaks are errors
	# through --errors-for-leak-kinds) or it shows such bytes lost.
	for f in "$tmp"/san/vg.*; do
		[ -f "$f" ] || continue
		cmd=$(sed -n 's/^==[0-9]*== Command: \([^ ]*\).*/\1/p' "$f" |
		    head -n 1)
		case $cmd in
		"$build"/*) ;;
		*) continue ;;
		esac
		errors=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9,]*\).*/\1/p' \
		    "$f" | tail -n 1)
		lost=$(sed -n 's/^==[0-9]*== *\(definitely\|indirectly\) lost: \([0-9,]*\) bytes.*/\2/p' \
		    "$f" | grep -v '^0$')
		if [ "${errors:-0}" != 0 ] || [ -n "$lost" ]; then
			echo "--- valgrind log ${f##*/} (first 200 lines)"
			head -n 200 "$f"
			bad=1
		fi
	done
	;;
esac

if [ $((passed + failed)) -eq 0 ]; then
	msg "no test ran"
	bad=1
fi
[ "$failed" -eq 0 ] || bad=1
[ "$bad" -eq 0 ] || msg "FAILED"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit "$bad"
