//! What `awsrole init SHELL` prints and how a switch renders in each format, kept as
//! reviewed snapshots (`tests/snapshots/`). A change to a shell script, the completions or
//! the quoting fails here with the diff; when it is meant, accept it with
//! `INSTA_UPDATE=always cargo test --test snapshots` (or `cargo insta review`) and commit
//! the new snapshot with the change.

use std::process::Command;

use awsrole::env::render::{render_env, EnvChange, Format};

fn init(shell: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_awsrole"))
        .args(["init", shell])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "init {shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "init {shell} said: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn init_bash() {
    insta::assert_snapshot!(init("bash"));
}

#[test]
fn init_zsh() {
    insta::assert_snapshot!(init("zsh"));
}

#[test]
fn init_fish() {
    insta::assert_snapshot!(init("fish"));
}

#[test]
fn init_nu() {
    insta::assert_snapshot!(init("nu"));
}

/// A switch with values that need quoting in every shell: quotes, `$`, a backslash, a
/// newline, non-ASCII text.
fn change() -> EnvChange {
    EnvChange {
        set: vec![
            ("AWS_ACCESS_KEY_ID".into(), "key-id-of-the-snapshot".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "secret/with+slash=".into()),
            (
                "AWS_SESSION_TOKEN".into(),
                "it's \"quoted\" $HOME `x` \\ end".into(),
            ),
            ("AWS_REGION".into(), "eu-west-3".into()),
            ("AWSROLE_PROFILE".into(), "rôle-b\nsecond line".into()),
        ],
        unset: vec!["AWS_PROFILE".into(), "AWS_SECURITY_TOKEN".into()],
    }
}

#[test]
fn render_sh() {
    insta::assert_snapshot!(render_env(Format::Sh, &change()));
}

#[test]
fn render_fish() {
    insta::assert_snapshot!(render_env(Format::Fish, &change()));
}

#[test]
fn render_nu() {
    insta::assert_snapshot!(render_env(Format::Nu, &change()));
}

#[test]
fn render_env_lines() {
    insta::assert_snapshot!(render_env(Format::Env, &change()));
}
