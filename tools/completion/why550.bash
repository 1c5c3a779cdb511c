# bash completion for why550: options, their values, check names and blocklist zones.
#
# Options and check names come from the why550 being completed (its --help
# and --list-checks), so the completion follows the version installed and
# the checks.d it reads (a --config-dir on the line counts).

_why550_run()
{
	local cmd=${COMP_WORDS[0]} i
	local -a conf=()

	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		if [[ ${COMP_WORDS[i]} == --config-dir ]]; then
			conf=(--config-dir "${COMP_WORDS[i + 1]}")
		fi
	done
	"$cmd" "${conf[@]}" "$@" 2>/dev/null
}

_why550()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local words head

	COMPREPLY=()
	case $prev in
	--checks)
		# a comma list: complete its last name
		head=
		[[ $cur == *,* ]] && head=${cur%,*},
		words=$(_why550_run --list-checks | awk '/^[a-z_]+ / { print $1 }')
		COMPREPLY=($(compgen -P "$head" -W "$words" -- "${cur##*,}"))
		return
		;;
	--skip-list)
		words=$(_why550_run --list-checks --format json |
		    sed -n 's/^ *"zone": "\([^"]*\)".*/\1/p')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
		;;
	--format)
		# the formats as --help lists them: "json, text or junit (...)"
		words=$(_why550_run --help | sed -n 's/^ *--format FORMAT *\([^(]*\).*/\1/p' |
		    tr -s ', ' '\n\n' | grep -v -x -e or -e '')
		COMPREPLY=($(compgen -W "${words:-json text}" -- "$cur"))
		return
		;;
	--fail-on)
		COMPREPLY=($(compgen -W "at_risk inconclusive blocked never" -- "$cur"))
		return
		;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return
		;;
	--detail)
		COMPREPLY=($(compgen -W "full summary" -- "$cur"))
		return
		;;
	--blocklist-txt)
		COMPREPLY=($(compgen -W "always listed" -- "$cur"))
		return
		;;
	--message | --batch)
		COMPREPLY=($(compgen -f -- "$cur"))
		[[ $cur == "" || $cur == - ]] && COMPREPLY+=(-)
		return
		;;
	--resume)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--bounce)
		# TEXT, or @FILE
		if [[ $cur == @* ]]; then
			COMPREPLY=($(compgen -P @ -f -- "${cur#@}"))
		fi
		return
		;;
	--config-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--ip | --helo | --from | --to | --selector | --resolver | --timeout | --jobs | --dqs-key | \
	    --shard | --cache-max | --max-inflight | --max-qps | --probe-source)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		words=$(_why550_run --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
		COMPREPLY=($(compgen -W "$words -h -V" -- "$cur"))
	fi
}

complete -F _why550 why550
