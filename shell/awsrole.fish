# awsrole shell integration for fish. Add to ~/.config/fish/config.fish:
#   awsrole init fish | source

function __awsrole_hook --on-event fish_prompt --on-variable PWD
    set -l out (command awsrole hook fish | string collect)
    and begin
        set -g AWSROLE_PROMPT ''
        eval $out
    end
end

function awsrole --wraps awsrole
    switch "$argv[1]"
        case use unuse
            if contains -- -h $argv; or contains -- --help $argv
                command awsrole $argv
                return
            end
            set -l out (command awsrole $argv --shell fish | string collect)
            or return
            set -g AWSROLE_PROMPT ''
            eval $out
        case '*'
            command awsrole $argv
    end
end
