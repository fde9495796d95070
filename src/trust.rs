//! `.awsrole` files and which of them the user trusts.
//!
//! As direnv does (after its #83), trust is a hash of the file's path *and* content:
//! an edited or moved file is untrusted again. Files others could write are refused.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const FILE_NAME: &str = ".awsrole";
/// A profile name, a few comments: anything larger is not an `.awsrole`.
const MAX_SIZE: u64 = 4096;

/// Where allowed hashes live: `$XDG_DATA_HOME/awsrole/allow`, else `~/.local/share/…`.
pub fn allow_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(".local/share")
        });
    base.join("awsrole").join("allow")
}

/// The nearest `.awsrole` at or above `dir`.
pub fn find_nearest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// The profile a file names: its first line that is neither blank nor a `#` comment.
pub fn parse_profile(text: &str, file: &Path) -> Result<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| {
            Error::Trust(format!(
                "{} names no profile; write one profile name on its first line",
                file.display()
            ))
        })?;
    if line.chars().any(|c| c.is_control()) || line.len() > 256 {
        return Err(Error::Trust(format!(
            "{} does not start with a profile name; write one profile name on its first line",
            file.display()
        )));
    }
    Ok(line.to_string())
}

/// The file's text, refusing what another user could have written.
pub fn read_checked(file: &Path) -> Result<String> {
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::Trust(format!("cannot read {}: {e}", file.display())))?;
    if meta.len() > MAX_SIZE {
        return Err(Error::Trust(format!(
            "{} is larger than {MAX_SIZE} bytes; it should hold one profile name",
            file.display()
        )));
    }
    check_ownership(file, &meta)?;
    let bytes = std::fs::read(file)
        .map_err(|e| Error::Trust(format!("cannot read {}: {e}", file.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::Trust(format!("{} is not UTF-8 text", file.display())))
}

#[cfg(unix)]
fn check_ownership(file: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        return Err(Error::Trust(format!(
            "{} belongs to another user (uid {}); awsrole only trusts your own files",
            file.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::Trust(format!(
            "{} is writable by group or others; run 'chmod go-w {}' first",
            file.display(),
            file.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_ownership(_file: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

fn trust_hash(file: &Path, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(file.as_os_str().as_encoded_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn is_allowed(file: &Path, content: &str) -> bool {
    allow_dir().join(trust_hash(file, content)).is_file()
}

pub fn allow(file: &Path, content: &str) -> Result<()> {
    let dir = allow_dir();
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", dir.display())))?;
    forget(file)?;
    let entry = dir.join(trust_hash(file, content));
    std::fs::write(&entry, file.as_os_str().as_encoded_bytes())
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", entry.display())))
}

/// Drops every allow entry for this path, whatever content it was allowed with.
pub fn forget(file: &Path) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(allow_dir()) else {
        return Ok(0);
    };
    let wanted = file.as_os_str().as_encoded_bytes();
    let mut dropped = 0;
    for entry in entries.flatten() {
        if std::fs::read(entry.path()).is_ok_and(|p| p == wanted) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::Io(e.to_string()))?;
            dropped += 1;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_real_line_names_the_profile() {
        let f = Path::new("/p/.awsrole");
        assert_eq!(
            parse_profile("# team prod\n\n  role-b  \nignored\n", f).unwrap(),
            "role-b"
        );
        assert!(parse_profile("# only comments\n\n", f)
            .unwrap_err()
            .to_string()
            .contains("names no profile"));
        assert!(parse_profile("role\u{1b}[31m\n", f).is_err());
    }

    #[test]
    fn trust_depends_on_path_and_content() {
        let a = trust_hash(Path::new("/a/.awsrole"), "role-b\n");
        assert_ne!(a, trust_hash(Path::new("/b/.awsrole"), "role-b\n"));
        assert_ne!(a, trust_hash(Path::new("/a/.awsrole"), "role-c\n"));
    }
}
