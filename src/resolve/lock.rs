//! Two shells resolving the same step at once: the second waits for the first (which
//! may be asking for an MFA code) and then finds the result in the cache. One lock per
//! chain step — the MFA session or the first role to be called — so an unrelated chain
//! never waits behind someone's MFA prompt. Lock files hold no secret and live in a
//! directory only this user owns (`dirs::private_dir`), opened without following links.

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ResolveLock {
    _file: File,
}

/// The lock file of one step (its cache key, a hex digest).
pub fn lock_path(step: &str) -> crate::error::Result<PathBuf> {
    let dir = crate::dirs::runtime_dir()?;
    crate::dirs::private_dir(&dir)?;
    let short: String = step
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(32)
        .collect();
    Ok(dir.join(format!("resolve-{short}.lock")))
}

/// `None` when it could not be taken in time (or there is no private place for it):
/// the caller goes on unlocked, which at worst costs a duplicate STS call.
pub fn acquire(step: &str, wait: Duration) -> Option<ResolveLock> {
    let path = match lock_path(step) {
        Ok(p) => p,
        Err(e) => {
            crate::cache::warn(&format!("no lock for this resolution ({e})"));
            return None;
        }
    };
    let file = open_no_follow(&path).ok()?;
    let started = Instant::now();
    loop {
        if try_lock(&file) {
            return Some(ResolveLock { _file: file });
        }
        if started.elapsed() >= wait {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
fn open_no_follow(path: &std::path::Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &std::path::Path) -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

fn try_lock(file: &File) -> bool {
    file.try_lock().is_ok()
}
