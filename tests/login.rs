//! `login_session` (the AWS CLI's `aws login`) as a chain root, and `awsrole login` /
//! `logout`, against tests/support/signin_oauth_fake.py: the sign-in service's
//! CreateOAuth2Token checking DPoP proofs, rotating single-use refresh tokens and the
//! PKCE authorization-code grant (itself checked with botocore's model and LoginProvider
//! by signin_oauth_fake_check.py), whose credentials are real in moto.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

struct Fake {
    server: LocalServer,
    url: String,
}

impl Fake {
    fn start() -> Fake {
        let server = LocalServer::start(
            "signin_oauth_fake.py",
            &[&moto().url],
            "python3 with boto3 and cryptography (see .ci/install)",
        );
        Fake {
            url: server.url.clone(),
            server,
        }
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        self.server.post(path, &body.to_string())
    }

    fn control(&self, body: Value) {
        self.post("/control", &body);
    }

    fn requests(&self) -> Vec<Value> {
        self.server.requests()
    }

    /// CreateOAuth2Token calls of `grant` that got an answer (any status).
    fn token_calls(&self, grant: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["op"] == "CreateOAuth2Token" && r["grant"] == grant)
            .collect()
    }
}

/// A sandbox whose user signed in with `aws login`: profile `dev` holds the session,
/// `via-source` assumes RoleA from it (botocore's form), `go-form` holds both
/// `login_session` and `role_arn` (the Go SDK's form).
struct Login {
    s: Sandbox,
    fake: Fake,
    arn: String,
}

impl Login {
    fn new(name: &str) -> Login {
        let mut s = Sandbox::seed(name);
        s.keyring = "keyutils";
        let fake = Fake::start();
        let arn = format!("arn:aws:iam::123456789012:user/{}User1", s.world.prefix);
        s.write_config(&format!(
            "[profile dev]\nlogin_session = {arn}\nregion = eu-west-1\n\n\
             [profile via-source]\nrole_arn = {}\nsource_profile = dev\nregion = eu-west-1\n\n\
             [profile go-form]\nlogin_session = {arn}\nrole_arn = {}\nregion = eu-west-1\n",
            s.world.role_arns[0], s.world.role_arns[1]
        ));
        s.write_credentials("");
        let t = Login { s, fake, arn };
        t.fake
            .control(serde_json::json!({"user": t.user(), "token_seconds": 900}));
        t
    }

    /// Who the session's credentials are in moto (see the fake's moto_session).
    fn caller(&self) -> String {
        let name = self.arn.rsplit('/').next().unwrap();
        format!("arn:aws:sts::123456789012:assumed-role/{name}/{name}")
    }

    fn user(&self) -> Value {
        serde_json::json!({
            "arn": self.arn,
            "key": self.s.world.access_key_id,
            "secret": self.s.world.secret_access_key,
        })
    }

    /// Leaves a session as `aws login` would, its credentials `expires_in` seconds from
    /// now; returns the document.
    fn aws_login(&self, expires_in: i64, format: &str) -> Value {
        let mut body = self.user();
        body["expires_in"] = expires_in.into();
        body["format"] = format.into();
        let doc = self.fake.post("/issue", &body);
        let path = self.cli_file();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, doc.to_string()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        doc
    }

