//! One time budget per process. The per-prompt hook sets a small one, and everything
//! that can wait — STS, the Secret Service, a `credential_process` — takes its
//! deadline from what is left, so no prompt ever freezes for long. Commands a person
//! runs (`export`, `exec`, `use`) set none and keep each part's own, generous limit.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

static DEADLINE: OnceLock<Instant> = OnceLock::new();

/// How long the whole per-prompt hook may take, network and keyrings included.
pub const HOOK: Duration = crate::sys::settings::HOOK_BUDGET;

/// The hook's budget: `HOOK`, or `AWSROLE_HOOK_BUDGET` (whole seconds, `1` to `60`, as
/// `5` or `5s`) for a slow network or a loaded machine. Anything else keeps `HOOK`
/// and says so.
pub fn hook_budget() -> Duration {
    crate::sys::settings::get()
        .hook_budget()
        .unwrap_or_else(|why| {
            crate::sys::output::notice(&why);
            HOOK
        })
}

/// Starts the process's budget; the first call wins.
pub fn limit(total: Duration) {
    let _ = DEADLINE.set(Instant::now() + total);
}

pub fn is_limited() -> bool {
    DEADLINE.get().is_some()
}

/// `usual`, or what is left of the budget when that is less (at least 50 ms, so a
/// call that is already late fails fast instead of not being made at all).
pub fn within(usual: Duration) -> Duration {
    match DEADLINE.get() {
        Some(deadline) => usual
            .min(deadline.saturating_duration_since(Instant::now()))
            .max(Duration::from_millis(50)),
        None => usual,
    }
}
