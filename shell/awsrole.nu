# awsrole shell integration for nushell. nushell sources only files, so save it once:
#   mkdir ~/.config/awsrole
#   awsrole init nu | save -f ~/.config/awsrole/init.nu
# and add to config.nu:
#   source ~/.config/awsrole/init.nu
#
# awsrole prints one JSON document, {set: {...}, unset: [...]}, that this loads. What
# the managed variables held before is kept in $env.__awsrole_diff as a record, which
# nushell never passes to external commands; it is handed to awsrole for one call only.

def --env __awsrole_apply [out: string] {
    if ($out | str trim | is-empty) { return }
    let change = ($out | from json)
    hide-env --ignore-errors ...($change.unset)
    load-env $change.set
}

# Runs awsrole with the diff handed over, applies what it prints; its messages go to
# stderr as they came (MFA codes are asked on the terminal itself).
def --env --wrapped __awsrole_call [...args] {
    let diff = ($env.__awsrole_diff?.private? | default "")
    let result = (with-env { AWSROLE_DIFF: $diff, AWSROLE_SHELL_PID: ($nu.pid | into string) } { ^awsrole ...$args | complete })
    if ($result.stderr | is-not-empty) { print --stderr --no-newline $result.stderr }
    if $result.exit_code == 0 { __awsrole_apply $result.stdout }
}

def --env __awsrole_hook [] {
    __awsrole_call hook nu
}

def "nu-complete awsrole profiles" [] {
    ^awsrole list --names | lines
}

# Switch this shell to PROFILE.
def --env --wrapped "awsrole use" [
    profile?: string@"nu-complete awsrole profiles"
    ...rest
] {
    let args = if $profile == null { [] } else { [$profile] }
    __awsrole_call use ...$args ...$rest --shell nu
}

# Drop the active profile and restore the variables that were there before.
def --env "awsrole unuse" [] {
    __awsrole_call unuse --shell nu
}

# Completions for the commands that take a profile or a path.
export extern "awsrole export" [
    profile: string@"nu-complete awsrole profiles"
    --format: string
    --mfa-code: string
    --no-cache
    --duration: string
]
export extern "awsrole exec" [
    profile: string@"nu-complete awsrole profiles"
    ...command: string
]
export extern "awsrole explain" [profile: string@"nu-complete awsrole profiles"]
export extern "awsrole allow" [path?: path]
export extern "awsrole deny" [path?: path]
export extern "awsrole cache clear" [profile?: string@"nu-complete awsrole profiles"]
export extern "awsrole login" [
    profile: string@"nu-complete awsrole profiles"
    --remote
    --share-with-aws-cli
    --yes
]
export extern "awsrole logout" [profile?: string@"nu-complete awsrole profiles"]

# The hook, on every prompt and directory change; installed once however often this
# file is sourced.
if not ($env.__awsrole_installed? | default false) {
    $env.__awsrole_installed = true
    $env.config = ($env.config | upsert hooks.pre_prompt (
        ($env.config.hooks.pre_prompt? | default []) | append {|| __awsrole_hook }
    ))
    $env.config = ($env.config | upsert hooks.env_change.PWD (
        ($env.config.hooks.env_change?.PWD? | default []) | append {|before, after| __awsrole_hook }
    ))
}
