//! `export`, `exec`, `list`, `explain` against a real STS (moto on loopback).

mod common;

use common::*;

fn export_env(sandbox: &Sandbox, profile: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["export", profile, "--format", "env"];
    args.extend_from_slice(extra);
    let out = sandbox.run(&args);
    assert!(out.status.success(), "export {profile}: {}", stderr(&out));
    parse_env(&stdout(&out))
}

#[test]
fn five_hop_chain_assumes_each_role_once_after_one_mfa_session() {
    let s = Sandbox::seed("fivehop");
    let vars = export_env(&s, "role-e", &["--mfa-code", "123456"]);

    let arn = caller_arn_with_env(&s, &vars);
    assert!(
        arn.contains(&format!(
            "assumed-role/{}RoleE/awsrole-tester-",
            s.world.prefix
        )),
        "{arn}"
    );

    let calls = s.world.calls();
    let actions: Vec<&str> = calls.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "GetSessionToken",
            "AssumeRole",
            "AssumeRole",
            "AssumeRole",
            "AssumeRole",
            "AssumeRole"
        ]
    );
    assert_eq!(
        calls[0].serial.as_deref(),
        Some(s.world.mfa_serial.as_str())
    );
    assert_eq!(calls[0].token_code.as_deref(), Some("123456"));
    assert_eq!(calls[0].access_key, s.world.access_key_id);
    let roles: Vec<&str> = calls[1..]
        .iter()
        .map(|c| c.role_arn.as_deref().unwrap())
        .collect();
    assert_eq!(
        roles,
        s.world
            .role_arns
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // The MFA session carries the MFA; no AssumeRole sends a code again.
    assert!(calls[1..]
        .iter()
        .all(|c| c.serial.is_none() && c.token_code.is_none()));

    // The Node SDK prefers AWS_PROFILE over the keys: it is never exported.
    assert_eq!(get(&vars, "AWS_PROFILE"), None);
    assert_eq!(get(&vars, "AWSROLE_PROFILE"), Some("role-e"));
    assert_eq!(get(&vars, "AWS_REGION"), Some("ap-northeast-1"));
    assert_eq!(get(&vars, "AWS_DEFAULT_REGION"), Some("ap-northeast-1"));
    let expiry = get(&vars, "AWS_CREDENTIAL_EXPIRATION").unwrap();
    assert!(
        expiry.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(expiry).is_ok(),
        "{expiry}"
    );
}

#[test]
fn sh_output_evals_in_bash_and_zsh_and_fish_output_sources() {
    let s = Sandbox::seed("evalshells");
    let caller = support("caller.py").display().to_string();
    let url = &s.world.url;
    for shell in ["bash", "zsh"] {
        let script = format!(
            "export AWS_SECURITY_TOKEN=stale AWS_DEFAULT_PROFILE=other AWS_PROFILE=mine; eval \"$(awsrole export role-b --mfa-code 123456)\" && \
             echo \"profile=${{AWS_PROFILE-unset}} token=${{AWS_SECURITY_TOKEN-unset}} default=${{AWS_DEFAULT_PROFILE-unset}} role=$AWSROLE_PROFILE\" && python3 {caller} {url}"
        );
        let out = shell_run(&s, shell, &script);
        let text = stdout(&out);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        assert!(
            text.contains("profile=unset token=unset default=unset role=role-b"),
            "{shell}: {text}"
        );
        assert!(
            text.contains(&format!("assumed-role/{}RoleB/", s.world.prefix)),
            "{shell}: {text}"
        );
    }
    let script = format!(
        "set -gx AWS_PROFILE mine; awsrole export role-c --format fish --mfa-code 123456 | source; and echo \"profile=[$AWS_PROFILE] role=$AWSROLE_PROFILE\"; and python3 {caller} {url}"
    );
    let out = shell_run(&s, "fish", &script);
    let text = stdout(&out);
    assert!(
        text.contains("profile=[] role=role-c"),
        "fish: {text} {}",
        stderr(&out)
    );
    assert!(
        text.contains(&format!("assumed-role/{}RoleC/", s.world.prefix)),
        "fish: {text}"
    );
}

