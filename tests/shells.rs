//! The shell integration in real interactive bash, zsh and fish under a
//! pseudo-terminal, with moto as STS: `.awsrole` trust, switching, restore, `use`
//! with an MFA code typed at the terminal, the hook's MFA hint, prompts.
// Real shells, pseudo-terminals and the Linux keyrings: Unix only.
#![cfg(unix)]

mod common;

use std::process::Command;

use common::pty::Shell;
use common::*;

fn scenario(shell_name: &'static str) {
    let mut s = Sandbox::seed(&format!("pty{shell_name}"));
    s.keyring = "keyutils";
    // `dev` needs no MFA (RoleC straight from the user's keys); role-d needs it.
    s.append_config(&s.world.dev_profile());
    let home = s.home().to_path_buf();
    std::fs::create_dir_all(home.join("proj/sub/deeper")).unwrap();
    std::fs::create_dir_all(home.join("needs-mfa")).unwrap();
    std::fs::write(home.join("proj/.awsrole"), "# team dev account\ndev\n").unwrap();
    std::fs::write(home.join("needs-mfa/.awsrole"), "role-d\n").unwrap();
    assert!(s
        .run(&["allow", &home.join("needs-mfa").display().to_string()])
        .status
        .success());

    let mut sh = Shell::start(shell_name, &s);
    let init = match shell_name {
        "fish" => "awsrole init fish | source".to_string(),
        other => format!("eval \"$(awsrole init {other})\""),
    };
    sh.line(&init);
    // Sourcing it twice installs the hook once.
    sh.line(&init);
    match shell_name {
        "bash" => assert_eq!(
            sh.var("PROMPT_COMMAND"),
            "__awsrole_hook;__user_prompt_ran=yes"
        ),
        "zsh" => assert_eq!(
            sh.value("${#precmd_functions[@]} ${#chpwd_functions[@]}"),
            "1 1"
        ),
        _ => assert_eq!(
            sh.value("$(functions --handlers | string match '*__awsrole_hook*' | count)"),
            "2",
            "one handler for fish_prompt, one for PWD"
        ),
    }
    match shell_name {
        "fish" => sh.line("set -gx AWS_ACCESS_KEY_ID handset; set -gx AWS_REGION us-west-2"),
        _ => sh.line("export AWS_ACCESS_KEY_ID=handset AWS_REGION=us-west-2"),
    }

    // Untrusted: a notice, nothing switched.
    sh.line("cd proj");
    sh.expect("wants dev; run 'awsrole allow' to trust it");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "handset");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "");

    // Allowed: applied at the next prompt, kept in subdirectories.
    sh.line("awsrole allow");
    sh.expect("allowed");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "dev");
    assert_eq!(
        sh.var("AWS_PROFILE"),
        "",
        "never exported: the Node SDK would prefer it"
    );
    assert!(sh.var("AWS_ACCESS_KEY_ID").starts_with("ASIA"));
    // The rc file's region stays (a directory's role sets only the region variables
    // that are unset, as the AWS CLI prefers AWS_REGION over a profile's region).
    assert_eq!(sh.var("AWS_REGION"), "us-west-2");
    assert_eq!(sh.var("AWS_DEFAULT_REGION"), "ap-northeast-1");
    assert!(
        sh.var("AWSROLE_PROMPT").starts_with("dev "),
        "prompt variable set"
    );
    sh.line("cd sub/deeper");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "dev");
    if shell_name == "bash" {
        assert_eq!(
            sh.var("__user_prompt_ran"),
            "yes",
            "the user's PROMPT_COMMAND still runs"
        );
    }

    // Leaving restores exactly what was there.
    sh.line("cd ~");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "handset");
    assert_eq!(sh.var("AWS_REGION"), "us-west-2");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "");
    assert_eq!(sh.var("AWS_SESSION_TOKEN"), "");

    // An edited file is blocked again.
    std::fs::write(home.join("proj/.awsrole"), "role-c\n").unwrap();
    sh.line("cd proj");
    sh.expect("wants role-c; run 'awsrole allow'");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "handset");
    sh.line("cd ~");

    // The hook never asks for MFA: it says how (without pinning the role), and does not
    // hang.
    sh.line("cd needs-mfa");
    sh.expect("cannot be asked for here; run 'awsrole refresh role-d' to enter it");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "handset");

    // `use` asks on the terminal, and pins the profile until `unuse`.
    sh.line("awsrole use role-b");
    sh.expect("Enter MFA code for");
    sh.line("123456");
    // One line says what it switched to, as granted and awsume do.
    sh.expect("awsrole: role-b (123456789012, ap-northeast-1) until ");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "role-b");
    assert_eq!(sh.var("AWS_PROFILE"), "");
    let caller = support("caller.py").display().to_string();
    let url = s.world.url.clone();
    sh.line(&format!("python3 {caller} {url}"));
    sh.expect(&format!("assumed-role/{}RoleB/", s.world.prefix));
    let prompt = String::from_utf8(s.cmd(&["prompt"]).output().unwrap().stdout).unwrap();
    assert!(prompt.is_empty(), "outside the shell nothing is active");
    assert!(sh.value("$(awsrole prompt)").starts_with("role-b "));
    sh.line("awsrole unuse");
    // Back in needs-mfa: role-d now comes from the cache filled by `use`, with keys
    // STS accepts (its front checks them against what it issued).
    assert_eq!(sh.var("AWSROLE_PROFILE"), "role-d");
    sh.line(&format!("python3 {caller} {url}"));
    sh.expect(&format!("assumed-role/{}RoleD/", s.world.prefix));
    sh.line("cd ~");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "handset");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "");
    sh.line("exit");
}

