//! The real parts the integration tests run against: a moto STS on loopback (one per
//! test binary), the seed scenario's world built in it (one per test, every name
//! prefixed so parallel tests never share a role), and a temp HOME per test.

#![allow(dead_code)]

pub mod nu;
pub mod pty;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_awsrole");

pub fn support(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(file)
}

pub struct Moto {
    _child: Child,
    pub url: String,
}

/// The moto of this test binary; it exits by itself when the binary does.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(None))
}

/// A moto that checks signatures and IAM policies once `free_actions` calls were made
/// (the world's setup): unknown keys get InvalidClientTokenId, missing grants AccessDenied.
pub fn moto_with_auth(free_actions: u32) -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(Some(free_actions)))
}

fn start_moto(free_actions: Option<u32>) -> Moto {
    let mut cmd = Command::new("python3");
    cmd.arg(support("moto_server.py")).stderr(Stdio::null());
    if let Some(n) = free_actions {
        cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
    }
    let (child, line) = spawn_helper(cmd, "python3 with moto[server] installed (see .ci/install)");
    let port: u16 = line.parse().expect("moto_server.py prints its port");
    Moto {
        _child: child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// The misbehaving STS of tests/support/bad_sts.py; point AWS_ENDPOINT_URL_STS at
/// `{url}/{mode}`.
pub fn bad_sts() -> &'static str {
    static BAD: OnceLock<(Child, String)> = OnceLock::new();
    let mut cmd = Command::new("python3");
    cmd.arg(support("bad_sts.py"));
    let (_, port) = BAD.get_or_init(|| spawn_helper(cmd, "python3 (see .ci/install)"));
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| format!("http://127.0.0.1:{port}"))
}

/// Starts a helper daemon from tests/support and reads the first line it prints,
/// within a minute (a helper that hangs fails the test instead of holding it forever).
/// The rest of its output is drained, so a later line never meets a closed pipe.
pub fn spawn_helper(mut cmd: Command, needs: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{needs}: {e}"));
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(line) if !line.trim().is_empty() => (child, line.trim().to_string()),
        Ok(_) => {
            let status = child.wait();
            panic!("{needs}: the helper exited without a word ({status:?})")
        }
        Err(_) => {
            let _ = child.kill();
            panic!("{needs}: the helper said nothing within 60 s")
        }
    }
}

/// A helper server of tests/support started for one test, on loopback; stopped when
/// dropped, so its request log is that test's alone.
pub struct LocalServer {
    child: Child,
    pub url: String,
}

impl LocalServer {
    /// `python3 tests/support/SCRIPT ARGS…`, which prints its port first.
    pub fn start(script: &str, args: &[&str], needs: &str) -> LocalServer {
        LocalServer::start_on("127.0.0.1", script, args, needs)
    }

    /// The same on IPv6's loopback, `http://[::1]:PORT` (the script takes `--ipv6`).
    pub fn start_ipv6(script: &str, args: &[&str], needs: &str) -> LocalServer {
        LocalServer::start_on("[::1]", script, &[args, &["--ipv6"]].concat(), needs)
    }

    fn start_on(host: &str, script: &str, args: &[&str], needs: &str) -> LocalServer {
        let mut cmd = Command::new("python3");
        cmd.arg(support(script)).args(args);
        let (child, port) = spawn_helper(cmd, needs);
        LocalServer {
            child,
            url: format!("http://{host}:{port}"),
        }
    }
}

