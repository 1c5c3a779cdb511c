#!/bin/sh
# Runs one batch as N shards over several hosts with GNU parallel, each host asking its own unbound, and merges the results.
#
#   deploy/parallel/why550-shards.sh [-S LOGINS] [-j K] [-r RESOLVER] [-b WHY550] -o DIR \
#       INPUT N [-- WHY550_OPTION...]
#
# Shard I (0 <= I < N) is `why550 --batch INPUT --shard I/N`: the input
# lines n with (n - 1) % N == I, answered with their own line numbers.
# GNU parallel runs the N shards on the hosts of -S (its --sshlogin list,
# comma-separated; ":" is this machine, the default), K at a time per host
# (default 1: a shard already runs --jobs targets at once), copies INPUT to
# each host first (--basefile: the same path, relative to the home folder
# when relative) and brings each shard's output back into DIR:
#
#   DIR/shard-I.ndjson      the lines of shard I (and .err: its stderr)
#   DIR/joblog              GNU parallel's job log (host, time, exit code)
#   DIR/results.ndjson      every line, in input order (deploy/merge.sh)
#
# Every host needs why550 (-b: its path there, default "why550") and a
# recursive resolver of its own, unbound with deploy/unbound/why550.conf,
# given as -r (default 127.0.0.1: the host's own). The options after "--"
# go to every shard (e.g. --jobs 32 --timeout 10 --checks dnsbl,rdns).
#
# Exits like one why550 over the whole input: the worst of the shards'
# codes (2, then 3, then 1, else 0), or the code of a shard that failed
# (64 and above: usage, configuration, threads, a write, a signal); a shard
# that did not run at all gives 70. Run it again to redo only what failed:
# the job log makes GNU parallel skip the shards that finished.
set -u

logins=:
per_host=1
resolver=127.0.0.1
bin=why550
dir=""

usage() {
	echo "usage: $0 [-S LOGINS] [-j K] [-r RESOLVER] [-b WHY550] -o DIR INPUT N [-- WHY550_OPTION...]" >&2
	exit 64
}

while getopts S:j:r:b:o: opt; do
	case $opt in
	S) logins=$OPTARG ;;
	j) per_host=$OPTARG ;;
	r) resolver=$OPTARG ;;
	b) bin=$OPTARG ;;
	o) dir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] && [ -n "$dir" ] || usage
input=$1
n=$2
shift 2
[ "${1:-}" = "--" ] && shift
case $n in
''|*[!0-9]*|0) echo "$0: N must be a positive number, not '$n'" >&2; exit 64 ;;
esac
[ -r "$input" ] || { echo "$0: cannot read '$input'" >&2; exit 64; }
command -v parallel > /dev/null || { echo "$0: GNU parallel is not installed" >&2; exit 69; }
merge=$(cd "$(dirname "$0")/.." && pwd -P)/merge.sh
mkdir -p "$dir" || exit 73
# the input goes to every remote host first (this machine, ":", has it)
basefile=""
case ",$logins," in
*,:,*) [ "$logins" = : ] || basefile=yes ;;
*) basefile=yes ;;
esac

# -q quotes every word for the remote shell; a shard's exit code is read
# from the job log, not taken as a failure of GNU parallel (2 is a verdict)
seq 0 $((n - 1)) | parallel --will-cite -q -S "$logins" -j "$per_host" \
    ${basefile:+--basefile "$input"} --joblog "$dir/joblog" --resume-failed \
    --results "$dir/shard-{}.ndjson" \
    "$bin" --batch "$input" --shard "{}/$n" --resolver "$resolver" "$@" > /dev/null

# the worst exit code over the shards, from each shard's last run in the
# job log (tab-separated: Exitval is column 7, Signal 8, Command 9)
worst=$(awk -F '\t' -v n="$n" '
	NR > 1 && match($9, /--shard [0-9]+\//) {
		last[substr($9, RSTART + 8, RLENGTH - 9)] = $8 != 0 ? 128 + $8 : $7
	}
	END {
		fail = 0; rank = 0; best = 0
		for (k = 0; k < n; k++) {
			if (!(k in last)) { if (fail < 70) fail = 70; continue }
			rc = last[k] + 0
			if (rc >= 64) { if (rc > fail) fail = rc; continue }
			r = rc == 2 ? 3 : rc == 3 ? 2 : rc == 1 ? 1 : 0
			if (r > rank) { rank = r; best = rc }
		}
		print (fail > 0 ? fail : best)
	}' "$dir/joblog")

sh "$merge" "$dir"/shard-*.ndjson > "$dir/results.ndjson" || exit 74
exit "$worst"
