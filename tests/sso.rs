//! IAM Identity Center as a chain root, against tests/support/sso_fake.py (the portal and
//! OIDC on loopback, checked against botocore's models by sso_fake_check.py) whose role
//! credentials are real in moto, so every hop after the root is a real AssumeRole. A
//! `BROWSER` script (sso_browser.py) stands in for the person clicking "Allow".
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// One fake per test, so its request log is this test's alone.
struct Fake {
    server: LocalServer,
    url: String,
}

impl Fake {
    fn start() -> Fake {
        let server = sso_fake();
        Fake {
            url: server.url.clone(),
            server,
        }
    }

    fn post(&self, path: &str, body: &str) -> Value {
        self.server.post(path, body)
    }

    fn control(&self, body: &str) {
        self.post("/control", body);
    }

    fn requests(&self) -> Vec<Value> {
        self.server.requests()
    }

    /// How many calls of `op` (and, for CreateToken, of this grant) it got.
    fn count(&self, op: &str, grant: Option<&str>) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["op"] == op)
            .filter(|r| grant.is_none_or(|g| r["grant"].as_str().is_some_and(|x| x.contains(g))))
            .count()
    }
}

struct Sso {
    s: Sandbox,
    fake: Fake,
    browser_log: PathBuf,
    start_url: String,
    account: String,
    role: String,
}

impl Sso {
    /// `sso-dev` (sso_session corp) → `role-x` → `role-y`, and a legacy profile.
    fn new(name: &str) -> Sso {
        let mut s = Sandbox::seed(name);
        s.keyring = "keyutils";
        let fake = Fake::start();
        let start_url = format!("https://{}.awsapps.com/start", s.world.prefix);
        let role = format!("Admin{}", s.world.prefix.replace('-', ""));
        let account = "111111111111".to_string();
        s.write_config(&format!(
            "[sso-session corp]\nsso_start_url = {start_url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
             [profile sso-dev]\nsso_session = corp\nsso_account_id = {account}\nsso_role_name = {role}\nregion = eu-west-1\n\n\
             [profile role-x]\nrole_arn = {}\nsource_profile = sso-dev\n\n\
             [profile role-y]\nrole_arn = {}\nsource_profile = role-x\nduration_seconds = 7200\n\n\
             [profile legacy]\nsso_start_url = {start_url}/legacy\nsso_region = us-east-1\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n",
            s.world.role_arns[0], s.world.role_arns[1]
        ));
        let browser_log = s.home().join("browser.log");
        Sso {
            s,
            fake,
            browser_log,
            start_url,
            account,
            role,
        }
    }

