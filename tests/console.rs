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

/// A stand-in browser that keeps the page the opener was given (a `file://` URL) and
/// that page's mode, then lingers so a process watcher has time to see it.
fn page_keeping_browser(s: &Sandbox) -> (String, std::path::PathBuf) {
    let got = s.home().join("browser-got");
    let browser = s.home().join("browser.sh");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\npage=\"${{1#file://}}\"\nprintf '%s\\n' \"$page\" > {got}.path\nstat -c %a \"$page\" > {got}.mode\ncat \"$page\" > {got}\nsleep 0.5\n",
            got = got.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    (browser.display().to_string(), got)
}

/// The sign-in URL a redirect page sends the browser to.
fn url_in_page(page: &str) -> String {
    let start = page.find("url=").expect("a refresh to the sign-in URL") + 4;
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

#[test]
fn the_browser_gets_the_url_and_no_stream_does() {
    let s = sandbox("consolebrowser");
    let (browser, got) = page_keeping_browser(&s);
    let out = console(
        &s,
        &["dev", "--logout-first", "--region", "us-gov-west-1"],
        &[("BROWSER", &browser)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    assert!(!stderr(&out).contains("SigninToken") && !stderr(&out).contains("signin-token"));
    let url = url_in_page(&std::fs::read_to_string(&got).unwrap());
    assert!(
        url.starts_with("https://signin.amazonaws-us-gov.com/oauth?Action=logout&redirect_uri=https%3A%2F%2Fsignin.amazonaws-us-gov.com%2Ffederation%3FAction%3Dlogin"),
        "{url}"
    );
    // A browser that fails: an error that does not quote the URL, and no page left.
    let out = console(&s, &["dev"], &[("BROWSER", "false")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--print") && !stderr(&out).contains("signin-token"),
        "{}",
        stderr(&out)
    );
    let pages = std::fs::read_dir(s.home().join(".run/awsrole"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("console-"))
        .count();
    assert_eq!(pages, 1, "only the first run's page, until it is removed");
}

/// Every process's arguments, as any local user reads them.
fn all_cmdlines() -> Vec<String> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .collect()
}

#[test]
fn the_sign_in_token_never_appears_in_any_process_arguments() {
    let s = sandbox("consoleargv");
    let (browser, got) = page_keeping_browser(&s);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        let browser = browser.clone();
        std::thread::spawn(move || {
            let (mut leaked, mut saw_browser) = (Vec::new(), false);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for line in all_cmdlines() {
                    saw_browser |= line.contains(&browser);
                    if line.contains("signin-token") || line.contains("SigninToken") {
                        leaked.push(line);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (leaked, saw_browser)
        })
    };
    let out = console(&s, &["dev"], &[("BROWSER", &browser)]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (leaked, saw_browser) = watcher.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(saw_browser, "the watcher saw the browser's arguments");
    assert!(
        leaked.is_empty(),
        "the token in {} command lines, first: {:?}",
        leaked.len(),
        leaked.first()
    );
    // The browser still gets the sign-in URL, from a page only this user can read.
    let url = url_in_page(&std::fs::read_to_string(&got).unwrap());
    assert!(url.contains("SigninToken=signin-token-for-ASIA"), "{url}");
    let page = std::path::PathBuf::from(
        std::fs::read_to_string(got.with_extension("path"))
            .unwrap()
            .trim(),
    );
    assert!(
        page.starts_with(s.home().join(".run/awsrole")),
        "{}",
        page.display()
    );
    assert_eq!(
        std::fs::read_to_string(got.with_extension("mode"))
            .unwrap()
            .trim(),
        "600"
    );
    if is_root() {
        // Another user, given the way to the page, still cannot read it.
        let parent_open = Command::new("chmod")
            .args(["o+x"])
            .arg(s.home())
            .arg(s.home().join(".run"))
            .status()
            .unwrap();
        assert!(parent_open.success());
        let other = Command::new("runuser")
            .args(["-u", "nobody", "--", "cat"])
            .arg(&page)
            .output()
            .unwrap();
        assert!(!other.status.success(), "{}", stdout(&other));
        assert!(!stdout(&other).contains("signin-token"));
    }
    // And the page does not stay.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while page.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(!page.exists(), "the page is removed after a while");
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

/// A federation endpoint that refuses every request, quoting the request back (an
/// echoing proxy). Its base URL.
fn echoing_refuser() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut first = String::new();
            let _ = BufReader::new(stream.try_clone().unwrap()).read_line(&mut first);
            let body = format!("{first}<html><body><h1>400 Bad Request</h1></body></html>");
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_refusal_that_echoes_the_session_is_told_without_the_secret() {
    let s = sandbox("consoleecho");
    // The keys moto issued for this world, and a token made now: nothing key-shaped is
    // written in the test itself.
    let secret = s.world.secret_access_key.as_str();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let token = format!("FwoG{nanos:032x}{:016x}", std::process::id());
    let token = token.as_str();
    let mut cmd = s.cmd(&["console", "--print"]);
    cmd.env("AWSROLE_SIGNIN_ENDPOINT", echoing_refuser())
        .env("AWS_ACCESS_KEY_ID", &s.world.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", token);
    let out = cmd.output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP 400"), "{err}");
    for secret in [secret, token] {
        for i in 0..secret.len() - 8 {
            let piece = &secret[i..i + 8];
            assert!(!err.contains(piece), "{piece:?} of a secret in: {err}");
        }
    }
}
