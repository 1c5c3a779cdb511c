#!/bin/sh
# Builds every fuzz/fuzz_*.c harness with clang and libFuzzer and runs each for FUZZ_SECONDS (default 30).
#
#   sh fuzz/run.sh BUILD      (make fuzz)
set -u
build=${1:-build/fuzz}
root=$(cd "$(dirname "$0")/.." && pwd -P)
secs=${FUZZ_SECONDS:-30}
version=$(sed -n 's/^VERSION *:= *//p' "$root/Makefile")
flags="-std=c11 -D_DEFAULT_SOURCE -DWHY550_VERSION=\"$version\" -g -O1 -fsanitize=fuzzer,address,undefined -I$root $(pkg-config --cflags ldns jansson opendkim libpsl libidn2 gmime-3.0 libssl libcrypto)"
libs="$(pkg-config --libs ldns jansson opendkim libpsl libidn2 gmime-3.0 libssl libcrypto) -lspf2 -lpthread -lm"
mkdir -p "$build/bin" "$build/corpus"
# the library once, instrumented, without main()
srcs=$(find "$root"/core "$root"/dns "$root"/checks "$root"/output "$root"/src -name "*.c" | grep -v "/src/main.c$" | sort)
objs=""
for s in $srcs; do
	o="$build/obj/$(echo "${s#$root/}" | tr / _).o"
	mkdir -p "$build/obj"
	clang $flags -fsanitize=fuzzer-no-link -c "$s" -o "$o" -fno-sanitize=fuzzer || exit 1
	objs="$objs $o"
done
rc=0
for h in "$root"/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	echo "== $name (${secs}s)"
	clang $flags "$h" $objs $libs -o "$build/bin/$name" || { rc=1; continue; }
	mkdir -p "$build/corpus/$name"
	# new inputs go to the first folder; fuzz/seeds/NAME (real samples) is read only
	seeds=""
	[ -d "$root/fuzz/seeds/$name" ] && seeds="$root/fuzz/seeds/$name"
	# shellcheck disable=SC2086
	"$build/bin/$name" -max_total_time="$secs" -print_final_stats=1 "$build/corpus/$name" \
		$seeds 2>"$build/$name.log" || { rc=1; tail -n 40 "$build/$name.log"; }
	grep -E '^stat::number_of_executed_units' "$build/$name.log" || true
done
exit $rc
