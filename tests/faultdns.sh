# Shell functions to start and stop the fault server, sourced by the test and benchmark scripts.
#
#   faultdns_start BUILD OUT [OPTION...]
#       starts BUILD/tests/faultdns --port 0 OPTION... in the background,
#       its output in OUT (and OUT.err); waits up to 5 s for the port it
#       chose; sets $fault_pid and $fault_port. Returns 1, with the server's
#       error output on stderr, when it does not start.
#   faultdns_stop
#       stops the server faultdns_start started, by its PID, and waits.
#   servers_stop
#       faultdns_stop, then the NSD whose folder is in $nsd_dir (if set)
#       through tests/nsd.sh under $root.

faultdns_start() {
	_fd_bin=$1/tests/faultdns
	_fd_out=$2
	shift 2
	: > "$_fd_out"
	"$_fd_bin" --port 0 "$@" > "$_fd_out" 2> "$_fd_out.err" &
	fault_pid=$!
	_fd_n=0
	while :; do
		fault_port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$_fd_out")
		[ -n "$fault_port" ] && return 0
		if [ "$_fd_n" -ge 50 ] || ! kill -0 "$fault_pid" 2>/dev/null; then
			echo "faultdns did not start:" >&2
			cat "$_fd_out.err" >&2
			return 1
		fi
		sleep 0.1
		_fd_n=$((_fd_n + 1))
	done
}

faultdns_stop() {
	[ -n "${fault_pid:-}" ] || return 0
	kill -TERM "$fault_pid" 2>/dev/null
	wait "$fault_pid" 2>/dev/null
	fault_pid=""
}

servers_stop() {
	faultdns_stop
	if [ -n "${nsd_dir:-}" ]; then
		sh "$root/tests/nsd.sh" stop "$nsd_dir" >/dev/null
		nsd_dir=""
	fi
}
