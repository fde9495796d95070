//! `awsrole console`: the sign-in URL from moto-issued credentials, through a local
//! federation endpoint that checks the session as AWS does (tests/support/signin_fake.py):
//! encoding, Issuer, Destination, hosts per partition, SessionDuration only where AWS
//! accepts it, `$BROWSER`, and the URL on no stream but `--print`'s stdout.
#![cfg(unix)]

mod common;

use std::process::{Command, Output};

use common::*;
use serde_json::Value;

/// This test's own federation fake (each test runs on its own thread), bound to this
/// binary's moto, so the requests a test reads are its own, whatever runs beside it.
fn signin() -> String {
    thread_local! {
        static FAKE: LocalServer =
            LocalServer::start("signin_fake.py", &[&moto().url], "python3 (see .ci/install)");
    }
    FAKE.with(|fake| fake.url.clone())
}

fn requests() -> Vec<Value> {
    let out = Command::new("curl")
        .args(["-s", &format!("{}/requests", signin())])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sandbox(name: &str) -> Sandbox {
    let s = Sandbox::seed(name);
    s.append_config(&format!(
        "\n[profile dev]\nrole_arn = {}\nsource_profile = default\nregion = eu-west-1\n[profile user]\nregion = cn-north-1\n",
        s.world.role_arns[2]
    ));
    s.append_config("");
    let creds = format!(
        "{}\n[user]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.world.seed_credentials(),
        s.world.access_key_id,
        s.world.secret_access_key
    );
    s.write_credentials(&creds);
    s
}

fn console(s: &Sandbox, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = s.cmd(&["console"]);
    cmd.args(args)
        .env("AWSROLE_SIGNIN_ENDPOINT", signin())
        .envs(extra.iter().copied());
    cmd.output().unwrap()
}

/// The getSigninToken request this profile's console made.
fn last_request_for(key_prefix: &str) -> Value {
    requests()
        .into_iter()
        .rev()
        .find(|r| {
            r["query"]["Session"]
                .as_str()
                .is_some_and(|s| s.contains(key_prefix))
        })
        .expect("a getSigninToken request")
}

#[test]
fn print_gives_the_login_url_and_only_on_stdout() {
    let s = sandbox("consoleprint");
    let out = console(&s, &["dev", "--print", "--service", "s3"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out).trim().to_string();
    assert!(
        url.starts_with("https://eu-west-1.signin.aws.amazon.com/federation?Action=login&Issuer=awsrole&Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fs3%2Fhome%3Fregion%3Deu-west-1&SigninToken=signin-token-for-ASIA"),
        "{url}"
    );
    assert!(!stderr(&out).contains("SigninToken"), "{}", stderr(&out));
    // A role assumed straight from long-term keys may ask for a 12 h console session.
    let key = url.split("signin-token-for-").nth(1).unwrap();
    let req = last_request_for(key);
    assert_eq!(req["query"]["SessionDuration"], "43200");
    let session: Value = serde_json::from_str(req["query"]["Session"].as_str().unwrap()).unwrap();
    assert!(session["sessionToken"].as_str().unwrap().len() > 10);
}

#[test]
fn chained_sessions_never_send_a_session_duration_and_say_why() {
    let s = sandbox("consolechain");
    let out = console(&s, &["role-c", "--print", "--mfa-code", "123456"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("chained role session"),
        "{}",
        stderr(&out)
    );
    let key = stdout(&out)
        .split("signin-token-for-")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let req = last_request_for(&key);
    assert!(req["query"].get("SessionDuration").is_none(), "{req}");
    // And the fake refuses one, as AWS does, so the rule above is what makes it work:
    // asking the fake directly with SessionDuration for that session fails.
    let session = req["query"]["Session"].as_str().unwrap();
    let status = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-G",
            &format!("{}/federation", signin()),
            "--data-urlencode",
            "Action=getSigninToken",
            "--data-urlencode",
            "SessionDuration=3600",
            "--data-urlencode",
            &format!("Session={session}"),
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&status), "400");
}

#[test]
fn an_iam_user_gets_a_federation_session_with_a_notice() {
    let s = sandbox("consoleuser");
    let out = console(&s, &["user", "--print"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no MFA context"), "{}", stderr(&out));
    let url = stdout(&out);
    assert!(
        url.starts_with("https://signin.amazonaws.cn/federation?Action=login"),
        "{url}"
    );
    assert!(
        url.contains("console.amazonaws.cn%2Fconsole%2Fhome%3Fregion%3Dcn-north-1"),
        "{url}"
    );
    assert_eq!(
        s.world
            .calls()
            .iter()
            .filter(|c| c.action == "GetFederationToken")
            .count(),
        1
    );
}

#[test]
fn the_browser_gets_the_url_and_no_stream_does() {
    let s = sandbox("consolebrowser");
    let got = s.home().join("browser-got");
    let browser = s.home().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > {}\n", got.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = console(
        &s,
        &["dev", "--logout-first", "--region", "us-gov-west-1"],
        &[("BROWSER", &browser.display().to_string())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    assert!(!stderr(&out).contains("SigninToken") && !stderr(&out).contains("signin-token"));
    let url = std::fs::read_to_string(&got).unwrap();
    assert!(
        url.starts_with("https://signin.amazonaws-us-gov.com/oauth?Action=logout&redirect_uri=https%3A%2F%2Fsignin.amazonaws-us-gov.com%2Ffederation%3FAction%3Dlogin"),
        "{url}"
    );
    // A browser that fails: an error that does not quote the URL.
    let out = console(&s, &["dev"], &[("BROWSER", "false")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--print") && !stderr(&out).contains("signin-token"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_a_profile_the_active_role_signs_in() {
    let s = sandbox("consoleactive");
    let exported = s.run(&["export", "dev", "--format", "env"]);
    let vars = parse_env(&stdout(&exported));
    let mut cmd = s.cmd(&["console", "--print"]);
    cmd.env("AWSROLE_SIGNIN_ENDPOINT", signin())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("eu-west-1.console.aws.amazon.com"),
        "{}",
        stdout(&out)
    );
    // No role active: a clear usage error.
    let out = console(&s, &[], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no role is active"),
        "{}",
        stderr(&out)
    );
}
