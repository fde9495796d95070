//! Two shells resolving at once: the second waits for the first (which may be asking
//! for an MFA code) and then finds its credentials in the cache. The lock file holds
//! no secret.

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct ResolveLock {
    _file: File,
}

pub fn lock_path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("awsrole").join("resolve.lock")
}

/// `Ok(None)` when it could not be taken in time: the caller goes on unlocked, which
/// at worst costs a duplicate STS call.
pub fn acquire(wait: Duration) -> Option<(ResolveLock, bool)> {
    let path = lock_path();
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .ok()?;
    let started = Instant::now();
    let mut waited = false;
    loop {
        if try_lock(&file) {
            return Some((ResolveLock { _file: file }, waited));
        }
        if started.elapsed() >= wait {
            return None;
        }
        waited = true;
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> bool {
    true
}
