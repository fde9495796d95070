//! Sets `AWSROLE_VERSION_LONG` for `awsrole --version`: "0.1.0 (abc1234 x86_64-unknown-linux-gnu)".
//!
//! The commit comes from `git rev-parse` when the crate is a git checkout, from
//! `.cargo_vcs_info.json` (written by `cargo package`) in a packaged crate, else it is
//! "unknown". No timestamp, nothing of the build machine but the target triple, so two
//! builds of one commit stay byte-identical. The script reruns only when HEAD moves.
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    let target = std::env::var("TARGET").unwrap();
    println!("cargo:rerun-if-changed=build.rs");
    let commit = if dir.join(".git").exists() {
        from_git(&dir)
    } else {
        let vcs = dir.join(".cargo_vcs_info.json");
        println!("cargo:rerun-if-changed={}", vcs.display());
        std::fs::read_to_string(&vcs)
            .ok()
            .and_then(|text| sha1_of(&text))
    };
    let commit = commit.map_or_else(
        || "unknown".to_string(),
        |sha| sha.chars().take(7).collect(),
    );
    println!("cargo:rustc-env=AWSROLE_VERSION_LONG={version} ({commit} {target})");
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The commit of HEAD, and rerun-if-changed on HEAD and on the file of the branch it
/// names (or packed-refs, where the branch lives when it has no file of its own).
fn from_git(dir: &Path) -> Option<String> {
    let watch = |relative: &str| {
        if let Some(path) = git(
            dir,
            &[
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                relative,
            ],
        ) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
                return true;
            }
        }
        false
    };
    watch("HEAD");
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        if !watch(&branch) {
            watch("packed-refs");
        }
    }
    git(dir, &["rev-parse", "HEAD"])
}

/// `"sha1": "…"` in `.cargo_vcs_info.json` (`{"git": {"sha1": "…"}, "path_in_vcs": ""}`).
fn sha1_of(text: &str) -> Option<String> {
    let rest = &text[text.find("\"sha1\"")? + 6..];
    let rest = &rest[rest.find('"')? + 1..];
    let sha = &rest[..rest.find('"')?];
    (sha.len() >= 7 && sha.chars().all(|c| c.is_ascii_hexdigit())).then(|| sha.to_string())
}
