//! The credential cache in real keyrings: the kernel's per-user keyring (keyutils) and
//! a Secret Service (gnome-keyring on a private D-Bus). STS calls are counted with
//! moto's recorder; "no terminal" means run under setsid, where /dev/tty cannot open.
// Real shells, pseudo-terminals and the Linux keyrings: Unix only.
#![cfg(unix)]

mod common;

use std::process::{Output, Stdio};

use common::*;

/// The kernel's keyring quota is per user, so every test of this binary that caches in
/// the kernel keyring shares one 20,000-byte budget when run as a normal user
/// (tests/as-user.sh). The quota test fills that budget on purpose; while it runs, any
/// other kernel-keyring test would find the quota full and go on uncached, and its STS
/// call counts would be wrong for a reason that has nothing to do with what it checks.
/// So those tests share this lock, and the quota test takes it alone.
static KERNEL_QUOTA: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A sandbox that caches in the kernel keyring, holding its share of the quota until
/// it is dropped: the sandbox (which purges its entries) goes first, then the share.
struct Kernel {
    sandbox: Sandbox,
    _share: std::sync::RwLockReadGuard<'static, ()>,
}

impl std::ops::Deref for Kernel {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl std::ops::DerefMut for Kernel {
    fn deref_mut(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }
}

fn keyutils(name: &str) -> Kernel {
    let share = KERNEL_QUOTA.read().unwrap_or_else(|e| e.into_inner());
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    Kernel {
        sandbox: s,
        _share: share,
    }
}

/// Bytes of `uid`'s kernel keyring quota in use, from /proc/key-users.
fn quota_bytes_used(uid: u32) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/key-users").ok()?;
    table.lines().find_map(|line| {
        let (user, rest) = line.split_once(':')?;
        if user.trim().parse::<u32>().ok()? != uid {
            return None;
        }
        // "<usage> <nkeys>/<nikeys> <qnkeys>/<maxkeys> <qnbytes>/<maxbytes>"
        rest.split_whitespace()
            .nth(3)?
            .split('/')
            .next()?
            .parse()
            .ok()
    })
}

fn secret_service(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "secret-service";
    s.bus = Some(secret_service_bus().to_string());
    s
}

