
# Installed once, keeping whatever the user had: a string or (bash 5.1+) an array.
# Starship moves an earlier PROMPT_COMMAND into _PRESERVED_PROMPT_COMMAND, so a second
# sourcing of the rc file must look there too. direnv's hook must run before ours (so
# that our restore sees what direnv left): direnv puts itself first, so we go first
# unless direnv is already there, and then after it.
if [[ ${PROMPT_COMMAND[*]:-} != *__awsrole_hook* && ${_PRESERVED_PROMPT_COMMAND:-} != *__awsrole_hook* ]]; then
    if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
        if [[ ${PROMPT_COMMAND[*]} == *_direnv_hook* ]]; then
            PROMPT_COMMAND+=(__awsrole_hook)
        else
            PROMPT_COMMAND=(__awsrole_hook "${PROMPT_COMMAND[@]}")
        fi
    elif [[ ${PROMPT_COMMAND:-} == *_direnv_hook* ]]; then
        # shellcheck disable=SC2128,SC2178 # this branch is only taken for a string
        PROMPT_COMMAND="${PROMPT_COMMAND%;};__awsrole_hook"
    else
        # shellcheck disable=SC2128,SC2178 # this branch is only taken for a string
        PROMPT_COMMAND="__awsrole_hook${PROMPT_COMMAND:+;${PROMPT_COMMAND}}"
    fi
fi
