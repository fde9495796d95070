//! Every variable awsrole reads, in one place, read once per process.
//!
//! `get()` takes one snapshot of the environment the first time it is asked (main asks
//! first, before any thread starts, and takes the shell's hand-over `AWSROLE_DIFF` out of
//! the process so no child inherits it). Nothing else in awsrole calls `std::env::var`
//! (`tests/architecture.rs` checks it). Variables with a parse rule have a function of
//! their own here that applies it and names the variable when the value is wrong; plain
//! values (the AWS SDKs' own variables, read by the root or client that honours them)
//! are read with `var`, `nonempty` or `os`.
//!
//! It also tells the user's own values apart from what awsrole itself exported into the
//! shell: `use --server` points the shell's `AWS_SHARED_CREDENTIALS_FILE` at an empty
//! file so that every SDK in it uses the endpoint, but awsrole run from that shell must
//! still read the user's real credentials file (its root keys, and so its cache keys,
//! come from there). The value the user had is in the shell's diff (handed to every
//! awsrole call by the integration); without it (a script), the AWS CLI's default is
//! the user's.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;
use std::time::Duration;

use crate::sys::envdiff::EnvDiff;

/// What `use --server` and `exec --server` put in `AWS_SHARED_CREDENTIALS_FILE`.
pub const EMPTY_FILE: &str = if cfg!(windows) { "NUL" } else { "/dev/null" };

/// What `use --server` leaves in the shell besides the endpoint: the daemon, for
/// `unuse` to stop and the prompt and `status` to show (`pid;url`, no secret).
pub const SERVER_VAR: &str = "AWSROLE_SERVER";

/// How the shell hands its diff to one awsrole call (taken out of the process first).
pub const HANDOFF_VAR: &str = "AWSROLE_DIFF";

/// How deep `credential_process` programs that call awsrole are nested.
pub const PROCESS_DEPTH_VAR: &str = "AWSROLE_PROCESS_DEPTH";

/// Refresh a cached credential when less than this remains (`AWSROLE_REFRESH_MARGIN`).
pub const DEFAULT_REFRESH_MARGIN: i64 = 300;

/// The hook's whole budget unless `AWSROLE_HOOK_BUDGET` says otherwise.
pub const HOOK_BUDGET: Duration = Duration::from_millis(2500);

/// The snapshot.
pub struct Settings {
    vars: HashMap<OsString, OsString>,
    diff: Option<String>,
}

/// A variable that is unset (or not text): what `std::env::var` calls an error, so that
/// call sites read as they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unset;

/// The process's snapshot, taken on the first call.
pub fn get() -> &'static Settings {
    static SNAPSHOT: OnceLock<Settings> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let diff = std::env::var(HANDOFF_VAR).ok().filter(|d| !d.is_empty());
        // SAFETY (edition 2021: safe): main asks first, before any thread is started.
        std::env::remove_var(HANDOFF_VAR);
        Settings::from_parts(std::env::vars_os(), diff)
    })
}

/// `name`'s value as text.
pub fn var(name: &str) -> Result<String, Unset> {
    get().text(name).map(str::to_string).ok_or(Unset)
}

/// `name`'s value when it is set and not blank.
pub fn nonempty(name: &str) -> Option<String> {
    get()
        .text(name)
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
}

/// `name`'s value as the platform has it (paths).
pub fn os(name: &str) -> Option<OsString> {
    get().raw(name).map(OsStr::to_os_string)
}

impl Settings {
    /// A snapshot of given parts (tests).
    pub fn from_parts(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        diff: Option<String>,
    ) -> Settings {
        Settings {
            vars: vars.into_iter().collect(),
            diff,
        }
    }

    fn raw(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(OsStr::new(name)).map(OsString::as_os_str)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw(name).and_then(OsStr::to_str)
    }

    /// The diff the shell handed over (`AWSROLE_DIFF`), if any.
    pub fn handed_diff(&self) -> Option<&str> {
        self.diff.as_deref()
    }

    /// `AWS_SHARED_CREDENTIALS_FILE` as the user set it (`None`: the default file).
    pub fn user_credentials_file(&self) -> Option<String> {
        let value = self.text("AWS_SHARED_CREDENTIALS_FILE");
        let ours = self.raw(SERVER_VAR).is_some() && value == Some(EMPTY_FILE);
        if !ours {
            return value.map(str::to_string);
        }
        self.diff
            .as_deref()
            .and_then(EnvDiff::decode)
            .and_then(|diff| diff.prior("AWS_SHARED_CREDENTIALS_FILE"))
    }

    /// `AWSROLE_REFRESH_MARGIN` in seconds (`5m`, `300`, `1h`), or `default` when unset
    /// or not a duration.
    pub fn refresh_margin_or(&self, default: i64) -> i64 {
        self.text("AWSROLE_REFRESH_MARGIN")
            .and_then(parse_margin)
            .unwrap_or(default)
    }

    /// `AWSROLE_PROCESS_TIMEOUT` (at least 1 s), or `default`.
    pub fn process_timeout_or(&self, default: Duration) -> Duration {
        self.text("AWSROLE_PROCESS_TIMEOUT")
            .and_then(parse_margin)
            .map(|s| Duration::from_secs(s.max(1) as u64))
            .unwrap_or(default)
    }

