//! Outside judges in Go and Java: the AWS SDK for Go v2 (`tests/go`) and the AWS SDK for
//! Java 2.x (`tests/java`), each with its default credential chain, ask STS (moto)
//! GetCallerIdentity in every way a user meets awsrole's credentials — after
//! `eval "$(awsrole export …)"` with a hand-set `AWS_PROFILE`, in a real shell after `use`
//! and in an allowed `.awsrole` directory, through `credential_process`, under
//! `exec --server` across renewals, and from the IAM Identity Center token cache awsrole
//! refreshed. Each asks for a role other than the one before it, so keys left over from
//! the previous switch fail the test.
//!
//! The judges are built by `.ci/install-judges`; a judge older than its sources is rebuilt
//! here from the local module / Maven caches (never from the network), and a judge that
//! cannot be had fails the test saying how to build it.
#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use common::pty::{Shell, SHELLS};
use common::*;
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Sdk {
    Go,
    Java,
}

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

/// The newest modification time among `paths` (files, or directories walked).
fn newest(paths: &[PathBuf]) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(m) = meta.modified() {
            latest = latest.max(m);
        }
    }
    latest
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl Sdk {
    fn name(self) -> &'static str {
        match self {
            Sdk::Go => "go",
            Sdk::Java => "java",
        }
    }

    /// How the SDK names the provider that answered for `way` (Go: the provider's
    /// `Source`; Java: its business-metric names, spelled out by the judge).
    fn provider(self, way: &str) -> &'static str {
        match (self, way) {
            (Sdk::Go, "process") => "ProcessProvider",
            (Sdk::Java, "process") => "CREDENTIALS_PROCESS",
            (Sdk::Go, "endpoint") => "CredentialsEndpointProvider",
            (Sdk::Java, "endpoint") => "CREDENTIALS_HTTP",
            (Sdk::Go, "env") => "EnvConfigCredentials",
            (Sdk::Java, "env") => "CREDENTIALS_ENV_VARS",
            _ => unreachable!("{way}"),
        }
    }

    /// The program's argv, built first when missing or older than its sources.
    fn argv(self) -> &'static [String] {
        static GO: OnceLock<Vec<String>> = OnceLock::new();
        static JAVA: OnceLock<Vec<String>> = OnceLock::new();
        match self {
            Sdk::Go => GO.get_or_init(|| {
                let d = dir("go");
                let bin = d.join("judge");
                let sources = ["main.go", "go.mod", "go.sum"].map(|f| d.join(f));
                self.build_if_stale(&bin, &sources, "go", &["build", "-o", "judge", "."]);
                vec![bin.display().to_string()]
            }),
            Sdk::Java => JAVA.get_or_init(|| {
                let d = dir("java");
                let jar = d.join("target/judge.jar");
                let sources = [d.join("pom.xml"), d.join("src")];
                self.build_if_stale(
                    &jar,
                    &sources,
                    "mvn",
                    &["-o", "-q", "-B", "-Dstyle.color=never", "package"],
                );
                // A short-lived client: the quick JIT tier and one GC thread start fastest.
                [
                    "java",
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC",
                    "-jar",
                    &jar.display().to_string(),
                ]
                .map(String::from)
                .to_vec()
            }),
        }
    }

    /// Rebuilds from the local caches only (GOPROXY=off, `mvn -o`): what needs the network
    /// is `.ci/install-judges`' job, and a judge that cannot be had is a failure.
    fn build_if_stale(self, target: &Path, sources: &[PathBuf], tool: &str, args: &[&str]) {
        if modified(target).is_some_and(|t| t >= newest(sources)) {
            return;
        }
        let how = format!(
            "the {} judge ({}) is missing or older than its sources and could not be built \
             offline; build it with `bash .ci/install-judges` (as root, from the repo root)",
            self.name(),
            target.display()
        );
        let out = Command::new(tool)
            .args(args)
            .current_dir(sources[0].parent().unwrap())
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=readonly -buildvcs=false")
            .env("GOTOOLCHAIN", "local")
            .output()
            .unwrap_or_else(|e| panic!("{how}: {tool}: {e}"));
        assert!(
            out.status.success() && target.exists(),
            "{how}: {tool} {args:?} said:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }

    /// The program with `args`, in the sandbox's clean environment plus `extra`.
    fn cmd(self, s: &Sandbox, extra: &[(&str, &str)], args: &[&str]) -> Command {
        let argv = self.argv();
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .args(args)
            .env_clear()
            .envs(s.envs())
            .envs(judge_env())
            .envs(extra.iter().copied())
            .current_dir(s.home());
        c
    }

    /// The caller's ARN; the test fails with the SDK's words if the call fails.
    fn identity(self, s: &Sandbox, extra: &[(&str, &str)]) -> (String, String) {
        let out = self
            .cmd(s, extra, &["identity", &s.world.url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{:?} judge with {extra:?}: {}",
            self,
            stderr(&out)
        );
        (stdout(&out).trim().to_string(), stderr(&out))
    }

    /// A command line for a shell (bash, zsh, fish): `env VAR=… 'judge' identity URL`.
    fn shell_line(self, s: &Sandbox) -> String {
        let vars: Vec<String> = judge_env()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let argv: Vec<String> = self.argv().iter().map(|a| format!("'{a}'")).collect();
        format!(
            "env {} {} identity {}",
            vars.join(" "),
            argv.join(" "),
            s.world.url
        )
    }
}

/// What every judge run adds: no instance metadata (a wrong turn down the chain fails at
/// once instead of waiting on 169.254.169.254).
fn judge_env() -> [(&'static str, &'static str); 1] {
    [("AWS_EC2_METADATA_DISABLED", "true")]
}

/// The seed world with `dev` (RoleC) and `dev-d` (RoleD), both straight from the user's
/// keys: two roles to switch between without an MFA code.
fn sandbox(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    s.append_config(&format!(
        "\n[profile dev-d]\nrole_arn = {}\nsource_profile = default\n",
        s.world.role_arns[3]
    ));
    s
}

/// `assumed-role/<prefix>Role<letter>/awsrole-`: the role, under awsrole's session name
/// (an SDK that re-resolved the chain itself would use its own).
fn by_awsrole(s: &Sandbox, letter: char) -> String {
    format!("assumed-role/{}Role{letter}/awsrole-", s.world.prefix)
}

fn user_arn(s: &Sandbox) -> String {
    format!(":user/{}User1", s.world.prefix)
}

// --- eval "$(awsrole export …)" with AWS_PROFILE set by hand ----------------------------

fn export_with_a_hand_set_profile(sdk: Sdk) {
    let s = sandbox(&format!("jexport{}", sdk.name()));
    let judge = sdk.shell_line(&s);
    // role-b needs an MFA code: an SDK resolving AWS_PROFILE itself fails or runs under its
    // own session name; `nosuch` is no profile of this config at all.
    let script = format!(
        "export AWS_PROFILE=role-b; eval \"$(awsrole export dev)\" && {judge} && \
         export AWS_PROFILE=nosuch; eval \"$(awsrole export dev-d)\" && {judge}"
    );
    let out = shell_run(&s, "bash", &script);
    let text = stdout(&out);
    assert!(out.status.success(), "{sdk:?}: {text} {}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{sdk:?}: {text}");
    assert!(lines[0].contains(&by_awsrole(&s, 'C')), "{sdk:?}: {text}");
    assert!(lines[1].contains(&by_awsrole(&s, 'D')), "{sdk:?}: {text}");
}

#[test]
fn go_sdk_after_eval_export_with_aws_profile_set() {
    export_with_a_hand_set_profile(Sdk::Go);
}

#[test]
fn java_sdk_after_eval_export_with_aws_profile_set() {
    export_with_a_hand_set_profile(Sdk::Java);
}

// --- a real shell: use, unuse, an allowed .awsrole directory ----------------------------

fn in_a_real_shell(sdk: Sdk, shell: &'static str) {
    let s = sandbox(&format!("jshell{}{shell}", sdk.name()));
    std::fs::create_dir_all(s.home().join("proj")).unwrap();
    std::fs::write(s.home().join("proj/.awsrole"), "dev\n").unwrap();
    let allowed = s
        .cmd(&["allow"])
        .arg(s.home().join("proj"))
        .output()
        .unwrap();
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    let judge = format!("$({} 2>&1)", sdk.shell_line(&s));
    let mut sh = Shell::start(shell, &s);
    sh.init();
    // The user's own keys and a profile of their own, as before any switch.
    sh.export("AWS_ACCESS_KEY_ID", &s.world.access_key_id);
    sh.export("AWS_SECRET_ACCESS_KEY", &s.world.secret_access_key);
    sh.export("AWS_PROFILE", "role-b");
    let check = |sh: &mut Shell, step: &str, want: String| {
        let arn = sh.value(&judge);
        assert!(
            arn.contains(&want),
            "{sdk:?} in {shell} {step}: wanted {want}, the SDK said {arn}"
        );
    };
    sh.line("awsrole use dev");
    check(&mut sh, "after use dev", by_awsrole(&s, 'C'));
    sh.line("awsrole use dev-d");
    check(&mut sh, "after use dev-d", by_awsrole(&s, 'D'));
    sh.line("awsrole unuse");
    check(&mut sh, "after unuse", user_arn(&s));
    sh.line("cd proj");
    check(&mut sh, "in the .awsrole directory", by_awsrole(&s, 'C'));
    sh.line("cd ~");
    check(&mut sh, "after leaving it", user_arn(&s));
    sh.line("exit");
}

#[test]
fn go_sdk_in_real_shells_after_use_and_in_an_awsrole_directory() {
    for shell in SHELLS {
        in_a_real_shell(Sdk::Go, shell);
    }
}

#[test]
fn java_sdk_in_real_shells_after_use_and_in_an_awsrole_directory() {
    for shell in SHELLS {
        in_a_real_shell(Sdk::Java, shell);
    }
}

// --- credential_process = awsrole export … --format json ---------------------------------

fn through_credential_process(sdk: Sdk) {
    let s = sandbox(&format!("jprocess{}", sdk.name()));
    s.append_config(&format!(
        "\n[profile via-c]\ncredential_process = {BIN} export dev --format json\n\
         \n[profile via-d]\ncredential_process = {BIN} export dev-d --format json\n"
    ));
    let (arn, said) = sdk.identity(&s, &[("AWS_PROFILE", "via-c")]);
    assert!(arn.contains(&by_awsrole(&s, 'C')), "{sdk:?}: {arn}");
    assert!(
        said.contains(sdk.provider("process")),
        "{sdk:?} names its provider: {said}"
    );
    // Cached now: the next profile must still get its own role.
    let (arn, _) = sdk.identity(&s, &[("AWS_PROFILE", "via-d")]);
    assert!(arn.contains(&by_awsrole(&s, 'D')), "{sdk:?}: {arn}");
    let (arn, _) = sdk.identity(&s, &[("AWS_PROFILE", "via-c")]);
    assert!(arn.contains(&by_awsrole(&s, 'C')), "{sdk:?}: {arn}");
}

#[test]
fn go_sdk_through_credential_process() {
    through_credential_process(Sdk::Go);
}

#[test]
fn java_sdk_through_credential_process() {
    through_credential_process(Sdk::Java);
}

// --- exec --server across renewals -------------------------------------------------------

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.split(&format!("{name}="))
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or("")
}

fn under_the_endpoint(sdk: Sdk) {
    let s = sandbox(&format!("jserver{}", sdk.name()));
    let assume_before = s.world.count("AssumeRole");
    // 15 min credentials renewed when 14m50s are left: a renewal every ~10 s.
    let argv = sdk.argv();
    let out = s
        .cmd(&["exec", "--server", "dev", "--duration", "15m", "--"])
        .args(argv)
        .args(["loop", &s.world.url, "25"])
        .envs(judge_env())
        .env("AWSROLE_REFRESH_MARGIN", "890s")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{sdk:?}: {text} {}", stderr(&out));
    assert_eq!(
        field(&text, "failures"),
        "0",
        "{sdk:?}: {text} {}",
        stderr(&out)
    );
    let arns = field(&text, "arns");
    assert!(
        !arns.contains(',') && arns.contains(&by_awsrole(&s, 'C')),
        "{sdk:?}: every call as RoleC: {text}"
    );
    assert!(
        field(&text, "source").contains(sdk.provider("endpoint")),
        "{sdk:?}: the container provider served: {text}"
    );
    let keys: usize = field(&text, "keys").parse().unwrap_or(0);
    assert!(keys >= 1, "{sdk:?}: {text}");
    // The SDKs refetch only minutes before the expiry they were given, so within the run
    // they may keep the first keys while the endpoint renews under them.
    let renewals = s.world.count("AssumeRole") - assume_before - 1;
    assert!(
        renewals >= 2,
        "{sdk:?}: the endpoint renewed {renewals} times: {text}"
    );
}

#[test]
fn go_sdk_under_exec_server_across_renewals() {
    under_the_endpoint(Sdk::Go);
}

#[test]
fn java_sdk_under_exec_server_across_renewals() {
    under_the_endpoint(Sdk::Java);
}

// --- the IAM Identity Center token cache awsrole refreshed ------------------------------

/// tests/support/sso_fake.py: the portal and OIDC on loopback, its role credentials real
/// in moto; one per test, so its request log is this test's alone.
struct SsoFake {
    _server: LocalServer,
    url: String,
}

impl SsoFake {
    fn start() -> SsoFake {
        let server = sso_fake();
        SsoFake {
            url: server.url.clone(),
            _server: server,
        }
    }

    fn curl(&self, args: &[&str]) -> Value {
        let out = Command::new("curl").arg("-sf").args(args).output().unwrap();
        assert!(out.status.success(), "curl {args:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn count(&self, op: &str) -> usize {
        let all = self.curl(&[&format!("{}/requests", self.url)]);
        all.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["op"] == op)
            .count()
    }
}

fn sha1_hex(text: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys;print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
            text,
        ])
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

