#!/bin/sh
# Starts and stops a private Postfix, the receiving MTA of the SMTP probe's tests, inside a network namespace of its own.
#
#   tests/postfix.sh start DIR OWNER   sets everything up for the process
#                                      OWNER (a PID); prints "netns NAME"
#   tests/postfix.sh stop DIR          stops and removes all that start made
#
# Needs root (network namespaces, Postfix's master) and the Debian
# packages postfix, nftables, nsd, openssl, iproute2. start creates:
#   - the namespace why550-<OWNER>, its loopback up, with the addresses
#     198.51.100.25 and .26 (Postfix) and 203.0.113.7, 192.0.2.1,
#     192.0.2.2 (the probe's sources, which tests/zones lists as a
#     blocklisted, a forward-confirmed and a PTR-less address);
#   - /etc/netns/<name>/resolv.conf, "nameserver 127.0.0.1", which
#     "ip netns exec" mounts over /etc/resolv.conf for what runs inside;
#   - NSD on 127.0.0.1:53 inside, serving tests/zones (tests/nsd.sh);
#   - a Postfix instance with its own configuration, queue and data
#     directories in a folder of its own (Postfix's unprivileged user must
#     reach it, so it is not under DIR), no chroot, listening on port 25
#     of both addresses and 587 of .26, its restrictions
#     reject_unlisted_recipient, reject_unknown_sender_domain,
#     reject_rbl_client zen.spamhaus.org and
#     reject_unknown_reverse_client_hostname acting on the fixture zones;
#   - an nftables rule inside that drops port 25 of 198.51.100.26.
# Every name, folder and PID is written to DIR, and stop removes them all,
# Postfix and NSD stopped by their PIDs. A failed start cleans up too.
# start first sweeps what a killed run left behind: a namespace
# why550-<PID> whose owner is gone (the processes still inside it, by the
# PIDs "ip netns pids" names, then the namespace and its /etc/netns
# folder), and a Postfix folder whose master is gone.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
. "$ROOT/tests/proc.sh"
WAIT_TENTHS=100

msg() {
	echo "postfix.sh: $*" >&2
}

usage() {
	echo "usage: tests/postfix.sh start DIR OWNER | tests/postfix.sh stop DIR" >&2
	exit 64
}

need() {
	if [ "$(id -u)" -ne 0 ]; then
		msg "needs root: network namespaces and Postfix's master run as root"
		exit 1
	fi
	for tool in ip nft nsd openssl /usr/sbin/postfix /usr/lib/postfix/sbin/master; do
		if ! command -v "$tool" > /dev/null 2>&1; then
			msg "'$tool' is missing: run 'sh tools/deps.sh' (Debian packages postfix," \
			    "nftables, nsd, openssl, iproute2)"
			exit 1
		fi
	done
}

inns() {
	ip netns exec "$ns" "$@"
}

write_main_cf() {
	cat > "$pf/etc/main.cf" <<EOF
# Written by tests/postfix.sh for one test run.
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.probe.test
mydomain = probe.test
mydestination =
inet_interfaces = 198.51.100.25, 198.51.100.26
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = probe.test
relay_recipient_maps = texthash:$pf/etc/recipients
alias_maps =
alias_database =
smtpd_banner = \$myhostname ESMTP
smtpd_tls_security_level = may
smtpd_tls_cert_file = $pf/etc/cert.pem
smtpd_tls_key_file = $pf/etc/key.pem
smtpd_helo_required = yes
unknown_client_reject_code = 550
unknown_address_reject_code = 550
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient,
    reject_unknown_sender_domain, reject_rbl_client zen.spamhaus.org,
    reject_unknown_reverse_client_hostname, permit
EOF
	echo "alice@probe.test ok" > "$pf/etc/recipients"
}

