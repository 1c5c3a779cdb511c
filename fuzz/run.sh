#!/bin/sh
# Builds every fuzz/fuzz_*.c harness with clang and libFuzzer and runs each, then prints what each did.
#
#   sh fuzz/run.sh BUILD           (make fuzz): FUZZ_SECONDS (default 30) each
#   sh fuzz/run.sh --long BUILD    (make fuzz-long): each until FUZZ_RUNS
#                                  (default 10000000) executions or
#                                  FUZZ_MAX_SECONDS (default 600), whichever
#                                  comes first
#
# Every harness found is run: a new fuzz/fuzz_NAME.c needs no edit here.
# A harness starts from fuzz/seeds/NAME/ (read only) and grows its corpus in
# BUILD/corpus/NAME/. A crash (or a timeout, or running out of memory) is
# kept in BUILD/crashes/NAME/ and fuzzing goes on for the rest of the
# budget, up to FUZZ_MAX_CRASHES (default 5) crashes a harness; put a kept
# input in fuzz/regress/NAME/ to make it a regression test of make check.
# The table at the end has, per harness: executions, coverage (edges and
# features of libFuzzer's last report), corpus size, crashes and seconds.
# The exit status is non-zero when a harness did not build or crashed.
#
# Environment: WHY550_PKGS (the pkg-config packages, from the Makefile).
set -u
long=0
if [ "${1:-}" = --long ]; then
	long=1
	shift
fi
build=${1:-build/libfuzzer}
root=$(cd "$(dirname "$0")/.." && pwd -P)
secs=${FUZZ_SECONDS:-30}
runs=${FUZZ_RUNS:-10000000}
max_secs=${FUZZ_MAX_SECONDS:-600}
max_crashes=${FUZZ_MAX_CRASHES:-5}
pkgs=${WHY550_PKGS:-ldns jansson opendkim libpsl libidn2 gmime-3.0}
version=$(sed -n 's/^VERSION *:= *//p' "$root/Makefile")
# shellcheck disable=SC2086
flags="-std=c11 -D_DEFAULT_SOURCE -DWHY550_VERSION=\"$version\" -g -O1 -fsanitize=fuzzer,address,undefined -I$root $(pkg-config --cflags $pkgs)"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs) -lspf2 -lpthread -lm"
mkdir -p "$build/bin" "$build/corpus" "$build/obj" "$build/crashes" "$build/logs"
# the library once, instrumented, without main()
srcs=$(find "$root"/core "$root"/dns "$root"/checks "$root"/output "$root"/src -name "*.c" |
    grep -v "/src/main.c$" | sort)
objs=""
for s in $srcs; do
	o="$build/obj/$(echo "${s#"$root"/}" | tr / _).o"
	if [ ! -f "$o" ] || [ "$s" -nt "$o" ]; then
		# shellcheck disable=SC2086
		clang $flags -fsanitize=fuzzer-no-link -c "$s" -o "$o" -fno-sanitize=fuzzer || exit 1
	fi
	objs="$objs $o"
done

# The number after "$2" in the last line of file $1 that has one.
last_number() {
	sed -n "s/.*$2 *\\([0-9][0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

# Runs harness $1 until its budget is spent; sets execs, cov, ft, crashes, took.
fuzz_one() {
	name=$1
	bin=$build/bin/$name
	corpus=$build/corpus/$name
	crashdir=$build/crashes/$name
	log=$build/logs/$name.log
	mkdir -p "$corpus" "$crashdir"
	seeds=""
	[ -d "$root/fuzz/seeds/$name" ] && seeds="$root/fuzz/seeds/$name"
	execs=0
	cov=0
	ft=0
	crashes=0
	start=$(date +%s)
	: > "$log"
	while :; do
		now=$(date +%s)
		if [ "$long" -eq 1 ]; then
			left_secs=$((max_secs - (now - start)))
			left_runs=$((runs - execs))
			[ "$left_secs" -gt 0 ] && [ "$left_runs" -gt 0 ] || break
			budget="-runs=$left_runs -max_total_time=$left_secs"
		else
			left_secs=$((secs - (now - start)))
			[ "$left_secs" -gt 0 ] || break
			budget="-max_total_time=$left_secs"
		fi
		# new inputs go to the corpus folder; the seeds are only read
		# shellcheck disable=SC2086
		"$bin" $budget -print_final_stats=1 -timeout=25 \
		    -artifact_prefix="$crashdir/" "$corpus" $seeds > "$log.run" 2>&1
		rc=$?
		cat "$log.run" >> "$log"
		n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log.run" |
		    tail -n 1)
		if [ -z "$n" ]; then
			# a crash prints no final stats: its last status line counts
			n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log.run" | tail -n 1)
		fi
		execs=$((execs + ${n:-0}))
		c=$(last_number "$log.run" "cov:")
		f=$(last_number "$log.run" "ft:")
		[ "${c:-0}" -gt "$cov" ] && cov=$c
		[ "${f:-0}" -gt "$ft" ] && ft=$f
		[ "$rc" -eq 0 ] && break
		crashes=$((crashes + 1))
		echo "$name: crash $crashes (exit $rc), input kept in $crashdir:" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log.run" | head -n 5 >&2
		[ "$crashes" -lt "$max_crashes" ] || break
		# a harness that dies at once would loop: give up on it
		[ "${n:-0}" -gt 0 ] || break
	done
	rm -f "$log.run"
	took=$(($(date +%s) - start))
}

rc=0
table=""
for h in "$root"/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	# shellcheck disable=SC2086
	if ! clang $flags "$h" $objs $libs -o "$build/bin/$name"; then
		rc=1
		table="$table$(printf '%-22s %s' "$name" "does not build")\n"
		continue
	fi
	if [ "$long" -eq 1 ]; then
		echo "== $name (up to $runs executions or $max_secs s)"
	else
		echo "== $name (${secs}s)"
	fi
	fuzz_one "$name"
	size=$(find "$build/corpus/$name" -type f | wc -l)
	table="$table$(printf '%-22s %12s %8s %8s %8s %8s %8s' "$name" "$execs" "$cov" "$ft" \
	    "$size" "$crashes" "$took")\n"
	[ "$crashes" -eq 0 ] || rc=1
done
printf '\n%-22s %12s %8s %8s %8s %8s %8s\n' harness executions cov ft corpus crashes seconds
# shellcheck disable=SC2059
printf "$table"
exit $rc