#[test]
fn bash_switches_restores_and_asks_mfa_only_from_use() {
    scenario("bash");
}

#[test]
fn zsh_switches_restores_and_asks_mfa_only_from_use() {
    scenario("zsh");
}

#[test]
fn fish_switches_restores_and_asks_mfa_only_from_use() {
    scenario("fish");
}

#[test]
fn bash_keeps_an_array_prompt_command_and_strict_mode_sourcing_works() {
    let s = Sandbox::seed("promptarray");
    let out = shell_run(
        &s,
        "bash",
        "set -euo pipefail; PROMPT_COMMAND=(first second); eval \"$(awsrole init bash)\"; eval \"$(awsrole init bash)\"; \
         printf '%s\\n' \"${PROMPT_COMMAND[@]}\"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "__awsrole_hook\nfirst\nsecond\n");
    let out = shell_run(
        &s,
        "zsh",
        "set -eu; eval \"$(awsrole init zsh)\"; print -r -- ${#precmd_functions}",
    );
    assert_eq!(stdout(&out).trim(), "1", "{}", stderr(&out));
}

#[test]
fn use_without_the_integration_says_how_to_install_it() {
    let s = Sandbox::seed("nointegration");
    let out = s.run(&["use", "role-b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("eval \"$(awsrole init bash)\""),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn allow_refuses_files_others_can_write_and_unknown_profiles() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::seed("allowchecks");
    let file = s.home().join(".awsrole");
    std::fs::write(&file, "role-b\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = s.run(&["allow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("writable by group or others"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&file, "role-bb\n").unwrap();
    let out = s.run(&["allow"]);
    assert!(
        stderr(&out).contains("did you mean 'role-b'"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&file, "role-b\n").unwrap();
    let out = s.run(&["allow"]);
    assert!(
        stderr(&out).contains("role-b ← role-a (mfa) ← default [keys]"),
        "{}",
        stderr(&out)
    );
    let out = s.run(&["deny"]);
    assert!(stderr(&out).contains("denied"), "{}", stderr(&out));
    // Owned by another user.
    let theirs = owned_by_another_user(&file, "AWSROLE_TEST_FOREIGN_AWSROLE");
    let out = s.run(&["allow", &theirs.display().to_string()]);
    assert!(
        stderr(&out).contains("belongs to another user"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn completions_offer_profile_names() {
    let s = Sandbox::seed("completions");
    for shell in ["bash", "zsh", "fish"] {
        let out = s.run(&["completions", shell]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("awsrole list --names"), "{shell}");
        // Hidden commands and flags are never offered.
        assert!(
            !stdout(&out).contains("serve-shell") && !stdout(&out).contains("shell-pid"),
            "{shell}"
        );
        assert!(stdout(&out).contains("mfa-code"), "{shell}");
    }
    let script =
        "source <(awsrole completions bash); COMP_WORDS=(awsrole use role-); COMP_CWORD=2; \
                  __awsrole_complete; printf '%s\\n' \"${COMPREPLY[@]}\"";
    let out = shell_run(&s, "bash", script);
    let names = stdout(&out);
    assert!(
        names.contains("role-a") && names.contains("role-e") && !names.contains("default"),
        "{names} {}",
        stderr(&out)
    );
}

#[test]
fn shell_scripts_pass_their_linters() {
    use awsrole::env::shell::Shell;
    let dir = tempfile::tempdir().unwrap();
    let shell_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shell");
    let run = |program: &str, args: &[&str], files: &[std::path::PathBuf]| {
        let out = Command::new(program)
            .args(args)
            .args(files)
            .output()
            .unwrap_or_else(|e| panic!("{program} (installed by .ci/install): {e}"));
        assert!(
            out.status.success(),
            "{program}: {}{}",
            stdout(&out),
            stderr(&out)
        );
    };
    // The init scripts as `awsrole init` renders them, and the completion extras.
    let rendered = |shell: Shell| {
        let file = dir.path().join(format!("init.{}", shell.syntax().name()));
        std::fs::write(&file, shell.syntax().init_script()).unwrap();
        file
    };
    run(
        "shellcheck",
        &["-s", "bash"],
        &[
            rendered(Shell::Bash),
            shell_dir.join("complete-profiles.bash"),
        ],
    );
    run(
        "zsh",
        &["-n"],
        &[
            rendered(Shell::Zsh),
            shell_dir.join("complete-profiles.zsh"),
        ],
    );
    run(
        "fish",
        &["--no-execute"],
        &[
            rendered(Shell::Fish),
            shell_dir.join("complete-profiles.fish"),
        ],
    );
}

#[test]
fn the_hook_renews_credentials_near_expiry_silently_when_no_mfa_is_needed() {
    let mut s = Sandbox::seed("renew");
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; awsrole use dev --duration 15m 2>use.err; k1=$AWS_ACCESS_KEY_ID; \
         export AWSROLE_REFRESH_MARGIN=895s; sleep 6; __awsrole_hook; k2=$AWS_ACCESS_KEY_ID; __awsrole_hook; k3=$AWS_ACCESS_KEY_ID; \
         echo \"$AWSROLE_PROFILE $([ \"$k1\" != \"$k2\" ] && echo renewed) $([ \"$k2\" = \"$k3\" ] && echo stable)\"",
    );
    assert_eq!(
        stdout(&out).trim(),
        "dev renewed stable",
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).is_empty(),
        "renewal is silent: {}",
        stderr(&out)
    );
}

#[test]
fn the_hook_says_once_when_renewal_would_need_mfa() {
    let mut s = Sandbox::seed("renewmfa");
    s.keyring = "keyutils";
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; awsrole use role-b --mfa-code 123456; \
         export AWSROLE_REFRESH_MARGIN=9h; __awsrole_hook; __awsrole_hook; __awsrole_hook; echo \"$AWSROLE_PROFILE\"",
    );
    assert_eq!(stdout(&out).trim(), "role-b", "{}", stderr(&out));
    let notices = stderr(&out).matches("cannot be renewed here").count();
    assert_eq!(notices, 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("MFA"), "{}", stderr(&out));
}

#[test]
fn the_prompt_shows_time_left_and_marks_expired_credentials() {
    let s = Sandbox::seed("prompt");
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(42) + chrono::Duration::seconds(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let out = s
        .cmd(&["prompt"])
        .env("AWSROLE_PROFILE", "role-b")
        .env("AWS_CREDENTIAL_EXPIRATION", &soon)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "role-b 42m\n");
    let out = s
        .cmd(&["prompt"])
        .env("AWSROLE_PROFILE", "role-b")
        .env("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "role-b expired\n");
    assert!(
        s.run(&["prompt"]).stdout.is_empty(),
        "nothing when no role is active"
    );
    // The hook's prompt variable reads the same.
    let out = s
        .cmd(&["hook", "bash"])
        .env("AWSROLE_PROFILE", "role-b")
        .env("AWS_CREDENTIAL_EXPIRATION", "2020-01-01T00:00:00Z")
        .env("AWSROLE_STATE", "1;u;1577836800;0;0;1;")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "AWSROLE_PROMPT='role-b expired'\n",
        "{}",
        stderr(&out)
    );
}

#[test]
fn nested_awsrole_trees_switch_role_to_role_and_back() {
    let mut s = Sandbox::seed("nested");
    s.keyring = "keyutils";
    s.append_config(&format!(
        "\n[profile outer]\nrole_arn = {}\nsource_profile = default\n[profile inner]\nrole_arn = {}\nsource_profile = default\n",
        s.world.role_arns[2], s.world.role_arns[3]
    ));
    let home = s.home().to_path_buf();
    std::fs::create_dir_all(home.join("outer/inner/deep")).unwrap();
    std::fs::write(home.join("outer/.awsrole"), "outer\n").unwrap();
    std::fs::write(home.join("outer/inner/.awsrole"), "inner\n").unwrap();
    for dir in ["outer", "outer/inner"] {
        assert!(s
            .run(&["allow", &home.join(dir).display().to_string()])
            .status
            .success());
    }
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; export AWS_PROFILE=mine; show() { echo \"$1=${AWSROLE_PROFILE:-none}/$AWS_PROFILE\"; }; \
         cd outer; __awsrole_hook; show a; cd inner/deep; __awsrole_hook; show b; awsrole status | grep from:; \
         cd ../..; __awsrole_hook; show c; cd ~; __awsrole_hook; show d",
    );
    let text = stdout(&out);
    assert!(text.contains("a=outer/\n"), "{text} {}", stderr(&out));
    assert!(text.contains("b=inner/\n"), "{text}");
    assert!(
        text.contains(&format!(
            "from:    {}",
            home.join("outer/inner/.awsrole").display()
        )),
        "{text}"
    );
    assert!(text.contains("c=outer/\n"), "{text}");
    assert!(
        text.contains("d=none/mine"),
        "the user's own AWS_PROFILE is back: {text}"
    );
}

/// `use --duration 15m --region eu-west-3`: the hook's renewal asks for the same.
#[test]
fn a_hook_renewal_keeps_the_duration_and_region_given_to_use() {
    let mut s = Sandbox::seed("renewchoices");
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; awsrole use dev --duration 15m --region eu-west-3 2>use.err; k1=$AWS_ACCESS_KEY_ID; \
         export AWSROLE_REFRESH_MARGIN=895s; sleep 6; __awsrole_hook; \
         left=$(( $(date -d \"$AWS_CREDENTIAL_EXPIRATION\" +%s) - $(date +%s) )); \
         echo \"$([ \"$k1\" != \"$AWS_ACCESS_KEY_ID\" ] && echo renewed) region=$AWS_REGION/$AWS_DEFAULT_REGION left=$left prompt=$AWSROLE_PROMPT\"",
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("renewed region=eu-west-3/eu-west-3 "),
        "{text} {}",
        stderr(&out)
    );
    let left: i64 = text
        .split("left=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        left > 800 && left <= 900,
        "renewed for 15 minutes again: {text}"
    );
    assert!(text.contains("prompt=dev@eu-west-3 1"), "{text}");
}

/// A directory's role that needs an MFA code: the hint's command enters it without
/// pinning the role, the next prompt applies it, and leaving the directory drops it.
/// A renewal that needs the code names the shell's role, not the hop that owns the
/// device, and `refresh` lets the next prompt renew.
#[test]
fn recovery_hints_enter_the_code_and_keep_the_scope() {
    let mut s = Sandbox::seed("hintscope");
    s.keyring = "keyutils";
    std::fs::create_dir_all(s.home().join("proj")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "role-b\n").unwrap();
    let allowed = s.run(&["allow", "proj/.awsrole"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; cd proj; __awsrole_hook 2>>hook.err; echo \"in=${AWSROLE_PROFILE-none}\"; \
         __awsrole_hook 2>>hook.err; \
         awsrole refresh --mfa-code 123456 2>refresh.err || echo refresh-failed; \
         __awsrole_hook 2>>hook.err; echo \"after=${AWSROLE_PROFILE-none}\"; \
         cd ~; __awsrole_hook 2>>hook.err; echo \"home=${AWSROLE_PROFILE-none}\"",
    );
    let text = stdout(&out);
    let hook_err = ["proj/hook.err", "hook.err"]
        .map(|f| std::fs::read_to_string(s.home().join(f)).unwrap_or_default())
        .concat();
    let refresh_err =
        std::fs::read_to_string(s.home().join("proj/refresh.err")).unwrap_or_default();
    assert!(
        text.contains("in=none") && text.contains("after=role-b") && text.contains("home=none"),
        "{text} hook: {hook_err} refresh: {refresh_err}"
    );
    assert_eq!(
        hook_err.matches("cannot switch to role-b").count(),
        1,
        "{hook_err}"
    );
    assert!(hook_err.contains("'awsrole refresh role-b'"), "{hook_err}");
    assert!(
        !hook_err.contains("awsrole use"),
        "no hint that pins: {hook_err}"
    );
    assert!(refresh_err.contains("refreshed role-b"), "{refresh_err}");

    // A renewal needing the code: named for the shell's role, then refreshed.
    let mut s = Sandbox::seed("hintrenew");
    s.keyring = "keyutils";
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; awsrole use role-b --mfa-code 123456 --duration 15m 2>/dev/null; k1=$AWS_ACCESS_KEY_ID; \
         awsrole cache clear >/dev/null 2>&1; export AWSROLE_REFRESH_MARGIN=895s; sleep 6; \
         __awsrole_hook 2>>hook.err; __awsrole_hook 2>>hook.err; k2=$AWS_ACCESS_KEY_ID; \
         awsrole refresh role-b --mfa-code 123456 2>/dev/null; __awsrole_hook 2>>hook.err; \
         echo \"$AWSROLE_PROFILE $([ \"$k1\" = \"$k2\" ] && echo kept) $([ \"$k2\" != \"$AWS_ACCESS_KEY_ID\" ] && echo renewed)\"",
    );
    let hook_err = std::fs::read_to_string(s.home().join("hook.err")).unwrap_or_default();
    assert_eq!(stdout(&out).trim(), "role-b kept renewed", "{hook_err}");
    assert_eq!(
        hook_err.matches("cannot be renewed here").count(),
        1,
        "{hook_err}"
    );
    assert!(hook_err.contains("'awsrole refresh role-b'"), "{hook_err}");
    assert!(!hook_err.contains("awsrole use role-a"), "{hook_err}");
}

/// After `awsrole sso login`-like action (here `allow`), the back-off of a directory's
/// role that failed is over at once: a failure then an `allow` elsewhere.
#[test]
fn a_person_acting_ends_the_back_off_at_once() {
    let mut s = Sandbox::seed("backoff");
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    std::fs::create_dir_all(s.home().join("proj")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "dev\n").unwrap();
    assert!(s.run(&["allow", "proj/.awsrole"]).status.success());
    // The root keys are missing at first: a failure that is no person's to fix…
    let creds = s.home().join(".aws/credentials");
    let saved = std::fs::read_to_string(&creds).unwrap();
    std::fs::write(&creds, "").unwrap();
    let out = bash_no_tty(
        &s,
        &format!(
            "eval \"$(awsrole init bash)\"; cd proj; __awsrole_hook 2>>hook.err; echo \"first=${{AWSROLE_PROFILE-none}}\"; \
             printf '%s' {saved} > ~/.aws/credentials; cd ~; __awsrole_hook; cd proj; __awsrole_hook 2>>hook.err; \
             echo \"backoff=${{AWSROLE_PROFILE-none}}\"; awsrole refresh dev 2>/dev/null; \
             __awsrole_hook 2>>hook.err; echo \"after=${{AWSROLE_PROFILE-none}}\"",
            saved = shell_words::quote(&saved)
        ),
    );
    let text = stdout(&out);
    let hook_err = std::fs::read_to_string(s.home().join("proj/hook.err")).unwrap_or_default();
    assert!(
        text.contains("first=none") && text.contains("backoff=none") && text.contains("after=dev"),
        "{text} {hook_err}"
    );
}

/// Another tool's keys over awsrole's (real awsume), and an AWS_PROFILE appearing: the
/// prompt and `status` say so, once; `status --verify` fails.
#[test]
fn status_and_the_prompt_tell_when_the_keys_are_no_longer_awsroles() {
    let mut s = Sandbox::seed("replaced");
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    let out = bash_no_tty(
        &s,
        "eval \"$(awsrole init bash)\"; awsrole use dev 2>/dev/null; __awsrole_hook; echo \"before=$AWSROLE_PROMPT\"; \
         awsrole status --verify >verify1.out 2>&1; echo \"verify1=$?\"; \
         . awsume dev >awsume.out 2>&1; echo \"awsume=${AWSUME_PROFILE-none}\"; \
         __awsrole_hook 2>>hook.err; __awsrole_hook 2>>hook.err; echo \"prompt=$AWSROLE_PROMPT\"; \
         awsrole status > status.out 2>&1; awsrole status --verify > verify2.out 2>&1; echo \"verify2=$?\"; \
         unset AWS_ACCESS_KEY_ID AWSUME_PROFILE; awsrole use dev 2>/dev/null; export AWS_PROFILE=other; \
         __awsrole_hook 2>>profile.err; __awsrole_hook 2>>profile.err",
    );
    let text = stdout(&out);
    let read = |f: &str| std::fs::read_to_string(s.home().join(f)).unwrap_or_default();
    assert!(
        text.contains("before=dev 1") && text.contains("verify1=0"),
        "{text} {}",
        read("verify1.out")
    );
    assert!(
        text.contains("awsume=dev"),
        "awsume ran: {text} {}",
        read("awsume.out")
    );
    assert!(text.contains("prompt=dev (keys replaced)"), "{text}");
    let hook_err = read("hook.err");
    assert_eq!(
        hook_err.matches("another tool replaced them").count(),
        1,
        "{hook_err}"
    );
    assert!(hook_err.contains("AWSUME_PROFILE=dev"), "{hook_err}");
    assert!(
        read("status.out").contains("warning: the keys in this shell are no longer"),
        "{}",
        read("status.out")
    );
    assert!(text.contains("verify2=1"), "{text} {}", read("verify2.out"));
    assert!(
        read("verify2.out").contains("not what awsrole set"),
        "{}",
        read("verify2.out")
    );
    let profile_err = read("profile.err");
    assert_eq!(
        profile_err.matches("AWS_PROFILE=other").count(),
        1,
        "{profile_err}"
    );
}
