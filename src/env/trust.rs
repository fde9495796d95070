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

/// Where allowed hashes live: `$XDG_DATA_HOME/awsrole/allow`, else
/// `~/.local/share/awsrole/allow` (see `dirs::data_dir` for macOS and Windows).
pub fn allow_dir() -> Result<PathBuf> {
    Ok(crate::sys::dirs::data_dir()?.join("allow"))
}

/// The nearest `.awsrole` at or above `dir`.
pub fn find_nearest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// What a profile name may hold: letters, digits and `-_.@+=,/` with inner spaces, at
/// most 128 characters. Anything else is never echoed back: a `.awsrole` that links to
/// a secret file must not print that file's first line.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 128
        && name.trim() == name
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@+=,/ ".contains(c))
}

/// The profile a file names: its first line that is neither blank nor a `#` comment.
pub fn parse_profile(text: &str, file: &Path) -> Result<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
    if !valid_profile_name(line) {
        return Err(Error::Trust(format!(
            "{} does not start with a profile name (letters, digits, -_.@+=,/); write one profile name on its first line",
            file.display()
        )));
    }
    Ok(line.to_string())
}

/// The file's text, refusing what another user could have written, special files, and
/// links that leave the file's directory. At most `MAX_SIZE` bytes are read, whatever
/// `stat` says (`/proc` files report size 0).
pub fn read_checked(file: &Path) -> Result<String> {
    let fail = |why: String| Error::Trust(format!("{}: {why}", file.display()));
    let target = real_target(file).map_err(fail)?;
    let mut opened = open_regular(&target).map_err(fail)?;
    let meta = opened
        .metadata()
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(fail(
            "is not a regular file; a .awsrole holds one profile name".into(),
        ));
    }
    check_ownership(file, &meta)?;
    let mut bytes = Vec::new();
    use std::io::Read;
    (&mut opened)
        .take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(fail(format!(
            "is larger than {MAX_SIZE} bytes; it should hold one profile name"
        )));
    }
    String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".into()))
}

/// The file itself, or where its link points when that stays in the same directory.
fn real_target(file: &Path) -> std::result::Result<PathBuf, String> {
    let meta = std::fs::symlink_metadata(file).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.file_type().is_symlink() {
        return Ok(file.to_path_buf());
    }
    let target = std::fs::canonicalize(file).map_err(|e| format!("is a broken link: {e}"))?;
    let dir = file
        .parent()
        .and_then(|d| std::fs::canonicalize(d).ok())
        .ok_or("has no directory")?;
    if target.parent() != Some(dir.as_path()) {
        return Err(
            "is a link that leaves its directory; awsrole reads only a plain file there".into(),
        );
    }
    Ok(target)
}

/// Opened without blocking (a FIFO would hang the prompt) and without following a
/// link swapped in after the check.
#[cfg(unix)]
fn open_regular(path: &Path) -> std::result::Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("cannot read it: {e}"))
}

#[cfg(not(unix))]
fn open_regular(path: &Path) -> std::result::Result<std::fs::File, String> {
    std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))
}

fn check_ownership(file: &Path, meta: &std::fs::Metadata) -> Result<()> {
    let shown = file.display();
    match owner_problem(meta) {
        None => Ok(()),
        Some(Unsafe::Foreign(uid)) => Err(Error::Trust(format!(
            "{shown} belongs to another user (uid {uid}); awsrole only trusts your own files"
        ))),
        Some(Unsafe::OpenToOthers) => Err(Error::Trust(format!(
            "{shown} is writable by group or others; run 'chmod go-w {shown}' first"
        ))),
    }
}

/// What makes a file or directory something another user could have written.
#[cfg_attr(not(unix), allow(dead_code))]
enum Unsafe {
    Foreign(u32),
    OpenToOthers,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsafe::Foreign(uid) => write!(f, "belongs to another user (uid {uid})"),
            Unsafe::OpenToOthers => write!(f, "is writable by group or others"),
        }
    }
}

