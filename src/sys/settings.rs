//! Variables whose value in awsrole's own environment may be one awsrole itself
//! exported into the shell, not the user's: read here, told apart from the user's own.
//!
//! `use --server` points the shell's `AWS_SHARED_CREDENTIALS_FILE` at an empty file so
//! that every SDK in it uses the endpoint; awsrole run from that shell must still read
//! the user's real credentials file (its root keys, and so its cache keys, come from
//! there). The value the user had is in the shell's diff (handed to every awsrole call
//! by the integration); without it (a script), the AWS CLI's default is the user's.

use crate::env::envdiff::EnvDiff;

/// What `use --server` and `exec --server` put in `AWS_SHARED_CREDENTIALS_FILE`.
pub const EMPTY_FILE: &str = if cfg!(windows) { "NUL" } else { "/dev/null" };

/// What `use --server` leaves in the shell besides the endpoint: the daemon, for
/// `unuse` to stop and the prompt and `status` to show (`pid;url`, no secret).
pub const SERVER_VAR: &str = "AWSROLE_SERVER";

/// `AWS_SHARED_CREDENTIALS_FILE` as the user set it (`None`: the default file).
pub fn user_credentials_file() -> Option<String> {
    let value = std::env::var("AWS_SHARED_CREDENTIALS_FILE").ok();
    let ours = std::env::var_os(SERVER_VAR).is_some() && value.as_deref() == Some(EMPTY_FILE);
    if !ours {
        return value;
    }
    crate::env::hook::take_diff()
        .as_deref()
        .and_then(EnvDiff::decode)
        .and_then(|diff| diff.prior("AWS_SHARED_CREDENTIALS_FILE"))
}
