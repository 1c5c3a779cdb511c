#!/bin/sh
# Replays every fuzz harness's seeds and kept crash inputs through the harness, built as a plain program.
#
#   sh tests/scenario_fuzz_replay.sh
#
# For each fuzz/fuzz_NAME.c, BUILD/fuzz-replay/fuzz_NAME (the harness with
# fuzz/replay.c as main, built by 'make tests' with the build's flags, so
# under ASan in make asan) runs once on the empty input, on every file of
# fuzz/seeds/fuzz_NAME/ and of fuzz/regress/fuzz_NAME/ (inputs that once
# crashed a harness: each is a regression test). Fails when a harness has
# no seeds, is not built, or aborts or crashes on an input.
#
# Environment: WHY550_ROOT, WHY550_BUILD (set by tests/run.sh; defaults:
# this tree and its build folder).
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
build=${WHY550_BUILD:-$root/build}
bad=0

msg() {
	echo "scenario_fuzz_replay.sh: $*" >&2
}

cd "$root" || exit 1
for src in fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$build/fuzz-replay/$name
	seeds=fuzz/seeds/$name
	if [ ! -x "$bin" ]; then
		msg "'$bin' is missing: build it with 'make tests'"
		bad=1
		continue
	fi
	if [ -z "$(find "$seeds" -type f ! -name README.md 2>/dev/null | head -n 1)" ]; then
		msg "$name has no seeds in $seeds/"
		bad=1
		continue
	fi
	inputs=$seeds
	[ -d "fuzz/regress/$name" ] && inputs="$inputs fuzz/regress/$name"
	# shellcheck disable=SC2086
	if ! WHY550_ROOT=$root "$bin" $inputs; then
		msg "$name failed on an input above"
		bad=1
	fi
done
exit $bad