    /// `AWSROLE_HOOK_BUDGET` (whole seconds, `1` to `60`, as `5` or `5s`), or
    /// `HOOK_BUDGET`; a wrong value is `Err` with what to tell the user.
    pub fn hook_budget(&self) -> Result<Duration, String> {
        let Some(text) = self.text("AWSROLE_HOOK_BUDGET") else {
            return Ok(HOOK_BUDGET);
        };
        match crate::sys::duration::parse_duration(text) {
            Ok(seconds @ 1..=60) => Ok(Duration::from_secs(seconds.into())),
            _ => Err(format!(
                "AWSROLE_HOOK_BUDGET={text:?} is not 1 to 60 seconds; the hook keeps its 2.5 s"
            )),
        }
    }

    /// `AWSROLE_KEYRING` as given (`None`: unset or empty, that is `auto`).
    pub fn keyring(&self) -> Option<&str> {
        self.text("AWSROLE_KEYRING").filter(|v| !v.is_empty())
    }

    /// `AWSROLE_CACHE_NAMESPACE` (`None`: unset or empty).
    pub fn cache_namespace(&self) -> Option<&str> {
        self.text("AWSROLE_CACHE_NAMESPACE")
            .filter(|v| !v.is_empty())
    }

    /// `AWSROLE_SHELL_PID`: the shell the integration runs in.
    pub fn shell_pid(&self) -> Option<u32> {
        self.text("AWSROLE_SHELL_PID").and_then(|p| p.parse().ok())
    }

    /// `AWSROLE_PROCESS_DEPTH` (0 when unset or not a number).
    pub fn process_depth(&self) -> u32 {
        self.text(PROCESS_DEPTH_VAR)
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    }
}

/// A margin or timeout: whole seconds, or with `s`, `m` or `h`; never negative.
pub fn parse_margin(text: &str) -> Option<i64> {
    let t = text.trim();
    let (number, scale) = match t.chars().last()? {
        'h' => (&t[..t.len() - 1], 3600),
        'm' => (&t[..t.len() - 1], 60),
        's' => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    number
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(vars: &[(&str, &str)], diff: Option<String>) -> Settings {
        Settings::from_parts(
            vars.iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
            diff,
        )
    }

    #[test]
    fn the_shells_empty_credentials_file_is_told_apart_from_the_users() {
        let mut diff = EnvDiff::default();
        diff.set_prior("AWS_SHARED_CREDENTIALS_FILE", Some("/home/me/creds".into()));
        let ours = snapshot(
            &[
                ("AWS_SHARED_CREDENTIALS_FILE", EMPTY_FILE),
                (SERVER_VAR, "1;http://127.0.0.1:1/"),
            ],
            Some(diff.encode()),
        );
        assert_eq!(
            ours.user_credentials_file().as_deref(),
            Some("/home/me/creds")
        );
        // Without the endpoint, the empty file is the user's own choice.
        let theirs = snapshot(&[("AWS_SHARED_CREDENTIALS_FILE", EMPTY_FILE)], None);
        assert_eq!(theirs.user_credentials_file().as_deref(), Some(EMPTY_FILE));
        // With the endpoint but no diff (a script): the default file.
        let script = snapshot(
            &[
                ("AWS_SHARED_CREDENTIALS_FILE", EMPTY_FILE),
                (SERVER_VAR, "1;http://127.0.0.1:1/"),
            ],
            None,
        );
        assert_eq!(script.user_credentials_file(), None);
    }

    #[test]
    fn parsed_variables_apply_their_rule_and_name_themselves() {
        let s = snapshot(
            &[
                ("AWSROLE_REFRESH_MARGIN", "10m"),
                ("AWSROLE_PROCESS_TIMEOUT", "0"),
                ("AWSROLE_HOOK_BUDGET", "90"),
                ("AWSROLE_KEYRING", ""),
                ("AWSROLE_SHELL_PID", "42"),
                ("AWSROLE_PROCESS_DEPTH", "x"),
            ],
            None,
        );
        assert_eq!(s.refresh_margin_or(300), 600);
        assert_eq!(
            s.process_timeout_or(Duration::from_secs(9)),
            Duration::from_secs(1)
        );
        assert!(s
            .hook_budget()
            .unwrap_err()
            .contains("AWSROLE_HOOK_BUDGET=\"90\""));
        assert_eq!(s.keyring(), None);
        assert_eq!(s.shell_pid(), Some(42));
        assert_eq!(s.process_depth(), 0);
        let unset = snapshot(&[], None);
        assert_eq!(unset.refresh_margin_or(300), 300);
        assert_eq!(unset.hook_budget(), Ok(HOOK_BUDGET));
    }

    #[test]
    fn margins_take_units_and_refuse_negatives() {
        assert_eq!(parse_margin("45"), Some(45));
        assert_eq!(parse_margin("20m"), Some(1200));
        assert_eq!(parse_margin("x"), None);
        assert_eq!(parse_margin("2h"), Some(7200));
        assert_eq!(parse_margin("-1"), None);
        assert_eq!(parse_margin("m"), None);
    }
}
