#!/bin/sh
# Starts and stops NSD on a free loopback port, serving every zone file of a folder, for the tests.
#
#   tests/nsd.sh start DIR ZONEDIR   writes DIR/nsd.conf, starts nsd, prints its port
#                                    (NSD_PORT=N: that port, not a free one)
#   tests/nsd.sh stop DIR            stops the nsd whose pid is in DIR/nsd.pid
#
# Each ZONEDIR/NAME.zone is served as zone NAME. nsd runs as the calling
# user without chroot, database or remote control; every file it writes
# (pid, log, xfrd state, zone list) is in DIR. NSD 4 has no switch to turn
# xfrd off: with no primaries configured it stays idle.
set -u

NSD=${NSD:-/usr/sbin/nsd}
CHECKZONE=${NSD_CHECKZONE:-/usr/sbin/nsd-checkzone}
START_TRIES=8
WAIT_TENTHS=50
. "$(cd "$(dirname "$0")" && pwd -P)/proc.sh"

msg() {
	echo "nsd.sh: $*" >&2
}

usage() {
	echo "usage: tests/nsd.sh start DIR ZONEDIR | tests/nsd.sh stop DIR" >&2
	exit 64
}

# A port in 20000..59999 that nothing listens on right now.
free_port() {
	if [ -n "${NSD_PORT:-}" ]; then
		echo "$NSD_PORT"
		return
	fi
	while :; do
		n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + n % 40000))
		if ! ss -Hlnu "sport = :$p" 2>/dev/null | grep -q . &&
		   ! ss -Hlnt "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
}

write_conf() {
	cat > "$dir/nsd.conf" <<EOF
# Written by tests/nsd.sh; regenerated on every start.
server:
	ip-address: 127.0.0.1@$1
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$zonedir"
	database: ""
	pidfile: "$dir/nsd.pid"
	logfile: "$dir/nsd.log"
	xfrdfile: "$dir/xfrd.state"
	zonelistfile: "$dir/zone.list"
	xfrdir: "$dir"
	verbosity: 1
	server-count: 1
	rrl-ratelimit: 0
	hide-version: yes
	reuseport: no
remote-control:
	control-enable: no
EOF
	for f in "$zonedir"/*.zone; do
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
		    "$(basename "$f" .zone)" "$f" >> "$dir/nsd.conf"
	done
}

# Waits until nsd answers the SOA of the first zone; false if it never does.
wait_ready() {
	i=0
	while [ "$i" -lt "$WAIT_TENTHS" ]; do
		if drill -p "$1" @127.0.0.1 "$first" SOA 2>/dev/null |
		    grep -q 'rcode: NOERROR'; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

show_log() {
	if [ -s "$dir/nsd.log" ]; then
		echo "--- $dir/nsd.log" >&2
		tail -n 40 "$dir/nsd.log" >&2
	fi
}

start() {
	[ -d "$2" ] || { msg "zone folder '$2' does not exist"; exit 1; }
	mkdir -p "$1" || exit 1
	dir=$(cd "$1" && pwd)
	zonedir=$(cd "$2" && pwd)
	first=""
	bad=0
	for f in "$zonedir"/*.zone; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .zone)
		[ -n "$first" ] || first=$name
		if ! out=$("$CHECKZONE" "$name" "$f" 2>&1); then
			msg "zone file '$f' fails nsd-checkzone:"
			echo "$out" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || exit 1
	[ -n "$first" ] || { msg "no *.zone file in '$zonedir'"; exit 1; }
	if [ -f "$dir/nsd.pid" ] && alive "$(cat "$dir/nsd.pid")"; then
		msg "nsd already running in '$dir' (pid $(cat "$dir/nsd.pid"))"
		exit 1
	fi

	tries=0
	while [ "$tries" -lt "$START_TRIES" ]; do
		tries=$((tries + 1))
		port=$(free_port)
		write_conf "$port"
		rm -f "$dir/nsd.pid"
		: > "$dir/nsd.log"
		if "$NSD" -c "$dir/nsd.conf" 2>> "$dir/nsd.log"; then
			if wait_ready "$port"; then
				echo "$port"
				exit 0
			fi
			msg "nsd on port $port did not answer for '$first' SOA in 5 s"
			show_log
			stop "$dir"
			exit 1
		fi
		# Lost a race for the port to another process: try another one.
		grep -q "can't bind" "$dir/nsd.log" && continue
		break
	done
	msg "nsd failed to start (config '$dir/nsd.conf')"
	show_log
	exit 1
}

stop() {
	d=$1
	if [ ! -f "$d/nsd.pid" ]; then
		msg "no pidfile in '$d': nothing to stop"
		return 0
	fi
	pid=$(cat "$d/nsd.pid")
	case $pid in
	''|*[!0-9]*) msg "bad pid '$pid' in '$d/nsd.pid'"; return 1 ;;
	esac
	stop_pid "$pid" "$WAIT_TENTHS" || msg "nsd (pid $pid) ignored SIGTERM for 5 s: killed it"
	rm -f "$d/nsd.pid"
	return 0
}

case ${1:-} in
start)
	[ $# -eq 3 ] || usage
	start "$2" "$3"
	;;
stop)
	[ $# -eq 2 ] || usage
	stop "$2"
	;;
*)
	usage
	;;
esac