/// Talking to a fake of tests/support (its JSON controls and request log).
impl LocalServer {
    /// POSTs `body` (JSON) to `path`; the fake's JSON answer.
    pub fn post(&self, path: &str, body: &str) -> Value {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-d",
                body,
                &format!("{}{path}", self.url),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "POST {path}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// What the fake was asked, oldest first (its `GET /requests`).
    pub fn requests(&self) -> Vec<Value> {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}/requests", self.url)])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tests/support/sso_fake.py for one test: the IAM Identity Center portal and OIDC on
/// loopback, its role credentials real in this binary's moto.
pub fn sso_fake() -> LocalServer {
    LocalServer::start(
        "sso_fake.py",
        &[&moto().url],
        "python3 with boto3 (see .ci/install)",
    )
}

/// A private D-Bus with an unlocked gnome-keyring; its address.
pub fn secret_service_bus() -> &'static str {
    static BUS: OnceLock<(Child, String)> = OnceLock::new();
    let mut cmd = Command::new("python3");
    cmd.arg(support("secret_service.py"));
    &BUS.get_or_init(|| {
        spawn_helper(
            cmd,
            "dbus-daemon and gnome-keyring-daemon (see .ci/install)",
        )
    })
    .1
}

/// One STS call as moto's recorder saw it.
#[derive(Debug, Clone)]
pub struct StsCall {
    pub action: String,
    pub role_arn: Option<String>,
    pub duration: Option<String>,
    pub serial: Option<String>,
    pub token_code: Option<String>,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub access_key: String,
}

pub struct World {
    pub url: String,
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub mfa_serial: String,
    pub role_arns: Vec<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_prefix(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    format!("{clean}{}x{n}", std::process::id())
}

impl World {
    pub fn build(name: &str, roles: usize) -> World {
        World::build_in(moto(), name, roles, false)
    }

    pub fn build_in(moto: &Moto, name: &str, roles: usize, grant_user: bool) -> World {
        let prefix = unique_prefix(name);
        let mut cmd = Command::new("python3");
        cmd.arg(support("world.py")).args([
            "--endpoint",
            &moto.url,
            "--prefix",
            &prefix,
            "--roles",
            &roles.to_string(),
        ]);
        if grant_user {
            cmd.arg("--grant-user");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "world.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        World {
            url: moto.url.clone(),
            prefix,
            access_key_id: v["access_key_id"].as_str().unwrap().into(),
            secret_access_key: v["secret_access_key"].as_str().unwrap().into(),
            mfa_serial: v["mfa_serial"].as_str().unwrap().into(),
            role_arns: v["roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["arn"].as_str().unwrap().to_string())
                .collect(),
        }
    }

    /// The seed scenario's config: role-a (MFA) … role-e, each sourcing the previous.
    pub fn seed_config(&self) -> String {
        let mut cfg = String::from("[default]\nregion = ap-northeast-1\n\n");
        let mut source = "default".to_string();
        for (i, arn) in self.role_arns.iter().enumerate() {
            let name = format!("role-{}", (b'a' + i as u8) as char);
            cfg.push_str(&format!(
                "[profile {name}]\nrole_arn = {arn}\nsource_profile = {source}\n"
            ));
            if i == 0 {
                cfg.push_str(&format!("mfa_serial = {}\n", self.mfa_serial));
            }
            cfg.push('\n');
            source = name;
        }
        cfg
    }

    /// `[profile dev]`: RoleC assumed straight from the user's keys, no MFA.
    pub fn dev_profile(&self) -> String {
        format!(
            "\n[profile dev]\nrole_arn = {}\nsource_profile = default\n",
            self.role_arns[2]
        )
    }

    pub fn seed_credentials(&self) -> String {
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.access_key_id, self.secret_access_key
        )
    }