/// Without a terminal: any MFA prompt would fail at once.
fn run_no_tty(s: &Sandbox, args: &[&str]) -> Output {
    std::process::Command::new("setsid")
        .arg("--wait")
        .arg(BIN)
        .args(args)
        .env_clear()
        .envs(s.envs())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

fn counts(s: &Sandbox) -> (usize, usize) {
    (
        s.world.count("GetSessionToken"),
        s.world.count("AssumeRole"),
    )
}

fn json(out: Output) -> Keys {
    Keys::from_json(&ok(out))
}

/// `role` of this sandbox's world, as STS names its sessions.
fn assumed(s: &Sandbox, role: char) -> String {
    format!("assumed-role/{}Role{role}/", s.world.prefix)
}

fn warm_paths_make_no_sts_call(s: &Sandbox) {
    let cold = json(s.run(&[
        "export",
        "role-e",
        "--mfa-code",
        "123456",
        "--format",
        "json",
    ]));
    assert_eq!(counts(s), (1, 5));
    // A new terminal, no code, no tty: all from the cache, and the very keys STS issued.
    let warm = json(run_no_tty(s, &["export", "role-e", "--format", "json"]));
    assert_eq!(warm, cold, "the cache served other keys than STS issued");
    let middle = json(run_no_tty(s, &["export", "role-c", "--format", "json"]));
    assert_eq!(counts(s), (1, 5));
    // role-c's keys were issued inside the cold chain: STS itself checks them.
    assert!(caller_of(s, &warm).contains(&assumed(s, 'E')));
    assert!(caller_of(s, &middle).contains(&assumed(s, 'C')));
}

#[test]
fn warm_exports_from_the_kernel_keyring_make_no_sts_call() {
    warm_paths_make_no_sts_call(&keyutils("warmkeyutils"));
}

#[test]
fn warm_exports_from_the_secret_service_make_no_sts_call() {
    warm_paths_make_no_sts_call(&secret_service("warmsecretservice"));
}

#[test]
fn the_mfa_session_is_shared_by_every_role_that_names_the_serial() {
    let s = keyutils("sharedmfa");
    s.append_config(&format!(
        "\n[profile other]\nrole_arn = {}\nsource_profile = default\nmfa_serial = {}\n",
        s.world.role_arns[2], s.world.mfa_serial
    ));
    ok(s.run(&["export", "role-a", "--mfa-code", "123456"]));
    let other = json(run_no_tty(&s, &["export", "other", "--format", "json"]));
    assert_eq!(counts(&s), (1, 2));
    // Signed with the cached MFA session's keys, which STS checked.
    assert!(caller_of(&s, &other).contains(&assumed(&s, 'C')));
}

#[test]
fn clearing_one_hop_costs_exactly_one_assume_role() {
    let s = keyutils("clearone");
    let cold = json(s.run(&[
        "export",
        "role-e",
        "--mfa-code",
        "123456",
        "--format",
        "json",
    ]));
    ok(s.run(&["cache", "clear", "role-e"]));
    let before = s.world.calls().len();
    let again = json(run_no_tty(&s, &["export", "role-e", "--format", "json"]));
    let calls = s.world.calls();
    assert_eq!(calls.len(), before + 1);
    assert_eq!(
        calls.last().unwrap().role_arn.as_deref(),
        Some(s.world.role_arns[4].as_str())
    );
    // That one call was signed with role-d's cached keys (STS checked them) and
    // gave new keys.
    assert_ne!(again, cold);
    assert!(caller_of(&s, &again).contains(&assumed(&s, 'E')));
}

#[test]
fn credentials_inside_the_refresh_margin_are_fetched_again() {
    let s = keyutils("margin");
    ok(s.run(&[
        "export",
        "role-b",
        "--mfa-code",
        "123456",
        "--duration",
        "15m",
    ]));
    assert_eq!(counts(&s), (1, 2));
    // A command with a margin longer than the roles' sessions neither uses nor drops
    // what other shells still can: after `explain` looked every hop up with that
    // margin, a normal export finds it all.
    let explained = s
        .cmd(&["explain", "role-b", "--duration", "15m"])
        .env("AWSROLE_REFRESH_MARGIN", "2h")
        .output()
        .unwrap();
    ok(explained);
    ok(run_no_tty(&s, &["export", "role-b", "--duration", "15m"]));
    assert_eq!(counts(&s), (1, 2), "nothing was dropped");
    // Exporting with that margin (but not the 8 h MFA session's) calls STS again, and
    // says why the cache cannot serve it.
    let out = s
        .cmd(&["export", "role-b", "--duration", "15m"])
        .env("AWSROLE_REFRESH_MARGIN", "2h")
        .output()
        .unwrap();
    let out = ok(out);
    assert_eq!(counts(&s), (1, 4));
    assert_eq!(
        stderr(&out).matches("is not shorter than").count(),
        1,
        "one warning: {}",
        stderr(&out)
    );
    // Without that margin they are fresh again.
    ok(run_no_tty(&s, &["export", "role-b", "--duration", "15m"]));
    assert_eq!(counts(&s), (1, 4));
}

#[test]
fn an_edited_profile_is_never_served_old_credentials() {
    let s = keyutils("edited");
    ok(s.run(&["export", "role-b", "--mfa-code", "123456"]));
    s.append_config("\n[profile role-b]\nexternal_id = new-external-id\n");
    ok(run_no_tty(&s, &["export", "role-b"]));
    let calls = s.world.calls();
    assert_eq!(counts(&s), (1, 3));
    assert_eq!(
        calls.last().unwrap().external_id.as_deref(),
        Some("new-external-id")
    );
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let s = keyutils("nocache");
    ok(s.run(&["export", "role-b", "--mfa-code", "123456", "--no-cache"]));
    ok(s.run(&["export", "role-b", "--mfa-code", "123456", "--no-cache"]));
    assert_eq!(counts(&s), (2, 4));
    let listed = stdout(&ok(s.run(&["cache", "list"])));
    assert_eq!(listed.lines().count(), 1, "only the header: {listed}");
}

#[test]
fn cache_list_shows_roles_and_expiry_but_no_secret() {
    let s = keyutils("cachelist");
    let exported = parse_env(&stdout(&ok(s.run(&[
        "export",
        "role-c",
        "--mfa-code",
        "123456",
        "--format",
        "env",
    ]))));
    let secret = get(&exported, "AWS_SECRET_ACCESS_KEY").unwrap().to_string();
    let listed = stdout(&ok(s.run(&["cache", "list"])));
    for arn in &s.world.role_arns[..3] {
        assert!(listed.contains(arn.as_str()), "{listed}");
    }
    assert!(listed.contains(&s.world.mfa_serial), "{listed}");
    assert!(!listed.contains(&secret));
    ok(s.run(&["cache", "clear"]));
    assert_eq!(stdout(&ok(s.run(&["cache", "list"]))).lines().count(), 1);
}

#[test]
fn an_unreachable_keyring_warns_and_the_command_still_succeeds() {
    let mut s = Sandbox::seed("nokeyring");
    s.keyring = "secret-service";
    s.bus = Some(format!("unix:path={}/no-such-bus", s.home().display()));
    let out = ok(s.run(&[
        "export",
        "role-b",
        "--mfa-code",
        "123456",
        "--format",
        "env",
    ]));
    assert!(
        stderr(&out).contains("awsrole: warning:"),
        "{}",
        stderr(&out)
    );
    // Uncached, and no fallback to a file either.
    let vars = parse_env(&stdout(&out));
    let secret = get(&vars, "AWS_SECRET_ACCESS_KEY").unwrap();
    let hits = files_containing(&[s.home().to_path_buf()], secret);
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn no_session_secret_ever_reaches_a_file() {
    let s = keyutils("nosecretfile");
    let out = ok(s.run(&[
        "export",
        "role-e",
        "--mfa-code",
        "123456",
        "--format",
        "env",
    ]));
    ok(run_no_tty(&s, &["export", "role-e"]));
    ok(s.run(&["cache", "list"]));
    let vars = parse_env(&stdout(&out));
    let secret = get(&vars, "AWS_SECRET_ACCESS_KEY").unwrap();
    let hits = files_containing(&[s.home().to_path_buf(), std::env::temp_dir()], secret);
    assert!(hits.is_empty(), "the role's secret was found in {hits:?}");
}

/// Files under `roots` whose bytes contain `needle`.
fn files_containing(roots: &[std::path::PathBuf], needle: &str) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    for root in roots {
        grep_tree(root, needle.as_bytes(), &mut hits, 0);
    }
    hits
}

fn grep_tree(
    dir: &std::path::Path,
    needle: &[u8],
    hits: &mut Vec<std::path::PathBuf>,
    depth: usize,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        // Build trees (a CI clone may sit in the temp dir) hold nothing awsrole writes.
        let skip = matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("target" | ".git")
        );
        if meta.is_dir() && depth < 8 && !skip {
            grep_tree(&path, needle, hits, depth + 1);
        } else if meta.is_file() && meta.len() < 4 << 20 {
            if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path);
                }
            }
        }
    }
}

