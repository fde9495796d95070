//! What an adversarial probe broke, each reproduced against the real parts: a missing
//! HOME, hostile `.awsrole` files, a misbehaving STS, a held MFA prompt, helpers that
//! never return, a session keyring without `@u`, hostile profile names, huge configs,
//! dead endpoints and keyrings, terminal escapes, non-UTF-8 paths.
// Real shells, pseudo-terminals and the Linux keyrings: Unix only.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn fails_with(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in {err}");
    }
}

/// A profile with no MFA: one AssumeRole of RoleC from the user's keys.
fn with_dev(name: &str) -> Sandbox {
    let s = Sandbox::seed(name);
    s.append_config(&s.world.dev_profile());
    s
}

fn allow_dir(s: &Sandbox, dir: &Path, profile: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".awsrole"), format!("{profile}\n")).unwrap();
    let out = s.cmd(&["allow"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn hook_in(s: &Sandbox, dir: &Path, extra: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let out = s
        .cmd(&["hook", "bash"])
        .current_dir(dir)
        .env("PWD", dir)
        .envs(extra.iter().copied())
        .output()
        .unwrap();
    (out, started.elapsed())
}

#[test]
fn without_home_the_working_directory_is_never_taken_for_it() {
    let s = Sandbox::seed("nohome");
    // A cloned repository bringing its own AWS config, a .awsrole and a forged allow
    // entry made as if its directory were HOME.
    let repo = tempfile::tempdir().unwrap();
    let marker = repo.path().join("ran");
    std::fs::create_dir_all(repo.path().join(".aws")).unwrap();
    std::fs::write(
        repo.path().join(".aws/config"),
        format!(
            "[profile evil]\ncredential_process = touch {}\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::write(repo.path().join(".awsrole"), "evil\n").unwrap();
    let forged = s
        .cmd(&["allow", &repo.path().display().to_string()])
        .env("HOME", repo.path())
        .env_remove("XDG_DATA_HOME")
        .output()
        .unwrap();
    assert!(forged.status.success(), "{}", stderr(&forged));
    for home in [None, Some(""), Some(".")] {
        let mut cmd = s.cmd(&["hook", "bash"]);
        cmd.current_dir(repo.path())
            .env("PWD", repo.path())
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_RUNTIME_DIR");
        match home {
            Some(h) => cmd.env("HOME", h),
            None => cmd.env_remove("HOME"),
        };
        let out = cmd.output().unwrap();
        assert!(
            !marker.exists(),
            "HOME={home:?} ran the repository's command"
        );
        assert!(
            !stdout(&out).contains("AWS_ACCESS_KEY_ID"),
            "{}",
            stdout(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn lock_files_go_only_where_this_user_alone_can_write() {
    let s = with_dev("lockdir");
    let runtime = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), runtime.path().join("awsrole")).unwrap();
    let out = s
        .cmd(&["export", "dev"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("AWSROLE_KEYRING", "keyutils")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no lock"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing was created through the planted link"
    );
    // A directory another user made (and so could hold locks in) is refused too.
    let made = tempfile::tempdir().unwrap();
    std::fs::create_dir(made.path().join("awsrole")).unwrap();
    let theirs = owned_by_another_user(
        &made.path().join("awsrole"),
        "AWSROLE_TEST_FOREIGN_LOCK_DIR",
    );
    // With the cache on and empty, so the resolution takes its lock there.
    let cleared = s
        .cmd(&["cache", "clear"])
        .env("AWSROLE_KEYRING", "keyutils")
        .output()
        .unwrap();
    assert!(cleared.status.success(), "{}", stderr(&cleared));
    let started = Instant::now();
    let out = s
        .cmd(&["export", "dev"])
        .env("XDG_RUNTIME_DIR", theirs.parent().unwrap())
        .env("AWSROLE_KEYRING", "keyutils")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no lock"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(&theirs).unwrap().count(),
        0,
        "no lock file in the other user's directory"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[cfg(target_os = "linux")]
#[test]
fn awsrole_links_to_special_or_outside_files_are_refused_without_echoing_them() {
    let s = with_dev("links");
    let home = s.home();
    let secret_file = home.join("git-credentials");
    std::fs::write(&secret_file, "ghpSECRETTOKENvalue\n").unwrap();
    for (name, target) in [
        ("pagemap", Path::new("/proc/self/pagemap").to_path_buf()),
        ("secret", secret_file.clone()),
    ] {
        let dir = home.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&target, dir.join(".awsrole")).unwrap();
        let (out, took) = hook_in(&s, &dir, &[]);
        assert!(took < Duration::from_secs(5), "{name}: {took:?}");
        assert!(
            stderr(&out).contains("link that leaves its directory"),
            "{name}: {}",
            stderr(&out)
        );
        let allow = s.run(&["allow", &dir.display().to_string()]);
        assert_eq!(allow.status.code(), Some(1));
        for text in [stderr(&out), stderr(&allow), stdout(&out)] {
            assert!(!text.contains("ghpSECRET"), "{name}: {text}");
        }
    }
    // A link inside the directory is fine; a FIFO never hangs the prompt.
    let inside = home.join("inside");
    std::fs::create_dir_all(&inside).unwrap();
    std::fs::write(inside.join("profile.txt"), "dev\n").unwrap();
    std::os::unix::fs::symlink("profile.txt", inside.join(".awsrole")).unwrap();
    assert!(s
        .run(&["allow", &inside.display().to_string()])
        .status
        .success());
    let fifo = home.join("fifo");
    std::fs::create_dir_all(&fifo).unwrap();
    assert!(Command::new("mkfifo")
        .arg(fifo.join(".awsrole"))
        .status()
        .unwrap()
        .success());
    let (_, took) = hook_in(&s, &fifo, &[]);
    assert!(took < Duration::from_secs(5));
}

#[test]
fn a_bom_and_comments_before_the_profile_name_are_fine() {
    let s = with_dev("bom");
    let dir = s.home().join("bom");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "\u{feff}# team\ndev\n").unwrap();
    let out = s.run(&["allow", &dir.display().to_string()]);
    assert!(stderr(&out).contains("allowed"), "{}", stderr(&out));
    let (out, _) = hook_in(&s, &dir, &[]);
    assert!(
        stdout(&out).contains("export AWSROLE_PROFILE=dev"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_sts_answers_are_errors_that_name_hop_and_endpoint_and_cache_nothing() {
    let mut s = with_dev("malformed");
    s.keyring = "keyutils";
    for (mode, detail) in [
        ("truncated", "had no SecretAccessKey"),
        ("empty", "had no AccessKeyId"),
        ("expired", "already expired"),
        ("html", "HTTP 502, text/html"),
    ] {
        let endpoint = format!("{}/{mode}", bad_sts());
        let out = s
            .cmd(&["export", "dev"])
            .env("AWS_ENDPOINT_URL_STS", &endpoint)
            .output()
            .unwrap();
        fails_with(&out, &["hop 1 of 1", "profile 'dev'", &endpoint, detail]);
        for secret in ["badstsSECRET", "badstsTOKEN", "Unknown:"] {
            assert!(!stderr(&out).contains(secret), "{mode}: {}", stderr(&out));
        }
        let cached = s.run(&["cache", "list"]);
        assert_eq!(
            stdout(&cached).lines().count(),
            1,
            "{mode}: only the header"
        );
    }
}

#[test]
fn an_endless_sts_body_is_cut_off_not_read_into_memory() {
    let s = with_dev("endless");
    let endpoint = format!("{}/endless", bad_sts());
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss=%M", BIN, "export", "dev"])
        .env_clear()
        .envs(s.envs())
        .env("AWS_ENDPOINT_URL_STS", &endpoint)
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let rss_kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(rss_kb < 200 * 1024, "peak memory {rss_kb} KiB: {err}");
}

#[test]
fn an_mfa_prompt_in_one_shell_does_not_hold_up_an_unrelated_chain() {
    let mut s = with_dev("perchain");
    s.keyring = "keyutils";
    let mut cmd = Command::new(BIN);
    cmd.args(["export", "role-b"]).env_clear().envs(s.envs());
    let mut waiting = expectrl::Session::spawn(cmd).unwrap();
    waiting.set_expect_timeout(Some(Duration::from_secs(20)));
    use expectrl::Expect;
    waiting.expect("Enter MFA code for").unwrap();
    let started = Instant::now();
    let out = s.run(&["export", "dev"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited {:?} behind the MFA prompt",
        started.elapsed()
    );
    waiting.send_line("123456").unwrap();
}

#[test]
fn helpers_that_never_return_have_a_deadline() {
    let s = Sandbox::seed("deadline");
    s.append_config(&format!(
        "\n[profile slow]\ncredential_process = sleep 1000\n[profile via-slow]\nrole_arn = {}\nsource_profile = slow\n[profile slow-mfa]\nrole_arn = {}\nsource_profile = default\nmfa_serial = {}\nmfa_process = sleep 1000\n",
        s.world.role_arns[2], s.world.role_arns[0], s.world.mfa_serial
    ));
    let started = Instant::now();
    let out = s
        .cmd(&["export", "slow"])
        .env("AWSROLE_PROCESS_TIMEOUT", "2")
        .output()
        .unwrap();
    fails_with(
        &out,
        &[
            "credential_process of profile 'slow'",
            "did not finish within 2s",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let out = s
        .cmd(&["export", "slow-mfa"])
        .env("AWSROLE_PROCESS_TIMEOUT", "2")
        .output()
        .unwrap();
    fails_with(&out, &["mfa_process of profile 'slow-mfa'", "within 2s"]);
    // The hook never waits more than its budget, whatever the default deadline.
    let dir = s.home().join("slow");
    allow_dir(&s, &dir, "via-slow");
    let (out, took) = hook_in(&s, &dir, &[]);
    // Far from the 5-minute default deadline, and a hang guard on a loaded machine.
    assert!(took < Duration::from_secs(15), "the hook took {took:?}");
    assert!(stderr(&out).contains("did not finish"), "{}", stderr(&out));
}

#[cfg(target_os = "linux")]
#[test]
fn the_kernel_keyring_works_in_a_session_that_does_not_link_the_user_keyring() {
    let mut s = Sandbox::seed("session");
    s.keyring = "keyutils";
    let in_new_session = |args: &[&str]| {
        Command::new("keyctl")
            .args(["session", "-", BIN])
            .args(args)
            .env_clear()
            .envs(s.envs())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = in_new_session(&[
        "export",
        "role-c",
        "--mfa-code",
        "123456",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert_eq!(s.world.count("AssumeRole"), 3);
    let issued = Keys::from_json(&out);
    // Another new session (another terminal) finds them: no STS call, no code, and
    // the very keys STS issued.
    let out = in_new_session(&["export", "role-c", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.world.count("AssumeRole"), 3);
    assert_eq!(Keys::from_json(&out), issued);
    // Every entry has a kernel timeout.
    let keys = std::fs::read_to_string("/proc/keys").unwrap();
    let ours: Vec<&str> = keys
        .lines()
        .filter(|l| l.contains(&format!("awsrole:session:{}", s.world.prefix)))
        .collect();
    assert_eq!(ours.len(), 4, "{keys}");
    assert!(ours.iter().all(|l| !l.contains(" perm ")), "{ours:?}");
}

#[test]
fn bash_completion_never_runs_code_in_profile_names() {
    let s = Sandbox::seed("complinject");
    let marker = s.home().join("pwned");
    s.append_config(&format!(
        "\n[profile \"$(touch {})\"]\nregion = x\n",
        marker.display()
    ));
    let script = "source <(awsrole completions bash); COMP_WORDS=(awsrole use ''); COMP_CWORD=2; \
                  __awsrole_complete; printf '%s\\n' \"${COMPREPLY[@]}\"";
    let out = shell_run(&s, "bash", script);
    assert!(!marker.exists(), "completion ran a profile name");
    assert!(stdout(&out).contains("$(touch"), "{}", stdout(&out));
}

#[test]
fn env_format_is_inert_when_sourced_by_sh() {
    let s = Sandbox::seed("dotenv");
    s.append_config(&format!(
        "\n[profile \"x`touch pwned`$(touch pwned2)\"]\nrole_arn = {}\nsource_profile = default\n",
        s.world.role_arns[2]
    ));
    let out = s.run(&["export", "x`touch pwned`$(touch pwned2)", "--format", "env"]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(s.home().join("creds.env"), &out.stdout).unwrap();
    let sourced = Command::new("sh")
        .args([
            "-c",
            "set -a; . ./creds.env; printf '%s' \"$AWSROLE_PROFILE\"",
        ])
        .current_dir(s.home())
        .output()
        .unwrap();
    assert!(!s.home().join("pwned").exists() && !s.home().join("pwned2").exists());
    assert_eq!(stdout(&sourced), "x`touch pwned`$(touch pwned2)");
}

#[test]
fn huge_profile_names_and_configs_do_not_crash_or_crawl() {
    let s = Sandbox::seed("huge");
    let long = "A".repeat(70_000);
    // A 1 MB config with one section repeated between others, and a 4,000-profile loop.
    let mut cfg = format!("[profile {long}]\nregion = x\n");
    for i in 0..4000 {
        cfg.push_str(&format!(
            "[profile loop{i}]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = loop{}\n[profile again]\nregion = r{i}\n",
            (i + 1) % 4000
        ));
    }
    while cfg.len() < 1_000_000 {
        cfg.push_str("[profile again]\nregion = padding\n");
    }
    s.write_config(&cfg);
    for args in [&["list"][..], &["list", "--names"], &["explain", "loop7"]] {
        let started = Instant::now();
        let out = s.run(args);
        // A hang guard, not a speed claim (bench/run.sh measures the parse).
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{args:?} took {:?}",
            started.elapsed()
        );
        // 0 or a reported error (1); a panic exits 101, a signal has no code.
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && !stderr(&out).contains("panicked"),
            "{args:?} crashed ({:?}): {}",
            out.status,
            stderr(&out)
        );
    }
    let out = s.run(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("longer than 128 roles"));
}

#[cfg(target_os = "linux")]
#[test]
fn no_core_dump_can_hold_a_secret_while_awsrole_runs() {
    let s = Sandbox::seed("core");
    let mut cmd = Command::new("bash");
    cmd.args([
        "-c",
        &format!("ulimit -c unlimited; exec {BIN} export role-a"),
    ])
    .env_clear()
    .envs(s.envs());
    let mut waiting = expectrl::Session::spawn(cmd).unwrap();
    use expectrl::Expect;
    waiting.set_expect_timeout(Some(Duration::from_secs(20)));
    waiting.expect("Enter MFA code for").unwrap();
    let pid = waiting.get_process().pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let soft = core.split_whitespace().nth(4).unwrap();
    assert_eq!(soft, "0", "{core}");
    waiting.send_line("123456").unwrap();
    // `exec` gives the user's command its own limit back.
    let out = Command::new("bash")
        .args([
            "-c",
            &format!("ulimit -c 1234; {BIN} exec role-a --mfa-code 123456 -- bash -c 'ulimit -c'"),
        ])
        .env_clear()
        .envs(s.envs())
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "1234", "{}", stderr(&out));
}

#[test]
fn an_unreachable_sts_costs_the_prompt_one_short_wait_not_one_per_entry() {
    let s = with_dev("frozen");
    let dir = s.home().join("frozen");
    allow_dir(&s, &dir, "dev");
    // An STS that accepts connections and never answers; it counts them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    let (first, took) = hook_in(&s, &dir, &[("AWS_ENDPOINT_URL_STS", &url)]);
    // The hook's budget is 2.5 s; the rest is room for a loaded machine.
    assert!(took < Duration::from_secs(10), "first entry took {took:?}");
    assert!(
        stderr(&first).contains("cannot switch to dev"),
        "{}",
        stderr(&first)
    );
    let tried = connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(tried >= 1, "the first entry asked STS");
    let retry = stdout(&first)
        .lines()
        .find_map(|l| l.strip_prefix("export AWSROLE_RETRY="))
        .map(|v| v.trim_matches('\'').to_string())
        .expect("the failure is remembered");
    // Back in the directory a moment later: STS is not asked again, so no second wait.
    let (again, took) = hook_in(
        &s,
        &dir,
        &[("AWS_ENDPOINT_URL_STS", &url), ("AWSROLE_RETRY", &retry)],
    );
    assert!(took < Duration::from_secs(10), "re-entry took {took:?}");
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        tried,
        "the re-entry asked STS again"
    );
    assert!(!stdout(&again).contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn a_stopped_secret_service_costs_the_prompt_one_short_wait() {
    let mut helper = Command::new("python3")
        .arg(support("secret_service.py"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(helper.stdout.take().unwrap()).lines();
    let bus = lines.next().unwrap().unwrap();
    let daemon = lines.next().unwrap().unwrap();
    let mut s = with_dev("stoppedss");
    s.keyring = "secret-service";
    s.bus = Some(bus);
    let dir = s.home().join("ss");
    allow_dir(&s, &dir, "dev");
    assert!(Command::new("kill")
        .args(["-STOP", &daemon])
        .status()
        .unwrap()
        .success());
    let (out, took) = hook_in(&s, &dir, &[]);
    let _ = Command::new("kill").args(["-CONT", &daemon]).status();
    // The helper stops both daemons when this test binary exits.
    drop(helper);
    assert!(
        took < Duration::from_secs(5),
        "the hook took {took:?}: {}",
        stderr(&out)
    );
    // It did ask the stopped keyring (and said so), then applied the role without it.
    assert!(stderr(&out).contains("did not answer"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("AWS_SESSION_TOKEN") && stdout(&out).contains("AWSROLE_PROFILE"),
        "{}",
        stdout(&out)
    );
}

#[cfg(unix)]
#[test]
fn escape_sequences_in_names_never_reach_the_terminal_raw() {
    let s = with_dev("escapes");
    let dir = s.home().join("evil\u{1b}]0;pwned\u{7}\u{1b}[2Jdir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "dev\n").unwrap();
    let (out, _) = hook_in(&s, &dir, &[]);
    let err = stderr(&out);
    assert!(err.contains("wants dev"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\u{1b}"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_non_utf8_directory_is_recognised_on_the_next_prompt() {
    use std::os::unix::ffi::OsStrExt;
    let s = with_dev("nonutf8");
    let dir = s.home().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    allow_dir(&s, &dir, "dev");
    let out = bash_script(
        &s,
        "eval \"$(awsrole init bash)\"; cd $'caf\\xe9'; __awsrole_hook; \
         AWSROLE_DIFF=\"$__awsrole_diff\" awsrole hook bash",
    );
    let text = stdout(&out);
    assert!(
        !text.contains("export"),
        "re-resolved: {text} {}",
        stderr(&out)
    );
    assert!(text.contains("AWSROLE_PROMPT='dev "), "{text}");
}

fn bash_script(s: &Sandbox, script: &str) -> Output {
    shell_run(s, "bash", script)
}

#[test]
fn usage_errors_use_awsroles_own_style() {
    let s = Sandbox::seed("usage");
    for args in [
        &["bogus"][..],
        &["export"],
        &["export", "x", "--format", "yaml"],
    ] {
        let out = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.starts_with("awsrole: error: "), "{args:?}: {err}");
        assert!(!err.contains('\u{1b}'), "{err:?}");
    }
}

#[test]
fn the_session_name_comes_from_the_user_database_when_user_is_unset() {
    let s = with_dev("nouser");
    let out = s
        .cmd(&["export", "dev", "--format", "env"])
        .env_remove("USER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let me = Command::new("id").arg("-un").output().unwrap();
    let me = stdout(&me).trim().to_string();
    let name = s
        .world
        .calls()
        .iter()
        .filter_map(|c| c.session_name.clone())
        .next_back()
        .unwrap();
    assert!(name.starts_with(&format!("awsrole-{me}-")), "{name}");
}

#[test]
fn an_awsrole_naming_no_profile_says_so_instead_of_suggesting_allow() {
    let s = with_dev("unknownprofile");
    let dir = s.home().join("typo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "role-bb\n").unwrap();
    let (out, _) = hook_in(&s, &dir, &[]);
    let err = stderr(&out);
    assert!(
        err.contains("wants role-bb, which is not a profile of")
            && err.contains("did you mean 'role-b'")
            && !err.contains("awsrole allow"),
        "{err}"
    );
}

/// The allow entry awsrole writes for `file` holding `content`: SHA-256 of the path, a
/// newline and the content (from Python's hashlib, not the code under test).
fn allow_entry(s: &Sandbox, file: &Path, content: &str) -> std::path::PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys;print(hashlib.sha256(sys.argv[1].encode()+b'\\n'+sys.argv[2].encode()).hexdigest())",
            &file.display().to_string(),
            content,
        ])
        .output()
        .unwrap();
    s.home()
        .join(".local/share/awsrole/allow")
        .join(stdout(&out).trim())
}

fn switched(out: &Output) -> bool {
    stdout(out).contains("export AWSROLE_PROFILE=dev")
}

#[test]
fn an_interrupted_allow_trusts_nothing_and_deny_clears_what_it_left() {
    use std::os::unix::process::CommandExt;
    let s = with_dev("allowcut");
    let dir = s.home().join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".awsrole");
    std::fs::write(&file, "dev\n").unwrap();
    // allow with no room for a single byte: killed by SIGXFSZ at its first write, or,
    // with the signal ignored, told EFBIG.
    for killed in [true, false] {
        let mut cmd = s.cmd(&["allow", &dir.display().to_string()]);
        // SAFETY: setrlimit and signal are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let mut limit = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                // Only the soft limit goes down: a normal user keeps the hard one.
                if libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                limit.rlim_cur = 0;
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if !killed {
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "killed {killed}: {}", stderr(&out));
        let (hook, _) = hook_in(&s, &dir, &[]);
        assert!(
            !switched(&hook) && stderr(&hook).contains("run 'awsrole allow'"),
            "killed {killed}: an interrupted allow trusts nothing: {}{}",
            stdout(&hook),
            stderr(&hook)
        );
    }
    // An entry an older awsrole left empty: not trusted, and deny removes it.
    let entry = allow_entry(&s, &file, "dev\n");
    std::fs::write(&entry, "").unwrap();
    let (hook, _) = hook_in(&s, &dir, &[]);
    assert!(!switched(&hook), "an empty entry trusts nothing");
    let out = s.run(&["deny", &dir.display().to_string()]);
    assert!(stderr(&out).contains("denied"), "{}", stderr(&out));
    assert!(!entry.exists(), "deny removed the cut-off entry");
    // A complete allow afterwards works.
    let out = s.run(&["allow", &dir.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (hook, _) = hook_in(&s, &dir, &[]);
    assert!(switched(&hook), "{}", stderr(&hook));
}

#[test]
fn allow_entries_in_a_list_others_could_write_are_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let s = with_dev("allowopen");
    let dir = s.home().join("proj");
    allow_dir(&s, &dir, "dev");
    let list = s.home().join(".local/share/awsrole/allow");
    let (hook, _) = hook_in(&s, &dir, &[]);
    assert!(switched(&hook), "{}", stderr(&hook));
    // Writable by others: anyone could have planted the entry.
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (hook, _) = hook_in(&s, &dir, &[]);
    assert!(!switched(&hook), "an open allow list is trusted");
    // The hook says what is wrong, not "run 'awsrole allow'" (which refuses too).
    assert!(
        stderr(&hook).contains("writable by group or others")
            && !stderr(&hook).contains("run 'awsrole allow'"),
        "{}",
        stderr(&hook)
    );
    let out = s.run(&["allow", &dir.display().to_string()]);
    assert!(
        stderr(&out).contains("writable by group or others"),
        "{}",
        stderr(&out)
    );
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (hook, _) = hook_in(&s, &dir, &[]);
    assert!(switched(&hook), "{}", stderr(&hook));
    // Another user's (as root, the test gives it away; a normal user cannot).
    if is_root() {
        std::os::unix::fs::chown(&list, Some(65534), Some(65534)).unwrap();
        let (hook, _) = hook_in(&s, &dir, &[]);
        assert!(!switched(&hook), "another user's allow list is trusted");
    }
}

/// An IAM Identity Center OIDC endpoint on loopback whose device authorization names the
/// given verification addresses; every CreateToken says the code expired. Its base URL.
fn oidc_giving(verification_uri: &'static str, complete: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut head = Vec::new();
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 2 {
                        head.push(std::mem::take(&mut line));
                    }
                    let Some(first) = head.first() else { return };
                    let length = head
                        .iter()
                        .find_map(|h| {
                            let (k, v) = h.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, error, answer) = if first.contains("/client/register") {
                        (
                            200,
                            None,
                            serde_json::json!({"clientId": "c", "clientSecret": "s", "clientIdIssuedAt": 1_700_000_000, "clientSecretExpiresAt": 4_000_000_000u64}),
                        )
                    } else if first.contains("/device_authorization") {
                        (
                            200,
                            None,
                            serde_json::json!({"deviceCode": "d", "userCode": "AB-CD", "verificationUri": verification_uri, "verificationUriComplete": complete, "expiresIn": 600, "interval": 1}),
                        )
                    } else {
                        (
                            400,
                            Some("ExpiredTokenException"),
                            serde_json::json!({"error": "expired_token", "error_description": "expired"}),
                        )
                    };
                    let data = answer.to_string();
                    let error = error
                        .map(|e| format!("x-amzn-ErrorType: {e}\r\n"))
                        .unwrap_or_default();
                    let sent = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{error}Content-Length: {}\r\n\r\n{data}",
                        data.len()
                    );
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[test]
fn a_device_code_address_that_is_not_https_never_reaches_the_browser() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = Sandbox::seed("verifyuri");
    s.keyring = "keyutils";
    s.write_config(
        "[profile legacy]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n",
    );
    let log = s.home().join("browser.log");
    let browser = s.home().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> {}\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let login = |oidc: &str| {
        s.cmd(&["sso", "login", "legacy"])
            .env("AWS_ENDPOINT_URL_SSO_OIDC", oidc)
            .env("BROWSER", &browser)
            .output()
            .unwrap()
    };
    // An option-like complete address: the plain https one is opened instead.
    let out = login(&oidc_giving("https://device.example/", "-e/tmp/pwn"));
    assert!(
        stderr(&out).contains("the sign-in code expired"),
        "{}",
        stderr(&out)
    );
    let opened = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(opened, "https://device.example/\n", "{}", stderr(&out));
    // Neither address fit for a browser: refused before anything is opened or polled.
    std::fs::remove_file(&log).unwrap();
    let out = login(&oidc_giving("javascript:alert(1)", "file:///etc/passwd"));
    fails_with(&out, &["not https", "AWS_ENDPOINT_URL_SSO_OIDC"]);
    assert!(!log.exists(), "the browser was started");
}

#[test]
fn a_fifo_in_the_aws_cli_token_cache_never_hangs_a_resolution() {
    let mut s = Sandbox::seed("ssofifo");
    s.keyring = "keyutils";
    s.write_config(
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n\n[profile sso-dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n",
    );
    // The AWS CLI's file for sso-session corp: SHA-1 of the session name (Python's).
    let sha1 = Command::new("python3")
        .args([
            "-c",
            "import hashlib;print(hashlib.sha1(b'corp').hexdigest())",
        ])
        .output()
        .unwrap();
    let cache = s.home().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let fifo = cache.join(format!("{}.json", stdout(&sha1).trim()));
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut child = s
        .cmd(&["export", "sso-dev", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("export hung on a FIFO in ~/.aws/sso/cache");
    }
    let out = child.wait_with_output().unwrap();
    fails_with(&out, &["not signed in", "awsrole sso login"]);
}

#[test]
fn control_and_bidi_characters_in_names_are_escaped_wherever_they_are_shown() {
    let s = with_dev("bidinames");
    s.append_config(
        "\n[profile evil\u{202e}gpj.exe]\nregion = eu-west-1\n[profile red\u{1b}[31mname]\nregion = eu-west-1\n",
    );
    for args in [&["list"][..], &["list", "--names"]] {
        let out = s.run(args);
        let text = stdout(&out);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            !text.contains('\u{202e}') && !text.contains('\u{1b}'),
            "{args:?}: {text:?}"
        );
        assert!(
            text.contains("evil\\u{202e}gpj.exe") && text.contains("red\\u{1b}[31mname"),
            "{args:?}: {text}"
        );
    }
    // A directory named so: the hook's notice escapes it too.
    let dir = s.home().join("src\u{2067}cod.exe");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".awsrole"), "dev\n").unwrap();
    let (out, _) = hook_in(&s, &dir, &[]);
    let err = stderr(&out);
    assert!(
        err.contains("src\\u{2067}cod.exe") && !err.contains('\u{2067}'),
        "{err:?}"
    );
}
