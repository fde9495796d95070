//! The per-prompt hook and the switches it shares with `use` / `unuse`.
//!
//! Bookkeeping lives in exported variables, as direnv's `DIRENV_DIFF` and mise's
//! `__MISE_DIFF` do:
//! - `AWSROLE_STATE`: what is applied and why (`use`, or which `.awsrole` at which
//!   mtime), the credentials' expiry, and the trust store's mtime when last checked;
//! - `AWSROLE_DIFF`: the values every managed variable had before the first switch,
//!   so leaving restores exactly what the user had, hand-set keys included;
//! - `AWSROLE_SEEN`: the `.awsrole` the user was already told about (once per entry).
//!
//! The fast path runs before clap: a few `stat`s up the directory chain, one of the
//! trust store, a comparison with `AWSROLE_STATE`, and one line for the prompt. No
//! config, no keyring, no async runtime, no network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::render::{local_line, render_env, EnvChange, Format, Shell, MANAGED};
use crate::trust;

pub const STATE_VAR: &str = "AWSROLE_STATE";
pub const DIFF_VAR: &str = "AWSROLE_DIFF";
pub const SEEN_VAR: &str = "AWSROLE_SEEN";
pub const PROMPT_VAR: &str = "AWSROLE_PROMPT";

#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Use,
    Dir { file: PathBuf, mtime: u128 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub origin: Origin,
    /// Unix seconds; 0 for credentials that do not expire.
    pub expiry: i64,
    pub trust_mtime: u128,
    /// A renewal failed and the user was told; do not retry on every prompt.
    pub warned: bool,
}

impl State {
    pub fn encode(&self) -> String {
        let (kind, mtime, file) = match &self.origin {
            Origin::Use => ("u", 0, String::new()),
            Origin::Dir { file, mtime } => ("d", *mtime, file.to_string_lossy().into_owned()),
        };
        format!(
            "1;{kind};{};{mtime};{};{};{file}",
            self.expiry, self.trust_mtime, self.warned as u8
        )
    }

    pub fn decode(text: &str) -> Option<State> {
        let mut parts = text.splitn(7, ';');
        if parts.next()? != "1" {
            return None;
        }
        let kind = parts.next()?;
        let expiry = parts.next()?.parse().ok()?;
        let mtime = parts.next()?.parse().ok()?;
        let trust_mtime = parts.next()?.parse().ok()?;
        let warned = parts.next()? == "1";
        let file = parts.next()?;
        let origin = match kind {
            "u" => Origin::Use,
            "d" => Origin::Dir {
                file: PathBuf::from(file),
                mtime,
            },
            _ => return None,
        };
        Some(State {
            origin,
            expiry,
            trust_mtime,
            warned,
        })
    }

    pub fn from_env() -> Option<State> {
        std::env::var(STATE_VAR)
            .ok()
            .as_deref()
            .and_then(State::decode)
    }
}

/// What the hook sees on disk and in its environment.
pub struct Context {
    pub nearest: Option<(PathBuf, u128)>,
    pub trust_mtime: u128,
    pub state: Option<State>,
    pub seen: Option<String>,
    pub now: i64,
}

fn mtime_of(path: &Path) -> Option<u128> {
    let meta = std::fs::metadata(path).ok()?;
    Some(
        meta.modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos(),
    )
}

/// The shell's logical directory (as direnv uses), else the process's.
pub fn current_dir() -> PathBuf {
    match std::env::var_os("PWD").map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => std::env::current_dir().unwrap_or_default(),
    }
}

impl Context {
    pub fn read() -> Context {
        let cwd = current_dir();
        let nearest = cwd.ancestors().find_map(|dir| {
            let file = dir.join(trust::FILE_NAME);
            let meta = std::fs::metadata(&file).ok()?;
            if !meta.is_file() {
                return None;
            }
            let mtime = meta
                .modified()
                .ok()?
                .duration_since(UNIX_EPOCH)
                .ok()?
                .as_nanos();
            Some((file, mtime))
        });
        Context {
            nearest,
            trust_mtime: mtime_of(&trust::allow_dir()).unwrap_or(0),
            state: State::from_env(),
            seen: std::env::var(SEEN_VAR).ok(),
            now: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }

    fn near_expiry(&self, state: &State) -> bool {
        state.expiry != 0 && state.expiry - self.now <= margin()
    }

    /// The `AWSROLE_SEEN` value for the nearest file as it is now.
    pub fn seen_key(&self) -> Option<String> {
        self.nearest
            .as_ref()
            .map(|(file, mtime)| format!("{mtime};{};{}", self.trust_mtime, file.display()))
    }

    /// Nothing to do but refresh the prompt line?
    pub fn unchanged(&self) -> bool {
        match &self.state {
            Some(state) => {
                let fresh = !self.near_expiry(state) || state.warned;
                let same_place = match &state.origin {
                    Origin::Use => true,
                    Origin::Dir { file, mtime } => {
                        self.nearest
                            .as_ref()
                            .is_some_and(|(f, m)| f == file && m == mtime)
                            && self.trust_mtime == state.trust_mtime
                    }
                };
                fresh && same_place
            }
            None => match &self.nearest {
                None => true,
                Some(_) => self.seen == self.seen_key(),
            },
        }
    }
}

fn margin() -> i64 {
    crate::cache::refresh_margin()
}

/// `role-b 42m`, `role-b expired`, or nothing: from the environment only.
pub fn prompt_text(now: i64) -> String {
    let Ok(profile) = std::env::var("AWSROLE_PROFILE") else {
        return String::new();
    };
    if profile.is_empty() {
        return String::new();
    }
    let expiry = std::env::var("AWS_CREDENTIAL_EXPIRATION")
        .ok()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
        .map(|e| e.timestamp());
    prompt_for(&profile, expiry, now)
}

/// The prompt line for a profile whose credentials expire at `expiry` (Unix seconds).
pub fn prompt_for(profile: &str, expiry: Option<i64>, now: i64) -> String {
    match expiry {
        Some(e) if e <= now => format!("{profile} expired"),
        Some(e) => format!("{profile} {}", crate::duration::short(e - now)),
        None => profile.to_string(),
    }
}

/// Before clap: `awsrole hook SHELL` with nothing to do prints the prompt line and
/// exits. `None` means: go the full way.
pub fn fast_path() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "hook" {
        return None;
    }
    let shell = match args.next()?.to_str()? {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => return None,
    };
    if args.next().is_some() {
        return None;
    }
    let ctx = Context::read();
    if !ctx.unchanged() {
        return None;
    }
    let mut out = String::new();
    if ctx.state.is_none() && ctx.nearest.is_none() && ctx.seen.is_some() {
        out.push_str(&unset_lines(shell.format(), &[SEEN_VAR]));
    }
    out.push_str(&prompt_line(shell.format(), ctx.now));
    crate::cli::emit(&out).ok()?;
    Some(0)
}