/// `export role-b` with its code given, printing JSON on a pipe (a second shell).
fn export_role_b_json(s: &Sandbox) -> std::process::Command {
    let mut cmd = s.cmd(&[
        "export",
        "role-b",
        "--mfa-code",
        "123456",
        "--format",
        "json",
    ]);
    cmd.stdout(Stdio::piped());
    cmd
}

#[test]
fn two_shells_resolving_at_once_share_one_mfa_session() {
    let s = keyutils("concurrent");
    let spawn = || export_role_b_json(&s).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        json(a.wait_with_output().unwrap()),
        json(b.wait_with_output().unwrap()),
    );
    assert_eq!(
        counts(&s),
        (1, 2),
        "the second waited for the first and used its cache"
    );
    assert_eq!(a, b, "both hold the one session STS issued");
    assert!(caller_of(&s, &a).contains(&assumed(&s, 'B')));
}

#[test]
fn a_second_terminal_says_whom_it_waits_for() {
    use expectrl::Expect;
    let s = keyutils("waitsay");
    // The first asks for its MFA code at a terminal, holding the MFA session's lock.
    let mut first_cmd = std::process::Command::new(BIN);
    first_cmd
        .args(["export", "role-b"])
        .env_clear()
        .envs(s.envs());
    let mut first = expectrl::Session::spawn(first_cmd).unwrap();
    first.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    first.expect("Enter MFA code for").unwrap();
    let mut second = export_role_b_json(&s)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It says so at once, while the first still waits for its person.
    let mut said = String::new();
    let mut err = std::io::BufReader::new(second.stderr.take().unwrap());
    std::io::BufRead::read_line(&mut err, &mut said).unwrap();
    assert!(
        said.contains("waiting for another awsrole (pid ")
            && said.contains(&format!("the MFA session of {}", s.world.mfa_serial)),
        "{said}"
    );
    first.send_line("123456").unwrap();
    first.expect(expectrl::Eof).unwrap();
    let out = second.wait_with_output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(counts(&s), (1, 2), "the second used what the first made");
}

