#!/bin/sh
# DKIM conformance: serves the suite's zone from its own NSD behind the fault server and checks every signature and key-record class.
#
#   sh tests/scenario_dkim.sh
#
# The suite (../shared/conformance/dkim, or $WHY550_DKIM_SUITE) uses real
# names (example.com, messiah.edu, ...), so its zone never goes into
# tests/zones: zone files are generated per apex into a temp folder, served
# by a private NSD, and the names of dns-errors.json misbehave through
# build/tests/faultdns --fault NAME=KIND in front of it (--named-only: the
# suite's own "malformed" selector must not trigger a fault). Then
# build/tests/dkimsuite runs every message and key record through the dkim
# check; the exit status is non-zero when a strict expectation is missed.
# Set WHY550_DKIM_VERBOSE=1 to print every signature.
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
build=${WHY550_BUILD:-$root/build}
suite=${WHY550_DKIM_SUITE:-$root/../shared/conformance/dkim}
base=${WHY550_TMP:-${TMPDIR:-/tmp}}

msg() {
	echo "scenario_dkim: $*" >&2
}

for f in "$build/tests/faultdns" "$build/tests/dkimsuite"; do
	[ -x "$f" ] || { msg "'$f' is missing: build it with 'make tests'"; exit 1; }
done
[ -f "$suite/manifest.jsonl" ] || { msg "no DKIM suite at '$suite'"; exit 1; }

. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "$base/dkim.XXXXXX") || exit 1
fault_pid=""
nsd_up=0

cleanup() {
	trap - EXIT INT TERM
	faultdns_stop
	[ "$nsd_up" -eq 0 ] || sh "$root/tests/nsd.sh" stop "$tmp/nsd"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP PIPE

# One zone file per apex (the last two labels); prints a --fault option per
# SERVFAIL or TIMEOUT name (NXDOMAIN names are simply left out of the zones).
mkdir -p "$tmp/zones"
/usr/bin/python3 - "$suite" "$tmp/zones" > "$tmp/faults" <<'EOF' || { msg "cannot generate the zones"; exit 1; }
import json, os, sys

suite, out = sys.argv[1], sys.argv[2]
zones = {}

def apex(name):
    return ".".join(name.rstrip(".").lower().split(".")[-2:])

for line in open(os.path.join(suite, "zone.txt")):
    line = line.strip()
    if not line or line.startswith(";"):
        continue
    name = line.split()[0]
    zones.setdefault(apex(name), []).append(line)
errors = json.load(open(os.path.join(suite, "dns-errors.json")))
for name, kind in sorted(errors.items()):
    zones.setdefault(apex(name), [])
    if kind in ("SERVFAIL", "TIMEOUT"):
        print("--fault=%s=%s" % (name, kind.lower()))
for z, lines in sorted(zones.items()):
    with open(os.path.join(out, z + ".zone"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n" % z)
        f.write("@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n" % (z, z))
        f.write("@ IN NS ns.%s.\nns IN A 127.0.0.1\n" % z)
        for l in lines:
            f.write(l + "\n")
EOF

nsport=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$tmp/zones") || {
	msg "cannot start nsd"
	exit 1
}
nsd_up=1

# shellcheck disable=SC2046
faultdns_start "$build" "$tmp/faultdns.out" --named-only --upstream "127.0.0.1:$nsport" \
    $(cat "$tmp/faults") || exit 1

verbose=""
[ "${WHY550_DKIM_VERBOSE:-0}" = 1 ] && verbose=--verbose
"$build/tests/dkimsuite" --resolver "127.0.0.1:$fault_port" --suite "$suite" \
    --config-dir "$root/checks.d" $verbose
