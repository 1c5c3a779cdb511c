#!/bin/sh
# Shell completion: bash offers the options, check names, zones and values of the why550 it completes; zsh's file knows every option.
#
#   sh tests/scenario_completion.sh
#
# Sources tools/completion/why550.bash in bash and calls _why550 the way
# bash does (COMP_WORDS, COMP_CWORD) with the binary under test as the
# command; checks tools/completion/_why550 with zsh -n and that it names
# every long option of --help.
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
bin=${WHY550_BIN:-$root/build/why550}
failed=0

[ -x "$bin" ] || { echo "scenario_completion: no binary '$bin'" >&2; exit 1; }
for sh in bash zsh; do
	command -v "$sh" > /dev/null ||
	    { echo "scenario_completion: $sh is missing (make deps installs it)" >&2; exit 1; }
done

fail() {
	echo "scenario_completion: $*" >&2
	failed=1
}

# The words bash completion offers for the command line "$@" (the last word being completed), sorted, on one line.
complete_bash() {
	bash -c '. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _why550
	[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
	    sh "$root/tools/completion/why550.bash" "$bin" --config-dir "$root/checks.d" "$@"
}

expect() {
	want=$1
	shift
	got=$(complete_bash "$@")
	[ "$got" = "$want" ] || fail "'why550 $*': offered '$got', want '$want'"
}

bash -n "$root/tools/completion/why550.bash" || fail "why550.bash: bash -n failed"
options=$("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
got=$(complete_bash --)
for o in $options; do
	case " $got" in
	*" $o "*) ;;
	*) fail "'why550 --' does not offer $o (offered: $got)" ;;
	esac
done
for o in --ip --skip-list --dqs-key --color --list-checks --version; do
	echo "$options" | grep -q -x -- "$o" || fail "--help does not name $o"
done
expect "dbl dkim dmarc dnsbl " --checks d
expect "rdns,sender_domain rdns,smtp rdns,spf " --checks rdns,s
expect "zen.spamhaus.org " --skip-list zen
expect "always auto " --color a
expect "github json junit openmetrics text " --format ""
expect "at_risk " --fail-on at
expect "" --ip ""

zsh -n "$root/tools/completion/_why550" || fail "_why550: zsh -n failed"
for o in $options; do
	grep -q -e "'$o\[" -e "'$o=\[" -e "'\*$o=\[" -e "{-[a-zA-Z],$o}" "$root/tools/completion/_why550" ||
	    fail "_why550 does not name $o"
done
exit "$failed"
