#!/bin/sh
# The Debian package: make deb builds it, lintian finds no error, and (as root) it installs, runs from / and is removed again.
#
#   sh tests/scenario_deb.sh     (under tests/run.sh, which starts NSD)
#
# Builds the .deb with make deb (a copy of the tree in a temporary folder),
# prints lintian's report and fails on any error in it, checks the
# package's files, conffiles and dependencies with dpkg-deb. As root, when
# no why550 package is installed yet, it installs the .deb with dpkg -i,
# checks a target from / with /usr/bin/why550 (which reads
# /etc/why550/checks.d), checks that bash completion offers the checks,
# then dpkg -r (the conffiles stay) and dpkg -P (nothing stays). Not run
# under a sanitizer: the package is built without one, so once is enough.
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
ns=${WHY550_TEST_NS:-}
failed=0

if [ -n "${WHY550_SANITIZER:-}" ]; then
	echo "scenario_deb: the package is built without a sanitizer; done once, without one"
	exit 0
fi
[ -n "$ns" ] || { echo "scenario_deb: WHY550_TEST_NS is not set (run it through tests/run.sh)" >&2; exit 1; }
tmp=$(mktemp -d "${WHY550_TMP:-${TMPDIR:-/tmp}}/deb.XXXXXX") || exit 1
installed=0
cleanup() {
	trap - EXIT INT TERM
	[ "$installed" -eq 0 ] || dpkg_retry -P why550 > /dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "scenario_deb: $*" >&2
	failed=1
}

# dpkg "$@", waiting (up to a minute) while another dpkg or apt holds the lock.
dpkg_retry() {
	n=0
	while :; do
		dpkg "$@" > "$tmp/dpkg.log" 2>&1 && return 0
		grep -q "lock" "$tmp/dpkg.log" && [ "$n" -lt 30 ] || { cat "$tmp/dpkg.log" >&2; return 1; }
		n=$((n + 1))
		sleep 2
	done
}

make --no-print-directory -C "$root" deb DEBDIR="$tmp/out" > "$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log" >&2; echo "scenario_deb: make deb failed" >&2; exit 1; }
deb=$(ls "$tmp"/out/why550_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "scenario_deb: make deb made no why550_*.deb" >&2; exit 1; }
echo "scenario_deb: built ${deb##*/}"

# lintian, shown whole; an error fails the test
echo "--- lintian ${deb##*/}"
lintian --fail-on error "$deb" > "$tmp/lintian" 2>&1 || fail "lintian reports errors"
grep -v "^running with root privileges" "$tmp/lintian"
echo "--- (end of lintian's report)"

# the files, the conffiles and the dependencies
dpkg-deb -c "$deb" > "$tmp/files"
for f in ./usr/bin/why550 ./etc/why550/checks.d/dnsbl.conf ./usr/share/man/man1/why550.1.gz \
    ./usr/share/bash-completion/completions/why550 ./usr/share/zsh/vendor-completions/_why550; do
	grep -q " $f\$" "$tmp/files" || fail "the package lacks $f"
done
grep -q " \./usr/local/\| \./build/" "$tmp/files" && fail "the package holds /usr/local or build files"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles > "$tmp/conffiles" 2>/dev/null
for f in "$root"/checks.d/*.conf; do
	grep -q -x "/etc/why550/checks.d/${f##*/}" "$tmp/conffiles" ||
	    fail "/etc/why550/checks.d/${f##*/} is not a conffile"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libldns libjansson libopendkim libspf2 libpsl libidn2; do
	case $depends in
	*"$lib"*) ;;
	*) fail "Depends lacks $lib: $depends" ;;
	esac
done
case $depends in
*-dev*) fail "Depends holds a -dev package: $depends" ;;
esac

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg > /dev/null; then
	echo "scenario_deb: not root: the package is checked, not installed"
	exit "$failed"
fi
if dpkg-query -W -f='${Status}' why550 2>/dev/null | grep -q "installed"; then
	echo "scenario_deb: a why550 package is installed here already: left alone, not installed over"
	exit "$failed"
fi
dpkg_retry -i "$deb" || { echo "scenario_deb: dpkg -i failed" >&2; exit 1; }
installed=1
(cd / && /usr/bin/why550 --ip 203.0.113.7 --checks dnsbl --resolver "$ns" --format json) \
    > "$tmp/out.json" 2> "$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "installed why550: exit $rc for a listed IP, want 2: $(cat "$tmp/err")"
grep -q '"status": "blocked_likely"' "$tmp/out.json" || fail "installed why550: no blocked_likely verdict"
(cd / && /usr/bin/why550 --list-checks --format json) | grep -q '"config_dir": "/etc/why550/checks.d"' ||
    fail "installed why550 does not read /etc/why550/checks.d"
got=$(bash -c '. /usr/share/bash-completion/completions/why550
	COMP_WORDS=(why550 --checks dn); COMP_CWORD=2; _why550; echo "${COMPREPLY[*]}"')
[ "$got" = "dnsbl" ] || fail "the installed bash completion of '--checks dn' is '$got', want 'dnsbl'"
dpkg_retry -r why550 || fail "dpkg -r failed"
[ -e /usr/bin/why550 ] && fail "dpkg -r left /usr/bin/why550"
[ -f /etc/why550/checks.d/dnsbl.conf ] || fail "dpkg -r removed a conffile (only a purge should)"
dpkg_retry -P why550 || fail "dpkg -P failed"
installed=0
[ -e /etc/why550 ] && fail "dpkg -P left /etc/why550"
exit "$failed"
