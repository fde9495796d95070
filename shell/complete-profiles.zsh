
# Profile names for `awsrole use|export|exec|explain`, from the config.
__awsrole_complete_profiles() {
    if (( CURRENT == 3 )) && [[ ${words[2]} == (use|export|exec|explain|add|remove) ]]; then
        \builtin local -a profiles
        profiles=(${(f)"$(\command awsrole list --names 2>/dev/null)"})
        compadd -a profiles
        return
    fi
    _awsrole "$@"
}
if (( $+functions[compdef] )); then
    compdef __awsrole_complete_profiles awsrole
fi
