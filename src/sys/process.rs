//! Helper programs (`credential_process`, `mfa_process`) run with a deadline: one that
//! never returns must not hang `export`, and never the per-prompt hook.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `credential_process` may legitimately open a browser and wait for a person.
pub const CREDENTIAL_PROCESS_DEADLINE: Duration = Duration::from_secs(300);
/// `mfa_process` may wait for a touch or a push notification.
pub const MFA_PROCESS_DEADLINE: Duration = Duration::from_secs(120);
/// Helpers print a small document; more than this is not one.
const MAX_OUTPUT: u64 = 1024 * 1024;

pub enum RunError {
    Start(std::io::Error),
    TimedOut(Duration),
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
}

/// `AWSROLE_PROCESS_TIMEOUT` (seconds, or `90s`, `5m`) replaces both defaults.
fn configured(default: Duration) -> Duration {
    crate::sys::settings::get().process_timeout_or(default)
}

/// Runs `command` (stdin closed, stderr shared, stdout captured) for at most
/// `deadline`, or what is left of the process's budget; kills it after that.
pub fn run(mut command: Command, deadline: Duration) -> Result<Finished, RunError> {
    let deadline = crate::sys::budget::within(configured(deadline));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(RunError::Start)?;
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if started.elapsed() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::TimedOut(deadline));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // A grandchild may still hold the pipe open: do not wait on it for long.
    let stdout = rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    Ok(Finished { status, stdout })
}
