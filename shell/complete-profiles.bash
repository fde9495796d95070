
# Beyond clap's completions: profile names for the commands that take one, files for
# allow/deny. Names are compared as plain text and never expanded: a profile named
# "$(…)" in the config must not run anything (compgen -W would).
__awsrole_complete() {
    \builtin local cur=${COMP_WORDS[COMP_CWORD]} sub=${COMP_WORDS[1]-} name
    \builtin local only=
    # sso login/logout take the profiles of an IAM Identity Center chain only.
    [[ ${sub} == sso ]] && only=--sso
    if [[ ${COMP_CWORD} -eq 2 && ${sub} =~ ^(use|export|exec|explain|add|remove|login|logout)$ ]] ||
        [[ ${COMP_CWORD} -eq 3 && ${sub} == cache && ${COMP_WORDS[2]} == clear ]] ||
        [[ ${COMP_CWORD} -eq 3 && ${sub} == sso && ${COMP_WORDS[2]} =~ ^(login|logout)$ ]]; then
        COMPREPLY=()
        while IFS= \builtin read -r name; do
            [[ ${name} == "${cur}"* ]] && COMPREPLY+=("${name}")
        done < <(\command awsrole list --names ${only:+"${only}"} 2>/dev/null)
        \builtin return
    fi
    if [[ ${COMP_CWORD} -eq 2 && (${sub} == allow || ${sub} == deny) ]]; then
        \builtin compopt -o filenames 2>/dev/null
        \builtin mapfile -t COMPREPLY < <(\builtin compgen -f -- "${cur}")
        \builtin return
    fi
    _awsrole "$@"
}
\builtin complete -F __awsrole_complete -o bashdefault -o default awsrole
