//! Where things live: the home directory by the platform's rule, and awsrole's own
//! state (trust store, lock files) in the platform's proper places.
//!
//! Never a relative path: with `HOME` unset or relative, botocore and awsrole used to
//! read `.aws/config` relative to the working directory, so a cloned repository could
//! bring its own config (and `credential_process`). On Unix the password database
//! answers instead, as Python's `expanduser` does; on Windows `USERPROFILE`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn absolute(value: Option<OsString>) -> Option<PathBuf> {
    value.map(PathBuf::from).filter(|p| p.is_absolute())
}

/// The user's home directory.
pub fn home() -> Result<PathBuf> {
    home_from(crate::sys::settings::os("HOME"), crate::sys::settings::os("USERPROFILE")).ok_or_else(|| {
        Error::System(
            "cannot tell your home directory: HOME is unset or not absolute and the system has no entry for you; set HOME".into(),
        )
    })
}

#[cfg(unix)]
fn home_from(home: Option<OsString>, _profile: Option<OsString>) -> Option<PathBuf> {
    absolute(home).or_else(passwd_home)
}

#[cfg(windows)]
fn home_from(home: Option<OsString>, profile: Option<OsString>) -> Option<PathBuf> {
    absolute(profile).or_else(|| absolute(home)).or_else(|| {
        let drive = crate::sys::settings::os("HOMEDRIVE")?;
        let path = crate::sys::settings::os("HOMEPATH")?;
        let mut joined = drive;
        joined.push(path);
        absolute(Some(joined))
    })
}

#[cfg(not(any(unix, windows)))]
fn home_from(home: Option<OsString>, _profile: Option<OsString>) -> Option<PathBuf> {
    absolute(home)
}

/// The home directory of the effective user in the password database.
#[cfg(unix)]
fn passwd_home() -> Option<PathBuf> {
    passwd_field(|pw| pw.pw_dir)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The effective user's login name (`id -un`), for session names when `USER` is unset.
#[cfg(unix)]
pub fn user_name() -> Option<String> {
    passwd_field(|pw| pw.pw_name).and_then(|n| n.into_string().ok())
}

#[cfg(not(unix))]
pub fn user_name() -> Option<String> {
    crate::sys::settings::var("USERNAME").ok()
}

#[cfg(unix)]
fn passwd_field(field: impl Fn(&libc::passwd) -> *mut libc::c_char) -> Option<OsString> {
    use std::os::unix::ffi::OsStringExt;
    let mut buf = vec![0u8; 4096];
    // SAFETY: getpwuid_r fills `entry` with pointers into `buf`, which outlives them;
    // the zeroed passwd is a valid out-parameter.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut entry,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        );
        if rc != 0 || found.is_null() {
            return None;
        }
        let ptr = field(&entry);
        if ptr.is_null() {
            return None;
        }
        let bytes = std::ffi::CStr::from_ptr(ptr).to_bytes().to_vec();
        Some(OsString::from_vec(bytes))
    }
}

/// An XDG variable, honoured only when absolute (as the specification says).
fn xdg(var: &str) -> Option<PathBuf> {
    absolute(crate::sys::settings::os(var))
}

/// Where the trust store and other lasting state go: `$XDG_DATA_HOME/awsrole`,
/// `~/.local/share/awsrole`; `~/Library/Application Support/awsrole` on macOS,
/// `%APPDATA%\awsrole` on Windows.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(base) = xdg("XDG_DATA_HOME") {
        return Ok(base.join("awsrole"));
    }
    if cfg!(windows) {
        if let Some(base) = absolute(crate::sys::settings::os("APPDATA")) {
            return Ok(base.join("awsrole"));
        }
    }
    let home = home()?;
    Ok(if cfg!(target_os = "macos") {
        home.join("Library/Application Support/awsrole")
    } else {
        home.join(".local/share/awsrole")
    })
}

/// Where lock files go: `$XDG_RUNTIME_DIR/awsrole`, else the user's cache directory
/// (`$XDG_CACHE_HOME`, `~/.cache`, `~/Library/Caches`, `%LOCALAPPDATA%`). Never a
/// directory another user could have made: see [`private_dir`].
pub fn runtime_dir() -> Result<PathBuf> {
    if let Some(base) = xdg("XDG_RUNTIME_DIR") {
        return Ok(base.join("awsrole"));
    }
    if let Some(base) = xdg("XDG_CACHE_HOME") {
        return Ok(base.join("awsrole"));
    }
    if cfg!(windows) {
        if let Some(base) = absolute(crate::sys::settings::os("LOCALAPPDATA")) {
            return Ok(base.join("awsrole"));
        }
    }
    let home = home()?;
    Ok(if cfg!(target_os = "macos") {
        home.join("Library/Caches/awsrole")
    } else {
        home.join(".cache/awsrole")
    })
}

/// Creates `dir` (mode 0700) if needed and checks that it is a real directory, not a
/// link, owned by this user and closed to others, so no other local user can plant a
/// link there or hold our locks.
pub fn private_dir(dir: &Path) -> Result<()> {
    let fail = |why: String| Error::System(format!("{}: {why}", dir.display()));
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| fail(format!("cannot create its parent: {e}")))?;
    }
    create_private(dir).map_err(|e| fail(format!("cannot create it: {e}")))?;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| fail(e.to_string()))?;
    if !meta.is_dir() {
        return Err(fail(
            "is not a directory (a link?); remove it and try again".into(),
        ));
    }
    check_private(&meta).map_err(fail)
}

#[cfg(unix)]
fn create_private(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn create_private(dir: &Path) -> std::io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn check_private(meta: &std::fs::Metadata) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "belongs to another user (uid {}); remove it or set XDG_RUNTIME_DIR",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err("is writable by group or others; run 'chmod 700' on it".into());
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &std::fs::Metadata) -> std::result::Result<(), String> {
    Ok(())
}

/// A new file only this user can read (mode 0600), never through a link, failing when
/// the name is taken: a secret or a trust entry never lands in a file someone else made.
#[cfg(unix)]
pub fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(not(unix))]
pub fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Puts `bytes` at `path` whole or not at all: a temporary file beside it (mode 0600),
/// synced, then renamed over it. A write cut short (a full disk, `RLIMIT_FSIZE`, a
/// kill) leaves at most the temporary file, never a partial `path`.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_with(path, bytes, None, || Ok(()))
}

/// `replace_private`, with the temporary file given `permissions` (the mode of the file
/// it replaces: `sso sync` keeps the config's) and `check` run just before the rename:
/// an error from it leaves `path` as it was and no temporary file behind.
pub fn replace_with(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
    check: impl FnOnce() -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.awsrole-{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = (|| {
        use std::io::Write;
        let mut file = create_new_private(&tmp)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        check()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_relative_or_missing_home_falls_back_to_the_password_database() {
        let from_passwd = passwd_home().expect("this user has a passwd entry");
        assert!(from_passwd.is_absolute());
        assert_eq!(home_from(None, None), Some(from_passwd.clone()));
        assert_eq!(home_from(Some("".into()), None), Some(from_passwd.clone()));
        assert_eq!(home_from(Some("rel/dir".into()), None), Some(from_passwd));
        assert_eq!(
            home_from(Some("/h/me".into()), None),
            Some(PathBuf::from("/h/me"))
        );
    }

    #[test]
    fn a_private_dir_refuses_links_and_open_modes() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("mine");
        private_dir(&good).unwrap();
        let mode = std::fs::metadata(&good).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert!(private_dir(&link).is_err(), "a link is refused");
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(private_dir(&open)
            .unwrap_err()
            .to_string()
            .contains("writable"));
    }
}
