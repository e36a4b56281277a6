# mailsink.bash - bash completion for mailsink(1).
#
# Install as /usr/share/bash-completion/completions/mailsink, or source
# it from ~/.bashrc.  Completes the subcommands, each one's options, the
# values of options that take a fixed set (--starttls on|off|required),
# files and directories where an option wants one, and the query
# prefixes from: to: subject: for list, wait and export.

_mailsink()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}

	local commands="serve list show wait delete sessions export
	    check-config"
	local serve_opts="--config --smtp --smtps --http --db --hostname
	    --max-size --max-recipients --max-connections --timeout --tls-cert
	    --tls-key --starttls --auth --auth-required --rule --rule-seed
	    --max-messages --log-level --transcript -v --magic-addresses --user
	    --help"

	# The subcommand is the first word that does not start with '-'
	# and is not the value of a serve option.
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*)
			case ${COMP_WORDS[i-1]} in
			--config|--smtp|--smtps|--http|--db|--hostname|\
			--max-size|--max-recipients|--max-connections|\
			--timeout|--tls-cert|--tls-key|--starttls|--auth|\
			--rule|--rule-seed|--max-messages|--log-level|\
			--magic-addresses|--user)
				continue ;;
			esac
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	# Values of options, whatever the command.
	case $prev in
	--db|--config|--tls-cert|--tls-key|--mbox)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	--dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0 ;;
	--auth)
		COMPREPLY=($(compgen -W "off any" -f -- "$cur"))
		return 0 ;;
	--starttls)
		COMPREPLY=($(compgen -W "on off required" -- "$cur"))
		return 0 ;;
	--magic-addresses)
		COMPREPLY=($(compgen -W "on off" -- "$cur"))
		return 0 ;;
	--log-level)
		COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
		return 0 ;;
	--http)
		COMPREPLY=($(compgen -W "off 127.0.0.1:8025" -- "$cur"))
		return 0 ;;
	--smtp|--smtps|--hostname|--max-size|--max-recipients|\
	--max-connections|--timeout|--rule|--rule-seed|--max-messages|\
	--limit|--count)
		return 0 ;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return 0 ;;
	esac

	local opts query=
	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version $serve_opts" \
			    -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return 0 ;;
	serve|check-config)
		opts=$serve_opts ;;
	list)
		opts="--db --json --limit --help"
		query=1 ;;
	show)
		opts="--db --raw --headers --json --transcript --help"
		[[ $cur != -* ]] && opts="$opts latest" ;;
	wait)
		opts="--db --timeout --count --help"
		query=1 ;;
	delete)
		opts="--db --all --help"
		[[ $cur != -* ]] && opts="$opts latest" ;;
	sessions)
		opts="--db --json --rejected --limit --help" ;;
	export)
		opts="--db --mbox --dir --help"
		query=1 ;;
	*)
		return 0 ;;
	esac
	if [[ $cur != -* && -n $query ]]; then
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W "from: to: subject:" -- "$cur"))
		return 0
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	return 0
}

complete -F _mailsink mailsink