#[test]
fn added_keys_live_in_the_secret_service_and_win_over_the_file() {
    let s = secret_service("addkeys");
    s.write_credentials("");
    let keys = format!("{}\n{}\n", s.world.access_key_id, s.world.secret_access_key);
    let out = output_with_stdin(&mut s.cmd(&["add", "default"]), keys.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{}User1", s.world.prefix)),
        "checked with GetCallerIdentity"
    );
    assert_eq!(s.world.count("GetCallerIdentity"), 1);

    assert!(stdout(&ok(s.run(&["list"]))).contains("default [keyring]"));
    // Every line that shows the chain says so: allow, status and the picker too.
    std::fs::write(s.home().join(".awsrole"), "role-b\n").unwrap();
    let allowed = ok(s.run(&["allow"]));
    assert!(
        stderr(&allowed).contains("role-b ← role-a (mfa) ← default [keyring]"),
        "{}",
        stderr(&allowed)
    );
    let status = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; awsrole use role-b --mfa-code 123456; awsrole status",
    );
    assert!(
        stdout(&status).contains("default [keyring]"),
        "{}{}",
        stdout(&status),
        stderr(&status)
    );
    let mut picker = std::process::Command::new(BIN);
    picker
        .arg("pick")
        .env_clear()
        .envs(s.envs())
        .current_dir(s.home());
    use expectrl::Expect;
    let mut term = expectrl::Session::spawn(picker).unwrap();
    term.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    term.expect("default [keyring]").unwrap();
    term.send("\u{1b}").unwrap();
    let vars = parse_env(&stdout(&ok(s.run(&[
        "export",
        "role-b",
        "--mfa-code",
        "123456",
        "--format",
        "env",
    ]))));
    assert!(caller_arn_with_env(&s, &vars).contains(&format!("{}RoleB", s.world.prefix)));

    ok(s.run(&["remove", "default"]));
    let out = s.run(&["export", "role-b", "--mfa-code", "123456", "--no-cache"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no credentials"), "{}", stderr(&out));
}

#[test]
fn bad_keys_are_not_stored() {
    let world = World::build("badadd", 1);
    let mut s = Sandbox::with_world(world);
    s.keyring = "secret-service";
    s.bus = Some(secret_service_bus().to_string());
    // moto without IAM checks accepts any key; an unreachable STS shows the check runs.
    let out = output_with_stdin(
        s.cmd(&["add", "someone"])
            .env("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
        b"AKIDEXAMPLEKEY\nsecret\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--no-verify"), "{}", stderr(&out));
    let out = s.run(&["remove", "someone"]);
    assert!(
        stderr(&out).contains("no keys of 'someone'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn kernel_keyring_entries_expire_with_their_credentials() {
    let s = keyutils("keytimeout");
    ok(s.run(&["export", "role-b", "--mfa-code", "123456"]));
    // /proc/keys: id flags usage timeout perm uid gid type description: size
    let keys = std::fs::read_to_string("/proc/keys").unwrap();
    let ours: Vec<&str> = keys
        .lines()
        .filter(|l| l.contains(&s.world.prefix))
        .collect();
    assert_eq!(ours.len(), 3, "MFA session, role-a, role-b: {ours:?}");
    for line in ours {
        let timeout = line.split_whitespace().nth(3).unwrap();
        assert_ne!(timeout, "perm", "every entry has a kernel timeout: {line}");
        assert!(timeout.ends_with('m') || timeout.ends_with('h'), "{line}");
    }
}

#[test]
fn a_secret_service_that_never_answers_costs_a_warning_not_a_hang() {
    let mut s = Sandbox::seed("deadbus");
    s.keyring = "secret-service";
    let socket = s.home().join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Accepts connections and never says a word.
    let _held = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    s.bus = Some(format!("unix:path={}", socket.display()));
    let started = std::time::Instant::now();
    let out = ok(s.run(&["export", "role-b", "--mfa-code", "123456"]));
    // One deadline (5 s), then the bus is skipped for the rest of the command.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(stderr(&out).contains("did not answer"), "{}", stderr(&out));
    assert!(stdout(&out).contains("AWS_SESSION_TOKEN"));
}

/// As an unprivileged user the kernel enforces its per-user quota (200 keys, 20,000
/// bytes); root's is effectively unlimited, so as root this runs as `nobody`.
#[test]
fn over_the_kernel_quota_old_entries_of_this_namespace_are_evicted_and_no_others() {
    // This test needs the user's whole quota: no other kernel-keyring test runs with it.
    let _alone = KERNEL_QUOTA.write().unwrap_or_else(|e| e.into_inner());
    let mut s = Sandbox::seed("quota");
    s.keyring = "keyutils";
    // Seven chains of five hops, each hop with its own session name, so each chain
    // is ~3.8 KB of entries of its own: well over 20,000 bytes in one namespace.
    let mut cfg = s.world.seed_config();
    for n in 0..7 {
        let mut source = "default".to_string();
        for (i, arn) in s.world.role_arns.iter().enumerate() {
            let name = format!("c{n}-{}", (b'a' + i as u8) as char);
            cfg.push_str(&format!(
                "[profile {name}]\nrole_arn = {arn}\nsource_profile = {source}\nrole_session_name = c{n}\n{}\n",
                if i == 0 { format!("mfa_serial = {}", s.world.mfa_serial) } else { String::new() }
            ));
            source = name;
        }
    }
    s.write_config(&cfg);
    let home = s.home().display().to_string();
    if is_root() {
        assert!(std::process::Command::new("chown")
            .args(["-R", "65534:65534", &home])
            .status()
            .unwrap()
            .success());
    }
    let run = |args: &[&str], namespace: &str| {
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
            c.args(args);
            c
        } else {
            let mut c = std::process::Command::new(args[0]);
            c.args(&args[1..]);
            c
        };
        cmd.env_clear()
            .envs(s.envs())
            .env("AWSROLE_CACHE_NAMESPACE", namespace)
            .current_dir(s.home())
            .output()
            .unwrap()
    };
    let (mine, bystander) = (
        format!("{}mine", s.world.prefix),
        format!("{}bystander", s.world.prefix),
    );
    // As root the test has nobody's keyring to itself; as a normal user it removes only
    // what its own namespaces hold.
    let purge = || {
        if is_root() {
            run(&["keyctl", "clear", "@u"], "");
            return;
        }
        for ns in [&mine, &bystander] {
            let prefix = format!("awsrole:session:{ns}:");
            run(&["keyctl", "purge", "-p", "user", &prefix], "");
        }
    };
    purge();
    // Someone else's cache (the user's everyday one, say): one whole chain.
    let out = run(
        &[BIN, "export", "role-e", "--mfa-code", "123456"],
        &bystander,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut log = String::new();
    for n in 0..7 {
        let out = run(
            &[BIN, "export", &format!("c{n}-e"), "--mfa-code", "123456"],
            &mine,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("AWS_SESSION_TOKEN"));
        log.push_str(&stderr(&out));
    }
    assert!(
        log.contains("quota reached"),
        "eviction was needed and reported: {log}"
    );
    assert!(
        !log.contains("could not cache"),
        "eviction made room every time: {log}"
    );
    // The newest chain is whole: a warm export makes no call, and its keys work.
    let before = s.world.calls().len();
    let out = run(&[BIN, "export", "c6-e", "--format", "json"], &mine);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        s.world.calls().len(),
        before,
        "{log}\n---\n{}",
        stderr(&out)
    );
    assert!(caller_of(&s, &Keys::from_json(&out)).contains(&assumed(&s, 'E')));
    // The other namespace lost nothing to that eviction.
    let out = run(&[BIN, "export", "role-e", "--format", "json"], &bystander);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        s.world.calls().len(),
        before,
        "the bystander's chain was evicted"
    );
    purge();
    // A purged key gives its bytes back when the kernel's key collector runs, a moment
    // later: wait for that (up to 15 s) before other tests get the quota back.
    // SAFETY: getuid has no preconditions.
    let uid = if is_root() {
        65534
    } else {
        unsafe { libc::getuid() }
    };
    for _ in 0..150 {
        if quota_bytes_used(uid).is_none_or(|used| used < 10_000) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn add_at_a_terminal_hides_the_secret() {
    use expectrl::Expect;
    let s = secret_service("addtty");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["add", "default"])
        .env_clear()
        .envs(s.envs())
        .current_dir(s.home());
    let mut term = expectrl::Session::spawn(cmd).unwrap();
    term.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    term.expect("Access key id for default: ").unwrap();
    term.send_line(&s.world.access_key_id).unwrap();
    term.expect("Secret access key for default: ").unwrap();
    term.send_line(&s.world.secret_access_key).unwrap();
    let rest = term.expect("stored the keys of 'default'").unwrap();
    let screen = String::from_utf8_lossy(rest.before()).into_owned();
    assert!(
        !screen.contains(&s.world.secret_access_key),
        "the secret was echoed: {screen}"
    );
    assert!(
        screen.contains(&format!("{}User1", s.world.prefix)),
        "{screen}"
    );
}

#[test]
fn credential_process_roots_that_expire_are_cached_like_hops() {
    let s = keyutils("procroot");
    let runs = s.home().join("runs");
    let script = s.home().join("creds.sh");
    let doc = |expiry: &str| {
        format!(
            "{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\"{expiry}}}",
            s.world.access_key_id, s.world.secret_access_key
        )
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> {}\nif [ \"$1\" = expiring ]; then cat <<EOF\n{}\nEOF\nelse cat <<EOF\n{}\nEOF\nfi\n",
            runs.display(),
            doc(", \"Expiration\": \"$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)\""),
            doc("")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.append_config(&format!(
        "\n[profile expiring]\ncredential_process = {0} expiring\n[profile forever]\ncredential_process = {0} forever\n",
        script.display()
    ));
    let count = || {
        std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let issued = json(s.run(&["export", "expiring", "--format", "json"]));
    let cached = json(s.run(&["export", "expiring", "--format", "json"]));
    assert_eq!(count(), 1, "the second export came from the keyring");
    assert_eq!(cached, issued);
    assert_eq!(cached.secret_access_key, s.world.secret_access_key);
    let listed = stdout(&ok(s.run(&["cache", "list"])));
    assert!(listed.contains("root of expiring"), "{listed}");
    // Credentials without an expiry are long-term: never cached.
    ok(s.run(&["export", "forever"]));
    ok(s.run(&["export", "forever"]));
    assert_eq!(count(), 3);
}

#[test]
fn add_drops_only_the_sessions_of_that_profiles_keys_and_names_a_missing_profile() {
    let s = secret_service("addscope");
    // A second root with the same user's keys: `second` → role `via-second` (RoleC).
    s.write_credentials(&format!(
        "{}[second]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.world.seed_credentials(),
        s.world.access_key_id,
        s.world.secret_access_key
    ));
    s.append_config(&format!(
        "\n[profile second]\n[profile via-second]\nrole_arn = {}\nsource_profile = second\n",
        s.world.role_arns[2]
    ));
    ok(s.run(&["export", "role-b", "--mfa-code", "123456"]));
    ok(s.run(&["export", "via-second"]));
    assert_eq!(counts(&s), (1, 3));
    let add = |profile: &str| {
        let keys = format!("{}\n{}\n", s.world.access_key_id, s.world.secret_access_key);
        ok(output_with_stdin(
            &mut s.cmd(&["add", profile, "--no-verify"]),
            keys.as_bytes(),
        ))
    };
    add("second");
    // default's MFA session and role-a/role-b stay; via-second is made again.
    ok(run_no_tty(&s, &["export", "role-b"]));
    assert_eq!(counts(&s), (1, 3), "the other root's sessions were kept");
    ok(run_no_tty(&s, &["export", "via-second"]));
    assert_eq!(counts(&s), (1, 4), "second's own session was dropped");
    // A profile with no section: kept, with a word on what to do.
    let out = add("nowhere");
    assert!(
        stderr(&out).contains("there is no profile 'nowhere'")
            && stderr(&out).contains("[profile nowhere]"),
        "{}",
        stderr(&out)
    );
}
