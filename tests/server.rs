//! `exec --server`: the local credential endpoint, judged by botocore's and the Node
//! SDK's container providers in long-running processes against moto, and by curl for
//! its rules (token, method, path, Host).
#![cfg(unix)]

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn sandbox(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "keyutils";
    s.append_config(&s.world.dev_profile());
    s
}

fn served(s: &Sandbox, args: &[&str], child: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = s.cmd(&["exec", "--server"]);
    cmd.args(args)
        .arg("--")
        .args(child)
        .envs(extra.iter().copied());
    cmd.output().unwrap()
}

#[test]
fn the_endpoint_keeps_its_rules() {
    let s = sandbox("serverrules");
    let script = r#"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
u=$AWS_CONTAINER_CREDENTIALS_FULL_URI; t=$AWS_CONTAINER_AUTHORIZATION_TOKEN
port=${u#http://127.0.0.1:}; port=${port%%/*}
echo "ok=$(code -H "Authorization: $t" "$u")"
echo "notoken=$(code "$u")"
echo "badtoken=$(code -H "Authorization: x$t" "$u")"
echo "post=$(code -X POST -H "Authorization: $t" "$u")"
echo "path=$(code -H "Authorization: $t" "http://127.0.0.1:$port/")"
echo "host=$(code -H "Authorization: $t" -H "Host: evil.example:$port" "$u")"
curl -s -D - -H "Authorization: $t" "$u" | tr -d '\r' | grep -ci '^access-control' || true
curl -s -H "Authorization: $t" "$u"
echo
echo "keys=${AWS_ACCESS_KEY_ID-none} profile=${AWS_PROFILE-none} creds=$AWS_SHARED_CREDENTIALS_FILE region=$AWS_REGION"
"#;
    let out = served(
        &s,
        &["dev"],
        &["sh", "-c", script],
        &[("AWS_PROFILE", "mine")],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    for line in [
        "ok=200",
        "notoken=403",
        "badtoken=403",
        "post=405",
        "path=404",
        "host=403",
    ] {
        assert!(text.contains(line), "missing {line} in {text}");
    }
    assert!(text.lines().any(|l| l == "0"), "no CORS headers: {text}");
    let doc: serde_json::Value =
        serde_json::from_str(text.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert!(doc["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(doc["Expiration"].as_str().unwrap().ends_with('Z'));
    assert!(
        text.contains("keys=none profile=none creds=/dev/null region=ap-northeast-1"),
        "{text}"
    );
    let url = std::env::var("X").unwrap_or_default();
    let _ = url;
}

#[test]
fn exit_status_and_signals_pass_through_and_the_endpoint_goes_with_the_command() {
    let s = sandbox("serverexit");
    let out = served(
        &s,
        &["dev"],
        &[
            "sh",
            "-c",
            "echo $AWS_CONTAINER_CREDENTIALS_FULL_URI > url; exit 7",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let url = std::fs::read_to_string(s.home().join("url")).unwrap();
    let gone = Command::new("curl")
        .args(["-s", "-m", "2", url.trim()])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "the endpoint still answers after the command"
    );
    // SIGTERM to awsrole reaches the command; awsrole exits as it did. Sent once the
    // command's trap is set and awsrole catches TERM, not after a guessed pause.
    let ready = s.home().join("trap-set");
    let script = format!(
        "trap 'exit 42' TERM; touch {}; sleep 30 & wait",
        ready.display()
    );
    let mut cmd = s.cmd(&["exec", "--server", "dev", "--", "sh", "-c", &script]);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let catches_term = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
                u64::from_str_radix(mask.trim(), 16).ok()
            })
            .is_some_and(|mask| mask & (1 << (15 - 1)) != 0)
    };
    let waiting = Instant::now();
    while !(ready.exists() && catches_term(child.id())) {
        assert!(waiting.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(42), "{status:?}");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

const BOTOCORE_LOOP: &str = r#"
import sys, time, boto3, botocore.session
s = botocore.session.get_session()
client = boto3.Session(botocore_session=s).client("sts", endpoint_url=sys.argv[1])
keys, failures, end = [], 0, time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        client.get_caller_identity()
        key = s.get_credentials().get_frozen_credentials().access_key
        if not keys or keys[-1] != key:
            keys.append(key)
    except Exception as e:
        failures += 1
        print("failure:", e, file=sys.stderr)
    time.sleep(0.3)
print(f"keys={len(keys)} failures={failures} method={s.get_credentials().method}")
"#;

#[test]
fn a_long_botocore_process_runs_across_refreshes_without_one_failure() {
    let s = sandbox("serverboto");
    let assume_before = s.world.count("AssumeRole");
    // 15 min credentials renewed when 14m55s are left: a refresh every ~5 s, so even a
    // loaded machine sees two or more in the 25 s run.
    let out = served(
        &s,
        &["dev", "--duration", "15m"],
        &["python3", "-c", BOTOCORE_LOOP, &s.world.url, "25"],
        &[("AWSROLE_REFRESH_MARGIN", "895s")],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    let keys: usize = text
        .split("keys=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(keys >= 3, "at least two refreshes: {text}");
    assert!(
        text.contains("failures=0") && text.contains("method=container-role"),
        "{text}"
    );
    // One AssumeRole per refresh (plus the first).
    let assumed = s.world.count("AssumeRole") - assume_before;
    assert!(
        assumed >= keys && assumed <= keys + 1,
        "{assumed} AssumeRole for {keys} keys"
    );
}

#[test]
fn a_long_node_process_runs_across_refreshes_without_one_failure() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/loop.js");
    let s = sandbox("servernode");
    let assume_before = s.world.count("AssumeRole");
    let out = served(
        &s,
        &["dev", "--duration", "15m"],
        &["node", &script.display().to_string(), &s.world.url, "25"],
        &[("AWSROLE_REFRESH_MARGIN", "895s")],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(text.contains("failures=0"), "{text}");
    let keys: usize = text
        .split("keys=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // The long-lived client keeps its first keys (the Node SDK refetches only 5 minutes
    // before their expiry) while the endpoint renews under it; the new clients are served
    // each renewal's keys. Every call of both works: STS's front checks each key pair.
    let refreshes = s.world.count("AssumeRole") - assume_before - 1;
    assert!(
        refreshes >= 2,
        "the endpoint refreshed {refreshes} times: {text}"
    );
    assert!(
        keys >= 3 && keys <= refreshes + 1,
        "new clients saw {keys} keys for {refreshes} refreshes: {text}"
    );
}

/// A renewal that needs an MFA code: the endpoint goes on serving what it has while it
/// is valid (no 503 ahead of time), says once what to do, and as soon as the code is
/// entered in another terminal (`awsrole refresh`) it serves the new keys.
#[test]
fn when_a_person_is_needed_the_endpoint_serves_on_and_recovers_once_they_act() {
    let s = sandbox("serverperson");
    let err = std::fs::File::create(s.home().join("server.err")).unwrap();
    let mut running = s
        .cmd(&[
            "exec",
            "--server",
            "role-b",
            "--mfa-code",
            "123456",
            "--duration",
            "15m",
            "--",
            "sh",
            "-c",
            POLLER,
        ])
        .env("AWSROLE_REFRESH_MARGIN", "890s")
        .stderr(err)
        .spawn()
        .unwrap();
    let server_err = || std::fs::read_to_string(s.home().join("server.err")).unwrap_or_default();
    wait_for(Duration::from_secs(20), "a first answer", || {
        !polls(&s).is_empty()
    });
    let first = polls(&s)[0].clone();
    assert_eq!(first.code, 200, "{first:?} {}", server_err());
    // The MFA session and the roles leave the cache: renewing now needs a person.
    assert!(s.run(&["cache", "clear"]).status.success());
    wait_for(Duration::from_secs(40), "the notice", || {
        server_err().contains("cannot renew without you")
    });
    std::thread::sleep(Duration::from_secs(2));
    let waiting = polls(&s).last().unwrap().clone();
    assert_eq!(
        (waiting.code, waiting.key.as_str()),
        (200, first.key.as_str()),
        "valid keys are served while a person is needed: {}",
        server_err()
    );
    assert!(
        server_err().contains("'awsrole refresh role-b'"),
        "{}",
        server_err()
    );
    let refreshed = s.run(&["refresh", "role-b", "--mfa-code", "123456"]);
    assert!(refreshed.status.success(), "{}", stderr(&refreshed));
    wait_for(Duration::from_secs(15), "the new keys", || {
        polls(&s)
            .last()
            .is_some_and(|p| p.code == 200 && p.key != first.key)
    });
    std::fs::write(s.home().join("stop"), "").unwrap();
    let status = running.wait().unwrap();
    assert!(status.success(), "{}", server_err());
    let all = polls(&s);
    assert!(
        all.iter().all(|p| p.code == 200),
        "never a 503 while keys were valid: {all:?}"
    );
    assert!(
        all.iter().all(|p| p.expiration.is_some_and(|e| e > p.at)),
        "never an expired key: {all:?}"
    );
    let err = server_err();
    assert_eq!(err.matches("cannot renew without you").count(), 1, "{err}");
    assert_eq!(err.matches("renewed its credentials").count(), 1, "{err}");
    assert!(!err.contains("Enter MFA code"), "{err}");
}

/// ~2,000 connections held open by another process, each trickling a byte a second:
/// botocore's container provider (2 s timeout) still gets its credentials.
#[test]
fn the_endpoint_answers_its_client_while_thousands_of_connections_trickle() {
    let s = sandbox("serverflood");
    let flood = r#"
import os, resource, socket, sys, threading, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
port = int(url.split(":")[2].split("/")[0])
held = []
for _ in range(2000):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=2)
        c.send(b"G")
        held.append(c)
    except OSError:
        pass
print(f"held={len(held)}", flush=True)
import botocore.session
session = botocore.session.get_session()
session.set_config_variable("region", "us-east-1")
worst = 0.0
for _ in range(5):
    for c in held[:200]:
        try:
            c.send(b"E")
        except OSError:
            pass
    started = time.time()
    from botocore.credentials import ContainerProvider
    creds = ContainerProvider().load()
    assert creds.get_frozen_credentials().access_key.startswith("ASIA")
    worst = max(worst, time.time() - started)
    time.sleep(1)
print(f"served worst={worst:.2f}", flush=True)
"#;
    let out = served(&s, &["dev"], &["python3", "-c", flood], &[]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    let held: usize = text
        .split("held=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(held >= 1500, "the flood held {held} connections: {text}");
    assert!(text.contains("served worst="), "{text} {}", stderr(&out));
    // botocore's own 2 s timeout is the judge; the figure goes to the log.
    eprintln!("{}", text.trim());
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn use_server_serves_this_shell_until_unuse_or_the_shell_is_gone() {
    let s = sandbox("useserver");
    let caller = support("caller.py").display().to_string();
    let out = shell_run(
        &s,
        "bash",
        &format!(
            "eval \"$(awsrole init bash)\"; export AWS_ACCESS_KEY_ID=handset; awsrole use --server dev || exit 9; \
             echo \"prompt=$AWSROLE_PROMPT keys=${{AWS_ACCESS_KEY_ID-none}} server=$AWSROLE_SERVER\"; \
             python3 {caller} {url}; awsrole status | grep from:; \
             pid=${{AWSROLE_SERVER%%;*}}; awsrole unuse; sleep 1; \
             case $(cut -d' ' -f3 /proc/$pid/stat 2>/dev/null) in ''|Z|X) echo stopped;; *) echo still-running;; esac; \
             echo \"after keys=$AWS_ACCESS_KEY_ID uri=${{AWS_CONTAINER_CREDENTIALS_FULL_URI-none}}\"; \
             awsrole use --server dev; echo \"second=${{AWSROLE_SERVER%%;*}}\"",
            url = s.world.url
        ),
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text} {}", stderr(&out));
    assert!(
        text.contains("prompt=dev (server) keys=none server="),
        "{text}"
    );
    assert!(
        text.contains(&format!("assumed-role/{}RoleC/", s.world.prefix)),
        "{text}"
    );
    assert!(
        text.contains("from:    awsrole use --server (endpoint http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("stopped"), "unuse stops the endpoint: {text}");
    assert!(text.contains("after keys=handset uri=none"), "{text}");
    // The shell is gone now: so is the endpoint started last.
    let second: i32 = text
        .lines()
        .find_map(|l| l.strip_prefix("second="))
        .and_then(|p| p.trim().parse().ok())
        .expect("a second endpoint");
    let started = Instant::now();
    // Gone, or a zombie nobody reaps (pid 1 in a container may not).
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().next())
                    .map(String::from)
            })
            .is_some_and(|state| state != "Z" && state != "X")
    };
    while alive(second) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the endpoint outlived its shell"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Under `use --server` the shell's `AWS_SHARED_CREDENTIALS_FILE` is the empty file, but
/// awsrole run from that shell reads the user's own (here a custom one), and finds the
/// very cache entries the endpoint made: no second AssumeRole.
#[test]
fn under_use_server_the_shells_own_awsrole_reads_the_users_credentials_file() {
    let s = sandbox("useserverfiles");
    let home = s.home().display().to_string();
    std::fs::rename(s.home().join(".aws/credentials"), s.home().join("my-creds")).unwrap();
    let before = s.world.count("AssumeRole");
    let out = shell_run(
        &s,
        "bash",
        &format!(
            "eval \"$(awsrole init bash)\"; export AWS_SHARED_CREDENTIALS_FILE={home}/my-creds; \
             awsrole use --server dev 2>/dev/null || exit 9; echo \"shell=$AWS_SHARED_CREDENTIALS_FILE\"; \
             awsrole explain dev >/dev/null && echo explain-ok; \
             awsrole export dev --format json >e.json && echo export-ok; \
             awsrole use dev 2>/dev/null && echo \"use-ok $AWSROLE_PROFILE\"; \
             awsrole unuse; echo \"after=$AWS_SHARED_CREDENTIALS_FILE\""
        ),
    );
    let text = stdout(&out);
    assert!(text.contains("shell=/dev/null"), "{text} {}", stderr(&out));
    for line in ["explain-ok", "export-ok", "use-ok dev"] {
        assert!(
            text.contains(line),
            "missing {line}: {text} {}",
            stderr(&out)
        );
    }
    assert!(text.contains(&format!("after={home}/my-creds")), "{text}");
    assert_eq!(
        s.world.count("AssumeRole") - before,
        1,
        "the endpoint's AssumeRole served the others from the cache: {}",
        stderr(&out)
    );
}

/// A child shell inherits `AWSROLE_SERVER`; its `unuse` or `use` must not stop the
/// endpoint its parent shell is still using.
#[test]
fn a_child_shells_unuse_leaves_the_parents_endpoint_running() {
    let s = sandbox("useserverchild");
    let out = shell_run(
        &s,
        "bash",
        "eval \"$(awsrole init bash)\"; awsrole use --server dev 2>/dev/null || exit 9; \
         u=$AWS_CONTAINER_CREDENTIALS_FULL_URI; t=$AWS_CONTAINER_AUTHORIZATION_TOKEN; \
         bash -c 'eval \"$(awsrole init bash)\"; awsrole unuse 2>/dev/null; awsrole use dev 2>/dev/null; echo \"child=$AWSROLE_PROFILE\"'; \
         sleep 1; code=$(curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: $t\" \"$u\"); \
         echo \"parent=$code\"; awsrole unuse; sleep 1; \
         code=$(curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: $t\" \"$u\"); echo \"own=$code uri=${AWS_CONTAINER_CREDENTIALS_FULL_URI-none}\"",
    );
    let text = stdout(&out);
    assert!(text.contains("child=dev"), "{text} {}", stderr(&out));
    assert!(
        text.contains("parent=200"),
        "the parent's endpoint still serves: {text}"
    );
    assert!(
        text.contains("own=000 uri=none"),
        "the shell's own unuse stops it: {text}"
    );
}

/// A command that leaves a job running (an editor's daemon, `cmd &`): the endpoint
/// outlives the command while the job holds its token, so its port is never free for
/// another local user to take over, and goes once the job is done.
#[test]
fn the_endpoint_lives_while_anything_holds_its_token_and_no_other_user_can_take_its_port() {
    let s = sandbox("serverorphan");
    let script = r#"
( sleep 4; curl -s -w ' %{http_code}' -H "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > late.tmp; mv late.tmp late.out ) </dev/null >/dev/null 2>&1 &
echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI" > url
exit 3
"#;
    let err = std::fs::File::create(s.home().join("server.err")).unwrap();
    let started = Instant::now();
    let status = s
        .cmd(&["exec", "--server", "dev", "--", "sh", "-c", script])
        .stdout(Stdio::null())
        .stderr(err)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3), "awsrole exits with the command");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "and does not wait for its job"
    );
    let url = std::fs::read_to_string(s.home().join("url")).unwrap();
    let port = url
        .trim()
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .unwrap()
        .to_string();
    // Another user tries to take the port over while the job still needs it.
    let bind = "import socket,sys\ns=socket.socket()\ntry:\n    s.bind(('127.0.0.1', int(sys.argv[1])))\n    print('bound')\nexcept OSError as e:\n    print('refused', e.errno)";
    let mut squatter = Command::new("/usr/bin/python3");
    if is_root() {
        squatter = Command::new("setpriv");
        squatter.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
        ]);
    }
    let tried = squatter.args(["-c", bind, &port]).output().unwrap();
    assert!(
        stdout(&tried).starts_with("refused"),
        "{} {}",
        stdout(&tried),
        stderr(&tried)
    );
    wait_for(Duration::from_secs(20), "the job's late call", || {
        s.home().join("late.out").exists()
    });
    let late = std::fs::read_to_string(s.home().join("late.out")).unwrap();
    assert!(
        late.ends_with(" 200") && late.contains("\"AccessKeyId\":\"ASIA"),
        "{late}"
    );
    // The job is done: nothing holds the token, the endpoint goes.
    wait_for(Duration::from_secs(15), "the endpoint to go", || {
        !Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-m", "1", url.trim()])
            .status()
            .unwrap()
            .success()
    });
}