    fn cli_file(&self) -> PathBuf {
        use sha2::Digest;
        let name = sha2::Sha256::digest(self.arn.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        self.s
            .home()
            .join(".aws/login/cache")
            .join(format!("{name}.json"))
    }

    fn env(&self, c: &mut Command) {
        c.env("AWS_ENDPOINT_URL_SIGNIN", &self.fake.url);
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.s.cmd(args);
        self.env(&mut c);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn export(&self, profile: &str) -> Keys {
        let out = self.run(&["export", profile, "--format", "json"]);
        assert!(out.status.success(), "export {profile}: {}", stderr(&out));
        Keys::from_json(&out)
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "nothing on stdout when failing");
        stderr(&out)
    }

    /// botocore's own credential chain for `profile`, with the sandbox's files: the
    /// access key it ends with and the CreateOAuth2Token calls it made.
    fn botocore(&self, profile: &str) -> String {
        let script = "import botocore.session,sys;c=botocore.session.Session(profile=sys.argv[1]).get_credentials();print(c.method, c.get_frozen_credentials().access_key)";
        let mut c = Command::new("python3");
        c.args(["-c", script, profile])
            .env_clear()
            .envs(self.s.envs());
        self.env(&mut c);
        let out = c.output().unwrap();
        assert!(out.status.success(), "botocore: {}", stderr(&out));
        stdout(&out).trim().to_string()
    }
}

fn refresh_calls(t: &Login) -> usize {
    t.fake.token_calls("refresh_token").len()
}

#[test]
fn the_fake_speaks_the_signin_model_and_botocores_login_provider_refreshes_through_it() {
    let t = Login::new("loginfakecheck");
    let out = Command::new("python3")
        .arg(support("signin_oauth_fake_check.py"))
        .args([
            &t.fake.url,
            &t.s.world.url,
            &t.arn,
            &t.s.world.access_key_id,
            &t.s.world.secret_access_key,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{} (botocore[crt] is needed: see .ci/install)",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out).trim(), "ok");
}

#[test]
fn fresh_credentials_are_used_as_they_are_without_a_call() {
    let t = Login::new("loginfresh");
    let doc = t.aws_login(3600, "sec1");
    let keys = t.export("dev");
    assert_eq!(
        keys.access_key_id,
        doc["accessToken"]["accessKeyId"].as_str().unwrap()
    );
    assert_eq!(caller_of(&t.s, &keys), t.caller());
    assert_eq!(refresh_calls(&t), 0);
}

#[test]
fn a_due_session_is_refreshed_once_and_written_back_as_botocore_does() {
    let t = Login::new("logindue");
    let doc = t.aws_login(120, "sec1");
    let keys = t.export("dev");
    assert_eq!(refresh_calls(&t), 1);
    assert_ne!(
        keys.access_key_id,
        doc["accessToken"]["accessKeyId"].as_str().unwrap()
    );
    assert_eq!(
        caller_of(&t.s, &keys),
        t.caller(),
        "the refreshed credentials work"
    );
    let path = t.cli_file();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_ne!(
        saved["refreshToken"], doc["refreshToken"],
        "rotated token saved"
    );
    assert_eq!(
        saved["accessToken"]["accessKeyId"],
        keys.access_key_id.as_str()
    );
    assert_eq!(saved["accessToken"]["accountId"], "123456789012");
    for kept in ["idToken", "dpopKey", "clientId", "tokenType"] {
        assert_eq!(saved[kept], doc[kept], "{kept} kept");
    }
    // The keyring cache serves the next export; botocore reads the file and finds fresh
    // credentials: no second refresh either way.
    assert_eq!(t.export("dev").access_key_id, keys.access_key_id);
    assert_eq!(t.botocore("dev"), format!("login {}", keys.access_key_id));
    assert_eq!(refresh_calls(&t), 1);
}

#[test]
fn a_pkcs8_key_as_in_the_sdks_fixtures_refreshes_too() {
    let t = Login::new("loginpkcs8");
    let doc = t.aws_login(0, "pkcs8");
    assert!(doc["dpopKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY"));
    let keys = t.export("dev");
    assert_eq!(caller_of(&t.s, &keys), t.caller());
    assert_eq!(refresh_calls(&t), 1);
}

#[test]
fn ten_concurrent_exports_make_one_refresh_and_all_get_working_credentials() {
    let t = Login::new("loginten");
    t.aws_login(60, "sec1");
    // Every refresh takes a while, so the others arrive while it is in flight.
    t.fake.control(serde_json::json!({"delay": 0.5}));
    let children: Vec<_> = (0..10)
        .map(|_| {
            t.cmd(&["export", "dev", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outs {
        assert!(out.status.success(), "{}", stderr(out));
    }
    let keys: Vec<Keys> = outs.iter().map(Keys::from_json).collect();
    assert_eq!(refresh_calls(&t), 1, "{:#?}", t.fake.requests());
    let spent: Vec<Value> = t
        .fake
        .requests()
        .into_iter()
        .filter(|r| r["status"] != 200 && r["op"] == "CreateOAuth2Token")
        .collect();
    assert!(spent.is_empty(), "no refresh token spent twice: {spent:#?}");
    assert!(keys
        .iter()
        .all(|k| k.access_key_id == keys[0].access_key_id));
    assert_eq!(caller_of(&t.s, &keys[9]), t.caller());
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(t.cli_file()).unwrap()).unwrap();
    assert_eq!(
        saved["accessToken"]["accessKeyId"],
        keys[0].access_key_id.as_str()
    );
    assert_eq!(
        t.botocore("dev"),
        format!("login {}", keys[0].access_key_id)
    );
    assert_eq!(refresh_calls(&t), 1, "botocore did not refresh either");
}

#[test]
fn a_role_is_assumed_with_the_session_in_both_chain_forms() {
    let t = Login::new("loginchain");
    t.aws_login(3600, "sec1");
    let via = t.export("via-source");
    assert!(
        caller_of(&t.s, &via).contains(&format!("assumed-role/{}RoleA/", t.s.world.prefix)),
        "{}",
        caller_of(&t.s, &via)
    );
    let go = t.export("go-form");
    assert!(
        caller_of(&t.s, &go).contains(&format!("assumed-role/{}RoleB/", t.s.world.prefix)),
        "{}",
        caller_of(&t.s, &go)
    );
    // (The fake's own AssumeRole that made the session is not one of the world's roles.)
    let assumed = || -> Vec<StsCall> {
        t.s.world
            .calls()
            .into_iter()
            .filter(|c| c.action == "AssumeRole")
            .filter(|c| {
                c.role_arn
                    .as_ref()
                    .is_some_and(|r| t.s.world.role_arns.contains(r))
            })
            .collect()
    };
    assert_eq!(assumed().len(), 2, "{:#?}", assumed());
    // Each hop cached: again, no call at all.
    t.export("via-source");
    t.export("go-form");
    assert_eq!(assumed().len(), 2);
    assert_eq!(refresh_calls(&t), 0);
    // botocore's form is the one botocore reads: it agrees.
    assert!(t.botocore("via-source").starts_with("assume-role "));
}

#[test]
fn list_explain_and_status_show_the_session_without_a_call() {
    let t = Login::new("loginlist");
    t.aws_login(120, "sec1");
    let out = t.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mark = format!("[login: {}]", t.arn);
    assert!(stdout(&out).contains(&mark), "{}", stdout(&out));
    let out = t.run(&["explain", "via-source"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&mark), "{text}");
    assert!(
        text.contains("signed in (AWS CLI cache), credentials until"),
        "{text}"
    );
    let out = t
        .cmd(&["status"])
        .env("AWSROLE_PROFILE", "dev")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains(&mark) && text.contains("account: 123456789012"),
        "{text}"
    );
    // Not signed in: said, not an error.
    std::fs::remove_file(t.cli_file()).unwrap();
    let out = t.run(&["explain", "dev"]);
    assert!(stdout(&out).contains("not signed in"), "{}", stdout(&out));
    assert!(t
        .fake
        .requests()
        .iter()
        .all(|r| r["op"] != "CreateOAuth2Token"));
}

#[test]
fn an_ended_session_says_sign_in_again_and_is_never_sent_again() {
    let t = Login::new("loginended");
    for (setting, code) in [
        ("revoke_all", "TOKEN_EXPIRED"),
        ("credentials_changed", "USER_CREDENTIALS_CHANGED"),
    ] {
        t.aws_login(0, "sec1");
        t.fake.control(serde_json::json!({ setting: true }));
        let before = t.fake.requests().len();
        let err = t.fails(&["export", "dev"]);
        assert!(
            err.contains(code)
                && err.contains("'awsrole login dev'")
                && err.contains("'aws login --profile dev'"),
            "{err}"
        );
        assert_eq!(t.fake.requests().len(), before + 1);
        // The dead refresh token is not sent again, through any profile.
        let err = t.fails(&["export", "via-source"]);
        assert!(err.contains("sign in again"), "{err}");
        assert_eq!(t.fake.requests().len(), before + 1, "no second call");
        t.fake.control(serde_json::json!({ setting: false }));
    }
    // A new `aws login` (a new refresh token) works at once.
    t.aws_login(0, "sec1");
    assert_eq!(caller_of(&t.s, &t.export("dev")), t.caller());
}

#[test]
fn refusals_and_outages_name_the_permission_or_the_endpoint_and_stay_bounded() {
    let t = Login::new("loginrefused");
    t.aws_login(-60, "sec1");
    t.fake.control(serde_json::json!({"insufficient": true}));
    let err = t.fails(&["export", "dev"]);
    assert!(err.contains("signin:CreateOAuth2Token"), "{err}");
    t.fake.control(serde_json::json!({"insufficient": false}));
    t.aws_login(-60, "sec1");
    for status in [429, 500] {
        t.fake.control(serde_json::json!({ "fail": [status] }));
        let err = t.fails(&["export", "dev"]);
        assert!(
            err.contains(&t.fake.url) && err.contains(&status.to_string()),
            "{err}"
        );
    }
    // Nothing listens there: told at once, naming the address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let started = Instant::now();
    let out =
        t.s.cmd(&["export", "dev"])
            .env("AWS_ENDPOINT_URL_SIGNIN", &dead_url)
            .output()
            .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&dead_url), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
    // Credentials that have not expired are used while the service is down, with a warning.
    t.aws_login(120, "sec1");
    let out =
        t.s.cmd(&["export", "dev", "--format", "json"])
            .env("AWS_ENDPOINT_URL_SIGNIN", &dead_url)
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn a_missing_cut_oversized_or_fifo_session_file_fails_at_once_saying_so() {
    let t = Login::new("loginfiles");
    let path = t.cli_file();
    // Not signed in: `export` says how, and never opens a browser.
    let out = t.login_cmd(&["export", "dev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("not signed in") && err.contains("awsrole login dev"),
        "{err}"
    );
    assert!(!t.s.home().join("browser.log").exists(), "no browser");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = t.aws_login(3600, "sec1").to_string();
    std::fs::write(&path, &doc[..doc.len() / 2]).unwrap();
    let err = t.fails(&["export", "dev"]);
    assert!(
        err.contains(&path.display().to_string()) && err.contains("cut short"),
        "{err}"
    );
    std::fs::write(&path, vec![b' '; 2 << 20]).unwrap();
    let err = t.fails(&["export", "dev"]);
    assert!(err.contains("larger than"), "{err}");
    std::fs::remove_file(&path).unwrap();
    let made = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(made.success());
    let started = Instant::now();
    let err = t.fails(&["export", "dev"]);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no hang on a FIFO"
    );
    assert!(t
        .fake
        .requests()
        .iter()
        .all(|r| r["op"] != "CreateOAuth2Token"));
}

impl Login {
    /// `awsrole login` with the fake's stand-in for the person at the browser.
    fn login_cmd(&self, args: &[&str]) -> Command {
        let mut c = self.cmd(args);
        c.env(
            "BROWSER",
            format!(
                "python3 {} --browser",
                support("signin_oauth_fake.py").display()
            ),
        )
        .env("SIGNIN_BROWSER_LOG", self.s.home().join("browser.log"))
        .env("DISPLAY", ":0");
        c
    }

    /// `awsrole login shared --share-with-aws-cli` into a new profile `shared`.
    fn login_shared(&self) {
        self.s
            .append_config("\n[profile shared]\nregion = eu-west-1\n");
        let out = self
            .login_cmd(&["login", "shared", "--share-with-aws-cli"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.s.home().join(".aws/config")).unwrap()
    }
}

#[test]
fn awsrole_login_signs_in_with_pkce_into_the_keyring_and_writes_login_session() {
    let t = Login::new("loginpkce");
    let before = t.config();
    t.s.append_config("\n[profile fresh]\nregion = eu-west-1\n# keep me\n");
    let before_fresh = t.config();
    let out = t.login_cmd(&["login", "fresh"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&t.arn), "{}", stderr(&out));
    assert_eq!(
        t.config(),
        before_fresh.replace(
            "[profile fresh]\n",
            &format!("[profile fresh]\nlogin_session = {}\n", t.arn)
        ),
        "one line added, every other byte kept"
    );
    assert!(t.config().starts_with(&before));
    // The browser got a page of this user's, never the address itself on its
    // command line; the fake saw one authorization and one code exchange.
    let log = std::fs::read_to_string(t.s.home().join("browser.log")).unwrap();
    assert!(
        log.starts_with("file://") && !log.contains("code_challenge"),
        "{log}"
    );
    let exchanges = t.fake.token_calls("authorization_code");
    assert_eq!(exchanges.len(), 1, "{exchanges:#?}");
    assert_eq!(exchanges[0]["status"], 200);
    // Kept in the keyring, not in a file.
    assert!(!t.cli_file().exists());
    let keys = t.export("fresh");
    assert_eq!(caller_of(&t.s, &keys), t.caller());
    assert_eq!(refresh_calls(&t), 0);
    // A role sourcing it works too.
    t.s.append_config(&format!(
        "\n[profile on-top]\nrole_arn = {}\nsource_profile = fresh\n",
        t.s.world.role_arns[0]
    ));
    let keys = t.export("on-top");
    assert!(caller_of(&t.s, &keys).contains("assumed-role/"));
    // Logout drops the session and what was cached from it.
    let out = t.run(&["logout", "fresh"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("keyring"), "{}", stderr(&out));
    let err = t.fails(&["export", "on-top"]);
    assert!(err.contains("not signed in"), "{err}");
}

#[test]
fn sharing_with_the_aws_cli_writes_its_cache_file_which_botocore_uses() {
    let t = Login::new("loginshare");
    t.login_shared();
    let path = t.cli_file();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(doc["dpopKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert_eq!(doc["clientId"], "arn:aws:signin:::devtools/same-device");
    assert!(doc.get("awsroleKeepUntil").is_none());
    assert_eq!(
        t.botocore("shared"),
        format!(
            "login {}",
            doc["accessToken"]["accessKeyId"].as_str().unwrap()
        )
    );
    // A new sign-in is a new session: a new key, a new refresh token.
    let out = t
        .login_cmd(&["login", "shared", "--share-with-aws-cli"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_ne!(again["dpopKey"], doc["dpopKey"]);
    assert_ne!(again["refreshToken"], doc["refreshToken"]);
    // `aws logout` semantics: the file goes too.
    assert!(t.run(&["logout"]).status.success());
    assert!(!path.exists());
}

/// The kernel keyring entry awsrole keeps a session of this sandbox in.
fn keyring_entry(t: &Login) -> String {
    let file = t.cli_file();
    let sha = file.file_stem().unwrap().to_str().unwrap();
    format!("awsrole:login:{}:{sha}", t.s.world.prefix)
}

/// The keyring's copy of the session, if there is one.
fn keyring_copy(t: &Login) -> Option<Value> {
    let found = Command::new("keyctl")
        .args(["search", "@u", "user", &keyring_entry(t)])
        .output()
        .unwrap();
    if !found.status.success() {
        return None;
    }
    let id = stdout(&found).trim().to_string();
    let out = Command::new("keyctl").args(["pipe", &id]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Puts `doc` in the keyring as an earlier awsrole kept it.
fn put_in_the_keyring(t: &Login, doc: &Value) {
    let out = output_with_stdin(
        Command::new("keyctl").args(["padd", "user", &keyring_entry(t), "@u"]),
        doc.to_string().as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Refresh-token grants the fake refused, with what it said.
fn refused_refreshes(t: &Login) -> Vec<Value> {
    t.fake
        .requests()
        .into_iter()
        .filter(|r| r["op"] == "CreateOAuth2Token" && r["status"] != 200)
        .collect()
}

fn key_id(doc: &Value) -> String {
    doc["accessToken"]["accessKeyId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Shared with the AWS CLI, one session is in two places and its refresh token is
/// single-use: awsrole refreshes from the CLI's file (which the CLI may have rotated) and
/// writes the result to both. Its key is one awscrt loads: botocore (which signs its
/// refresh with awscrt, as the AWS CLI v2 does) and awsrole refresh it in turn, each from
/// the token the other left, and no token is sent twice.
#[test]
fn a_shared_session_is_refreshed_from_the_cli_file_by_botocore_and_awsrole_in_turn() {
    let t = Login::new("loginsharerefresh");
    // 200-second credentials: due (under 5 minutes left) the moment they are issued.
    t.fake
        .control(serde_json::json!({"user": t.user(), "token_seconds": 200}));
    t.login_shared();
    let read = || -> Value {
        serde_json::from_str(&std::fs::read_to_string(t.cli_file()).unwrap()).unwrap()
    };
    let signed_in = read();
    assert_eq!(
        keyring_copy(&t).unwrap()["refreshToken"],
        signed_in["refreshToken"],
        "the same session in both places"
    );

    // botocore refreshes first: it loads the key awsrole wrote (awscrt refused a SEC1 key
    // without its curve, AWS_ERROR_CAL_UNSUPPORTED_KEY_FORMAT) and saves the new token
    // in the file only.
    let by_botocore = t.botocore("shared");
    let after_botocore = read();
    assert_eq!(by_botocore, format!("login {}", key_id(&after_botocore)));
    assert_ne!(key_id(&after_botocore), key_id(&signed_in));
    assert_ne!(after_botocore["refreshToken"], signed_in["refreshToken"]);
    assert_eq!(refresh_calls(&t), 1);

    // awsrole next: from the file's token (the keyring's is spent), back into both.
    let keys = t.export("shared");
    assert_eq!(caller_of(&t.s, &keys), t.caller());
    let after_awsrole = read();
    assert_eq!(key_id(&after_awsrole), keys.access_key_id);
    assert_ne!(
        after_awsrole["refreshToken"],
        after_botocore["refreshToken"]
    );
    let kept = keyring_copy(&t).unwrap();
    assert_eq!(kept["refreshToken"], after_awsrole["refreshToken"]);
    assert_eq!(key_id(&kept), keys.access_key_id);
    assert!(kept.get("awsroleKeepUntil").is_some(), "{kept}");
    assert!(after_awsrole.get("awsroleKeepUntil").is_none());
    assert_eq!(refresh_calls(&t), 2);

    // And botocore again, from awsrole's.
    let again = t.botocore("shared");
    assert_eq!(again, format!("login {}", key_id(&read())));
    assert_ne!(key_id(&read()), keys.access_key_id);
    assert_eq!(refresh_calls(&t), 3);
    assert_eq!(
        refused_refreshes(&t),
        Vec::<Value>::new(),
        "no token was sent twice"
    );
}

/// Beside a keyring copy whose token is spent, another session in the CLI's file (a new
/// `aws login`): awsrole is refused with the keyring's once, takes the file's, and drops
/// the spent copy, so the next refresh costs one call.
#[test]
fn a_spent_keyring_copy_gives_way_to_another_session_in_the_file() {
    let t = Login::new("loginspentcopy");
    t.fake
        .control(serde_json::json!({"user": t.user(), "token_seconds": 200}));
    // Session A, kept in both places; the CLI's side (botocore) spends its token.
    let a = t.aws_login(120, "sec1");
    put_in_the_keyring(&t, &a);
    t.botocore("dev");
    assert_eq!(refresh_calls(&t), 1);
    // Then a new `aws login`: session B in the file, A's spent copy still in the keyring.
    let b = t.aws_login(120, "sec1");
    assert_ne!(a["dpopKey"], b["dpopKey"]);

    let keys = t.export("dev");
    assert_eq!(caller_of(&t.s, &keys), t.caller());
    let refused = refused_refreshes(&t);
    assert_eq!(refused.len(), 1, "the spent copy, once: {refused:?}");
    assert_eq!(
        refresh_calls(&t),
        3,
        "refused with the keyring's, then the file's"
    );
    assert!(keyring_copy(&t).is_none(), "the spent copy is dropped");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(t.cli_file()).unwrap()).unwrap();
    assert_eq!(key_id(&saved), keys.access_key_id);

    // Due again (200-second credentials): one call now, from the file.
    let next = t.export("dev");
    assert_ne!(next.access_key_id, keys.access_key_id);
    assert_eq!(refresh_calls(&t), 4);
    assert_eq!(refused_refreshes(&t).len(), 1);
}

#[test]
fn remote_sign_in_prints_the_address_and_reads_the_pasted_code() {
    use std::io::{BufRead, BufReader, Write};
    let t = Login::new("loginremote");
    t.s.append_config("\n[profile far]\nregion = eu-west-1\n");
    let mut child = t
        .cmd(&["login", "far", "--remote"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(|l| l.ok())
        .find_map(|l| {
            l.trim()
                .strip_prefix(&t.fake.url)
                .map(|rest| format!("{}{rest}", t.fake.url))
        })
        .expect("the address on stderr");
    assert!(url.contains("client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"));
    assert!(url.contains("%2Fv1%2Fsessions%2Fconfirmation"), "{url}");
    // The person opens it elsewhere; the page shows the code to paste.
    let page = Command::new("curl").args(["-sf", &url]).output().unwrap();
    assert!(page.status.success());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&page.stdout).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    assert!(t.config().contains(&format!("login_session = {}", t.arn)));
    assert_eq!(caller_of(&t.s, &t.export("far")), t.caller());
}

#[test]
fn another_login_session_of_the_profile_is_replaced_only_when_agreed() {
    let t = Login::new("loginreplace");
    let other = "arn:aws:iam::123456789012:user/someone-else";
    t.s.append_config(&format!(
        "\n[profile taken]\nlogin_session = {other}\nregion = eu-west-1\n"
    ));
    let before = t.config();
    let out = t.login_cmd(&["login", "taken"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("still names"), "{}", stderr(&out));
    assert_eq!(t.config(), before, "not replaced without an answer");
    let out = t.login_cmd(&["login", "taken", "--yes"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        t.config(),
        before.replace(other, &t.arn),
        "replaced on its own line"
    );
}

impl Login {
    /// `awsrole ARGS` at a terminal (a pseudo-terminal), with the stand-in browser;
    /// returns its exit status and stderr.
    fn at_a_terminal(&self, args: &str) -> (String, String) {
        let done = self.s.home().join("done");
        let _ = std::fs::remove_file(&done);
        let mut c = Command::new("sh");
        c.args([
            "-c",
            &format!("{BIN} {args} > out 2> err; echo $? > {}", done.display()),
        ])
        .env_clear()
        .envs(self.s.envs())
        .current_dir(self.s.home())
        .env("AWS_ENDPOINT_URL_SIGNIN", &self.fake.url)
        .env(
            "BROWSER",
            format!(
                "python3 {} --browser",
                support("signin_oauth_fake.py").display()
            ),
        )
        .env("SIGNIN_BROWSER_LOG", self.s.home().join("browser.log"));
        let _term = expectrl::Session::spawn(c).unwrap();
        wait_for(Duration::from_secs(60), "awsrole to end", || {
            std::fs::read_to_string(&done).is_ok_and(|t| t.ends_with('\n'))
        });
        (
            std::fs::read_to_string(&done).unwrap().trim().to_string(),
            std::fs::read_to_string(self.s.home().join("err")).unwrap(),
        )
    }
}

#[test]
fn at_a_terminal_exec_signs_in_by_itself_and_export_never_does() {
    let t = Login::new("loginterminal");
    // export: a person is there, but export is what credential_process and scripts run.
    let (status, err) = t.at_a_terminal("export dev");
    assert_eq!(status, "1", "{err}");
    assert!(err.contains("not signed in"), "{err}");
    assert!(
        !t.s.home().join("browser.log").exists(),
        "no browser from export"
    );
    let (status, err) = t.at_a_terminal("exec dev -- true");
    assert_eq!(status, "0", "{err}");
    assert!(err.contains("; signing in"), "{err}");
    assert_eq!(t.fake.token_calls("authorization_code").len(), 1);
    // The session went to the keyring: export now works without a browser.
    assert_eq!(caller_of(&t.s, &t.export("dev")), t.caller());
    assert_eq!(t.fake.token_calls("authorization_code").len(), 1);
}

#[test]
fn without_a_keyring_the_session_goes_to_the_aws_cli_file_only_when_asked() {
    let t = Login::new("loginnokeyring");
    t.s.append_config("\n[profile bare]\nregion = eu-west-1\n");
    let out = t
        .login_cmd(&["login", "bare"])
        .env("AWSROLE_KEYRING", "none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--share-with-aws-cli"),
        "{}",
        stderr(&out)
    );
    assert!(
        t.fake.requests().iter().all(|r| r["op"] != "Authorize"),
        "refused before anyone is asked"
    );
    let out = t
        .login_cmd(&["login", "bare", "--share-with-aws-cli"])
        .env("AWSROLE_KEYRING", "none")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(t.cli_file().exists());
    let out = t
        .cmd(&["export", "bare", "--format", "json"])
        .env("AWSROLE_KEYRING", "none")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(caller_of(&t.s, &Keys::from_json(&out)), t.caller());
}

#[test]
fn a_profile_without_a_region_takes_the_one_given_to_login() {
    let t = Login::new("loginregion");
    t.s.append_config("\n[profile noregion]\noutput = json\n");
    // Nowhere to sign in: said before anything else, naming --region.
    let out = t
        .login_cmd(&["login", "noregion"])
        .env_remove("AWS_ENDPOINT_URL_SIGNIN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--region"), "{}", stderr(&out));
    let out = t
        .login_cmd(&["login", "noregion", "--region", "eu-central-1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        t.config().ends_with(&format!(
            "[profile noregion]\nregion = eu-central-1\nlogin_session = {}\noutput = json\n",
            t.arn
        )),
        "{}",
        t.config()
    );
}

#[test]
fn the_hook_never_opens_a_browser_even_at_a_terminal() {
    let t = Login::new("loginhook");
    std::fs::write(t.s.home().join(".awsrole"), "dev\n").unwrap();
    let out = t.run(&["allow", ".awsrole"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, err) = t.at_a_terminal("hook bash");
    assert_eq!(status, "0", "{err}");
    assert!(err.contains("not signed in"), "{err}");
    assert!(
        !t.s.home().join("browser.log").exists(),
        "no browser from the hook"
    );
    assert!(t.fake.requests().iter().all(|r| r["op"] != "Authorize"));
}

/// The hook renews a role whose chain starts at a login session that is itself due:
/// one silent refresh of the session (no browser, no sign-in), then a new AssumeRole.
#[test]
fn the_hook_renews_a_role_from_a_due_login_session_with_one_silent_refresh() {
    let t = Login::new("loginrenew");
    // Refreshed credentials last 305 s: fresh (over the 5-minute window) when `use` runs,
    // due again 6 s later when the hook runs.
    t.fake
        .control(serde_json::json!({"user": t.user(), "token_seconds": 305}));
    t.aws_login(120, "sec1");
    let script = format!(
        "export AWS_ENDPOINT_URL_SIGNIN={url}; eval \"$(awsrole init bash)\"; \
         awsrole use via-source --duration 15m 2>use.err || exit 9; k1=$AWS_ACCESS_KEY_ID; \
         export AWSROLE_REFRESH_MARGIN=895s; sleep 6; __awsrole_hook; k2=$AWS_ACCESS_KEY_ID; \
         __awsrole_hook; k3=$AWS_ACCESS_KEY_ID; \
         echo \"$AWSROLE_PROFILE $([ \"$k1\" != \"$k2\" ] && echo renewed) $([ \"$k2\" = \"$k3\" ] && echo stable)\"; \
         printf '%s\\n' \"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"",
        url = t.fake.url
    );
    let out = bash_no_tty(&t.s, &script);
    let use_err = std::fs::read_to_string(t.s.home().join("use.err")).unwrap_or_default();
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("via-source renewed stable"),
        "{}\nuse: {use_err}",
        stderr(&out)
    );
    // Silent but for the one warning the test's own margin earns: 895 s is more than the
    // 305 s the session's credentials last (a margin that small would not make the
    // role due within seconds).
    let err = stderr(&out);
    assert!(
        err.lines().all(|l| l.contains("refresh margin (895 s")),
        "renewal is silent: {err}"
    );
    assert_eq!(
        refresh_calls(&t),
        2,
        "one refresh for use, one for the hook's renewal"
    );
    assert!(
        t.fake.requests().iter().all(|r| r["op"] != "Authorize"),
        "no sign-in"
    );
    assert_eq!(t.fake.token_calls("authorization_code").len(), 0);
    let (id, secret, token) = (lines.next(), lines.next(), lines.next());
    let keys = Keys {
        access_key_id: id.unwrap().to_string(),
        secret_access_key: secret.unwrap().to_string(),
        session_token: token.map(str::to_string),
    };
    assert!(
        caller_of(&t.s, &keys).contains(&format!("assumed-role/{}RoleA/", t.s.world.prefix)),
        "the renewed keys work as RoleA"
    );
}

#[test]
fn a_keyring_that_refuses_the_session_stops_the_sign_in_before_the_browser() {
    let mut t = Login::new("loginlockedkeyring");
    t.s.keyring = "secret-service";
    t.s.bus = Some(format!("unix:path={}/no-bus", t.s.home().display()));
    let out = t.login_cmd(&["login", "dev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot keep the login session in the keyring")
            && stderr(&out).contains("nothing was asked of you"),
        "{}",
        stderr(&out)
    );
    assert!(!t.s.home().join("browser.log").exists(), "no browser");
    assert!(t.fake.requests().iter().all(|r| r["op"] != "Authorize"));
}
