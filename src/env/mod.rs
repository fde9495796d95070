//! The shell's environment: what a switch sets and clears (`render`), in each shell's
//! syntax (`shell`), reversibly (`envdiff`); the per-prompt decision (`hook`); and which
//! `.awsrole` files may act (`trust`).

pub(crate) mod envdiff;
pub mod hook;
pub mod render;
pub mod shell;
pub mod trust;
