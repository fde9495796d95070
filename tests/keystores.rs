//! Where long-term keys live on machines without a desktop session: what a headless
//! session is told, the encrypted file store, password-store (`pass` with a throw-away
//! GPG key), `auto` picking what works, `doctor` saying which; and the master key kept
//! out of shells (a session by default).
#![cfg(unix)]

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

/// `awsrole add default` fed the world's keys on stdin, with `extra` variables.
fn add(s: &Sandbox, extra: &[(&str, &str)]) -> Output {
    add_keys(s, &s.world.access_key_id, &s.world.secret_access_key, extra)
}

/// `awsrole add default` fed these keys on stdin.
fn add_keys(s: &Sandbox, id: &str, secret: &str, extra: &[(&str, &str)]) -> Output {
    let keys = format!("{id}\n{secret}\n");
    output_with_stdin(
        s.cmd(&["add", "default"]).envs(extra.iter().copied()),
        keys.as_bytes(),
    )
}

fn export_json(s: &Sandbox, profile: &str, extra: &[(&str, &str)]) -> Output {
    s.cmd(&["export", profile, "--format", "json"])
        .envs(extra.iter().copied())
        .output()
        .unwrap()
}

/// The sandbox's environment has no DBUS_SESSION_BUS_ADDRESS: a headless session.
fn headless(name: &str) -> Sandbox {
    let mut s = Sandbox::seed(name);
    s.keyring = "auto";
    s
}

#[test]
fn a_headless_session_is_told_what_is_missing_and_what_to_do() {
    let s = headless("headless");
    let out = add(&s, &[]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("no Secret Service in this session (DBUS_SESSION_BUS_ADDRESS is not set"),
        "{err}"
    );
    assert!(
        err.contains("AWSROLE_KEYRING=file") && err.contains("AWSROLE_KEYRING=pass"),
        "{err}"
    );
    assert!(
        !err.contains("AWSROLE_KEYRING=none"),
        "never blame a variable nobody set: {err}"
    );
    // A chain whose keys are not in the files: the same reason, not "awsrole add" again.
    s.write_credentials("");
    let out = export_json(&s, "role-c", &[("AWSROLE_KEYRING", "auto")]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("no Secret Service in this session"), "{err}");
    assert!(!err.contains("awsrole add"), "no circle back to add: {err}");
    let doctor = stdout(&s.run(&["doctor"]));
    assert!(
        doctor.contains("keys:  none: no Secret Service"),
        "{doctor}"
    );
    assert!(
        doctor.contains("cache: the kernel's per-user keyring"),
        "{doctor}"
    );
}