    /// The STS calls this world's chain made: its roles, or signed with its user's key.
    pub fn calls(&self) -> Vec<StsCall> {
        // Under load the recorder's answer can come back empty once: asked again, and
        // a last failure says what the script said.
        let mut tries = 0;
        let all: Vec<Value> = loop {
            let out = Command::new("python3")
                .arg(support("sts_calls.py"))
                .arg(&self.url)
                .output()
                .unwrap();
            match serde_json::from_slice(&out.stdout) {
                Ok(all) => break all,
                Err(e) if tries >= 2 => panic!(
                    "sts_calls.py gave no call list ({e}): {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(_) => tries += 1,
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        let field = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        all.iter()
            .filter(|c| {
                field(c, "RoleArn").is_some_and(|a| a.contains(&self.prefix))
                    || field(c, "AccessKey").as_deref() == Some(self.access_key_id.as_str())
            })
            .map(|c| StsCall {
                action: field(c, "Action").unwrap_or_default(),
                role_arn: field(c, "RoleArn"),
                duration: field(c, "DurationSeconds"),
                serial: field(c, "SerialNumber"),
                token_code: field(c, "TokenCode"),
                external_id: field(c, "ExternalId"),
                session_name: field(c, "RoleSessionName"),
                access_key: field(c, "AccessKey").unwrap_or_default(),
            })
            .collect()
    }

    pub fn count(&self, action: &str) -> usize {
        self.calls().iter().filter(|c| c.action == action).count()
    }
}

/// A temp HOME with the AWS files, and a clean environment for awsrole.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub world: World,
    pub keyring: &'static str,
    /// Bus of the Secret Service, for `secret-service` (and `auto`).
    pub bus: Option<String>,
}

/// What a sandbox cached in the kernel keyring goes with it, so that runs leave no
/// entries behind (an SSO client registration would stay for weeks).
impl Drop for Sandbox {
    fn drop(&mut self) {
        if !cfg!(target_os = "linux") {
            return;
        }
        for kind in ["session", "keys", "sso", "sso-client", "login"] {
            let prefix = format!("awsrole:{kind}:{}:", self.world.prefix);
            let _ = Command::new("keyctl")
                .args(["purge", "-p", "user", &prefix])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Sandbox {
    pub fn seed(name: &str) -> Sandbox {
        Sandbox::with_world(World::build(name, 5))
    }

    pub fn with_world(world: World) -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
            world,
            keyring: "none",
            bus: None,
        };
        sandbox.write_config(&sandbox.world.seed_config());
        sandbox.write_credentials(&sandbox.world.seed_credentials());
        sandbox
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.home().join(".aws")).unwrap();
        std::fs::write(self.home().join(".aws/config"), text).unwrap();
    }

    pub fn append_config(&self, text: &str) {
        let mut cfg = std::fs::read_to_string(self.home().join(".aws/config")).unwrap_or_default();
        cfg.push_str(text);
        self.write_config(&cfg);
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::create_dir_all(self.home().join(".aws")).unwrap();
        std::fs::write(self.home().join(".aws/credentials"), text).unwrap();
    }

    /// The environment awsrole gets: nothing of the host's AWS_* variables.
    pub fn envs(&self) -> Vec<(String, String)> {
        let home = self.home().display().to_string();
        let mut vars = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.clone()),
            ("USER".into(), "tester".into()),
            ("AWS_ENDPOINT_URL_STS".into(), self.world.url.clone()),
            ("AWSROLE_KEYRING".into(), self.keyring.into()),
            ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
            ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
            ("XDG_RUNTIME_DIR".into(), format!("{home}/.run")),
            ("TERM".into(), "dumb".into()),
            // Each sandbox has its own slice of the (shared, per-user) kernel keyring.
            ("AWSROLE_CACHE_NAMESPACE".into(), self.world.prefix.clone()),
        ];
        if let Some(bus) = &self.bus {
            vars.push(("DBUS_SESSION_BUS_ADDRESS".into(), bus.clone()));
        }
        vars
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .envs(self.envs())
            .current_dir(self.home())
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

/// Runs `cmd` with `input` on its stdin (then closed) and its stdout and stderr
/// captured.
pub fn output_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `script` in `shell` (bash, zsh, fish) with the sandbox's environment.
pub fn shell_run(sandbox: &Sandbox, shell: &str, script: &str) -> Output {
    let mut argv = vec![shell];
    if shell == "fish" {
        argv.push("--no-config");
    }
    argv.extend(["-c", script]);
    in_sandbox(sandbox, &argv).output().unwrap()
}

/// `argv` with the sandbox's environment and home, awsrole first on PATH, no stdin.
fn in_sandbox(sandbox: &Sandbox, argv: &[&str]) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
    let mut c = Command::new(argv[0]);
    c.args(&argv[1..])
        .env_clear()
        .envs(sandbox.envs())
        .current_dir(sandbox.home())
        .stdin(Stdio::null())
        .env(
            "PATH",
            format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default()),
        );
    c
}

/// `aws sts get-caller-identity` through botocore with only the given variables.
pub fn caller_arn_with_env(sandbox: &Sandbox, vars: &[(String, String)]) -> String {
    let script = "import boto3,sys;print(boto3.client('sts', endpoint_url=sys.argv[1], region_name='us-east-1').get_caller_identity()['Arn'])";
    let out = Command::new("python3")
        .args(["-c", script, &sandbox.world.url])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", sandbox.home())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "botocore: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// The key triple an `export --format json` document carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// None for long-term keys.
    pub session_token: Option<String>,
}

impl Keys {
    /// Parsed from the stdout of `awsrole export … --format json`.
    pub fn from_json(out: &Output) -> Keys {
        let doc: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not a JSON document ({e}): {}", stdout(out)));
        let field = |k: &str| doc[k].as_str().map(str::to_string);
        Keys {
            access_key_id: field("AccessKeyId").unwrap_or_else(|| panic!("no key id: {doc}")),
            secret_access_key: field("SecretAccessKey")
                .unwrap_or_else(|| panic!("no secret: {doc}")),
            session_token: field("SessionToken"),
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID".into(), self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.secret_access_key.clone(),
            ),
        ];
        if let Some(token) = &self.session_token {
            vars.push(("AWS_SESSION_TOKEN".into(), token.clone()));
        }
        vars
    }
}

/// Who STS says `keys` belong to. moto sits behind a front that checks signatures and
/// session tokens against what it issued, so keys a cache corrupted fail here.
pub fn caller_of(sandbox: &Sandbox, keys: &Keys) -> String {
    caller_arn_with_env(sandbox, &keys.env())
}

/// bash without a terminal: nothing can be asked.
pub fn bash_no_tty(s: &Sandbox, script: &str) -> Output {
    in_sandbox(s, &["setsid", "--wait", "bash", "-c", script])
        .output()
        .unwrap()
}

/// Whether this test binary runs as root (CI's first pass) or as a normal user (the
/// non-root tier, tests/as-user.sh, or a developer).
#[cfg(unix)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A path another user owns, for the checks that refuse such things: as root the test
/// gives `mine` away (to nobody); as a normal user, who cannot, it takes the fixture
/// tests/as-user.sh made as root and named in the variable `fixture`.
#[cfg(unix)]
pub fn owned_by_another_user(mine: &Path, fixture: &str) -> PathBuf {
    if is_root() {
        std::os::unix::fs::chown(mine, Some(65534), Some(65534)).unwrap();
        return mine.to_path_buf();
    }
    let path = std::env::var_os(fixture).unwrap_or_else(|| {
        panic!("as a normal user this test needs {fixture}, a path another user owns (tests/as-user.sh sets it); or run it as root")
    });
    PathBuf::from(path)
}

/// The value of one variable among `parse_env`'s pairs.
pub fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `KEY=value` lines of `--format env` as pairs.
pub fn parse_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect()
}

