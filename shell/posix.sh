# awsrole shell integration for __SHELL__. Add to __RC__:
#   eval "$(awsrole init __SHELL__)"
#
# What the previous values of the managed variables were is kept in __awsrole_diff,
# which is never exported: it is handed to awsrole for one call only.
# (One template for bash and zsh; each adds its own hook installation below.)

__awsrole_hook() {
    \builtin local previous_exit_status=$?
    \builtin local out
    if out="$(AWSROLE_DIFF="${__awsrole_diff-}" \command awsrole hook __SHELL__)"; then
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
        out="$(AWSROLE_DIFF="${__awsrole_diff-}" AWSROLE_SHELL_PID="$$" \command awsrole "$@" --shell __SHELL__)" || \builtin return
        \builtin eval "${out}"
        ;;
    *)
        # The diff too: under 'use --server', awsrole reads the user's own credentials
        # file, which only the diff still names.
        AWSROLE_DIFF="${__awsrole_diff-}" \command awsrole "$@"
        ;;
    esac
}