#[test]
fn the_encrypted_file_store_keeps_keys_sealed_and_auto_uses_it_where_no_secret_service_is() {
    let s = headless("filestore");
    let pass = [
        ("AWSROLE_KEYRING", "file"),
        ("AWSROLE_FILE_PASSPHRASE", "correct horse"),
    ];
    let out = add(&s, &pass);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = s.home().join(".local/share/awsrole/keys.enc");
    let sealed = std::fs::read(&file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // No secret in it in any encoding.
    let key_id = s.world.access_key_id.as_bytes();
    let secret = s.world.secret_access_key.as_bytes();
    let b64 = |b: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(b)
            .into_bytes()
    };
    let hex = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
            .into_bytes()
    };
    for needle in [
        key_id.to_vec(),
        secret.to_vec(),
        b64(secret),
        hex(secret),
        b64(key_id),
    ] {
        assert!(
            !sealed.windows(needle.len()).any(|w| w == needle.as_slice()),
            "a secret in the key file"
        );
    }
    // The keys are gone from the credentials file: the chain runs on the sealed ones.
    s.write_credentials("");
    let out = s
        .cmd(&[
            "export",
            "role-c",
            "--format",
            "json",
            "--mfa-code",
            "123456",
        ])
        .envs(pass)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(caller_of(&s, &Keys::from_json(&out)).contains("RoleC"));
    // A wrong passphrase: a clear error, the file untouched.
    s.run(&["cache", "clear"]);
    let out = export_json(
        &s,
        "role-c",
        &[
            ("AWSROLE_KEYRING", "file"),
            ("AWSROLE_FILE_PASSPHRASE", "wrong"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("wrong passphrase for"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&file).unwrap(), sealed);
    // `auto` in a session with no Secret Service finds the file.
    let out = export_json(
        &s,
        "default",
        &[("AWSROLE_FILE_PASSPHRASE", "correct horse")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doctor = stdout(&s.run(&["doctor"]));
    assert!(doctor.contains("keys:  the encrypted file"), "{doctor}");
    // `remove` rewrites the file without them.
    let out = s.cmd(&["remove", "default"]).envs(pass).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(std::fs::read(&file).unwrap(), sealed);
    let out = export_json(&s, "default", &pass);
    assert!(!out.status.success(), "the keys are gone");
}

/// A headless sandbox whose keys `add` sealed in the encrypted file (passphrase
/// `s3cret-phrase`), with an empty credentials file: the file is the only source.
fn keys_in_the_file(name: &str) -> Sandbox {
    let s = headless(name);
    let out = add(
        &s,
        &[
            ("AWSROLE_KEYRING", "file"),
            ("AWSROLE_FILE_PASSPHRASE", "s3cret-phrase"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    s.write_credentials("");
    s
}

#[test]
fn the_passphrase_is_asked_on_the_terminal_and_never_echoed() {
    let s = keys_in_the_file("filetty");
    let mut sh = common::pty::Shell::start("bash", &s);
    sh.line("export AWSROLE_KEYRING=file");
    sh.line("awsrole export default --format json > out.json; echo rc=$?");
    sh.expect("Passphrase for");
    sh.line("s3cret-phrase");
    let shown = sh.shown_until("rc=0");
    assert!(!shown.contains("s3cret-phrase"), "echoed: {shown}");
    let doc = std::fs::read_to_string(s.home().join("out.json")).unwrap();
    assert!(
        doc.contains("\"SessionToken\":"),
        "a session, not the keys: {doc}"
    );
    sh.line("exit");
}

/// Ctrl-C at the passphrase prompt: the terminal as it was (its echo setting included),
/// nothing on stdout, the key file untouched, and the shell told the command was
/// interrupted, not a fallback to the credentials file.
#[test]
fn ctrl_c_at_the_passphrase_prompt_leaves_the_terminal_and_the_key_file_as_they_were() {
    let s = keys_in_the_file("filectrlc");
    let files = |dir: &std::path::Path| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    found.push((p, bytes));
                }
            }
        }
        found.sort();
        found
    };
    let data = s.home().join(".local/share");
    let stored = files(&data);
    assert!(
        !stored.is_empty(),
        "the key file is under {}",
        data.display()
    );

    let mut sh = common::pty::Shell::start("bash", &s);
    sh.line("export AWSROLE_KEYRING=file");
    let before = sh.terminal_settings();
    sh.line("awsrole export default --format json > out.json 2> err.txt");
    sh.expect("Passphrase for");
    sh.keys("\u{3}");
    // The next line only once the shell has its prompt back, as a person would type it.
    sh.expect("$ ");
    // Died by SIGINT, as an interrupted program should: an interactive bash then drops
    // the rest of the line, and `$?` is 128 + 2.
    let status = sh.value("$?");
    let err = std::fs::read_to_string(s.home().join("err.txt")).unwrap();
    assert_eq!(status, "130", "{err}");
    assert_eq!(err, "awsrole: cancelled; nothing was changed\n");
    sh.assert_terminal_as(&before);
    assert_eq!(
        std::fs::read_to_string(s.home().join("out.json")).unwrap(),
        "",
        "nothing for the caller to eval"
    );
    assert_eq!(files(&data), stored, "the key file changed");
    sh.line("exit");
}

/// A throw-away GPG key (no passphrase) and an initialised password store.
fn pass_ready(s: &Sandbox) -> Vec<(String, String)> {
    let gnupg = s.home().join(".gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let env: Vec<(String, String)> = vec![
        ("GNUPGHOME".into(), gnupg.display().to_string()),
        (
            "PASSWORD_STORE_DIR".into(),
            s.home().join(".password-store").display().to_string(),
        ),
    ];
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .envs(s.envs())
            .envs(env.iter().cloned())
            .output()
            .unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", stderr(&out));
        out
    };
    run(
        "gpg",
        &[
            "--batch",
            "--passphrase",
            "",
            "--quick-generate-key",
            "awsrole test <test@example.invalid>",
            "default",
            "default",
            "never",
        ],
    );
    let listed = run("gpg", &["--batch", "--with-colons", "--list-keys"]);
    let fingerprint = stdout(&listed)
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .map(|l| l.trim_matches(':').to_string())
        .unwrap();
    run("pass", &["init", &fingerprint]);
    env
}

#[test]
fn password_store_holds_the_keys_with_gpg_underneath() {
    let s = headless("passstore");
    let env = pass_ready(&s);
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    vars.push(("AWSROLE_KEYRING", "pass"));
    let out = add(&s, &vars);
    assert!(out.status.success(), "{}", stderr(&out));
    let entry = s
        .home()
        .join(".password-store/awsrole")
        .read_dir()
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    assert!(entry.extension().is_some_and(|e| e == "gpg"), "{entry:?}");
    let sealed = std::fs::read(&entry).unwrap();
    assert!(!sealed
        .windows(s.world.secret_access_key.len())
        .any(|w| w == s.world.secret_access_key.as_bytes()));
    s.write_credentials("");
    let out = s
        .cmd(&[
            "export",
            "role-c",
            "--format",
            "json",
            "--mfa-code",
            "123456",
        ])
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(caller_of(&s, &Keys::from_json(&out)).contains("RoleC"));
    assert!(stdout(
        &s.cmd(&["doctor"])
            .envs(vars.iter().copied())
            .output()
            .unwrap()
    )
    .contains("keys:  password-store (pass)"));
    let out = s
        .cmd(&["remove", "default"])
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!entry.exists());
}

