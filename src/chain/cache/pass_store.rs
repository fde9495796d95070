//! `AWSROLE_KEYRING=pass`: long-term keys in password-store (`pass`, GPG underneath),
//! one entry per secret under `awsrole/`, for people who already keep their secrets
//! there and on machines with no Secret Service. awsrole runs `pass` itself; GPG asks
//! for its passphrase through its own agent (pinentry), never through awsrole.
//!
//! Entry names are the store's names with anything but `[A-Za-z0-9._-]` (and a leading
//! dot) written as `%XX`, so a profile name never makes a path; the value is one line of base64.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;

use super::SecretStore;

pub struct PassStore;

const FOLDER: &str = "awsrole";

fn entry(name: &str) -> String {
    let mut out = format!("{FOLDER}/");
    for (i, b) in name.bytes().enumerate() {
        // A leading dot is escaped too: no `.` or `..`, no hidden file.
        if b.is_ascii_alphanumeric() || b"_-".contains(&b) || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn name_of(file_stem: &str) -> Option<String> {
    let bytes = file_stem.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = file_stem.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where `pass` keeps its files.
fn store_dir() -> Option<std::path::PathBuf> {
    match crate::sys::settings::os("PASSWORD_STORE_DIR") {
        Some(d) if !d.is_empty() => Some(d.into()),
        _ => crate::sys::dirs::home()
            .ok()
            .map(|h| h.join(".password-store")),
    }
}

/// Whether `pass` is installed and its store initialised (a `.gpg-id`).
pub fn usable() -> Result<(), String> {
    let dir = store_dir().ok_or("no home folder for the password store")?;
    if !dir.join(".gpg-id").is_file() {
        return Err(format!(
            "the password store {} is not initialised; run 'pass init GPG-KEY-ID' first",
            dir.display()
        ));
    }
    Command::new("pass")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run 'pass' ({e}); install password-store"))?;
    Ok(())
}

fn run(args: &[&str], input: Option<&[u8]>) -> Result<std::process::Output, String> {
    let mut child = Command::new("pass")
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run 'pass' ({e}); install password-store"))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(bytes).map_err(|e| format!("pass: {e}"))?;
    }
    child.wait_with_output().map_err(|e| format!("pass: {e}"))
}

fn failure(out: &std::process::Output) -> String {
    // pass's own messages name the entry and the GPG problem, never the secret.
    let text = String::from_utf8_lossy(&out.stderr);
    format!("pass: {}", text.trim().lines().last().unwrap_or("failed"))
}

impl SecretStore for PassStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let entry = entry(name);
        let exists = store_dir().is_some_and(|d| d.join(format!("{entry}.gpg")).is_file());
        if !exists {
            return Ok(None);
        }
        let out = run(&["show", &entry], None)?;
        if !out.status.success() {
            return Err(failure(&out));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().next().unwrap_or_default().trim();
        base64::engine::general_purpose::STANDARD
            .decode(line)
            .map(Some)
            .map_err(|e| format!("pass entry {entry}: {e}"))
    }

    fn put(
        &self,
        name: &str,
        value: &[u8],
        _expires: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), String> {
        usable()?;
        let mut line = base64::engine::general_purpose::STANDARD.encode(value);
        line.push('\n');
        let out = run(
            &["insert", "--multiline", "--force", &entry(name)],
            Some(line.as_bytes()),
        )?;
        if out.status.success() {
            Ok(())
        } else {
            Err(failure(&out))
        }
    }

    fn delete(&self, name: &str) -> Result<(), String> {
        let entry = entry(name);
        let exists = store_dir().is_some_and(|d| d.join(format!("{entry}.gpg")).is_file());
        if !exists {
            return Ok(());
        }
        let out = run(&["rm", "--force", &entry], None)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(failure(&out))
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
        let Some(dir) = store_dir().map(|d| d.join(FOLDER)) else {
            return Ok(Vec::new());
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(Vec::new());
        };
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                name_of(file.strip_suffix(".gpg")?)
            })
            .filter(|n| n.starts_with(prefix))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_safe_paths_and_come_back() {
        for name in ["awsrole:keys:default", "a/b c", "prod ünïcode", "..", "%"] {
            let path = entry(name);
            let stem = path.strip_prefix("awsrole/").unwrap();
            assert!(!stem.contains('/') && stem != ".." && stem != ".", "{path}");
            assert_eq!(name_of(stem).as_deref(), Some(name));
        }
    }
}
