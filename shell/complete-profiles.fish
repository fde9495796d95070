
# Beyond clap's completions: profile names for the commands that take one, files for
# allow/deny.
complete -c awsrole -n '__fish_seen_subcommand_from use export exec explain add remove login logout; and test (count (commandline -opc)) -eq 2' -f -a '(command awsrole list --names 2>/dev/null)'
complete -c awsrole -n '__fish_seen_subcommand_from cache; and __fish_seen_subcommand_from clear; and test (count (commandline -opc)) -eq 3' -f -a '(command awsrole list --names 2>/dev/null)'
complete -c awsrole -n '__fish_seen_subcommand_from sso; and __fish_seen_subcommand_from login logout; and test (count (commandline -opc)) -eq 3' -f -a '(command awsrole list --names --sso 2>/dev/null)'
complete -c awsrole -n '__fish_seen_subcommand_from allow deny' -F
