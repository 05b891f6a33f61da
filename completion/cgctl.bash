# SPDX-License-Identifier: MIT
# cgctl.bash: bash completion for cgctl(1): commands, options, names of existing cgroups.
# shellcheck shell=bash
#
# Commands and options come from the binary's own --help, so they stay in step
# with it; cgroup names from `cgctl --json list` (jq if installed, else sed on
# the pretty-printed JSON), asking the daemon named by a --socket already on
# the line, else $CGCTL_SOCKET, else the default socket.

# The cgctl being completed ("./build/cgctl" too), else the one on PATH.
_cgctl_bin() {
	local b=${COMP_WORDS[0]}
	b=${b/#\~/$HOME}
	if [[ $b == */* && -x $b ]] || type -P -- "$b" >/dev/null 2>&1; then
		printf '%s\n' "$b"
	else
		printf 'cgctl\n'
	fi
}

# Commands, from the "Commands:" section of `cgctl --help`.
_cgctl_commands() {
	"$(_cgctl_bin)" --help 2>/dev/null |
		sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\)  .*/\1/p'
}

# Options of command $1 (global ones without it), from its --help text.
_cgctl_options() {
	if [[ -n $1 ]]; then
		"$(_cgctl_bin)" "$1" --help 2>/dev/null
	else
		"$(_cgctl_bin)" --help 2>/dev/null | sed '/^Commands:/,$d'
	fi | grep -oE -- '(^|[][[:space:](|,/])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[^-]*//' | sort -u
}

# Options of command $1 (global ones without it) that take a value: in the
# help text they are followed by one space and a placeholder ("--prefix P").
_cgctl_value_options() {
	if [[ -n $1 ]]; then
		"$(_cgctl_bin)" "$1" --help 2>/dev/null
	else
		"$(_cgctl_bin)" --help 2>/dev/null | sed '/^Commands:/,$d'
	fi | grep -oE -- "--[a-z][a-z0-9-]* [A-Z0-9'<]" | sed 's/ .*//' | sort -u
}

# The --socket argument given on the line before the current word, if any.
_cgctl_socket_arg() {
	local i w
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--) break ;;
		--socket=*) printf '%s\n' "${w#--socket=}"; return ;;
		--socket)
			# "--socket=PATH" may arrive split at "=" (COMP_WORDBREAKS).
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then
				printf '%s\n' "${COMP_WORDS[i + 2]}"
			else
				printf '%s\n' "${COMP_WORDS[i + 1]}"
			fi
			return
			;;
		esac
	done
}

# Names of the cgroups the daemon manages, one a line.
_cgctl_names() {
	local sock bin json
	bin=$(_cgctl_bin)
	sock=$(_cgctl_socket_arg)
	sock=${sock/#\~/$HOME}
	json=$("$bin" ${sock:+--socket "$sock"} --timeout 2000 --json list 2>/dev/null) || return 0
	if type -P jq >/dev/null 2>&1; then
		jq -r '.[].name' <<<"$json" 2>/dev/null
	else
		# Entry keys sit at 4 spaces in the pretty-printed array; labels deeper.
		sed -n 's/^    "name": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" |
			sed -e 's/\\"/"/g' -e 's/\\\\/\\/g'
	fi
}

# Fill COMPREPLY with the words of $1 (newline-separated) that start with $2.
_cgctl_reply() {
	local w
	COMPREPLY=()
	while IFS= read -r w; do
		[[ -n $w && $w == "$2"* ]] && COMPREPLY+=("$w")
	done <<<"$1"
}

# Methods `cgctl call` knows by their short name, plus the Varlink service's.
_cgctl_methods() {
	printf '%s\n' GetStatus Create Destroy List Attach SetResources GetStats Freeze Thaw \
		Kill Watch OpenCgroup org.varlink.service.GetInfo \
		org.varlink.service.GetInterfaceDescription
}

_cgctl() {
	local cur prev cmd="" i w nargs=0 dashdash=0 valopts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--opt=value" split at "=" by readline: complete the value.
	if [[ $cur == = && $prev == --* ]]; then
		cur=""
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# Find the command (after the global options and their values)...
	valopts=$'\n'$(_cgctl_value_options "")$'\n'
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--) break ;;
		-*)
			if [[ $valopts == *$'\n'$w$'\n'* ]]; then
				((i++))
				[[ ${COMP_WORDS[i]} == = ]] && ((i++))
			fi
			;;
		*) cmd=$w; break ;;
		esac
	done
	# ...then count its operands, skipping option values; note a "--".
	[[ -n $cmd ]] && valopts+=$(_cgctl_value_options "$cmd")$'\n'
	for ((i++; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((dashdash)); then
			((nargs++))
			continue
		fi
		case $w in
		--) dashdash=$i ;;
		-*)
			if [[ $valopts == *$'\n'$w$'\n'* ]]; then
				((i++))
				[[ ${COMP_WORDS[i]} == = ]] && ((i++))
			fi
			;;
		*) ((nargs++)) ;;
		esac
	done

	# `cgctl run ... -- CMD`: complete CMD like a command line of its own.
	if [[ $cmd == run ]] && ((dashdash)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset $((dashdash + 1))
		else
			mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
		fi
		return 0
	fi

	case $prev in
	--socket)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--signal)
		_cgctl_reply "$(compgen -A signal | sed 's/^SIG//')" "$cur"
		return 0
		;;
	--prefix)
		_cgctl_reply "$(_cgctl_names)" "$cur"
		return 0
		;;
	-s | --sort)
		[[ $cmd == top ]] && _cgctl_reply "cpu memory pids name io" "$cur"
		return 0
		;;
	--pressure)
		# RESOURCE=KIND:STALL/WINDOW: the resource and kind; the times are the user's.
		_cgctl_reply "$(printf '%s\n' {memory,cpu,io}={some,full}:)" "$cur"
		compopt -o nospace 2>/dev/null
		return 0
		;;
	-n | -d)
		[[ $cmd == top ]] && return 0
		;;
	esac
	# Any other option value: nothing sensible to offer.
	[[ $prev == -* && $valopts == *$'\n'$prev$'\n'* ]] && return 0

	if [[ $cur == -* ]] && ! ((dashdash)); then
		_cgctl_reply "$(_cgctl_options "$cmd")" "$cur"
		return 0
	fi

	case $cmd in
	"")
		_cgctl_reply "$(_cgctl_commands)" "$cur"
		;;
	list | create | destroy | stats | freeze | thaw | kill | set)
		# One NAME (create: an existing name as the parent of a new one).
		if ((nargs == 0)); then
			_cgctl_reply "$(_cgctl_names)" "$cur"
			if [[ $cmd == create ]]; then
				compopt -o nospace 2>/dev/null
				COMPREPLY=("${COMPREPLY[@]/%//}")
			fi
		fi
		;;
	attach)
		if ((nargs == 0)); then
			_cgctl_reply "$(_cgctl_names)" "$cur"
		else
			_cgctl_reply "$(cd /proc 2>/dev/null && printf '%s\n' [0-9]*)" "$cur"
		fi
		;;
	watch | top)
		_cgctl_reply "$(_cgctl_names)" "$cur"
		;;
	call)
		((nargs == 0)) && _cgctl_reply "$(_cgctl_methods)" "$cur"
		;;
	esac
	return 0
}

complete -F _cgctl cgctl
