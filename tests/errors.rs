//! Every failure: exit 1 (2 for usage), `awsrole: error: …` naming what to fix, and
//! nothing on stdout. STS denials come from a moto that enforces IAM.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// The world's setup calls (user, key, MFA device, grant, five roles) run before moto
/// starts checking signatures and policies.
const SETUP_ACTIONS: u32 = 10;

fn assert_error(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty: {}",
        stdout(out)
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("awsrole: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in {err}");
    }
}

fn offline_sandbox() -> Sandbox {
    // Config-only errors: the world is never called.
    Sandbox::seed("offline")
}

#[test]
fn malformed_ini_names_file_and_line() {
    let s = offline_sandbox();
    s.write_config("[default]\nregion = x\n\n[profile role-a\nrole_arn = y\n");
    let out = s.run(&["export", "role-a"]);
    let file = s.home().join(".aws/config");
    assert_error(&out, &[&format!("{}:4:", file.display()), "']'"]);
}

#[test]
fn unknown_profile_suggests_near_names() {
    let s = offline_sandbox();
    let out = s.run(&["export", "role-bb"]);
    assert_error(&out, &["'role-bb'", "did you mean", "'role-b'"]);
}

#[test]
fn source_profile_loop_names_the_cycle_at_once() {
    let s = offline_sandbox();
    s.write_config("[profile loop-a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = loop-b\n[profile loop-b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = loop-a\n");
    let started = Instant::now();
    let out = s.run(&["export", "loop-a"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_error(&out, &["loop-a -> loop-b -> loop-a"]);
}

#[test]
fn botocore_config_checks() {
    let s = offline_sandbox();
    s.write_config(
        "[profile both]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = default\ncredential_source = Environment\n\
         [profile missing]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = nowhere\n\
         [profile empty-source]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = bare\n[profile bare]\nregion = x\n",
    );
    s.write_credentials("");
    assert_error(
        &s.run(&["export", "both"]),
        &["'both'", "source_profile and credential_source"],
    );
    assert_error(
        &s.run(&["export", "missing"]),
        &["'nowhere'", "'missing'", "does not exist"],
    );
    assert_error(
        &s.run(&["export", "empty-source"]),
        &["'bare'", "no credentials", "awsrole add bare"],
    );
}

#[test]
fn a_bad_mfa_code_is_refused_before_any_call() {
    let s = Sandbox::seed("badcode");
    assert_error(
        &s.run(&["export", "role-b", "--mfa-code", "12345"]),
        &["six digits", &s.world.mfa_serial],
    );
    assert_eq!(s.world.calls().len(), 0);
}

#[test]
fn no_terminal_and_no_code_fails_at_once_naming_the_ways_to_pass_one() {
    let s = Sandbox::seed("notty");
    // setsid: no controlling terminal, so /dev/tty cannot be opened.
    let mut cmd = std::process::Command::new("setsid");
    cmd.arg("--wait")
        .arg(BIN)
        .args(["export", "role-b"])
        .env_clear()
        .envs(s.envs())
        .stdin(std::process::Stdio::null());
    let started = Instant::now();
    let out = cmd.output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_error(&out, &["--mfa-code", "mfa_process"]);
    assert_eq!(s.world.calls().len(), 0);
}

#[test]
fn credential_process_failures_are_explained_without_echoing_output() {
    let s = offline_sandbox();
    s.write_config(
        "[profile fails]\ncredential_process = sh -c 'echo oops >&2; exit 3'\n\
         [profile garbage]\ncredential_process = echo SECRETGARBAGE\n\
         [profile old]\ncredential_process = echo '{\"Version\":1,\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\",\"Expiration\":\"2001-01-01T00:00:00Z\"}'\n",
    );
    let out = s.run(&["export", "fails"]);
    assert_error(
        &out,
        &[
            "credential_process of profile 'fails' failed",
            "exit status: 3",
        ],
    );
    assert!(
        stderr(&out).contains("oops"),
        "the process's own stderr passes through"
    );
    let out = s.run(&["export", "garbage"]);
    assert_error(
        &out,
        &["'garbage'", "not a credential_process JSON document"],
    );
    assert!(!stderr(&out).contains("SECRETGARBAGE"));
    assert_error(&s.run(&["export", "old"]), &["already expired"]);
}

#[test]
fn an_unreachable_endpoint_fails_within_a_bounded_time() {
    let s = Sandbox::seed("unreachable");
    // A listener that accepts connections and never answers, and a closed port.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for url in [
        format!("http://{}", silent.local_addr().unwrap()),
        format!("http://{closed}"),
    ] {
        let started = Instant::now();
        let out = s
            .cmd(&["export", "role-b", "--mfa-code", "123456"])
            .env("AWS_ENDPOINT_URL_STS", &url)
            .output()
            .unwrap();
        let took = started.elapsed();
        // The deadline is 11 s; the rest is room for a loaded machine.
        assert!(took < Duration::from_secs(25), "took {took:?}");
        assert_error(&out, &["cannot reach STS at", &url]);
    }
}

/// The one world of the IAM-enforcing moto: built before its free actions run out.
fn auth_sandbox() -> Sandbox {
    Sandbox::with_world(auth_world())
}

fn auth_world() -> World {
    static WORLD: std::sync::OnceLock<World> = std::sync::OnceLock::new();
    let w = WORLD.get_or_init(|| World::build_in(moto_with_auth(SETUP_ACTIONS), "auth", 5, true));
    World {
        url: w.url.clone(),
        prefix: w.prefix.clone(),
        access_key_id: w.access_key_id.clone(),
        secret_access_key: w.secret_access_key.clone(),
        mfa_serial: w.mfa_serial.clone(),
        role_arns: w.role_arns.clone(),
    }
}

#[test]
fn sts_denial_names_the_hop_and_role_and_hints_at_trust() {
    let s = auth_sandbox();
    // User1 may call STS; RoleA's session has no policy, so hop 2 (RoleB) is denied.
    s.write_config(&format!(
        "[profile a]\nrole_arn = {}\nsource_profile = default\n[profile b]\nrole_arn = {}\nsource_profile = a\n",
        s.world.role_arns[0], s.world.role_arns[1]
    ));
    let out = s.run(&["export", "b"]);
    assert_error(
        &out,
        &[
            "hop 2 of 2",
            "profile 'b'",
            &s.world.role_arns[1],
            "trust policy",
            "role profile 'a'",
        ],
    );
}

#[test]
fn invalid_long_term_keys_are_named() {
    let s = auth_sandbox();
    s.write_credentials(
        "[default]\naws_access_key_id = AKIDNOTAREALKEY00000\naws_secret_access_key = nope\n",
    );
    let out = s.run(&["export", "role-b", "--mfa-code", "123456"]);
    assert_error(
        &out,
        &[
            "access keys of profile 'default'",
            "InvalidClientTokenId",
            "awsrole add default",
        ],
    );
}

#[test]
fn list_without_config_files_says_which_are_missing() {
    let s = offline_sandbox();
    std::fs::remove_file(s.home().join(".aws/config")).unwrap();
    std::fs::write(s.home().join(".aws/credentials"), "").unwrap();
    let out = s.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let config = s.home().join(".aws/config");
    let credentials = s.home().join(".aws/credentials");
    assert!(
        err.contains(&format!("{} does not exist", config.display()))
            && err.contains(&format!("{} has no profile", credentials.display())),
        "{err}"
    );
}

#[test]
fn a_missing_sso_session_names_the_sessions_there_are() {
    let s = offline_sandbox();
    s.write_config(
        "[sso-session corporate]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = eu-west-1\n\
         [profile x]\nsso_session = nope\nsso_account_id = 111111111111\nsso_role_name = Admin\n",
    );
    let out = s.run(&["export", "x"]);
    assert_error(
        &out,
        &[
            "has no [sso-session nope] section",
            "its sessions: corporate",
        ],
    );
    assert!(!stderr(&out).contains("awsrole list"), "{}", stderr(&out));
}

/// Docker's default seccomp profile blocks the kernel keyring: a three-hop export still
/// works, uncached, with one line saying why (not a warning per hop).
#[test]
fn a_blocked_kernel_keyring_costs_one_notice_not_one_per_hop() {
    let s = Sandbox::seed("seccomp");
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(support("no_keyring.py"))
        .arg(BIN)
        .args(["export", "role-d", "--mfa-code", "123456"])
        .env_clear()
        .envs(s.envs())
        .env("AWSROLE_KEYRING", "auto")
        .current_dir(s.home())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        stdout(&out).contains("export AWS_ACCESS_KEY_ID=ASIA"),
        "{}",
        stdout(&out)
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("awsrole:")).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].contains("kernel keyring") && lines[0].contains("without a cache"),
        "{err}"
    );
    // And the AWS CLI's way of calling it (credential_process) is as quiet.
    let mut again = std::process::Command::new("python3");
    again
        .arg(support("no_keyring.py"))
        .arg(BIN)
        .args([
            "export",
            "role-d",
            "--mfa-code",
            "123456",
            "--format",
            "json",
        ])
        .env_clear()
        .envs(s.envs())
        .env("AWSROLE_KEYRING", "none")
        .current_dir(s.home());
    let quiet = again.output().unwrap();
    assert!(
        quiet.status.success() && stderr(&quiet).is_empty(),
        "AWSROLE_KEYRING=none says nothing: {}",
        stderr(&quiet)
    );
}

/// A stderr that cannot be written (a full disk: /dev/full) costs the notice, not the
/// hook's output or the command's exit status.
#[test]
fn an_unwritable_stderr_never_aborts_awsrole() {
    let s = offline_sandbox();
    std::fs::create_dir_all(s.home().join("proj")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "role-b\n").unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // The hook in an untrusted directory has a notice to give.
    let out = s
        .cmd(&["hook", "bash"])
        .env("PWD", s.home().join("proj"))
        .current_dir(s.home().join("proj"))
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("AWSROLE_SEEN="), "{}", stdout(&out));
    // An error still exits 1 (not 101, a panic) with nothing on stdout.
    let out = s
        .cmd(&["export", "no-such-profile"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
}
