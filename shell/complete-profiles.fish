
# Profile names for `awsrole use|export|exec|explain`, from the config.
complete -c awsrole -n '__fish_seen_subcommand_from use export exec explain add remove; and test (count (commandline -opc)) -eq 2' -f -a '(command awsrole list --names 2>/dev/null)'
