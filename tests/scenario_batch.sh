#!/bin/sh
# Batch mode as a process: stop signals (no finished line lost, none cut, through a pipe), failed writes (74), resume, and too few threads (no hang; 71).
#
#   sh tests/scenario_batch.sh      (tests/run.sh runs it with the servers up)
#
# Each case runs build/why550 on inputs written here, with targets that
# answer at once (bounce texts) and targets that wait for their deadline
# (a sender domain the fault server never answers), and checks exit codes,
# stderr, and the output lines: each whole JSON, validated against the
# schema, numbered 1..K without a gap. Every run is bounded by timeout(1).
# The thread-limit cases run why550 under RLIMIT_NPROC (prlimit); as root
# (whom the limit does not bind) under a user id of their own (setpriv).
#
# Environment: WHY550_BIN, WHY550_ROOT, WHY550_TMP, WHY550_TEST_NS,
# WHY550_TEST_FAULT (set by tests/run.sh).
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
bin=${WHY550_BIN:-$root/build/why550}
python=/usr/bin/python3
ns=${WHY550_TEST_NS:?run through tests/run.sh}
fault=${WHY550_TEST_FAULT:?run through tests/run.sh}
tmp=$(mktemp -d "${WHY550_TMP:-/tmp}/batch.XXXXXX") || exit 1
chmod 755 "$tmp"
pids=""
failed=0

cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

msg() {
	echo "scenario_batch.sh: $*" >&2
}

fail() {
	msg "$case: $*"
	failed=$((failed + 1))
}

w550() {
	"$bin" --config-dir "$root/checks.d" "$@"
}

CLEAN='{"bounce":"250 2.0.0 ok"}'
BLOCKED='{"bounce":"550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"}'
SLOW='{"mail_from":"news@timeout.dom-mx.test"}'

# A line whose result is over 128 KiB, twice a pipe's buffer: strings are cut
# at 8 KiB each in a result, so its size comes from many DKIM selectors.
big_line() {
	printf '{"bounce":"550 5.7.1 blocked %s","mail_from":"a@shop.test","selectors":[%s"z"]}\n' \
	    "$(head -c 100000 /dev/zero | tr '\0' x)" \
	    "$(i=0; while [ $i -lt 100 ]; do printf '"sel%060d",' $i; i=$((i + 1)); done)"
}

# Checks that $1 holds whole JSON lines numbered 1..K (K printed), valid
# against the schema; $2: "no-interrupted" if none may be interrupted.
check_lines() {
	"$python" - "$1" "${2:-}" <<'PY'
import json, sys
path, rule = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
if data and not data.endswith(b"\n"):
	sys.exit("the last line has no newline: cut")
n = 0
for n, text in enumerate(data.splitlines(), 1):
	try:
		d = json.loads(text)
	except ValueError as e:
		sys.exit("line %d (%d bytes) is not whole JSON: %s" % (n, len(text), e))
	if d.get("line") != n:
		sys.exit("output line %d answers input line %s" % (n, d.get("line")))
	if rule == "no-interrupted" and d.get("error", {}).get("code") == "interrupted":
		sys.exit("line %d is interrupted" % n)
print(n)
PY
}

valid() {
	"$python" "$root/tests/validate.py" --ndjson "$root/docs/why550.schema.json" - < "$1" > "$tmp/valid.out" 2>&1 ||
	    fail "does not validate: $(head -c 500 "$tmp/valid.out")"
}

# Starts why550 in the background (args: its own), stdin from $in, stdout to $out, stderr to $err; sets $pid.
start_bg() {
	"$bin" --config-dir "$root/checks.d" "$@" --batch - < "$in" > "$out" 2> "$err" &
	pid=$!
	pids="$pids $pid"
}

