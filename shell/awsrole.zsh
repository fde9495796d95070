# awsrole shell integration for zsh. Add to ~/.zshrc:
#   eval "$(awsrole init zsh)"

__awsrole_hook() {
    \builtin local out
    if out="$(\command awsrole hook zsh)"; then
        AWSROLE_PROMPT=
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
        out="$(\command awsrole "$@" --shell zsh)" || \builtin return
        AWSROLE_PROMPT=
        \builtin eval "${out}"
        ;;
    *)
        \command awsrole "$@"
        ;;
    esac
}

# add-zsh-hook adds a function only once, so sourcing this twice is harmless.
\builtin autoload -Uz add-zsh-hook
add-zsh-hook precmd __awsrole_hook
add-zsh-hook chpwd __awsrole_hook
