# bash completion for cairn.
#
# Commands and options come from the cairn being completed (`cairn help
# --commands`, `--options CMD`, `--subcommands CMD`), so they always match
# its --help; logical ids come from the stack's state (`cairn state list
# --json`) for `state show|rm|history`, and from the template for `import`
# (`cairn graph TEMPLATE --format json`), with the --stack/--state/
# --template options already on the line.

_cairn_json_ids() {
	# the values of "KEY": "..." in cairn's JSON output, one a line
	sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p"
}

_cairn() {
	local cur prev cairn cmd sub i w opts stateargs=() template=""
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cairn=${COMP_WORDS[0]}
	COMPREPLY=()

	# the command: the first word that is not a global option
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version --debug" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$("$cairn" help --commands 2>/dev/null)" -- "$cur")
		fi
		return
	fi

	opts=$("$cairn" help --options "$cmd" 2>/dev/null)
	# the value of an option: files for FILE/PATH/TEMPLATE, else nothing
	if [[ $prev == --* ]]; then
		local ph
		ph=$(printf '%s\n' "$opts" | awk -v o="$prev" '$1 == o { print $2 }')
		if [ -n "$ph" ]; then
			case $ph in
			*FILE* | *PATH* | *TEMPLATE*) compopt -o filenames 2>/dev/null
				mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
			*'|'*) mapfile -t COMPREPLY < <(compgen -W "${ph//|/ }" -- "$cur") ;;
			esac
			return
		fi
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(printf '%s\n' "$opts" | awk '{ print $1 }')" -- "$cur")
		[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi

	# the options that say which state or template the ids come from
	local args=() nargs=0
	for ((i = i + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--stack | --state) stateargs+=("$w" "${COMP_WORDS[i+1]}"); ((i++)) ;;
		--template) template=${COMP_WORDS[i+1]}; ((i++)) ;;
		--*=*) ;;
		--*) [[ $(printf '%s\n' "$opts" | awk -v o="$w" '$1 == o { print $2 }') ]] && ((i++)) ;;
		*) args+=("$w"); ((nargs++)) ;;
		esac
	done
	case $cmd in
	state)
		if [ "$nargs" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$("$cairn" help --subcommands state 2>/dev/null)" -- "$cur")
		else
			case ${args[0]} in
			show | rm | history)
				mapfile -t COMPREPLY < <(compgen -W "$("$cairn" state list --json "${stateargs[@]}" 2>/dev/null | _cairn_json_ids logical_id)" -- "$cur") ;;
			esac
		fi ;;
	import)
		if [ "$nargs" -eq 0 ] && [ -n "$template" ]; then
			mapfile -t COMPREPLY < <(compgen -W "$("$cairn" graph "$template" --format json 2>/dev/null | _cairn_json_ids id)" -- "$cur")
		fi ;;
	validate | graph | plan | apply | destroy | refresh | drift)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	help)
		mapfile -t COMPREPLY < <(compgen -W "$("$cairn" help --commands 2>/dev/null)" -- "$cur") ;;
	esac
}
complete -F _cairn cairn