    /// The fake's endpoints and the stand-in browser, for any program.
    fn sso_env(&self, c: &mut Command) {
        c.env("AWS_ENDPOINT_URL_SSO", &self.fake.url)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &self.fake.url)
            .env(
                "BROWSER",
                format!("python3 {}", support("sso_browser.py").display()),
            )
            .env("SSO_BROWSER_LOG", &self.browser_log);
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.s.cmd(args);
        self.sso_env(&mut c);
        c
    }

    /// An outside client (botocore, the AWS CLI) with the sandbox's environment.
    fn outside(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args).env_clear().envs(self.s.envs());
        self.sso_env(&mut c);
        c
    }

    /// Starts `c`, and as the person at another browser opens the address `pick` finds
    /// in a line of its stderr; returns how `c` ended and what it said up to then.
    fn answer_from_stderr(
        &self,
        mut c: Command,
        pick: impl Fn(&str) -> Option<String>,
    ) -> (std::process::ExitStatus, String) {
        let mut child = c.stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = String::new();
        let url = loop {
            let line = lines.next().expect("a line with the address").unwrap();
            said.push_str(&line);
            said.push('\n');
            if let Some(url) = pick(&line) {
                break url;
            }
        };
        let opened = Command::new("python3")
            .arg(support("sso_browser.py"))
            .arg(&url)
            .status()
            .unwrap();
        assert!(opened.success(), "{url}");
        (child.wait().unwrap(), said)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "awsrole {args:?}: {}", stderr(&out));
        out
    }

    fn browser_opened(&self) -> usize {
        std::fs::read_to_string(&self.browser_log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn token_file(&self, key: &str) -> PathBuf {
        use sha1_of::sha1_hex;
        self.s
            .home()
            .join(".aws/sso/cache")
            .join(format!("{}.json", sha1_hex(key)))
    }

    /// A token document as `aws sso login` leaves it, written where the AWS CLI does.
    fn cli_token(&self, key: &str, expires_in: i64, refreshable: bool) -> Value {
        let doc = self.fake.post(
            "/issue",
            &format!(
                r#"{{"start_url":"{}","region":"eu-west-1","expires_in":{expires_in},"refreshable":{refreshable}}}"#,
                self.start_url
            ),
        );
        let path = self.token_file(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        doc
    }

    fn caller(&self, out: &Output) -> String {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let vars = vec![
            (
                "AWS_ACCESS_KEY_ID".to_string(),
                doc["AccessKeyId"].as_str().unwrap().to_string(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                doc["SecretAccessKey"].as_str().unwrap().to_string(),
            ),
            (
                "AWS_SESSION_TOKEN".to_string(),
                doc["SessionToken"].as_str().unwrap().to_string(),
            ),
        ];
        caller_arn_with_env(&self.s, &vars)
    }
}

impl Drop for Sso {
    /// Sign-in tokens and client registrations are kept for weeks (as long as they can
    /// be refreshed); a test leaves none of its own in the user's kernel keyring.
    fn drop(&mut self) {
        for kind in ["sso", "sso-client"] {
            let _ = Command::new("keyctl")
                .args([
                    "purge",
                    "-p",
                    "user",
                    &format!("awsrole:{kind}:{}:", self.s.world.prefix),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The AWS CLI's file names: SHA-1 of the session name or start URL, from Python's
/// hashlib (not from the code under test).
mod sha1_of {
    pub fn sha1_hex(text: &str) -> String {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import hashlib,sys;print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
                text,
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

#[test]
fn pkce_login_then_a_chain_of_real_assume_roles_with_the_token_in_the_keyring_only() {
    let t = Sso::new("ssopkce");
    let out = t.ok(&["sso", "login", "--sso-session", "corp"]);
    assert!(stdout(&out).is_empty(), "stdout carries nothing");
    assert!(
        stderr(&out).contains("signed in to sso-session 'corp'"),
        "{}",
        stderr(&out)
    );
    let reqs = t.fake.requests();
    let register = reqs.iter().find(|r| r["op"] == "RegisterClient").unwrap();
    assert_eq!(
        register["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        register["scopes"],
        serde_json::json!(["sso:account:access"])
    );
    assert_eq!(
        register["redirect_uris"],
        serde_json::json!(["http://127.0.0.1/oauth/callback"])
    );
    let authorize = reqs.iter().find(|r| r["op"] == "Authorize").unwrap();
    assert_eq!(authorize["code_challenge_method"], "S256");
    let redirect = authorize["redirect_uri"].as_str().unwrap();
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/oauth/callback"),
        "{redirect}"
    );
    assert_eq!(t.fake.count("CreateToken", Some("authorization_code")), 1);
    assert_eq!(t.browser_opened(), 1);
    // Never in a file: no AWS CLI cache was made, nothing under HOME holds the token.
    assert!(!t.s.home().join(".aws/sso").exists());

    // role-y ← role-x ← sso-dev: GetRoleCredentials, then two real AssumeRoles, the
    // second capped at an hour (a chained session).
    let out = t.ok(&["export", "role-y", "--format", "json"]);
    assert!(t.caller(&out).contains(&format!(
        "assumed-role/{}",
        t.s.world.role_arns[1].rsplit('/').next().unwrap()
    )));
    assert!(stderr(&out).contains("capped at 3600s"), "{}", stderr(&out));
    assert_eq!(t.fake.count("GetRoleCredentials", None), 1);
    let calls = t.s.world.calls();
    // The fake's own AssumeRole (behind GetRoleCredentials) is not a hop.
    let assumes: Vec<_> = calls
        .iter()
        .filter(|c| c.action == "AssumeRole")
        .filter(|c| {
            !c.role_arn
                .as_deref()
                .unwrap_or("")
                .contains("AWSReservedSSO")
        })
        .collect();
    assert_eq!(assumes.len(), 2, "{calls:?}");
    assert_eq!(assumes[1].duration.as_deref(), Some("3600"));
    assert!(
        assumes[0].access_key.starts_with("ASIA"),
        "signed by the SSO role credentials"
    );

    // The root alone: the permission set's role, from moto.
    let out = t.ok(&["export", "sso-dev", "--format", "json"]);
    assert!(
        t.caller(&out)
            .contains(&format!("AWSReservedSSO_{}_", t.role)),
        "{}",
        t.caller(&out)
    );
    assert_eq!(
        t.fake.count("GetRoleCredentials", None),
        1,
        "root credentials cached"
    );

    // A second shell (a new process, no cache): the token serves, no login, no browser.
    t.ok(&["export", "role-x", "--no-cache", "--format", "json"]);
    assert_eq!(t.fake.count("GetRoleCredentials", None), 2);
    assert_eq!(t.fake.count("CreateToken", None), 1);
    assert_eq!(t.fake.count("RegisterClient", None), 1);
    assert_eq!(t.browser_opened(), 1);

    // list / explain show the SSO root.
    let list = stdout(&t.ok(&["list"]));
    assert!(
        list.contains(&format!(
            "role-x ← sso-dev [sso: corp {}/{}]",
            t.account, t.role
        )),
        "{list}"
    );
    let explain = stdout(&t.ok(&["explain", "role-y"]));
    assert!(
        explain.contains("IAM Identity Center role") && explain.contains("token in the keyring"),
        "{explain}"
    );

    // A second login reuses the client registration. With no argument: the sign-in of
    // the role active in this shell (the config has two).
    let out = t.run(&["sso", "login"]);
    assert_eq!(out.status.code(), Some(2), "two sign-ins, none named");
    assert!(
        stderr(&out).contains("several IAM Identity Center sign-ins"),
        "{}",
        stderr(&out)
    );
    let out = t
        .cmd(&["sso", "login"])
        .env("AWSROLE_PROFILE", "role-y")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("signed in to sso-session 'corp'"));
    assert_eq!(t.fake.count("RegisterClient", None), 1);
    assert_eq!(t.fake.count("CreateToken", Some("authorization_code")), 2);
}

#[test]
fn device_code_flow_waits_through_pending_and_slow_down_and_fails_on_expiry() {
    let t = Sso::new("ssodevice");
    t.fake.control(r#"{"slow_down":1}"#);
    let started = Instant::now();
    let out = t.ok(&["sso", "login", "--sso-session", "corp", "--use-device-code"]);
    let err = stderr(&out);
    assert!(err.contains("check that it shows the code"), "{err}");
    // SlowDown adds 5 s to the 1 s interval (RFC 8628).
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(t.fake.count("CreateToken", Some("device_code")) >= 2);
    assert_eq!(
        t.fake.count("DevicePage", None),
        1,
        "the browser approved it"
    );
    t.ok(&["export", "role-x", "--format", "json"]);

    // --no-browser: the address and code on stderr; the person approves elsewhere.
    // Legacy profiles sign in with the device code (no PKCE).
    let (status, _) =
        t.answer_from_stderr(t.cmd(&["sso", "login", "legacy", "--no-browser"]), |line| {
            let code = line.split("shows the code ").nth(1)?.trim();
            Some(format!("{}/device?user_code={code}", t.fake.url))
        });
    assert!(status.success());
    assert_eq!(t.browser_opened(), 1, "--no-browser opened none");
    let out = t.ok(&["export", "legacy", "--format", "json"]);
    assert!(t.caller(&out).contains("AWSReservedSSO_ReadOnly_"));

    t.fake.control(r#"{"expire_devices":true}"#);
    let out = t.run(&["sso", "login", "legacy", "--no-browser"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "the sign-in code expired before it was approved; run 'awsrole sso login legacy' again"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_aws_cli_token_is_used_and_a_refreshed_one_written_back_atomically() {
    let t = Sso::new("ssofile");
    // Two hours left: used as it is, no refresh, no login.
    let doc = t.cli_token("corp", 7200, true);
    t.ok(&["export", "sso-dev", "--no-cache", "--format", "json"]);
    assert_eq!(t.fake.count("CreateToken", None), 0);
    assert_eq!(t.browser_opened(), 0);

    // Ten minutes left (under botocore's 15): refreshed, and the file rewritten.
    let path = t.token_file("corp");
    let mut doc2 = t.cli_token("corp", 600, true);
    doc2["futureField"] = serde_json::json!("kept");
    std::fs::write(&path, serde_json::to_vec(&doc2).unwrap()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = t.ok(&["export", "role-x", "--no-cache", "--format", "json"]);
    assert!(t.caller(&out).contains("assumed-role/"));
    assert_eq!(t.fake.count("CreateToken", Some("refresh_token")), 1);
    let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_ne!(back["accessToken"], doc2["accessToken"]);
    assert_ne!(
        back["refreshToken"], doc2["refreshToken"],
        "the new refresh token replaces the spent one"
    );
    assert_eq!(back["clientId"], doc2["clientId"]);
    assert_eq!(back["futureField"], "kept");
    assert_ne!(back["accessToken"], doc["accessToken"]);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // botocore reads the written-back file and agrees it is a good token.
    let script = "import boto3;print(boto3.Session(profile_name='sso-dev').get_credentials().get_frozen_credentials().access_key)";
    let py = t.outside("python3", &["-c", script]).output().unwrap();
    assert!(py.status.success(), "botocore: {}", stderr(&py));
    assert_eq!(
        t.fake.count("CreateToken", Some("refresh_token")),
        1,
        "botocore needed no refresh"
    );

    // A legacy profile's token (sha1 of the start URL) without a refresh token is used
    // while it lasts, never refreshed.
    t.cli_token(&format!("{}/legacy", t.start_url), 600, false);
    t.ok(&["export", "legacy", "--no-cache", "--format", "json"]);
    assert_eq!(t.fake.count("CreateToken", Some("refresh_token")), 1);
}

#[test]
fn a_keyring_token_near_expiry_is_refreshed_in_the_keyring() {
    let t = Sso::new("ssokeyring");
    t.fake.control(r#"{"token_seconds":600}"#);
    t.ok(&["sso", "login", "--sso-session", "corp"]);
    t.fake.control(r#"{"token_seconds":3600}"#);
    t.ok(&["export", "sso-dev", "--no-cache", "--format", "json"]);
    assert_eq!(t.fake.count("CreateToken", Some("refresh_token")), 1);
    // The refreshed token is the keyring's now: no second refresh.
    t.ok(&["export", "sso-dev", "--no-cache", "--format", "json"]);
    assert_eq!(t.fake.count("CreateToken", Some("refresh_token")), 1);
    assert!(
        !t.s.home().join(".aws/sso").exists(),
        "nothing written to a file"
    );
    let explain = stdout(&t.ok(&["explain", "sso-dev"]));
    assert!(explain.contains("refreshable"), "{explain}");
}

#[test]
fn ten_resolutions_at_once_with_an_expired_refreshable_token_make_one_refresh() {
    let t = Sso::new("ssoconcurrent");
    t.cli_token("corp", -60, true);
    // A slow token endpoint widens the window in which the others could slip past.
    t.fake.control(r#"{"delay":0.5}"#);
    let children: Vec<Child> = (0..10)
        .map(|_| {
            t.cmd(&["export", "sso-dev", "--no-cache", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(t.fake.count("CreateToken", Some("refresh_token")), 1);
    assert_eq!(t.fake.count("CreateToken", None), 1, "and no login");
    assert_eq!(t.browser_opened(), 0);
}

#[test]
fn without_a_token_the_hook_and_credential_process_fail_at_once_with_the_login_command() {
    let t = Sso::new("ssonologin");
    let want = "run 'awsrole sso login --sso-session corp'";

    // export (what credential_process runs): at once, no browser.
    let started = Instant::now();
    let out = t.run(&["export", "role-x", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains(&format!(
            "not signed in to IAM Identity Center (sso-session 'corp'); {want}"
        )),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // As a credential_process of botocore: the SDK fails and shows our message.
    t.s.append_config(&format!(
        "\n[profile via-process]\ncredential_process = {BIN} export role-x --format json\n"
    ));
    let mut py = t.outside(
        "python3",
        &[
            "-c",
            "import boto3;boto3.Session(profile_name='via-process').get_credentials()",
        ],
    );
    let started = Instant::now();
    let out = py.output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));

    // The hook in a trusted .awsrole directory: a notice, no switch, no browser.
    let dir = t.s.home().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "role-x\n").unwrap();
    t.ok(&["allow", dir.to_str().unwrap()]);
    let started = Instant::now();
    let out = t.cmd(&["hook", "bash"]).current_dir(&dir).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !stdout(&out).contains("AWS_ACCESS_KEY_ID"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
    assert_eq!(t.browser_opened(), 0);
    assert_eq!(t.fake.count("RegisterClient", None), 0);
}

#[test]
fn a_revoked_token_says_to_log_in_and_a_missing_assignment_names_account_and_role() {
    let t = Sso::new("ssoerrors");
    t.ok(&["sso", "login", "--sso-session", "corp"]);
    t.fake
        .control(&format!(r#"{{"forbid":["{}/{}"]}}"#, t.account, t.role));
    let out = t.run(&["export", "role-x", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "no access to account {} with role {}",
            t.account, t.role
        )) && err.contains("sso-dev"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());

    t.fake.control(r#"{"forbid":[],"revoke_all":true}"#);
    let out = t.run(&["export", "role-x", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no longer accepts the sign-in of sso-session 'corp' (expired or revoked); run 'awsrole sso login --sso-session corp'"),
        "{}",
        stderr(&out)
    );
    // The dead token was dropped: the next try says "not signed in" without a call.
    let before = t.fake.count("GetRoleCredentials", None);
    let out = t.run(&["export", "role-x", "--format", "json"]);
    assert!(stderr(&out).contains("not signed in"), "{}", stderr(&out));
    assert_eq!(t.fake.count("GetRoleCredentials", None), before);
}

#[test]
fn logout_signs_out_at_the_portal_and_drops_the_token_and_what_came_from_it() {
    let t = Sso::new("ssologout");
    t.ok(&["sso", "login", "--sso-session", "corp"]);
    t.ok(&["export", "role-y", "--format", "json"]);
    let cached = stdout(&t.ok(&["cache", "list"]));
    assert!(
        cached.contains("role-y") && cached.contains("role-x"),
        "{cached}"
    );
    // The AWS CLI's copy of the same session goes too, as `aws sso logout` does.
    t.cli_token("corp", 7200, true);
    // Run in a shell where role-y is active: its keys stay there, and it says so.
    let out = t
        .cmd(&["sso", "logout", "--sso-session", "corp"])
        .env("AWSROLE_PROFILE", "role-y")
        .env("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("this shell still holds role-y's keys from that sign-in, valid until 2030-01-01T00:00:00Z; 'awsrole unuse' drops them"),
        "{err}"
    );
    assert!(err.contains("signed out of sso-session 'corp'"), "{err}");
    assert!(err.contains("3 cached credential(s)"), "{err}");
    assert!(t.fake.count("Logout", None) >= 1);
    assert!(!t.token_file("corp").exists());
    let cached = stdout(&t.ok(&["cache", "list"]));
    assert!(
        !cached.contains("role-y") && !cached.contains("role-x"),
        "{cached}"
    );
    let out = t.run(&["export", "role-x", "--format", "json"]);
    assert!(stderr(&out).contains("not signed in"), "{}", stderr(&out));
}

#[test]
fn use_at_a_terminal_signs_in_by_itself() {
    for shell in pty::SHELLS {
        let t = Sso::new(&format!("ssouse{shell}"));
        let mut sh = pty::Shell::start(shell, &t.s);
        let browser = format!("python3 {}", support("sso_browser.py").display());
        sh.export("AWS_ENDPOINT_URL_SSO", &t.fake.url);
        sh.export("AWS_ENDPOINT_URL_SSO_OIDC", &t.fake.url);
        sh.export("BROWSER", &browser);
        sh.export("SSO_BROWSER_LOG", &t.browser_log.display().to_string());
        sh.init();
        sh.line("awsrole use role-x");
        assert_eq!(sh.var("AWSROLE_PROFILE"), "role-x", "{shell}");
        assert_eq!(t.browser_opened(), 1, "{shell}");
        assert_eq!(
            t.fake.count("CreateToken", Some("authorization_code")),
            1,
            "{shell}"
        );
        // The next switch needs no sign-in.
        sh.line("awsrole use role-y");
        assert_eq!(sh.var("AWSROLE_PROFILE"), "role-y", "{shell}");
        assert_eq!(t.browser_opened(), 1, "{shell}");
    }
}

#[test]
fn config_errors_name_the_profile_and_what_to_do() {
    let t = Sso::new("ssoconfig");
    t.s.append_config(
        "\n[profile half]\nsso_account_id = 1\nsso_session = corp\n\
         [profile clash]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\nsso_region = us-west-2\n\
         [profile mixed]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\naws_access_key_id = A\naws_secret_access_key = B\n\
         [profile nosession]\nsso_session = crop\nsso_account_id = 1\nsso_role_name = R\n",
    );
    let cases = [
        ("half", "profile 'half': it is configured for IAM Identity Center but is missing sso_role_name"),
        ("clash", "sso_region is 'us-west-2' in the profile but 'eu-west-1' in [sso-session corp]"),
        ("mixed", "profile 'mixed': it mixes IAM Identity Center (sso_account_id / sso_role_name) with aws_access_key_id"),
        ("nosession", "its sso_session 'crop' has no [sso-session crop] section"),
    ];
    for (profile, want) in cases {
        let out = t.run(&["export", profile]);
        assert_eq!(out.status.code(), Some(1), "{profile}");
        assert!(stderr(&out).contains(want), "{profile}: {}", stderr(&out));
    }
    let out = t.run(&["sso", "login", "--sso-session", "crop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean 'corp'"),
        "{}",
        stderr(&out)
    );
    let out = t.run(&["sso", "login", "role-x", "--sso-session", "corp"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_fake_speaks_the_wire_format_botocore_expects() {
    let fake = Fake::start();
    let out = Command::new("python3")
        .arg(support("sso_fake_check.py"))
        .arg(&fake.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn with_a_secret_service_the_token_lives_there_and_the_aws_cli_uses_awsrole_as_credential_process()
{
    let mut t = Sso::new("ssosecretservice");
    t.s.keyring = "auto";
    t.s.bus = Some(secret_service_bus().to_string());
    t.ok(&["sso", "login", "--sso-session", "corp"]);
    // Not in the kernel keyring (that is for temporary credentials): the Secret Service
    // answers alone.
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    assert!(
        !keys.contains(&format!("awsrole:sso:{}", t.s.world.prefix)),
        "token in the kernel keyring"
    );
    let mut c = t.cmd(&["export", "sso-dev", "--no-cache", "--format", "json"]);
    c.env("AWSROLE_KEYRING", "secret-service");
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(t.fake.count("CreateToken", None), 1, "no second sign-in");

    // The AWS CLI itself, with awsrole as its credential_process for the whole chain.
    t.s.append_config(&format!(
        "\n[profile via-process]\ncredential_process = {BIN} export role-y --format json\n"
    ));
    let out = t
        .outside(
            "aws",
            &[
                "sts",
                "get-caller-identity",
                "--profile",
                "via-process",
                "--output",
                "json",
            ],
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "aws: {}", stderr(&out));
    let arn = serde_json::from_slice::<Value>(&out.stdout).unwrap()["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    let role_b = t.s.world.role_arns[1].rsplit('/').next().unwrap();
    assert!(arn.contains(&format!("assumed-role/{role_b}/")), "{arn}");
}

/// A session bus with nothing on it and nothing it can start: a headless host's.
struct BareBus {
    daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl BareBus {
    fn start() -> BareBus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("session.conf");
        std::fs::write(
            &config,
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
             <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>\
             <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (see .ci/install)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        BareBus {
            daemon,
            address: address.trim().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn with_a_session_bus_but_no_secret_service_the_sign_in_goes_to_the_kernel_keyring() {
    let bus = BareBus::start();
    assert!(bus.address.starts_with("unix:"), "{}", bus.address);
    let mut t = Sso::new("ssonosecretservice");
    t.s.bus = Some(bus.address.clone());
    // Asked for the Secret Service by name: refused before anyone is asked to approve.
    t.s.keyring = "secret-service";
    let out = t.run(&["sso", "login", "--sso-session", "corp"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was asked of you")
            && stderr(&out).contains("AWSROLE_KEYRING=keyutils"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.browser_opened(), 0, "no browser was opened");
    assert_eq!(t.fake.count("CreateToken", None), 0);
    // auto: the kernel keyring, said so, and the sign-in is there for what follows.
    t.s.keyring = "auto";
    let out = t.ok(&["sso", "login", "--sso-session", "corp"]);
    assert!(
        stderr(&out).contains("goes to the kernel keyring"),
        "{}",
        stderr(&out)
    );
    assert_eq!(t.browser_opened(), 1);
    let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
    assert!(
        keys.contains(&format!("awsrole:sso:{}", t.s.world.prefix)),
        "the token is in the kernel keyring"
    );
    let out = t.ok(&["export", "sso-dev", "--no-cache", "--format", "json"]);
    assert!(t.caller(&out).contains(&t.role), "{}", stdout(&out));
    assert_eq!(t.fake.count("CreateToken", None), 1, "no second sign-in");
}

#[test]
fn an_unreachable_identity_center_fails_within_seconds_naming_the_endpoint() {
    let t = Sso::new("ssounreachable");
    // A closed port: the sign-in service, then (signed in) the portal.
    let started = Instant::now();
    let out = t
        .cmd(&["sso", "login", "--sso-session", "corp"])
        .env("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("cannot reach IAM Identity Center's sign-in service at http://127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
    // The deadline is 11 s; the rest is room for a loaded machine.
    assert!(started.elapsed() < Duration::from_secs(25));
    t.ok(&["sso", "login", "--sso-session", "corp"]);
    let started = Instant::now();
    let out = t
        .cmd(&["export", "role-x", "--format", "json"])
        .env("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach IAM Identity Center at http://127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[test]
fn without_a_keyring_sign_in_is_refused_but_the_aws_cli_token_still_serves() {
    let mut t = Sso::new("ssonokeyring");
    t.s.keyring = "none";
    let out = t.run(&["sso", "login", "--sso-session", "corp"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no keyring to keep the IAM Identity Center token in (AWSROLE_KEYRING=none)")
            && err.contains("aws sso login"),
        "{err}"
    );
    assert_eq!(
        t.fake.count("RegisterClient", None),
        0,
        "refused before any call"
    );
    assert_eq!(t.browser_opened(), 0);
    t.cli_token("corp", 7200, true);
    let out = t.ok(&["export", "role-x", "--format", "json"]);
    assert!(t.caller(&out).contains("assumed-role/"));
}

#[test]
fn where_no_browser_can_be_shown_the_address_goes_to_stderr() {
    let t = Sso::new("ssoheadless");
    // An SSH session without BROWSER: the device code, even for a session profile,
    // and even with a display forwarded (else no display alone would be the reason).
    let mut c = t.cmd(&["sso", "login", "--sso-session", "corp"]);
    c.env_remove("BROWSER")
        .env("DISPLAY", "localhost:10.0")
        .env("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22");
    let (status, said) = t.answer_from_stderr(c, |line| {
        let code = line.split("shows the code ").nth(1)?.trim();
        Some(format!("{}/device?user_code={code}", t.fake.url))
    });
    assert!(status.success());
    assert_eq!(t.fake.count("StartDeviceAuthorization", None), 1);
    assert_eq!(t.fake.count("Authorize", None), 0, "no PKCE");
    // For that reason: a test machine may be headless for others too (a container).
    assert!(
        said.contains("no browser can be shown here (an SSH session)"),
        "{said}"
    );
    assert_eq!(t.browser_opened(), 0);

    // --no-browser with PKCE: the authorization address is printed, opened elsewhere
    // on this machine, and the listener takes the redirect.
    let (status, _) = t.answer_from_stderr(
        t.cmd(&["sso", "login", "--sso-session", "corp", "--no-browser"]),
        |line| {
            let url = line.trim();
            url.contains("/authorize?").then(|| url.to_string())
        },
    );
    assert!(status.success());
    assert_eq!(t.fake.count("CreateToken", Some("authorization_code")), 1);
    assert_eq!(t.browser_opened(), 0, "--no-browser opened none");
    t.ok(&["export", "role-x", "--format", "json"]);
}

/// The credential endpoint over an IAM Identity Center root whose sign-in runs out: it
/// serves the keys while they are valid, answers 503 `LoginRequired` (never expired
/// keys) once they are not, and serves again as soon as the person signed in again.
#[test]
fn the_endpoint_waits_for_a_new_sign_in_and_never_serves_expired_keys() {
    let t = Sso::new("ssoendpoint");
    t.fake.control(r#"{"report_seconds": 16}"#);
    t.cli_token("corp", 10, false);
    let err = std::fs::File::create(t.s.home().join("server.err")).unwrap();
    let mut running = t
        .cmd(&["exec", "--server", "sso-dev", "--", "sh", "-c", POLLER])
        .stderr(err)
        .spawn()
        .unwrap();
    let server_err = || std::fs::read_to_string(t.s.home().join("server.err")).unwrap_or_default();
    wait_for(Duration::from_secs(90), "a 503 LoginRequired", || {
        polls(&t.s).iter().any(|p| p.code == 503)
    });
    let before = polls(&t.s);
    let first_503 = before.iter().position(|p| p.code == 503).unwrap();
    assert!(
        first_503 > 0 && before[0].code == 200,
        "{before:?} {}",
        server_err()
    );
    assert_eq!(before[first_503].key, "LoginRequired", "{before:?}");
    // The person signs in again (as `aws sso login` leaves it).
    t.cli_token("corp", 3600, false);
    wait_for(Duration::from_secs(20), "keys again", || {
        polls(&t.s).last().is_some_and(|p| p.code == 200)
    });
    std::fs::write(t.s.home().join("stop"), "").unwrap();
    assert!(running.wait().unwrap().success(), "{}", server_err());
    let all = polls(&t.s);
    assert!(
        all.iter()
            .filter(|p| p.code == 200)
            .all(|p| p.expiration.is_some_and(|e| e >= p.at)),
        "an expired key was served: {all:?}"
    );
    assert!(
        server_err().contains("awsrole sso login") || server_err().contains("sso login"),
        "{}",
        server_err()
    );
    assert_eq!(
        server_err().matches("renewed its credentials").count(),
        1,
        "{}",
        server_err()
    );
}
