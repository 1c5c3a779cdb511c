# Shell functions to watch and stop a process by its PID, sourced by the test scripts that start servers.
#
#   alive PID
#       true while the process lives; a zombie counts as gone.
#   stop_pid PID [TENTHS]
#       sends SIGTERM, waits up to TENTHS tenths of a second (default 50)
#       for the process to end, then sends SIGKILL. Returns 1 when it had
#       to kill, so that the caller can say so.

alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*|"") return 1 ;;
	esac
	return 0
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	stop_pid_n=0
	while alive "$1" && [ "$stop_pid_n" -lt "${2:-50}" ]; do
		sleep 0.1
		stop_pid_n=$((stop_pid_n + 1))
	done
	alive "$1" || return 0
	kill -KILL "$1" 2>/dev/null
	return 1
}
