# awsrole shell integration for fish. Add to ~/.config/fish/config.fish:
#   awsrole init fish | source
#
# What the previous values of the managed variables were is kept in __awsrole_diff,
# which is never exported: it is handed to awsrole for one call only.

function __awsrole_hook --on-event fish_prompt --on-variable PWD
    # fish runs handlers in the order they were defined, and direnv defines its PWD
    # handler late; its export must come before ours so that our restore sees what
    # direnv left.
    if functions -q __direnv_export_eval
        __direnv_export_eval
    end
    set -l out (AWSROLE_DIFF=$__awsrole_diff command awsrole hook fish | string collect)
    and eval $out
end

function awsrole --wraps awsrole
    switch "$argv[1]"
        case use unuse
            if contains -- -h $argv; or contains -- --help $argv
                command awsrole $argv
                return
            end
            set -l out (AWSROLE_DIFF=$__awsrole_diff AWSROLE_SHELL_PID=$fish_pid command awsrole $argv --shell fish | string collect)
            or return
            eval $out
        case '*'
            # The diff too: under 'use --server', awsrole reads the user's own
            # credentials file, which only the diff still names.
            AWSROLE_DIFF=$__awsrole_diff command awsrole $argv
    end
end
