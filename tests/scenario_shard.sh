#!/bin/sh
# The shard recipe on one machine: deploy/parallel/why550-shards.sh runs shards through GNU parallel against unbound in front of NSD; merged, they equal one run.
#
#   sh tests/scenario_shard.sh      (tests/run.sh runs it with NSD up)
#
# Starts unbound on a free loopback port, forwarding every name to the
# NSD fixture (WHY550_TEST_NS), stopped by PID on exit. Runs a batch of
# fixture targets once whole, then as 3 shards through the recipe (GNU
# parallel on this machine, -S :), and checks that the merged file has
# the same lines in the same order as the single run, apart from timing
# and the DNS counters that depend on which targets shared a cache; and
# that both exit alike. Checks that the Kubernetes recipe's Job shards by
# its completion index.
#
# Environment: WHY550_BIN, WHY550_ROOT, WHY550_TMP, WHY550_TEST_NS (set by tests/run.sh).
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
bin=${WHY550_BIN:-$root/build/why550}
python=/usr/bin/python3
ns=${WHY550_TEST_NS:?run through tests/run.sh}

msg() {
	echo "scenario_shard.sh: $*" >&2
}

for c in unbound parallel jq drill; do
	command -v "$c" > /dev/null || { msg "'$c' is missing: run tools/deps.sh"; exit 1; }
done
tmp=$(mktemp -d "${WHY550_TMP:-/tmp}/shard.XXXXXX") || exit 1
ub_pid=""