write_master_cf() {
	cat > "$pf/etc/master.cf" <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
198.51.100.26:587 inet n -      n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# Waits until something listens on TCP port $2 of address $1 inside the namespace.
wait_listen() {
	i=0
	while [ "$i" -lt "$WAIT_TENTHS" ]; do
		inns ss -Hltn "src $1 and sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_postfix() {
	mkdir -p "$pf/etc" "$pf/spool" "$pf/data" || return 1
	chmod 755 "$pf"
	chown postfix:postfix "$pf/data"
	write_main_cf
	write_master_cf
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$pf/etc/key.pem" -out "$pf/etc/cert.pem" -days 2 \
	    -subj /CN=mx.probe.test -addext subjectAltName=DNS:mx.probe.test \
	    > "$pf/openssl.log" 2>&1 || { cat "$pf/openssl.log" >&2; return 1; }
	# creates the queue's folders with their owners, then starts the master
	if ! inns /usr/sbin/postfix -c "$pf/etc" start > "$pf/start.log" 2>&1; then
		msg "postfix did not start:"
		cat "$pf/start.log" "$pf/maillog" >&2 2>/dev/null
		return 1
	fi
	if ! wait_listen 198.51.100.25 25 || ! wait_listen 198.51.100.26 587; then
		msg "postfix does not listen after 10 s:"
		cat "$pf/maillog" >&2 2>/dev/null
		return 1
	fi
	return 0
}

# What a run killed before its stop left behind (see the top).
sweep() {
	for old in $(ip netns list 2>/dev/null | sed -n 's/^\(why550-[0-9][0-9]*\).*/\1/p'); do
		alive "${old#why550-}" && continue
		msg "removing the namespace $old that a killed run left"
		for pid in $(ip netns pids "$old" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$old" 2>/dev/null
		rm -rf "/etc/netns/$old"
	done
	for old in "${TMPDIR:-/tmp}"/why550-postfix.*; do
		[ -f "$old/spool/pid/master.pid" ] || continue
		alive "$(tr -d ' ' < "$old/spool/pid/master.pid")" || rm -rf "$old"
	done
}

start() {
	need
	sweep
	mkdir -p "$dir" || exit 1
	ns=why550-$owner
	pf=$(mktemp -d "${TMPDIR:-/tmp}/why550-postfix.XXXXXX") || exit 1
	echo "$pf" > "$dir/postfix.dir"
	ip netns add "$ns" || { stop; exit 1; }
	echo "$ns" > "$dir/netns"
	mkdir -p "/etc/netns/$ns"
	echo "nameserver 127.0.0.1" > "/etc/netns/$ns/resolv.conf"
	inns ip link set lo up
	for a in 198.51.100.25 198.51.100.26 203.0.113.7 192.0.2.1 192.0.2.2; do
		inns ip addr add "$a/32" dev lo || { stop; exit 1; }
	done
	if ! inns nft -f - <<'EOF'
table inet why550 {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr 198.51.100.26 tcp dport 25 drop
	}
}
EOF
	then
		msg "nftables refused the drop rule"
		stop
		exit 1
	fi
	# the zones were checked when the harness started the NSD of the other tests
	if ! NSD_PORT=53 NSD_CHECKZONE=true inns sh "$ROOT/tests/nsd.sh" start "$dir/nsd" \
	    "$ROOT/tests/zones" > /dev/null; then
		msg "nsd did not start inside the namespace"
		stop
		exit 1
	fi
	if ! start_postfix; then
		stop
		exit 1
	fi
	echo "netns $ns"
}

stop() {
	pf=$(cat "$dir/postfix.dir" 2>/dev/null)
	ns=$(cat "$dir/netns" 2>/dev/null)
	if [ -n "$pf" ] && [ -f "$pf/spool/pid/master.pid" ]; then
		pid=$(tr -d ' ' < "$pf/spool/pid/master.pid")
		case $pid in
		''|*[!0-9]*) msg "bad pid in '$pf/spool/pid/master.pid'" ;;
		*)
			# the master stops its children on SIGTERM
			stop_pid "$pid"
			;;
		esac
	fi
	[ -d "$dir/nsd" ] && sh "$ROOT/tests/nsd.sh" stop "$dir/nsd" > /dev/null
	if [ -n "$ns" ]; then
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
		rmdir /etc/netns 2>/dev/null
	fi
	case $pf in
	*/why550-postfix.*) rm -rf "$pf" ;;
	esac
	rm -f "$dir/postfix.dir" "$dir/netns"
}

case ${1:-} in
start)
	[ $# -eq 3 ] || usage
	dir=$2
	owner=$3
	case $owner in
	''|*[!0-9]*) usage ;;
	esac
	start
	;;
stop)
	[ $# -eq 2 ] || usage
	dir=$2
	stop
	;;
*)
	usage
	;;
esac
