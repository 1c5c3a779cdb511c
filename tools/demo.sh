#!/bin/sh
# The demo: starts the bundled DNS fixture on loopback, checks a sender that has problems, prints the verdict.
#
#   sh tools/demo.sh BUILD
set -u

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd -P)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-demo.XXXXXX") || exit 1

cleanup() {
	sh "$root/tests/nsd.sh" stop "$tmp/nsd" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

mkdir -p "$tmp/nsd"
port=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$root/tests/zones") || {
	echo "demo: the DNS fixture did not start" >&2
	exit 1
}

# The demo sender: a shop mailing from a dynamic DSL address, not in its
# own SPF record, with a bounce it received from a recipient's server.
set -- --ip 203.0.113.7 --helo mail.shop.test --from news@shop.test \
	--to alice@example.test \
	--bounce "550 5.7.1 Service unavailable; Client host [203.0.113.7] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.7"
[ -f "$root/tests/data/demo.eml" ] && set -- "$@" --message "$root/tests/data/demo.eml"

printf '$ why550'
for a in "$@"; do
	case $a in
	*" "*) printf " '%s'" "$a" ;;
	*) printf ' %s' "$a" ;;
	esac
done
printf ' --resolver 127.0.0.1:%s\n' "$port"
echo "(the bundled DNS fixture, tests/zones, answers on 127.0.0.1:$port)"
echo
"$root/$build/why550" "$@" --resolver "127.0.0.1:$port" \
	--config-dir "$root/checks.d" --format text
rc=$?
echo
echo "exit status $rc (0 clean or at risk, 1 at risk with --fail-on at_risk, 2 blocked likely, 3 inconclusive)"
# the demo itself succeeded when why550 gave a verdict
[ "$rc" -le 3 ]