pub fn prompt_line(format: Format, now: i64) -> String {
    let text = prompt_text(now);
    if text.is_empty() {
        String::new()
    } else {
        local_line(format, PROMPT_VAR, &text)
    }
}

fn unset_lines(format: Format, names: &[&str]) -> String {
    render_env(
        format,
        &EnvChange {
            set: Vec::new(),
            unset: names.iter().map(|s| s.to_string()).collect(),
        },
    )
}

/// The values the managed variables have now, to put back later.
pub fn capture_diff() -> String {
    let prior: BTreeMap<&str, Option<String>> = MANAGED
        .iter()
        .map(|name| (*name, std::env::var(name).ok()))
        .collect();
    let json = serde_json::to_vec(&prior).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_diff(hex: &str) -> Option<BTreeMap<String, Option<String>>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    serde_json::from_slice(&bytes?).ok()
}

/// Shell code that puts back what was there before the first switch.
pub fn restore(format: Format) -> String {
    let mut change = EnvChange::default();
    if let Some(prior) = std::env::var(DIFF_VAR)
        .ok()
        .as_deref()
        .and_then(decode_diff)
    {
        for (name, value) in prior {
            if !MANAGED.contains(&name.as_str()) {
                continue;
            }
            match value {
                Some(v) => change.set.push((name, v)),
                None => change.unset.push(name),
            }
        }
    } else {
        change.unset = MANAGED.iter().map(|s| s.to_string()).collect();
    }
    change.unset.extend([STATE_VAR, DIFF_VAR].map(String::from));
    render_env(format, &change)
}

/// Shell code that applies a switch, keeping the pre-awsrole values in the diff.
pub fn apply(format: Format, change: &EnvChange, state: &State) -> String {
    let diff = match std::env::var(DIFF_VAR) {
        Ok(d) if State::from_env().is_some() => d,
        _ => capture_diff(),
    };
    let mut out = render_env(format, change);
    out.push_str(&render_env(
        format,
        &EnvChange {
            set: vec![(STATE_VAR.into(), state.encode()), (DIFF_VAR.into(), diff)],
            unset: vec![SEEN_VAR.into()],
        },
    ));
    out
}

pub fn state_line(format: Format, state: &State) -> String {
    render_env(
        format,
        &EnvChange {
            set: vec![(STATE_VAR.into(), state.encode())],
            unset: Vec::new(),
        },
    )
}

pub fn seen_line(format: Format, seen: &str) -> String {
    render_env(
        format,
        &EnvChange {
            set: vec![(SEEN_VAR.into(), seen.to_string())],
            unset: Vec::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_awkward_paths() {
        for origin in [
            Origin::Use,
            Origin::Dir {
                file: PathBuf::from("/a b;c/.awsrole"),
                mtime: 1_700_000_000_123_456_789,
            },
        ] {
            let s = State {
                origin,
                expiry: 1_800_000_000,
                trust_mtime: 42,
                warned: true,
            };
            assert_eq!(State::decode(&s.encode()), Some(s));
        }
        assert_eq!(State::decode("garbage"), None);
        assert_eq!(State::decode("2;u;0;0;0;0;"), None);
    }

    #[test]
    fn diff_hex_round_trips() {
        let hex: String = br#"{"AWS_PROFILE":"x y'z","AWS_REGION":null}"#.iter().map(|b| format!("{b:02x}")).collect();
        let d = decode_diff(&hex).unwrap();
        assert_eq!(d["AWS_PROFILE"].as_deref(), Some("x y'z"));
        assert_eq!(d["AWS_REGION"], None);
        assert!(decode_diff("zz").is_none());
    }
}
