#!/bin/sh
# make install to temporary prefixes: the binary finds its checks.d from any folder, a moved tree still works, uninstall removes it all.
#
#   sh tests/scenario_install.sh     (under tests/run.sh, which starts NSD)
#
# 1. The binary under test, copied to PREFIX/bin with checks.d in
#    PREFIX/etc/why550/checks.d, run from /: it finds its checks.d beside
#    it (BINDIR/../etc/why550/checks.d) and checks a target against NSD.
#    Without that folder it exits 78, listing every path it tried and
#    naming --config-dir.
# 2. Not under a sanitizer (the build here is a plain one of its own):
#    make install PREFIX=P in a build folder of its own compiles P/etc in
#    (the stamp), installs binary, checks.d, man page and completions;
#    the installed binary, run from /, reads P/etc/why550/checks.d and
#    checks a target; DESTDIR stages the same tree under another root; make
#    uninstall leaves no file behind.
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
build=${WHY550_BUILD:-$root/build}
bin=${WHY550_BIN:-$build/why550}
ns=${WHY550_TEST_NS:-}
failed=0

[ -x "$bin" ] || { echo "scenario_install: no binary '$bin'" >&2; exit 1; }
[ -n "$ns" ] || { echo "scenario_install: WHY550_TEST_NS is not set (run it through tests/run.sh)" >&2; exit 1; }
tmp=$(mktemp -d "${WHY550_TMP:-${TMPDIR:-/tmp}}/install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "scenario_install: $*" >&2
	failed=1
}

# Runs "$@" from /, output in $tmp/out and $tmp/err; sets $rc.
run_from_root() {
	(cd / && "$@") > "$tmp/out" 2> "$tmp/err"
	rc=$?
}

# Checks the demo IP (listed on the fixture's zen) with the binary $1 from /: exit 2, blocked_likely.
check_target() {
	run_from_root "$1" --ip 203.0.113.7 --checks dnsbl --resolver "$ns" --format json
	[ "$rc" -eq 2 ] || fail "$1: exit $rc for a listed IP, want 2: $(cat "$tmp/err")"
	grep -q '"status": "blocked_likely"' "$tmp/out" ||
	    fail "$1: no blocked_likely verdict: $(head -c 300 "$tmp/out")"
}

# The checks.d folder the binary $1 reads, as --list-checks --format json names it.
config_dir_of() {
	run_from_root "$1" --list-checks --format json
	sed -n 's/^  "config_dir": "\(.*\)",$/\1/p' "$tmp/out"
}

# 1. The binary under test in a tree of its own.
moved=$tmp/moved
mkdir -p "$moved/bin" "$moved/etc/why550/checks.d"
cp "$bin" "$moved/bin/why550"
cp "$root"/checks.d/*.conf "$moved/etc/why550/checks.d/"
dir=$(config_dir_of "$moved/bin/why550")
case $dir in
"$moved/bin/../etc/why550/checks.d") ;;
*) fail "a moved tree reads '$dir', not its own etc/why550/checks.d" ;;
esac
check_target "$moved/bin/why550"
rm -rf "$moved/etc"
run_from_root "$moved/bin/why550" --ip 203.0.113.7 --resolver "$ns"
[ "$rc" -eq 78 ] || fail "no checks.d anywhere: exit $rc, want 78"
for want in "$moved/bin/../etc/why550/checks.d" "$moved/bin/../checks.d" "--config-dir"; do
	grep -q -F -- "$want" "$tmp/err" || fail "the error does not name '$want': $(cat "$tmp/err")"
done
[ -s "$tmp/out" ] && fail "a document on standard output with no checks.d"

if [ -n "${WHY550_SANITIZER:-}" ]; then
	echo "scenario_install: make install builds a plain binary of its own; done once, without a sanitizer"
	exit "$failed"
fi

# 2. make install with a prefix the build did not start with.
prefix=$tmp/prefix
mk() {
	make --no-print-directory -C "$root" -j2 BUILD="$tmp/build" "$@" > "$tmp/make.log" 2>&1 ||
	    { fail "make $*: $(tail -n 20 "$tmp/make.log")"; exit 1; }
}
mk PREFIX="$prefix" install
for f in bin/why550 etc/why550/checks.d/dnsbl.conf share/man/man1/why550.1 \
    share/bash-completion/completions/why550 share/zsh/site-functions/_why550; do
	[ -f "$prefix/$f" ] || fail "make install did not install $f"
done
dir=$(config_dir_of "$prefix/bin/why550")
[ "$dir" = "$prefix/etc/why550/checks.d" ] ||
    fail "the installed binary reads '$dir', not its prefix's $prefix/etc/why550/checks.d"
check_target "$prefix/bin/why550"

# DESTDIR: the files under it, the prefix alone compiled in.
mk PREFIX=/opt/why550-test DESTDIR="$tmp/stage" install
[ -x "$tmp/stage/opt/why550-test/bin/why550" ] || fail "DESTDIR: no binary under the stage"
mv "$tmp/stage/opt/why550-test/etc" "$tmp/stage/opt/why550-test/etc.away"
run_from_root "$tmp/stage/opt/why550-test/bin/why550" --list-checks
grep -q -F "/opt/why550-test/etc/why550/checks.d, " "$tmp/err" ||
    fail "DESTDIR: the compiled-in folder is not /opt/why550-test/etc/why550/checks.d: $(cat "$tmp/err")"
grep -q -F "$tmp/stage" "$tmp/build/paths.stamp" && fail "DESTDIR was compiled in"

mk PREFIX="$prefix" uninstall
left=$(find "$prefix" -type f | head -n 5)
[ -z "$left" ] || fail "make uninstall left: $left"
[ -d "$prefix/etc/why550" ] && fail "make uninstall left the empty $prefix/etc/why550"
exit "$failed"