fn from_the_sso_token_cache(sdk: Sdk) {
    let mut s = Sandbox::seed(&format!("jsso{}", sdk.name()));
    s.keyring = "none";
    let fake = SsoFake::start();
    let start_url = format!("https://{}.awsapps.com/start", s.world.prefix);
    let role = format!("Admin{}", s.world.prefix);
    // `region` on role-x too: without one in the role's own profile or the environment,
    // the Java SDK sends the role hop to the global https://sts.amazonaws.com, ignoring
    // AWS_ENDPOINT_URL_STS (StsProfileCredentialsProviderFactory), where botocore, the Go
    // SDK and awsrole take the region from up the chain.
    s.write_config(&format!(
        "[sso-session corp]\nsso_start_url = {start_url}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
         [profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = {role}\nregion = eu-west-1\n\n\
         [profile role-x]\nrole_arn = {}\nsource_profile = sso-dev\nregion = eu-west-1\n",
        s.world.role_arns[0]
    ));
    // The AWS CLI's token, expired a minute ago but refreshable: whoever reads the cache
    // next must refresh it, unless awsrole wrote the refreshed one back.
    let doc = fake.curl(&[
        "-X",
        "POST",
        "-d",
        &format!(
            r#"{{"start_url":"{start_url}","region":"eu-west-1","expires_in":-60,"refreshable":true}}"#
        ),
        &format!("{}/issue", fake.url),
    ]);
    let cache = s
        .home()
        .join(".aws/sso/cache")
        .join(format!("{}.json", sha1_hex("corp")));
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(&cache, serde_json::to_vec(&doc).unwrap()).unwrap();
    let fake_env = [
        ("AWS_ENDPOINT_URL_SSO", fake.url.as_str()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", fake.url.as_str()),
    ];

    let out = s
        .cmd(&["export", "role-x", "--no-cache", "--format", "env"])
        .envs(fake_env)
        .output()
        .unwrap();
    assert!(out.status.success(), "awsrole: {}", stderr(&out));
    assert_eq!(fake.count("CreateToken"), 1, "awsrole refreshed the token");
    // The keys awsrole exported are RoleA's.
    let vars = parse_env(&stdout(&out));
    let keys: Vec<(&str, &str)> = vars
        .iter()
        .filter(|(k, _)| {
            matches!(
                k.as_str(),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
            )
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(keys.len(), 3, "{vars:?}");
    let (arn, said) = sdk.identity(&s, &keys);
    assert!(arn.contains(&by_awsrole(&s, 'A')), "{sdk:?}: {arn}");
    assert!(said.contains(sdk.provider("env")), "{sdk:?}: {said}");

    // The SDK on its own, from the cache awsrole wrote: the token is good as it is.
    let portal_before = fake.count("GetRoleCredentials");
    let mut extra = vec![("AWS_PROFILE", "role-x")];
    extra.extend(fake_env);
    let out = sdk
        .cmd(&s, &extra, &["identity", &s.world.url])
        .output()
        .unwrap();
    let (arn, said) = (stdout(&out), stderr(&out));
    assert!(
        out.status.success() && arn.contains(&format!("assumed-role/{}RoleA/", s.world.prefix)),
        "{sdk:?}: {arn} {said}\nthe fake saw: {}",
        fake.curl(&[&format!("{}/requests", fake.url)])
    );
    assert!(
        fake.count("GetRoleCredentials") > portal_before,
        "{sdk:?} went through the portal: {said}"
    );
    assert_eq!(
        fake.count("CreateToken"),
        1,
        "{sdk:?} needed no refresh of the token awsrole wrote back"
    );
}

#[test]
fn go_sdk_reads_the_sso_token_cache_awsrole_refreshed() {
    from_the_sso_token_cache(Sdk::Go);
}

#[test]
fn java_sdk_reads_the_sso_token_cache_awsrole_refreshed() {
    from_the_sso_token_cache(Sdk::Java);
}