/// The user's access keys as IAM lists them (moto's IAM, through boto3).
fn listed_keys(s: &Sandbox, key: &str, secret: &str) -> String {
    let script = "import boto3,sys\nc=boto3.client('iam',endpoint_url=sys.argv[1],region_name='us-east-1',aws_access_key_id=sys.argv[2],aws_secret_access_key=sys.argv[3])\nprint(' '.join(k['AccessKeyId'] for k in c.list_access_keys(UserName=sys.argv[4])['AccessKeyMetadata']))";
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            &s.world.url,
            key,
            secret,
            &format!("{}User1", s.world.prefix),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn rotate_replaces_the_key_where_it_lives_and_deletes_the_old_one() {
    let s = headless("rotate");
    let iam = [("AWS_ENDPOINT_URL_IAM", s.world.url.as_str())];
    // Around the keys, text that must stay byte for byte.
    let creds = s.home().join(".aws/credentials");
    let text = format!(
        "# my keys\n[default]\naws_access_key_id = {}\naws_secret_access_key={}\n\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n",
        s.world.access_key_id, s.world.secret_access_key
    );
    std::fs::write(&creds, &text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o640)).unwrap();
    // A cached session of the old key, to be dropped.
    let before = s
        .cmd(&[
            "export",
            "role-c",
            "--format",
            "json",
            "--mfa-code",
            "123456",
        ])
        .output()
        .unwrap();
    assert!(before.status.success(), "{}", stderr(&before));

    let out = s.cmd(&["rotate", "default"]).envs(iam).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(&creds).unwrap();
    let new_id = after
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap()
        .to_string();
    let new_secret = after
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key="))
        .unwrap()
        .to_string();
    assert_ne!(new_id, s.world.access_key_id);
    assert_eq!(
        after,
        text.replace(&s.world.access_key_id, &new_id)
            .replace(&s.world.secret_access_key, &new_secret),
        "only the two values changed"
    );
    assert_eq!(
        std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        listed_keys(&s, &new_id, &new_secret),
        new_id,
        "the old key is gone from IAM"
    );
    assert!(
        stderr(&out).contains("cached session(s) made from the old key dropped"),
        "{}",
        stderr(&out)
    );
    // The chain works from the new key (its first call signed by it, checked by the front).
    let chained = s
        .cmd(&[
            "export",
            "role-c",
            "--format",
            "json",
            "--mfa-code",
            "123456",
        ])
        .output()
        .unwrap();
    assert!(chained.status.success(), "{}", stderr(&chained));
    assert_ne!(
        Keys::from_json(&chained),
        Keys::from_json(&before),
        "not the old cached session"
    );

    // In the key file: rotated there, the credentials file left alone.
    let pass = [
        ("AWSROLE_KEYRING", "file"),
        ("AWSROLE_FILE_PASSPHRASE", "pw"),
        ("AWS_ENDPOINT_URL_IAM", s.world.url.as_str()),
    ];
    assert!(add_keys(&s, &new_id, &new_secret, &pass).status.success());
    let file = s.home().join(".local/share/awsrole/keys.enc");
    let sealed = std::fs::read(&file).unwrap();
    let out = s.cmd(&["rotate", "default"]).envs(pass).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("in the keyring"), "{}", stderr(&out));
    assert_ne!(std::fs::read(&file).unwrap(), sealed);
    assert_eq!(std::fs::read_to_string(&creds).unwrap(), after);
    let exported = s
        .cmd(&["export", "default", "--no-session", "--format", "json"])
        .envs(pass)
        .output()
        .unwrap();
    let third = Keys::from_json(&exported);
    assert_ne!(third.access_key_id, new_id);
    assert_eq!(
        listed_keys(&s, &third.access_key_id, &third.secret_access_key),
        third.access_key_id
    );

    // IAM unreachable: nothing changes, and it says so.
    let out = s
        .cmd(&["rotate", "default"])
        .envs(pass)
        .env("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
}