#[test]
fn json_format_works_as_the_aws_clis_credential_process() {
    let s = Sandbox::seed("credproc");
    s.append_config(&format!(
        "\n[profile through-awsrole]\ncredential_process = {BIN} export role-c --format json --mfa-code 123456\n"
    ));
    let mut cmd = std::process::Command::new("aws");
    cmd.args([
        "sts",
        "get-caller-identity",
        "--profile",
        "through-awsrole",
        "--output",
        "text",
        "--query",
        "Arn",
    ])
    .args(["--endpoint-url", &s.world.url, "--region", "us-east-1"])
    .env_clear()
    .envs(s.envs());
    let out = cmd.output().expect("the AWS CLI (pip install awscli)");
    assert!(out.status.success(), "aws: {}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("assumed-role/{}RoleC/", s.world.prefix)),
        "{}",
        stdout(&out)
    );
}

#[test]
fn exec_gives_the_child_credentials_and_returns_its_status() {
    let s = Sandbox::seed("exec");
    let out = s.run(&[
        "exec",
        "role-b",
        "--mfa-code",
        "123456",
        "--",
        "sh",
        "-c",
        "test \"$AWSROLE_PROFILE\" = role-b && test -n \"$AWS_SESSION_TOKEN\" && exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));

    // The command replaces awsrole (same pid), so signals reach it directly.
    let child = s
        .cmd(&[
            "exec",
            "role-b",
            "--mfa-code",
            "123456",
            "--",
            "sh",
            "-c",
            "echo $$",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out).trim(), pid.to_string());

    // Without '--': the command's own flags stay the command's.
    let out = s.run(&[
        "exec",
        "role-b",
        "--mfa-code",
        "123456",
        "sh",
        "-c",
        "exit 9",
        "--ignored",
    ]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));

    // No command: a subshell ($SHELL) with the credentials, as aws-vault does.
    let mut subshell = s
        .cmd(&["exec", "role-b", "--mfa-code", "123456"])
        .env("SHELL", "/bin/sh")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        subshell.stdin.as_mut().unwrap(),
        b"test \"$AWSROLE_PROFILE\" = role-b && test -n \"$AWS_SESSION_TOKEN\" && exit 5\n",
    )
    .unwrap();
    let out = subshell.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("starting a subshell (/bin/sh) as role-b"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_and_explain_show_the_chain_without_calling_sts() {
    let s = Sandbox::seed("listexplain");
    let out = s.run(&["list"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("role-e ← role-d ← role-c ← role-b ← role-a (mfa) ← default [keys]"),
        "{text}"
    );

    let out = s.run(&["explain", "role-e", "--duration", "2h"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains(&format!("GetSessionToken with {}", s.world.mfa_serial)),
        "{text}"
    );
    for arn in &s.world.role_arns {
        assert!(text.contains(arn.as_str()), "{text}");
    }
    assert!(text.contains("capped from 7200s"), "{text}");
    assert!(text.contains("region:  ap-northeast-1"), "{text}");
    assert_eq!(
        s.world.calls().len(),
        0,
        "explain and list must not call STS"
    );
}

#[test]
fn chained_durations_are_capped_with_one_notice() {
    let s = Sandbox::seed("capping");
    let out = s.run(&[
        "export",
        "role-b",
        "--mfa-code",
        "123456",
        "--duration",
        "2h",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let notices: Vec<&str> = err.lines().filter(|l| l.contains("capped")).collect();
    assert_eq!(notices.len(), 1, "{}", stderr(&out));
    let calls = s.world.calls();
    let b = calls
        .iter()
        .find(|c| c.role_arn.as_deref() == Some(s.world.role_arns[1].as_str()))
        .unwrap();
    assert_eq!(b.duration.as_deref(), Some("3600"));
}

#[test]
fn a_long_single_role_takes_mfa_on_assume_role_itself() {
    let s = Sandbox::seed("longrole");
    let out = s.run(&[
        "export",
        "role-a",
        "--mfa-code",
        "123456",
        "--duration",
        "4h",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = s.world.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].action, "AssumeRole");
    assert_eq!(calls[0].duration.as_deref(), Some("14400"));
    assert_eq!(
        calls[0].serial.as_deref(),
        Some(s.world.mfa_serial.as_str())
    );
    assert_eq!(calls[0].token_code.as_deref(), Some("123456"));
}

#[test]
fn config_keys_reach_sts_and_region_is_inherited() {
    let s = Sandbox::seed("configkeys");
    s.write_config(&format!(
        "[profile base]\nregion = eu-west-3\n\n[profile r]\nrole_arn = {}\nsource_profile = base\nexternal_id = ext-123\nrole_session_name = alice-session\nduration_seconds = 30m\n",
        s.world.role_arns[0]
    ));
    s.write_credentials(&format!(
        "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.world.access_key_id, s.world.secret_access_key
    ));
    let vars = export_env(&s, "r", &[]);
    assert_eq!(get(&vars, "AWS_REGION"), Some("eu-west-3"));
    let calls = s.world.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].external_id.as_deref(), Some("ext-123"));
    assert_eq!(calls[0].session_name.as_deref(), Some("alice-session"));
    assert_eq!(calls[0].duration.as_deref(), Some("1800"));
}

#[test]
fn mfa_process_supplies_the_code() {
    let s = Sandbox::seed("mfaprocess");
    s.append_config("\n[profile role-a]\nmfa_process = echo 246810\n");
    let out = s.run(&["export", "role-b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.world.calls()[0].token_code.as_deref(), Some("246810"));
}

#[cfg(unix)]
#[test]
fn credential_source_environment_and_credential_process_roots() {
    let s = Sandbox::seed("roots");
    let keys_json = format!(
        "{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"}}",
        s.world.access_key_id, s.world.secret_access_key
    );
    let script = s.home().join("keys.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncat <<'EOF'\n{keys_json}\nEOF\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.write_config(&format!(
        "[profile from-env]\nrole_arn = {a}\ncredential_source = Environment\n\n[profile proc]\ncredential_process = {p}\n\n[profile from-proc]\nrole_arn = {a}\nsource_profile = proc\n",
        a = s.world.role_arns[1],
        p = script.display()
    ));
    let out = s
        .cmd(&["export", "from-env", "--format", "env"])
        .env("AWS_ACCESS_KEY_ID", &s.world.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.world.secret_access_key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let arn = caller_arn_with_env(&s, &parse_env(&stdout(&out)));
    assert!(arn.contains(&format!("{}RoleB", s.world.prefix)), "{arn}");

    let vars = export_env(&s, "from-proc", &[]);
    let arn = caller_arn_with_env(&s, &vars);
    assert!(arn.contains(&format!("{}RoleB", s.world.prefix)), "{arn}");
}

#[test]
fn export_unsets_only_what_is_set_and_always_the_profile_variables() {
    let s = Sandbox::seed("exportunsets");
    let out = s
        .cmd(&["export", "role-b", "--mfa-code", "123456"])
        .env("AWS_VAULT", "someone-elses")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let unsets: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("unset "))
        .map(|v| v.trim().to_string())
        .collect();
    assert_eq!(
        unsets,
        ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_VAULT"],
        "{}",
        stdout(&out)
    );
}

/// A profile of long-term keys alone hands out a GetSessionToken session (the master
/// key stays out of the shell), cached like any session; `--no-session` hands out the
/// keys themselves, as botocore would.
#[test]
fn a_keys_only_profile_hands_out_a_session_unless_told_not_to() {
    let mut s = Sandbox::seed("keysession");
    s.keyring = "keyutils";
    let before = s.world.count("GetSessionToken");
    let first = s.run(&["export", "default", "--format", "json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let session = Keys::from_json(&first);
    assert!(session.session_token.is_some(), "a session, not the keys");
    assert_ne!(session.access_key_id, s.world.access_key_id);
    // STS's front accepts it (it checks every key pair moto issued).
    assert!(!caller_of(&s, &session).is_empty());
    // Cached: the same keys again, no second GetSessionToken.
    let again = Keys::from_json(&s.run(&["export", "default", "--format", "json"]));
    assert_eq!(again, session);
    assert_eq!(s.world.count("GetSessionToken") - before, 1);
    // --no-session: the long-term keys, as botocore hands them out.
    let keys = s.run(&["export", "default", "--format", "json", "--no-session"]);
    assert!(keys.status.success(), "{}", stderr(&keys));
    let keys = Keys::from_json(&keys);
    assert_eq!(keys.access_key_id, s.world.access_key_id);
    assert!(keys.session_token.is_none());
    // explain says which.
    let explained = stdout(&s.run(&["explain", "default"]));
    assert!(
        explained.contains("GetSessionToken without MFA"),
        "{explained}"
    );
}
