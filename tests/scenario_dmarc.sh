#!/bin/sh
# Runs the DMARC record conformance cases (../shared/conformance/dmarc/cases.jsonl) through why550 against their own NSD and fault server.
#
#   sh tests/scenario_dmarc.sh [CASES]
#
# The cases use names like example.com that must not be in tests/zones, so
# this script writes their zones into a temp folder, serves them with its
# own NSD (tests/nsd.sh) behind a faultdns that answers the names of the
# cases' "dns_errors" with their fault (--fault NAME=KIND), runs
# `why550 --from postmaster@<query_domain> --checks dmarc` for each case and
# compares the dmarc check's JSON with the expectation. Every output must
# validate against the published schema. Exit 0 only when all cases pass.
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
build=${WHY550_BUILD:-$root/build}
bin=${WHY550_BIN:-$build/why550}
cases=${1:-${WHY550_DMARC_CASES:-$root/../shared/conformance/dmarc/cases.jsonl}}
py=/usr/bin/python3

[ -f "$cases" ] || { echo "scenario_dmarc: no cases file '$cases'" >&2; exit 1; }
[ -x "$bin" ] || { echo "scenario_dmarc: no binary '$bin'" >&2; exit 1; }
. "$root/tests/faultdns.sh"
tmp=$(mktemp -d "${WHY550_TMP:-${TMPDIR:-/tmp}}/dmarc-conf.XXXXXX") || exit 1
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
trap 'exit 143' TERM

# Zone files (one per case's organisational domain and report destination) and the fault options.
mkdir -p "$tmp/zones"
"$py" - "$cases" "$tmp/zones" > "$tmp/faults" <<'EOF' || exit 1
import json, re, sys

cases = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
zones = {}
def apex_of(name):
    name = name.rstrip(".").lower()
    best = None
    for z in zones:
        if name == z or name.endswith("." + z):
            if best is None or len(z) > len(best):
                best = z
    return best
for c in cases:
    zones.setdefault((c.get("org_domain") or c["query_domain"]).lower(), [])
for c in cases:
    for line in c.get("zone", []):
        for dom in re.findall(r"mailto:[^@\s\"]+@([A-Za-z0-9.-]+)", line):
            if apex_of(dom) is None:
                zones.setdefault(dom.lower(), [])
for c in cases:
    for line in c.get("zone", []):
        owner = line.split()[0]
        z = apex_of(owner)
        if z is None:
            sys.exit("case %s: no zone for %s" % (c["id"], owner))
        zones[z].append(line)
for z, lines in zones.items():
    with open("%s/%s.zone" % (sys.argv[2], z), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n" % z)
        f.write("@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n" % (z, z))
        f.write("@ IN NS ns.%s.\nns IN A 127.0.0.1\n" % z)
        for l in lines:
            f.write(l + "\n")
for c in cases:
    for name, kind in (c.get("dns_errors") or {}).items():
        print("--fault=%s=%s" % (name, kind.lower()))
EOF

nsport=$(sh "$root/tests/nsd.sh" start "$tmp/nsd" "$tmp/zones") || {
	echo "scenario_dmarc: cannot start nsd" >&2
	exit 1
}
nsd_up=1
# shellcheck disable=SC2046
faultdns_start "$build" "$tmp/fault.out" --upstream "127.0.0.1:$nsport" $(cat "$tmp/faults") ||
    exit 1

"$py" - "$cases" "$bin" "127.0.0.1:$fault_port" "$root" <<'EOF'
import json, re, subprocess, sys

cases_file, binary, resolver, root = sys.argv[1:5]
schema = root + "/docs/why550.schema.json"

# The expectation's "result" is the outcome of policy discovery (RFC 7489
# 6.6.3); why550 reports it as "discovery" and derives the DMARC result.
RESULT_OF = {"record": ("pass", "fail", "not_evaluated"), "none": ("none",),
             "invalid": ("permerror",),
             "temperror": ("temperror",)}

def error_tag(text):
    """The tag an expected error text is about: "p= missing" -> p."""
    m = re.match(r"\s*([a-z]+)=", text)
    if m:
        return m.group(1)
    first = text.split()[0].lower()
    if first in ("rua", "ruf", "pct", "fo", "adkim", "aspf", "sp", "p"):
        return first
    if first == "multiple":
        return "record"
    if first == "dns":
        return "dns"
    raise ValueError("no tag for expected error %r" % text)

def compare(case, check, doc):
    exp = case["expected"]
    bad = []
    def want(key, ours):
        if key in exp and exp[key] != ours:
            bad.append("%s: expected %r, got %r" % (key, exp[key], ours))
    want("result", check.get("discovery"))
    if check.get("result") not in RESULT_OF.get(exp["result"], ()):
        bad.append("result %r does not follow from discovery %r" %
                   (check.get("result"), exp["result"]))
    for key in ("policy_domain", "p", "sp", "pct", "adkim", "aspf", "rua", "fo",
                "applied_policy", "effective_p"):
        want(key, check.get(key))
    exp_tags = sorted(error_tag(e) for e in exp.get("errors", []))
    our_tags = sorted(e["tag"] for e in check.get("errors", []))
    if exp_tags != our_tags:
        bad.append("errors: expected tags %s %r, got %s %r" % (
            exp_tags, exp.get("errors"), our_tags,
            [e["message"] for e in check.get("errors", [])]))
    if "NOT queried" in exp.get("note", ""):
        # only the author domain and the organisational domain are asked
        if doc["dns"]["queries"] != 2:
            bad.append("expected 2 DNS queries, got %d" % doc["dns"]["queries"])
    return bad

cases = [json.loads(l) for l in open(cases_file) if l.strip()]
failed = 0
for case in cases:
    args = [binary, "--resolver", resolver, "--config-dir", root + "/checks.d",
            "--checks", "dmarc", "--format", "json", "--timeout", "10",
            "--from", "postmaster@" + case["query_domain"]]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    problems = []
    try:
        doc = json.loads(p.stdout)
        check = [c for c in doc["checks"] if c["name"] == "dmarc"][0]
    except (ValueError, IndexError, KeyError) as e:
        problems.append("no dmarc result (%s); exit %d; stderr %r" % (e, p.returncode,
                        p.stderr[-300:]))
    else:
        v = subprocess.run(["/usr/bin/python3", root + "/tests/validate.py", schema, "-"],
                           input=p.stdout, capture_output=True, text=True)
        if v.returncode != 0:
            problems.append("output fails the schema: " + v.stdout.strip())
        problems += compare(case, check, doc)
    if problems:
        failed += 1
        print("FAIL %s (%s)" % (case["id"], case["rfc"]))
        for pr in problems:
            print("     " + pr)
    else:
        print("ok   %s" % case["id"])
print("dmarc conformance: %d of %d cases pass" % (len(cases) - failed, len(cases)))
sys.exit(1 if failed or not cases else 0)
EOF
