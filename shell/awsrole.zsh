# awsrole shell integration for zsh. Add to ~/.zshrc:
#   eval "$(awsrole init zsh)"
#
# What the previous values of the managed variables were is kept in __awsrole_diff,
# which is never exported: it is handed to awsrole for one call only.

__awsrole_hook() {
    \builtin local out
    if out="$(AWSROLE_DIFF="${__awsrole_diff-}" \command awsrole hook zsh)"; then
        \builtin eval "${out}"
    fi
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
        out="$(AWSROLE_DIFF="${__awsrole_diff-}" \command awsrole "$@" --shell zsh)" || \builtin return
        \builtin eval "${out}"
        ;;
    *)
        \command awsrole "$@"
        ;;
    esac
}

# add-zsh-hook adds a function only once, so sourcing this twice is harmless. It
# appends, and direnv puts its hook first, so direnv's runs before ours either way.
\builtin autoload -Uz add-zsh-hook
add-zsh-hook precmd __awsrole_hook
add-zsh-hook chpwd __awsrole_hook