# Waits up to $2 seconds for $1 to end, then kills it; sets $rc (137: killed) and $took (tenths).
finish() {
	took=0
	while kill -0 "$1" 2>/dev/null && [ "$took" -lt $(($2 * 10)) ]; do
		sleep 0.1
		took=$((took + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		fail "pid $1 still running after $2 s: killed"
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1"
	rc=$?
}

# --- SIGTERM: no more input; what is in flight finishes; no line lost, none cut (big lines, a pipe)
case=sigterm
for i in 1 2 3 4 5 6 7 8 9 10; do
	big_line
	echo "$SLOW"
	echo "$CLEAN"
done > "$tmp/term.in"
mkfifo "$tmp/term.fifo"
# the reader opens the pipe at once but reads only after a second: why550
# fills the pipe and blocks in the middle of a line over 128 KiB
{ exec 3< "$tmp/term.fifo"; sleep 1; cat <&3 > "$tmp/term.out"; } &
reader=$!
in=$tmp/term.in out=$tmp/term.fifo err=$tmp/term.err
start_bg --resolver "$fault" --checks bounce,sender_domain,dkim --timeout 2 --jobs 4
sleep 0.5
kill -TERM "$pid"
finish "$pid" 20
wait "$reader"
[ "$rc" -eq 143 ] || fail "exit $rc, want 143"
read_to=$(sed -n 's/.*SIGTERM: stopping after input line \([0-9]*\);.*/\1/p' "$tmp/term.err")
if [ -z "$read_to" ]; then
	fail "no stop note: $(cat "$tmp/term.err")"
elif k=$(check_lines "$tmp/term.out" no-interrupted); then
	[ "$k" -eq "$read_to" ] || fail "$k lines written, $read_to read: lines lost"
	[ "$k" -lt 30 ] || fail "the whole input was read: the signal stopped nothing"
	[ "$(head -n 1 "$tmp/term.out" | wc -c)" -gt 131072 ] || fail "the first line is not over 128 KiB"
	valid "$tmp/term.out"
else
	fail "$k"
fi

# --- a second SIGTERM: at once, the targets in flight written as interrupted, still whole lines
case=sigterm2
for i in 1 2 3 4 5 6 7 8; do
	echo "$CLEAN"
	echo "$SLOW"
done > "$tmp/twice.in"
in=$tmp/twice.in out=$tmp/twice.out err=$tmp/twice.err
start_bg --resolver "$fault" --checks bounce,sender_domain --timeout 20 --jobs 4
sleep 0.5
kill -TERM "$pid"
sleep 0.3
kill -TERM "$pid"
finish "$pid" 10
[ "$rc" -eq 143 ] || fail "exit $rc, want 143"
[ "$took" -lt 50 ] || fail "took $took tenths of a second: it waited for the deadline"
if k=$(check_lines "$tmp/twice.out"); then
	grep -q '"code":"interrupted"' "$tmp/twice.out" || fail "no interrupted line"
	grep -q '"verdict"' "$tmp/twice.out" || fail "the finished lines were lost"
	valid "$tmp/twice.out"
else
	fail "$k"
fi

# --- --resume completes the interrupted output: every line once, the interrupted ones asked again
case=resume
cp "$tmp/twice.out" "$tmp/resumed.out"
w550 --resolver "$ns" --checks bounce,sender_domain --timeout 5 --jobs 4 \
    --batch "$tmp/twice.in" --resume "$tmp/resumed.out" > "$tmp/resume.stdout" 2> "$tmp/resume.err"
rc=$?
[ "$rc" -lt 64 ] || fail "exit $rc: $(cat "$tmp/resume.err")"
[ -s "$tmp/resume.stdout" ] && fail "wrote to standard output"
cmp -s "$tmp/twice.out" "$(printf '%s' "$tmp/resumed.out")" && fail "nothing appended"
head -c "$(wc -c < "$tmp/twice.out")" "$tmp/resumed.out" | cmp -s - "$tmp/twice.out" ||
    fail "the earlier lines were changed"
sh "$root/deploy/merge.sh" "$tmp/resumed.out" > "$tmp/merged.out"
if k=$(check_lines "$tmp/merged.out" no-interrupted); then
	[ "$k" -eq 16 ] || fail "$k lines after the merge, want 16"
else
	fail "$k"
fi

# --- SIGINT and SIGHUP: 130 and 129; an endless input stops being read
for sig in INT HUP; do
	case=sig$sig
	want=$([ $sig = INT ] && echo 130 || echo 129)
	yes "$CLEAN" | "$bin" --config-dir "$root/checks.d" --checks bounce --batch - \
	    > "$tmp/$sig.out" 2> "$tmp/$sig.err" &
	pid=$!
	pids="$pids $pid"
	sleep 0.5
	kill -"$sig" "$pid"
	finish "$pid" 10
	[ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $(head -c 300 "$tmp/$sig.err")"
	if k=$(check_lines "$tmp/$sig.out" no-interrupted); then
		[ "$k" -gt 0 ] || fail "no line written"
	else
		fail "$k"
	fi
done

# --- a line of 256 MiB through a pipe: bad_input naming it, the next line answered, never held whole
case=hugeline
"$python" - "$bin" "$root/checks.d" "${WHY550_SANITIZER:-}" <<'PY' || fail "see above"
import resource, subprocess, sys, threading
bin, conf, san = sys.argv[1], sys.argv[2], sys.argv[3]
p = subprocess.Popen([bin, "--config-dir", conf, "--checks", "bounce", "--batch", "-"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
got = {}
def drain(name, f):
	got[name] = f.read()
readers = [threading.Thread(target=drain, args=(n, f)) for n, f in (("out", p.stdout), ("err", p.stderr))]
for t in readers:
	t.start()
p.stdin.write(b'{"bounce":"250 ok"}\n{"bounce":"')
chunk = b"x" * (1 << 20)
for _ in range(256):
	p.stdin.write(chunk)
p.stdin.write(b'"}\n{"bounce":"550 5.7.1 blocked using zen.spamhaus.org"}\n')
p.stdin.close()
p.wait(timeout=120)
for t in readers:
	t.join()
lines = got["out"].decode().splitlines()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
problems = []
# the valid lines decide the exit: one of them is blocked
if p.returncode != 2:
	problems.append("exit %d, want 2" % p.returncode)
if len(lines) != 3 or '"line":2' not in lines[1] or "bad_input" not in lines[1] \
    or "line 2 is longer" not in lines[1] or "blocked_likely" not in lines[2]:
	problems.append("lines: %s" % [l[:200] for l in lines])
# the sanitizers' shadow memory makes RSS meaningless under them
if san == "" and rss > 64:
	problems.append("peak RSS %d MiB for a 256 MiB line" % rss)
for q in problems:
	print("scenario_batch.sh: hugeline: " + q, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# --- a failed write: 74 and a message naming the output, for every kind of output
case=devfull
printf '%s\n%s\n' "$CLEAN" "$BLOCKED" > "$tmp/two.in"
for args in "--batch $tmp/two.in --checks bounce" "--bounce 250_ok --format json" \
    "--list-checks" "--help" "--version"; do
	# shellcheck disable=SC2086
	w550 --resolver "$ns" $args > /dev/full 2> "$tmp/full.err"
	rc=$?
	[ "$rc" -eq 74 ] || fail "$args: exit $rc, want 74"
	grep -q "standard output: No space left on device" "$tmp/full.err" ||
	    fail "$args: no message naming the output: $(cat "$tmp/full.err")"
done

# --- threads: under a process limit a batch ends (the whole answer, or 71), never hangs
case=threads
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
export ASAN_OPTIONS
i=0
while [ $i -lt 600 ]; do
	echo "{\"ip\":\"192.0.2.$((i % 6 + 1))\",\"helo\":\"mail.example.test\",\"mail_from\":\"news@shop.test\",\"rcpt_to\":\"alice@example.test\"}"
	i=$((i + 1))
done > "$tmp/600.in"
chmod 644 "$tmp/600.in"
# Runs why550 with RLIMIT_NPROC $1 on 600.in (args after); as root under a fresh user id.
limited() {
	lim=$1
	shift
	if [ "$(id -u)" -eq 0 ]; then
		# the limit counts the threads of the real user: one of its own, shared with no one
		set -- setpriv --reuid=$((50000 + $$ % 10000)) --regid=$((50000 + $$ % 10000)) \
		    --clear-groups prlimit --nproc="$lim" "$bin" --config-dir "$root/checks.d" "$@"
	else
		set -- prlimit --nproc="$lim" "$bin" --config-dir "$root/checks.d" "$@"
	fi
	timeout 120 "$@" --resolver "$ns" --timeout 5 --batch - < "$tmp/600.in" \
	    > "$tmp/lim.out" 2> "$tmp/lim.err"
	rc=$?
}
if [ "$(id -u)" -eq 0 ]; then
	# 40 threads of which why550 may use 38: once it hung here with no line written
	limited 40 --jobs 64
	[ "$rc" -eq 2 ] || fail "nproc 40: exit $rc, want 2: $(head -c 500 "$tmp/lim.err")"
	[ "$(wc -l < "$tmp/lim.out")" -eq 600 ] || fail "nproc 40: $(wc -l < "$tmp/lim.out") lines of 600"
	grep -q "worker threads could be created: .*ulimit -u" "$tmp/lim.err" ||
	    fail "nproc 40: no warning naming the limit: $(cat "$tmp/lim.err")"
	# room for the DNS engine's thread and not one worker
	limited 2
	[ "$rc" -eq 71 ] || fail "nproc 2: exit $rc, want 71"
	grep -q "cannot create a worker thread: .*ulimit -u" "$tmp/lim.err" ||
	    fail "nproc 2: no message naming the limit: $(cat "$tmp/lim.err")"
	[ -s "$tmp/lim.out" ] && fail "nproc 2: wrote a line"
else
	msg "threads: not root: only the case without any thread"
fi
limited 1
[ "$rc" -eq 71 ] || fail "nproc 1: exit $rc, want 71"
grep -q "cannot create a thread: .*ulimit -u" "$tmp/lim.err" ||
    fail "nproc 1: no message naming the limit: $(cat "$tmp/lim.err")"

# --- a batch runs without glibc's per-thread caches (src/main.c), unless GLIBC_TUNABLES says otherwise
case=tcache
# GLIBC_TUNABLES as the batch's last execve gave it (strace: glibc rewrites the
# string in place once it has read it, so /proc/PID/environ cannot tell);
# $1: GLIBC_TUNABLES to start it with, or "" for none.
tunables_of() {
	if [ -n "$1" ]; then
		set -- env GLIBC_TUNABLES="$1"
	else
		set -- env -u GLIBC_TUNABLES
	fi
	echo "$CLEAN" | timeout 20 strace -f -qq -v -s 1000 -e trace=execve -o "$tmp/tc.trace" \
	    "$@" "$bin" --config-dir "$root/checks.d" --checks bounce --batch - > "$tmp/tc.out" 2> "$tmp/tc.err"
	rc=$?
	[ "$rc" -eq 0 ] || fail "exit $rc, want 0: $(head -c 300 "$tmp/tc.err")"
	[ "$(wc -l < "$tmp/tc.out")" -eq 1 ] || fail "$(wc -l < "$tmp/tc.out") lines, want 1"
	tunables=$(grep 'execve(' "$tmp/tc.trace" | tail -n 1 | grep -o '"GLIBC_TUNABLES=[^"]*"' |
	    sed 's/^"GLIBC_TUNABLES=//; s/"$//')
}
if [ "${WHY550_SANITIZER:-}" = valgrind ]; then
	msg "tcache: under valgrind its own allocator runs instead: not checked"
else
	tunables_of ""
	[ "$tunables" = "glibc.malloc.tcache_count=0" ] || fail "none given: GLIBC_TUNABLES '$tunables'"
	tunables_of "glibc.malloc.arena_max=4"
	[ "$tunables" = "glibc.malloc.tcache_count=0:glibc.malloc.arena_max=4" ] ||
	    fail "arena_max given: GLIBC_TUNABLES '$tunables'"
	tunables_of "glibc.malloc.tcache_count=7"
	[ "$tunables" = "glibc.malloc.tcache_count=7" ] ||
	    fail "tcache_count given: GLIBC_TUNABLES '$tunables'"
	! grep -q 'execve("/proc/self/exe"' "$tmp/tc.trace" || fail "tcache_count given: executed again"
fi

[ "$failed" -eq 0 ] && echo "batch: signals, resume, failed writes and thread limits as documented"
[ "$failed" -eq 0 ]
