
# Beyond clap's completions: profile names for the commands that take one, files for
# allow/deny. compadd takes the names as they are, never expanded.
__awsrole_complete() {
    \builtin local -a profiles
    if { (( CURRENT == 3 )) && [[ ${words[2]} == (use|export|exec|explain|add|remove|login|logout) ]]; } ||
        { (( CURRENT == 4 )) && [[ ${words[2]} == cache && ${words[3]} == clear ]]; }; then
        profiles=(${(f)"$(\command awsrole list --names 2>/dev/null)"})
        compadd -a profiles
        return
    fi
    # sso login/logout take the profiles of an IAM Identity Center chain only.
    if (( CURRENT == 4 )) && [[ ${words[2]} == sso && ${words[3]} == (login|logout) ]]; then
        profiles=(${(f)"$(\command awsrole list --names --sso 2>/dev/null)"})
        compadd -a profiles
        return
    fi
    if (( CURRENT == 3 )) && [[ ${words[2]} == (allow|deny) ]]; then
        _files
        return
    fi
    _awsrole "$@"
}
if (( $+functions[compdef] )); then
    compdef __awsrole_complete awsrole
fi