/// A keyring that cannot be read (locked, its prompt dismissed, its daemon gone) is
/// named as the trouble: the user is not sent back to `awsrole add` for keys that may
/// well be there.
#[test]
fn an_unreadable_keyring_is_named_and_add_is_not_advised() {
    let mut s = headless("unreadable");
    s.keyring = "secret-service";
    s.bus = Some(format!("unix:path={}/no-bus", s.home().display()));
    s.write_credentials("");
    let out = export_json(&s, "role-c", &[]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("could not be read from the keyring") && err.contains("unlock it"),
        "{err}"
    );
    assert!(!err.contains("awsrole add"), "{err}");
}

/// A real gnome-keyring whose collection is locked (a desktop session that locked with
/// the screen, a keyring never unlocked at login): the unlock prompt is dismissed at once
/// rather than waited for, the command names the locked keyring and what to do, and no
/// STS call is made with anything else.
#[test]
fn a_locked_gnome_keyring_is_named_at_once_and_nothing_else_is_used() {
    // A keyring of this test's own: locking the shared one would lock it for every test.
    let mut cmd = Command::new("python3");
    cmd.arg(support("secret_service.py"));
    let (mut daemon, bus) = spawn_helper(
        cmd,
        "dbus-daemon and gnome-keyring-daemon (see .ci/install)",
    );
    let mut s = headless("lockedkeyring");
    s.keyring = "secret-service";
    s.bus = Some(bus.clone());
    let out = add(&s, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.write_credentials("");
    assert!(
        export_json(&s, "default", &[]).status.success(),
        "readable before the lock"
    );

    let lock = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .output()
        .unwrap();
    assert!(lock.status.success(), "{}", stderr(&lock));
    assert!(
        stdout(&lock).contains("collection/login"),
        "locked: {}",
        stdout(&lock)
    );

    let calls = s.world.calls().len();
    let started = Instant::now();
    let out = export_json(&s, "role-c", &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no prompt was waited for: {:?}",
        started.elapsed()
    );
    assert!(
        err.contains("unlock prompt was dismissed") && err.contains("unlock it"),
        "{err}"
    );
    assert!(
        !err.contains("Secret Service: Secret Service"),
        "said once: {err}"
    );
    assert!(!err.contains("awsrole add"), "{err}");
    assert_eq!(s.world.calls().len(), calls, "no STS call");

    // SAFETY: kill has no memory preconditions; the helper stops its daemons on TERM.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let _ = daemon.wait();
}