// The credential endpoint watched from inside its command (tests/server.rs, tests/sso.rs).
/// Polls the endpoint every half second, appending `EPOCH CODE KEYID EXPIRATION` (or
/// the error code) to `polls`, until `stop` exists.
pub const POLLER: &str = r#"
while [ ! -e stop ]; do
  body=$(curl -s -w ' %{http_code}' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI")
  code=${body##* }
  key=$(printf '%s' "$body" | sed -n 's/.*"AccessKeyId":"\([^"]*\)".*/\1/p')
  exp=$(printf '%s' "$body" | sed -n 's/.*"Expiration":"\([^"]*\)".*/\1/p')
  err=$(printf '%s' "$body" | sed -n 's/.*"Code":"\([^"]*\)".*/\1/p')
  echo "$(date +%s) $code ${key:-$err} ${exp:--}" >> polls
  sleep 0.5
done
"#;

/// One poll: when, status, key id (or error code), expiration.
#[derive(Debug, Clone)]
pub struct Poll {
    pub at: i64,
    pub code: u16,
    pub key: String,
    pub expiration: Option<i64>,
}

pub fn polls(s: &Sandbox) -> Vec<Poll> {
    std::fs::read_to_string(s.home().join("polls"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some(Poll {
                at: f.next()?.parse().ok()?,
                code: f.next()?.parse().ok()?,
                key: f.next()?.to_string(),
                expiration: f
                    .next()
                    .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
                    .map(|e| e.timestamp()),
            })
        })
        .collect()
}

/// Waits (up to `limit`) for `what` to hold.
pub fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
