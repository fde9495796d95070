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
    let dir = crate::sys::dirs::runtime_dir()?;
    crate::sys::dirs::private_dir(&dir)?;
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
    acquire_telling(step, wait, None)
}

/// `acquire`, saying once on stderr whom it waits for when the lock is held: another
/// awsrole (its pid, from the lock file) that is getting `what`, maybe at an MFA prompt
/// in another terminal. A second terminal that waited in silence looked hung. The
/// per-prompt hook (whose wait is short) says nothing.
pub fn acquire_telling(step: &str, wait: Duration, what: Option<&str>) -> Option<ResolveLock> {
    let path = match lock_path(step) {
        Ok(p) => p,
        Err(e) => {
            crate::chain::cache::warn(&format!("no lock for this resolution ({e})"));
            return None;
        }
    };
    let mut file = open_no_follow(&path).ok()?;
    let started = Instant::now();
    let mut told = crate::sys::budget::is_limited() || what.is_none();
    loop {
        if try_lock(&file) {
            mark_holder(&mut file);
            return Some(ResolveLock { _file: file });
        }
        if started.elapsed() >= wait {
            return None;
        }
        if !told {
            told = true;
            let holder = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default();
            crate::sys::output::notice(&format!(
                "waiting for another awsrole{holder} that is getting {}; it may be asking for an MFA code in another terminal",
                what.unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The holder's pid in the lock file (no secret), for whoever waits.
fn mark_holder(file: &mut File) {
    use std::io::Write;
    let _ = file.set_len(0);
    let _ = write!(file, "{}", std::process::id());
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
