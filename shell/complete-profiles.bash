
# Profile names for `awsrole use|export|exec|explain`, from the config.
__awsrole_complete_profiles() {
    if [[ ${COMP_CWORD} -eq 2 ]]; then
        case "${COMP_WORDS[1]}" in
        use | export | exec | explain | add | remove)
            mapfile -t COMPREPLY < <(compgen -W "$(\command awsrole list --names 2>/dev/null)" -- "${COMP_WORDS[2]}")
            return
            ;;
        esac
    fi
    _awsrole "$@"
}
complete -F __awsrole_complete_profiles -o bashdefault -o default awsrole