cleanup() {
	trap - EXIT INT TERM
	if [ -n "$ub_pid" ]; then
		kill -TERM "$ub_pid" 2>/dev/null
		wait "$ub_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A UDP port of loopback that the system just gave out as free.
free_port() {
	"$python" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# unbound as a site's resolver would run, but forwarding to the fixture
# and with the fixture's names taken out of its built-in local zones
# (RFC 6761 "test.", the documentation networks' reverse zones)
start_unbound() {
	ub_port=$(free_port)
	cat > "$tmp/unbound.conf" <<CONF
server:
	interface: 127.0.0.1
	port: $ub_port
	do-ip6: no
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	logfile: "$tmp/unbound.log"
	use-syslog: no
	do-daemonize: no
	do-not-query-localhost: no
	module-config: "iterator"
	qname-minimisation: no
	rrset-roundrobin: no
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	local-zone: "test." nodefault
	local-zone: "2.0.192.in-addr.arpa." nodefault
	local-zone: "100.51.198.in-addr.arpa." nodefault
	local-zone: "113.0.203.in-addr.arpa." nodefault
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@${ns#*:}
CONF
	unbound -d -c "$tmp/unbound.conf" > "$tmp/unbound.out" 2>&1 &
	ub_pid=$!
	i=0
	while [ $i -lt 50 ]; do
		# drill waits seconds for a port nobody listens on yet: ask once it is bound
		if ss -Hlnu "sport = :$ub_port" 2>/dev/null | grep -q . &&
		    drill -p "$ub_port" @127.0.0.1 SOA example.test 2>/dev/null |
		    grep -q 'rcode: NOERROR'; then
			return 0
		fi
		kill -0 "$ub_pid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	msg "unbound did not answer on port $ub_port:"
	cat "$tmp/unbound.out" "$tmp/unbound.log" >&2 2>/dev/null
	return 1
}

# Fixture targets: every check, good and bad senders, a bad line.
write_input() {
	for round in 1 2 3 4 5; do
		for ip in 1 2 3 4 5 6; do
			echo "{\"ip\":\"192.0.2.$ip\",\"helo\":\"mail.example.test\",\"mail_from\":\"news@shop.test\",\"rcpt_to\":\"alice@example.test\"}"
		done
		echo '{"ip":"192.0.2.1","mail_from":"a@reject.dmarc.test","rcpt_to":"bob@exmaple.test"}'
		echo '{"mail_from":"x@nodmarc.test","selectors":["default","s1"]}'
		echo '{"helo":"mail.shop.test","mail_from":"news@shop.test","bounce":"550 5.7.1 Client host [192.0.2.2] blocked using zen.spamhaus.org"}'
		echo '{"rcpt_to":"someone@dom-nullmx.test","mail_from":"<>"}'
		echo '{"ip":"192.0.2.40","helo":"mail.dom-helo.test","mail_from":"m@dom-mx.test"}'
		[ "$round" = 3 ] && echo '{"ip":"not an address"}'
	done
}

# The lines of a batch output without what may differ between runs that
# shared their cache differently: timings and time stamps, and the DNS
# counters but the questions asked.
normalize() {
	"$python" -c '
import json, sys
for text in open(sys.argv[1]):
	d = json.loads(text)
	d.pop("duration_ms", None)
	d.pop("generated_at", None)
	for c in d.get("checks", []):
		c.pop("duration_ms", None)
	if "dns" in d:
		d["dns"] = {"queries": d["dns"]["queries"]}
	print(json.dumps(d, sort_keys=True))
' "$1"
}

fail=0
start_unbound || exit 1
write_input > "$tmp/targets.ndjson"
lines=$(wc -l < "$tmp/targets.ndjson")

"$bin" --config-dir "$root/checks.d" --resolver "127.0.0.1:$ub_port" --timeout 5 --jobs 8 \
    --batch "$tmp/targets.ndjson" > "$tmp/single.ndjson" 2> "$tmp/single.err"
single_rc=$?
sh "$root/deploy/parallel/why550-shards.sh" -S : -j 3 -r "127.0.0.1:$ub_port" -b "$bin" \
    -o "$tmp/shards" "$tmp/targets.ndjson" 3 -- --config-dir "$root/checks.d" --timeout 5 \
    --jobs 8 2> "$tmp/shards.err"
shards_rc=$?

for s in 0 1 2; do
	n=$(wc -l < "$tmp/shards/shard-$s.ndjson")
	want=$(( (lines - s + 2) / 3 ))
	if [ "$n" -ne "$want" ]; then
		msg "shard $s has $n lines, want $want"
		fail=1
	fi
done
if [ "$(wc -l < "$tmp/single.ndjson")" -ne "$lines" ]; then
	msg "the single run wrote $(wc -l < "$tmp/single.ndjson") lines for $lines"
	fail=1
fi
normalize "$tmp/single.ndjson" > "$tmp/single.norm"
normalize "$tmp/shards/results.ndjson" > "$tmp/shards.norm"
if ! cmp -s "$tmp/single.norm" "$tmp/shards.norm"; then
	msg "the merged shards differ from the single run:"
	diff "$tmp/single.norm" "$tmp/shards.norm" | head -c 3000 >&2
	fail=1
fi
if [ "$single_rc" -ne "$shards_rc" ] || [ "$single_rc" -ne 2 ]; then
	msg "exit codes: single run $single_rc, shards $shards_rc (want 2: a blocked target)"
	cat "$tmp/shards.err" >&2
	fail=1
fi

# The Kubernetes recipe: an Indexed Job whose pods take the shard of their index.
"$python" - "$root/deploy/kubernetes/why550-batch.yaml" <<'PY' || fail=1
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
job = [d for d in docs if d["kind"] == "Job"][0]
spec = job["spec"]
script = " ".join(spec["template"]["spec"]["containers"][0]["args"])
n = spec["completions"]
problems = []
if spec.get("completionMode") != "Indexed":
	problems.append("the Job is not Indexed")
if '--shard "$JOB_COMPLETION_INDEX/%d"' % n not in script:
	problems.append("the shard is not JOB_COMPLETION_INDEX/%d" % n)
if "--resume" not in script:
	problems.append("a retried pod does not resume")
if not any(d["kind"] == "Deployment" and "unbound" in str(d) for d in docs):
	problems.append("no unbound for the site")
for p in problems:
	print("scenario_shard.sh: deploy/kubernetes/why550-batch.yaml: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

[ "$fail" -eq 0 ] && echo "shards: $lines lines in 3 shards through GNU parallel and unbound equal one run"
exit "$fail"