fn trust_hash(file: &Path, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(file.as_os_str().as_encoded_bytes());
    h.update(b"\n");
    h.update(content.as_bytes());
    crate::env::envdiff::to_hex(&h.finalize())
}

/// Whether `file` with this content was allowed: an entry named by its hash that is
/// complete — a regular file of this user holding exactly the path — in an allow
/// directory that only this user can write. An empty or cut-off entry (an `allow` that
/// was killed, or ran out of space, before it finished) trusts nothing.
pub fn is_allowed(file: &Path, content: &str) -> bool {
    let Ok(dir) = allow_dir() else {
        return false;
    };
    if store_problem(&dir).is_some() {
        return false;
    }
    let wanted = file.as_os_str().as_encoded_bytes();
    read_entry(&dir.join(trust_hash(file, content)), wanted.len())
        .is_some_and(|held| held == wanted)
}

/// Why the allow directory cannot be trusted, when it cannot: entries there are only
/// worth something if no one else could have put them there.
pub fn store_problem(dir: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() {
        return Some(format!(
            "the allow list {} is not a directory (a link?); remove it and allow again",
            dir.display()
        ));
    }
    owner_problem(&meta).map(|why| {
        format!(
            "the allow list {} {why}; awsrole trusts no entry there until it is yours alone ('chmod 700' it, or remove it and allow again)",
            dir.display()
        )
    })
}

/// An entry's bytes (at most `expected` + 1 of them), when it is a regular file of this
/// user; `None` for anything else.
fn read_entry(entry: &Path, expected: usize) -> Option<Vec<u8>> {
    let opened = open_regular(entry).ok()?;
    let meta = opened.metadata().ok()?;
    if !meta.is_file() || owner_problem(&meta).is_some() {
        return None;
    }
    let mut bytes = Vec::new();
    use std::io::Read;
    opened
        .take(expected as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

#[cfg(unix)]
fn owner_problem(meta: &std::fs::Metadata) -> Option<Unsafe> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        return Some(Unsafe::Foreign(meta.uid()));
    }
    (meta.mode() & 0o022 != 0).then_some(Unsafe::OpenToOthers)
}

#[cfg(not(unix))]
fn owner_problem(_meta: &std::fs::Metadata) -> Option<Unsafe> {
    None
}

/// Trusts `file` with this content: the entry is written whole under a temporary
/// name and renamed into place, so it exists complete or not at all.
pub fn allow(file: &Path, content: &str) -> Result<()> {
    let dir = allow_dir()?;
    crate::sys::dirs::private_dir(&dir)?;
    forget(file)?;
    let entry = dir.join(trust_hash(file, content));
    crate::sys::dirs::replace_private(&entry, file.as_os_str().as_encoded_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", entry.display()), e))
}

/// Drops every allow entry for this path, whatever content it was allowed with, and
/// whatever is left under the name of its current content (an entry an interrupted
/// `allow` left empty, and its temporary file).
pub fn forget(file: &Path) -> Result<usize> {
    let dir = allow_dir()?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    let current = read_checked(file).ok().map(|text| trust_hash(file, &text));
    let left_by = |name: &str| {
        current.as_deref().is_some_and(|hash| {
            name == hash || (name.starts_with(&format!(".{hash}.")) && name.ends_with(".tmp"))
        })
    };
    let wanted = file.as_os_str().as_encoded_bytes();
    let mut dropped = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let names_file = || read_entry(&path, wanted.len()).is_some_and(|p| p == wanted);
        if left_by(&name) || names_file() {
            std::fs::remove_file(&path)
                .map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))?;
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
        assert_eq!(parse_profile("\u{feff}role-b\n", f).unwrap(), "role-b");
        let err = parse_profile("https://me:tok@host\n", f)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("tok"), "{err}");
    }

    #[test]
    fn trust_depends_on_path_and_content() {
        let a = trust_hash(Path::new("/a/.awsrole"), "role-b\n");
        assert_ne!(a, trust_hash(Path::new("/b/.awsrole"), "role-b\n"));
        assert_ne!(a, trust_hash(Path::new("/a/.awsrole"), "role-c\n"));
    }
}
