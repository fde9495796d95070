# awsrole shell integration for bash. Add to ~/.bashrc:
#   eval "$(awsrole init bash)"

__awsrole_hook() {
    \builtin local previous_exit_status=$?
    \builtin local out
    if out="$(\command awsrole hook bash)"; then
        # shellcheck disable=SC2034 # read by the user's PS1
        AWSROLE_PROMPT=
        \builtin eval "${out}"
    fi
    \builtin return "${previous_exit_status}"
}

awsrole() {
    case "${1:-}" in
    use | unuse)
        case " $* " in
        *" -h "* | *" --help "*)
            \command awsrole "$@"
            \builtin return
            ;;
        esac
        \builtin local out
        out="$(\command awsrole "$@" --shell bash)" || \builtin return
        # shellcheck disable=SC2034 # read by the user's PS1
        AWSROLE_PROMPT=
        \builtin eval "${out}"
        ;;
    *)
        \command awsrole "$@"
        ;;
    esac
}

# Installed once, first, keeping whatever the user had: a string or (bash 5.1+) an array.
if [[ ${PROMPT_COMMAND[*]:-} != *__awsrole_hook* ]]; then
    if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
        PROMPT_COMMAND=(__awsrole_hook "${PROMPT_COMMAND[@]}")
    else
        # shellcheck disable=SC2128,SC2178 # this branch is only taken for a string
        PROMPT_COMMAND="__awsrole_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
    fi
fi
