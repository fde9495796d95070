//! The per-prompt hook: what it sees (`Context`), what it decides (`decide`, pure), and
//! the fast path that answers "nothing to do" before clap, config or the keyring.
//!
//! Bookkeeping lives in the shell:
//! - `AWSROLE_STATE` (exported, no secret): what is applied and why (`use`, or which
//!   `.awsrole` at which mtime), when to renew, and the trust store's mtime;
//! - `__awsrole_diff` (unexported, see `envdiff`): what the managed variables held
//!   before, handed to awsrole for one call only;
//! - `AWSROLE_SEEN` (exported): the `.awsrole` the user was already told about;
//! - `AWSROLE_RETRY` (exported): a directory's role that could not be resolved, and
//!   until when not to try again, so an unreachable STS costs one wait, not one a `cd`;
//! - `AWSROLE_PROMPT` (unexported): the prompt line, rewritten after every hook run
//!   from the environment the shell has once the hook's output is applied.
//!
//! Every variable is read once, into `Context`; nothing here calls `std::env` later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::env::envdiff::{self, EnvDiff};
use crate::env::render::{self, EnvChange};
use crate::env::shell::{Op, Shell};
use crate::env::trust;

pub const STATE_VAR: &str = "AWSROLE_STATE";
pub const SEEN_VAR: &str = "AWSROLE_SEEN";
pub const RETRY_VAR: &str = "AWSROLE_RETRY";
pub const PROMPT_VAR: &str = "AWSROLE_PROMPT";
pub const MARGIN_VAR: &str = "AWSROLE_REFRESH_MARGIN";
/// The exported diff of awsrole 0.1, which leaked earlier values to children: removed
/// wherever it is still found.
pub const OLD_DIFF_VAR: &str = "AWSROLE_DIFF";
/// How long a directory's role that could not be resolved is left alone.
pub const RETRY_AFTER: i64 = 60;

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Origin {
    #[default]
    Use,
    Dir {
        file: PathBuf,
        mtime: u128,
    },
}

/// What the user chose on `use` besides the profile: kept in the state, so a renewal
/// by the hook asks for the same thing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Choices {
    pub duration: Option<u32>,
    pub region: Option<String>,
    pub no_cache: bool,
    pub no_session: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub origin: Origin,
    /// Unix seconds; 0 for credentials that do not expire.
    pub expiry: i64,
    /// Unix seconds before which not to renew, whatever the margin says: set when the
    /// margin is longer than the credentials last, so that a too-long
    /// `AWSROLE_REFRESH_MARGIN` renews at half their life, not on every prompt. 0: the
    /// margin alone decides.
    pub renew_at: i64,
    pub trust_mtime: u128,
    /// A renewal failed and the user was told; do not retry on every prompt.
    pub warned: bool,
    pub choices: Choices,
    /// A short fingerprint of the access key awsrole exported (not the key): the
    /// prompt and `status` tell when another tool replaced the keys. Empty when awsrole
    /// exported no keys (`use --server`).
    pub key: String,
    /// What the user was last told about the environment around the role (another
    /// tool's keys, `AWS_PROFILE`), fingerprinted, so it is told once.
    pub noticed: String,
}

/// A fingerprint of a value that can show in the environment (never of a secret).
pub fn fingerprint(value: &str) -> String {
    use sha2::{Digest, Sha256};
    envdiff::to_hex(&Sha256::digest(value.as_bytes())[..6])
}

impl State {
    /// The file's path is kept as hex of its raw bytes, so a non-UTF-8 directory name
    /// compares equal on the next prompt; so is a `--region`.
    pub fn encode(&self) -> String {
        let (kind, mtime, file) = match &self.origin {
            Origin::Use => ("u", 0, String::new()),
            Origin::Dir { file, mtime } => (
                "d",
                *mtime,
                envdiff::to_hex(file.as_os_str().as_encoded_bytes()),
            ),
        };
        let c = &self.choices;
        format!(
            "3;{kind};{};{};{mtime};{};{};{};{};{};{};{};{file}",
            self.expiry,
            self.renew_at,
            self.trust_mtime,
            self.warned as u8,
            c.duration.unwrap_or(0),
            c.no_cache as u8 | (c.no_session as u8) << 1,
            envdiff::to_hex(c.region.as_deref().unwrap_or_default().as_bytes()),
            self.key,
            self.noticed,
        )
    }

    /// Reads this version's state, and version 2's (a shell that was running when
    /// awsrole was upgraded).
    pub fn decode(text: &str) -> Option<State> {
        let (version, rest) = text.split_once(';')?;
        let fields = match version {
            "2" => 7,
            "3" => 12,
            _ => return None,
        };
        let parts: Vec<&str> = rest.splitn(fields, ';').collect();
        if parts.len() != fields {
            return None;
        }
        let kind = parts[0];
        let expiry = parts[1].parse().ok()?;
        let renew_at = parts[2].parse().ok()?;
        let mtime = parts[3].parse().ok()?;
        let trust_mtime = parts[4].parse().ok()?;
        let warned = parts[5] == "1";
        let file = parts[fields - 1];
        let (choices, key, noticed) = match version {
            "3" => {
                let duration = parts[6].parse::<u32>().ok()?;
                let switches = parts[7].parse::<u8>().ok()?;
                let region = String::from_utf8(envdiff::from_hex(parts[8])?).ok()?;
                (
                    Choices {
                        duration: (duration > 0).then_some(duration),
                        no_cache: switches & 1 != 0,
                        no_session: switches & 2 != 0,
                        region: (!region.is_empty()).then_some(region),
                    },
                    parts[9].to_string(),
                    parts[10].to_string(),
                )
            }
            _ => Default::default(),
        };
        let origin = match kind {
            "u" => Origin::Use,
            "d" => Origin::Dir {
                file: path_from_bytes(envdiff::from_hex(file)?)?,
                mtime,
            },
            _ => return None,
        };
        Some(State {
            origin,
            expiry,
            renew_at,
            trust_mtime,
            warned,
            choices,
            key,
            noticed,
        })
    }

    pub fn near_expiry(&self, now: i64, margin: i64) -> bool {
        match (self.expiry, self.renew_at) {
            (0, _) => false,
            (_, 0) => self.expiry - now <= margin,
            (_, at) => now >= at,
        }
    }

    /// When to renew credentials that expire at `expiry`, obtained `now`.
    pub fn renew_at_for(expiry: i64, now: i64, margin: i64) -> i64 {
        match expiry {
            0 => 0,
            e if e - now <= margin => now + (e - now) / 2,
            _ => 0,
        }
    }
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> Option<PathBuf> {
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

/// What the hook sees: the environment (read once), the nearest `.awsrole`, the
/// trust store's mtime and the clock.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub vars: BTreeMap<String, String>,
    pub diff: Option<String>,
    pub nearest: Option<(PathBuf, u128)>,
    pub trust_mtime: u128,
    pub state: Option<State>,
    pub seen: Option<String>,
    pub now: i64,
    /// `AWSROLE_REFRESH_MARGIN`, in seconds.
    pub margin: i64,
    /// When a person last did something that may unblock a role (entered an MFA code,
    /// signed in, stored keys): the mtime of `renewed_marker`, 0 if never.
    pub renewed: u128,
}

/// A file awsrole touches whenever a person did something that may let a role resolve
/// that could not (`refresh`, `use`, `sso login`, `add`): every shell's hook sees it with
/// one `stat` and tries again at once instead of waiting out its back-off.
pub fn renewed_marker() -> Option<PathBuf> {
    crate::sys::dirs::runtime_dir()
        .ok()
        .map(|d| d.join("renewed"))
}

/// Records that a person just acted (see `renewed_marker`); best effort.
pub fn mark_renewed() {
    let Some(file) = renewed_marker() else { return };
    if let Some(dir) = file.parent() {
        if crate::sys::dirs::private_dir(dir).is_err() {
            return;
        }
    }
    let _ = std::fs::write(&file, b"");
}

fn mtime_of(meta: &std::fs::Metadata) -> Option<u128> {
    Some(
        meta.modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos(),
    )
}

/// The variables the hook reads: the managed ones and its own bookkeeping.
fn watched() -> impl Iterator<Item = &'static str> {
    render::managed().chain([
        STATE_VAR,
        SEEN_VAR,
        RETRY_VAR,
        OLD_DIFF_VAR,
        MARGIN_VAR,
        "PWD",
    ])
}

/// Takes the diff the shell handed over out of this process's environment, so that no
/// child (credential_process, mfa_process, exec) can read it. Called first in main.
pub fn take_diff() -> Option<String> {
    crate::sys::settings::get()
        .handed_diff()
        .map(str::to_string)
}

impl Context {
    pub fn read() -> Context {
        let vars: BTreeMap<String, String> = watched()
            .filter_map(|name| Some((name.to_string(), crate::sys::settings::var(name).ok()?)))
            .collect();
        let now = chrono::Utc::now().timestamp();
        Context::from_parts(vars, take_diff(), now)
    }

    /// The same from given parts (tests, and the fast path's single read).
    pub fn from_parts(vars: BTreeMap<String, String>, diff: Option<String>, now: i64) -> Context {
        let cwd = logical_dir(vars.get("PWD").map(String::as_str));
        let nearest = cwd.ancestors().find_map(|dir| {
            let file = dir.join(trust::FILE_NAME);
            let meta = std::fs::metadata(&file).ok()?;
            meta.is_file().then(|| (file, mtime_of(&meta).unwrap_or(0)))
        });
        let trust_mtime = trust::allow_dir()
            .ok()
            .and_then(|d| std::fs::metadata(d).ok())
            .and_then(|m| mtime_of(&m))
            .unwrap_or(0);
        let renewed = renewed_marker()
            .and_then(|f| std::fs::metadata(f).ok())
            .and_then(|m| mtime_of(&m))
            .unwrap_or(0);
        Context {
            margin: crate::chain::cache::parse_margin_or_default(
                vars.get(MARGIN_VAR).map(String::as_str),
            ),
            renewed,
            state: vars.get(STATE_VAR).and_then(|s| State::decode(s)),
            seen: vars.get(SEEN_VAR).cloned(),
            vars,
            diff,
            nearest,
            trust_mtime,
            now,
        }
    }

    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// The `AWSROLE_SEEN` value for the nearest file as it is now.
    pub fn seen_key(&self) -> Option<String> {
        self.nearest.as_ref().map(|(file, mtime)| {
            format!(
                "{mtime};{};{}",
                self.trust_mtime,
                envdiff::to_hex(file.as_os_str().as_encoded_bytes())
            )
        })
    }

    pub fn told_already(&self) -> bool {
        self.seen.is_some() && self.seen == self.seen_key()
    }

    /// Nothing to do but refresh the prompt line?
    pub fn unchanged(&self) -> bool {
        match &self.state {
            Some(state) => {
                let fresh = !state.near_expiry(self.now, self.margin) || self.still_warned(state);
                let same_place = match &state.origin {
                    Origin::Use => true,
                    Origin::Dir { file, mtime } => {
                        self.nearest
                            .as_ref()
                            .is_some_and(|(f, m)| f == file && m == mtime)
                            && self.trust_mtime == state.trust_mtime
                    }
                };
                fresh && same_place && !self.notice_due(state)
            }
            None => match &self.nearest {
                None => self.seen.is_none(),
                Some(_) => self.told_already() && !self.person_acted(),
            },
        }
    }

    /// A failed renewal the user was told about, with nothing done about it since.
    pub fn still_warned(&self, state: &State) -> bool {
        state.warned && !self.person_acted()
    }

    /// `AWSROLE_RETRY`: until when, the `renewed` stamp then, and the profile.
    fn retry(&self) -> Option<(i64, u128, &str)> {
        let mut parts = self.vars.get(RETRY_VAR)?.splitn(3, ';');
        let until = parts.next()?.parse().ok()?;
        let stamp = parts.next()?.parse().ok()?;
        Some((until, stamp, parts.next()?))
    }

    /// Whether a person did something (see `renewed_marker`) since the last failure.
    pub fn person_acted(&self) -> bool {
        self.retry()
            .is_some_and(|(_, stamp, _)| self.renewed > stamp)
    }

    /// What records a failure to resolve `profile`: not tried again for `wait`
    /// seconds, unless a person acts first.
    pub fn retry_op(&self, profile: &str, wait: i64) -> Op {
        Op::Export(
            RETRY_VAR.into(),
            format!("{};{};{profile}", self.now + wait, self.renewed),
        )
    }

    /// What is wrong around the active role, if anything: keys that are no longer the
    /// ones awsrole exported (another tool switched), or an `AWS_PROFILE` that makes
    /// SDKs look past them.
    pub fn foreign(&self) -> Option<String> {
        self.state.as_ref()?;
        let profile = self.var("AWSROLE_PROFILE")?;
        if self.keys_replaced() {
            let by = render::ALWAYS_UNSET
                .iter()
                .filter(|n| !n.starts_with("AWS_"))
                .find_map(|n| Some(format!(" ({n}={} is set)", self.var(n)?)))
                .unwrap_or_default();
            return Some(format!(
                "the keys in this shell are no longer the ones awsrole exported for {profile}: another tool replaced them{by}; 'awsrole use {profile}' puts {profile}'s back"
            ));
        }
        if let Some(other) = self.var("AWS_PROFILE") {
            return Some(format!(
                "AWS_PROFILE={other} was set while {profile} is active: the Node SDK and others then use that profile, not {profile}'s keys; unset AWS_PROFILE (or drop it from .envrc)"
            ));
        }
        None
    }

    /// What `name` holds apart from awsrole: now, with awsrole's own change put back.
    pub fn outside_value(&self, name: &str) -> Option<String> {
        let current = |n: &str| self.var(n);
        match (&self.state, self.env_diff()) {
            (Some(_), Some(diff)) => envdiff::value_after(&diff.revert(&current), &current, name),
            _ => current(name),
        }
    }

    /// Whether the access key in the environment is no longer the one awsrole exported.
    pub fn keys_replaced(&self) -> bool {
        match &self.state {
            Some(state) if !state.key.is_empty() => {
                self.var("AWS_ACCESS_KEY_ID").map(|k| fingerprint(&k)) != Some(state.key.clone())
            }
            _ => false,
        }
    }

    /// Something about the environment the user has not been told yet.
    pub fn notice_due(&self, state: &State) -> bool {
        self.foreign()
            .is_some_and(|f| fingerprint(&f) != state.noticed)
    }

    /// The profile a failed resolution is still cooling off for (and nobody acted).
    pub fn retry_blocked(&self, profile: &str) -> bool {
        self.retry().is_some_and(|(until, stamp, who)| {
            who == profile && self.now < until && self.renewed <= stamp
        })
    }

    /// The diff to restore from: the one the shell handed over, else (a shell started
    /// from one with an active role, which has no diff) nothing.
    pub fn env_diff(&self) -> Option<EnvDiff> {
        self.diff.as_deref().and_then(EnvDiff::decode)
    }
}

/// The shell's logical directory (as direnv uses), else the process's.
pub fn logical_dir(pwd: Option<&str>) -> PathBuf {
    match pwd.map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        _ => std::env::current_dir().unwrap_or_default(),
    }
}

/// What the nearest `.awsrole` asks for (read only on the slow path).
#[derive(Debug, Clone, PartialEq)]
pub enum Wanted {
    /// No `.awsrole` and no `use`.
    Nothing,
    Profile {
        profile: String,
        origin: Origin,
    },
    /// A file that is not applied: untrusted, unreadable, not a profile name.
    Refused {
        message: String,
    },
}

/// What the hook is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Only refresh the prompt (and forget a notice once out of its tree).
    Idle { forget_seen: bool },
    /// Put back what was there before; maybe tell why once.
    Restore { tell: Option<String> },
    /// Nothing applied; tell once.
    Tell { message: String },
    /// Same role, same place: record the new state only.
    Keep { state: State },
    /// Resolve `profile` (a switch, or a renewal of `kept`).
    Resolve {
        profile: String,
        origin: Origin,
        kept: Option<State>,
    },
    /// A role that failed a moment ago: restore if needed, say so once, do not retry.
    Backoff { profile: String },
}

/// The hook's decision: a pure function of what it sees and what the nearest file
/// wants.
pub fn decide(ctx: &Context, wanted: Wanted) -> Decision {
    match wanted {
        Wanted::Nothing => match ctx.state {
            Some(_) => Decision::Restore { tell: None },
            None => Decision::Idle {
                forget_seen: ctx.seen.is_some(),
            },
        },
        Wanted::Refused { message } => {
            let tell = (!ctx.told_already()).then_some(message);
            match (&ctx.state, tell) {
                (Some(_), tell) => Decision::Restore { tell },
                (None, Some(message)) => Decision::Tell { message },
                (None, None) => Decision::Idle { forget_seen: false },
            }
        }
        Wanted::Profile { profile, origin } => {
            let active = ctx.var("AWSROLE_PROFILE").unwrap_or_default();
            let kept = ctx.state.clone().filter(|state| {
                profile == active
                    && match (&origin, &state.origin) {
                        (Origin::Use, Origin::Use) => true,
                        (Origin::Dir { file: a, .. }, Origin::Dir { file: b, .. }) => a == b,
                        _ => false,
                    }
            });
            match kept {
                Some(state)
                    if !state.near_expiry(ctx.now, ctx.margin) || ctx.still_warned(&state) =>
                {
                    Decision::Keep {
                        state: State {
                            origin,
                            trust_mtime: ctx.trust_mtime,
                            ..state
                        },
                    }
                }
                None if ctx.retry_blocked(&profile) => Decision::Backoff { profile },
                kept => Decision::Resolve {
                    profile,
                    origin,
                    kept,
                },
            }
        }
    }
}

/// `role-b 42m`, `role-b expired`, or nothing.
pub fn prompt_for(profile: &str, expiry: Option<i64>, now: i64) -> String {
    match expiry {
        Some(e) if e <= now => format!("{profile} expired"),
        Some(e) => format!("{profile} {}", crate::sys::duration::short(e - now)),
        None => profile.to_string(),
    }
}

/// What the prompt line is made of.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PromptVars {
    pub profile: Option<String>,
    pub expiration: Option<String>,
    /// `AWSROLE_PROMPT_WARN`: a profile marked `awsrole_confirm` (production).
    pub warn: bool,
    /// `AWSROLE_REGION`: a `--region` override.
    pub region: Option<String>,
    /// `AWSROLE_SERVER`: served by a local endpoint (`use --server`).
    pub server: bool,
    /// The keys in the environment are no longer the ones awsrole exported.
    pub replaced: bool,
}

/// The prompt line: `role-b 42m`, `role-b! 42m` for a guarded profile,
/// `role-b@us-west-2 42m` with a region override, or nothing; control and bidi
/// characters of a hostile profile name escaped (it goes to the terminal).
pub fn prompt_from(vars: &PromptVars, now: i64) -> String {
    crate::sys::protect::shown(&prompt_text(vars, now))
}

fn prompt_text(vars: &PromptVars, now: i64) -> String {
    let Some(profile) = vars.profile.as_deref().filter(|p| !p.is_empty()) else {
        return String::new();
    };
    let expiry = vars
        .expiration
        .as_deref()
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .map(|e| e.timestamp());
    let mut name = profile.to_string();
    if vars.warn {
        name.push('!');
    }
    if let Some(region) = &vars.region {
        name.push('@');
        name.push_str(region);
    }
    if vars.replaced {
        // Another tool's keys: awsrole's name and time would be a lie.
        return format!("{name} (keys replaced)");
    }
    if vars.server {
        // The endpoint renews by itself: no time to run out.
        return format!("{name} (server)");
    }
    prompt_for(&name, expiry, now)
}

impl Context {
    /// The prompt line once `change` is applied to this environment.
    pub fn prompt_after(&self, change: &EnvChange) -> String {
        let current = |name: &str| self.var(name);
        let after = |name: &str| envdiff::value_after(change, &current, name);
        let vars = PromptVars {
            profile: after("AWSROLE_PROFILE"),
            expiration: after("AWS_CREDENTIAL_EXPIRATION"),
            warn: after("AWSROLE_PROMPT_WARN").is_some_and(|v| v == "1"),
            region: after("AWSROLE_REGION").filter(|r| !r.is_empty()),
            server: after("AWSROLE_SERVER").is_some(),
            // A change that sets or drops the keys is awsrole's own doing.
            replaced: self.keys_replaced()
                && !change.set.iter().any(|(n, _)| n == "AWS_ACCESS_KEY_ID")
                && !change.unset.iter().any(|n| n == "AWS_ACCESS_KEY_ID"),
        };
        prompt_from(&vars, self.now)
    }

    /// The prompt line as it stands.
    pub fn prompt_op(&self) -> Op {
        Op::Local(PROMPT_VAR.into(), self.prompt_after(&EnvChange::default()))
    }

    /// What puts back the variables that were there before the first switch.
    pub fn restore(&self) -> Vec<Op> {
        let change = self.restore_change();
        let mut ops = render::ops(&change);
        ops.push(Op::Unset(STATE_VAR.into()));
        ops.push(Op::Unset(OLD_DIFF_VAR.into()));
        ops.push(Op::UnsetPrivate(envdiff::SHELL_VAR.into()));
        ops.push(Op::Local(PROMPT_VAR.into(), self.prompt_after(&change)));
        ops
    }

    fn restore_change(&self) -> EnvChange {
        let current = |name: &str| self.var(name);
        match self.env_diff() {
            Some(diff) => diff.revert(&current),
            // No diff (a child shell of one with an active role): drop what we set.
            None => EnvChange {
                set: Vec::new(),
                unset: render::managed()
                    .filter(|n| current(n).is_some())
                    .map(String::from)
                    .collect(),
            },
        }
    }

    /// What applies a switch: what was there before the first switch is kept in the
    /// diff; a switch from one role to another first puts back what the earlier one
    /// changed, so nothing of it lingers.
    pub fn apply(&self, change: &EnvChange, state: &State) -> Vec<Op> {
        let current = |name: &str| self.var(name);
        let (mut diff, full) = match (self.env_diff(), &self.state) {
            (Some(diff), Some(_)) => {
                let back = diff.revert(&current);
                (diff, envdiff::overlay(back, change))
            }
            _ => (EnvDiff::capture(&current), change.clone()),
        };
        diff.record(&full, &current);
        let mut ops = render::ops(&full);
        ops.push(state_op(state));
        for name in [SEEN_VAR, RETRY_VAR, OLD_DIFF_VAR] {
            ops.push(Op::Unset(name.into()));
        }
        ops.push(Op::Private(envdiff::SHELL_VAR.into(), diff.encode()));
        ops.push(Op::Local(PROMPT_VAR.into(), self.prompt_after(&full)));
        ops
    }
}

pub fn state_op(state: &State) -> Op {
    Op::Export(STATE_VAR.into(), state.encode())
}

pub fn seen_op(seen: &str) -> Op {
    Op::Export(SEEN_VAR.into(), seen.to_string())
}

/// Before clap: `awsrole hook SHELL` with nothing to do gives the prompt line to print
/// and exit on. `None` means: go the full way.
pub fn fast_path() -> Option<String> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "hook" {
        return None;
    }
    let shell: Shell = args.next()?.to_str()?.parse().ok()?;
    if args.next().is_some() {
        return None;
    }
    let ctx = Context::read();
    if !ctx.unchanged() {
        return None;
    }
    let mut ops = Vec::new();
    if ctx.state.is_none() && ctx.nearest.is_none() && ctx.seen.is_some() {
        ops.push(Op::Unset(SEEN_VAR.into()));
    }
    ops.push(ctx.prompt_op());
    Some(shell.syntax().render(&ops))
}

/// The nearest `.awsrole` (at `mtime`), checked: what it wants.
pub fn wanted_by_file(file: &Path, mtime: u128) -> Wanted {
    let refused = |message: String| Wanted::Refused { message };
    let text = match trust::read_checked(file) {
        Ok(t) => t,
        Err(e) => return refused(e.to_string()),
    };
    let profile = match trust::parse_profile(&text, file) {
        Ok(p) => p,
        Err(e) => return refused(e.to_string()),
    };
    // An allow list others could write trusts nothing: say what is wrong with it, not
    // "run 'awsrole allow'" (which would refuse for the same reason).
    if let Some(problem) = trust::allow_dir()
        .ok()
        .and_then(|d| trust::store_problem(&d))
    {
        return refused(problem);
    }
    if !trust::is_allowed(file, &text) {
        let dir = file.parent().unwrap_or(file);
        // Allowing a file that names no profile would not help: say what is wrong.
        if let Ok(config) = crate::chain::config::AwsConfig::load() {
            if !config.profiles.contains_key(&profile) {
                return refused(format!(
                    ".awsrole in {} wants {profile}, which is not a profile of {}{}; fix the file or the config",
                    dir.display(),
                    config.config_file.display(),
                    crate::error::suggest(&profile, config.profiles.keys().map(String::as_str))
                ));
            }
        }
        return refused(format!(
            ".awsrole in {} wants {profile}; run 'awsrole allow' to trust it",
            dir.display()
        ));
    }
    Wanted::Profile {
        profile,
        origin: Origin::Dir {
            file: file.to_path_buf(),
            mtime,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_awkward_paths() {
        #[cfg(unix)]
        let odd = {
            use std::os::unix::ffi::OsStringExt;
            PathBuf::from(std::ffi::OsString::from_vec(
                b"/a\xff b;c/.awsrole".to_vec(),
            ))
        };
        #[cfg(not(unix))]
        let odd = PathBuf::from("/a b;c/.awsrole");
        for origin in [
            Origin::Use,
            Origin::Dir {
                file: odd,
                mtime: 1_700_000_000_123_456_789,
            },
        ] {
            let s = State {
                origin,
                expiry: 1_800_000_000,
                renew_at: 1_799_999_700,
                trust_mtime: 42,
                warned: true,
                choices: Choices {
                    duration: Some(900),
                    region: Some("eu-west-3".into()),
                    no_cache: true,
                    no_session: true,
                },
                key: fingerprint("ASIAEXAMPLE"),
                noticed: fingerprint("told"),
            };
            assert_eq!(State::decode(&s.encode()), Some(s));
        }
        assert_eq!(State::decode("garbage"), None);
        assert_eq!(State::decode("1;u;0;0;0;0;"), None);
    }

    fn ctx_with(state: Option<State>, profile: Option<&str>) -> Context {
        let mut vars = BTreeMap::new();
        if let Some(p) = profile {
            vars.insert("AWSROLE_PROFILE".to_string(), p.to_string());
        }
        Context {
            vars,
            state,
            now: 1_000_000,
            margin: 300,
            trust_mtime: 7,
            ..Context::default()
        }
    }

    fn dir(path: &str) -> Origin {
        Origin::Dir {
            file: PathBuf::from(path),
            mtime: 1,
        }
    }

    fn state(origin: Origin, renew_at: i64) -> State {
        State {
            origin,
            expiry: renew_at + 300,
            renew_at: 0,
            trust_mtime: 1,
            warned: false,
            ..State::default()
        }
    }

    /// Credentials that do not expire (long-term keys), applied by `use`.
    fn lasting() -> State {
        State {
            origin: Origin::Use,
            expiry: 0,
            renew_at: 0,
            trust_mtime: 0,
            warned: false,
            ..State::default()
        }
    }

    fn wants(profile: &str, origin: Origin) -> Wanted {
        Wanted::Profile {
            profile: profile.into(),
            origin,
        }
    }

    #[test]
    fn the_hook_decision_table() {
        let later = 2_000_000;
        let past = 999_000;
        type Row = (&'static str, Context, Wanted, fn(&Decision) -> bool);
        let rows: Vec<Row> = vec![
            (
                "no file, no role: idle",
                ctx_with(None, None),
                Wanted::Nothing,
                |d| matches!(d, Decision::Idle { forget_seen: false }),
            ),
            (
                "left the tree: restore",
                ctx_with(Some(state(dir("/p/.awsrole"), later)), Some("dev")),
                Wanted::Nothing,
                |d| matches!(d, Decision::Restore { tell: None }),
            ),
            (
                "entered an allowed tree: resolve",
                ctx_with(None, None),
                wants("dev", dir("/p/.awsrole")),
                |d| matches!(d, Decision::Resolve { kept: None, .. }),
            ),
            (
                "same file, fresh: keep",
                ctx_with(Some(state(dir("/p/.awsrole"), later)), Some("dev")),
                wants("dev", dir("/p/.awsrole")),
                |d| matches!(d, Decision::Keep { state } if state.trust_mtime == 7),
            ),
            (
                "same file, near expiry: renew",
                ctx_with(Some(state(dir("/p/.awsrole"), past)), Some("dev")),
                wants("dev", dir("/p/.awsrole")),
                |d| matches!(d, Decision::Resolve { kept: Some(_), .. }),
            ),
            (
                "nested tree with another role: switch",
                ctx_with(Some(state(dir("/p/.awsrole"), later)), Some("dev")),
                wants("prod", dir("/p/q/.awsrole")),
                |d| matches!(d, Decision::Resolve { kept: None, .. }),
            ),
            (
                "untrusted file with a role active: restore and tell",
                ctx_with(Some(state(dir("/p/.awsrole"), later)), Some("dev")),
                Wanted::Refused {
                    message: "untrusted".into(),
                },
                |d| matches!(d, Decision::Restore { tell: Some(_) }),
            ),
            (
                "untrusted file, nothing active: tell",
                ctx_with(None, None),
                Wanted::Refused {
                    message: "untrusted".into(),
                },
                |d| matches!(d, Decision::Tell { .. }),
            ),
            (
                "use pins the role",
                ctx_with(Some(state(Origin::Use, later)), Some("dev")),
                wants("dev", Origin::Use),
                |d| matches!(d, Decision::Keep { .. }),
            ),
            (
                "use of another profile: switch",
                ctx_with(Some(state(Origin::Use, later)), Some("dev")),
                wants("prod", Origin::Use),
                |d| matches!(d, Decision::Resolve { kept: None, .. }),
            ),
            (
                "a role of use, then a directory's: switch",
                ctx_with(Some(state(Origin::Use, later)), Some("dev")),
                wants("dev", dir("/p/.awsrole")),
                |d| matches!(d, Decision::Resolve { kept: None, .. }),
            ),
            (
                "same file touched, fresh: keep, at the file's new mtime",
                ctx_with(Some(state(dir("/p/.awsrole"), later)), Some("dev")),
                wants(
                    "dev",
                    Origin::Dir {
                        file: "/p/.awsrole".into(),
                        mtime: 2,
                    },
                ),
                |d| {
                    matches!(
                        d,
                        Decision::Keep {
                            state: State {
                                origin: Origin::Dir { mtime: 2, .. },
                                ..
                            }
                        }
                    )
                },
            ),
            (
                "near expiry, renewal failed and told: keep",
                ctx_with(
                    Some(State {
                        warned: true,
                        ..state(dir("/p/.awsrole"), past)
                    }),
                    Some("dev"),
                ),
                wants("dev", dir("/p/.awsrole")),
                |d| matches!(d, Decision::Keep { .. }),
            ),
            (
                "nothing wanted, a notice to forget",
                Context {
                    seen: Some("x".into()),
                    ..ctx_with(None, None)
                },
                Wanted::Nothing,
                |d| matches!(d, Decision::Idle { forget_seen: true }),
            ),
        ];
        for (name, ctx, wanted, check) in rows {
            let decision = decide(&ctx, wanted);
            assert!(check(&decision), "{name}: {decision:?}");
        }
    }

    #[test]
    fn a_margin_longer_than_the_credentials_last_renews_at_half_life_not_every_prompt() {
        let now = 1_000_000;
        assert_eq!(State::renew_at_for(now + 900, now, 1200), now + 450);
        assert_eq!(State::renew_at_for(now + 900, now, 300), 0);
        let s = State {
            origin: Origin::Use,
            expiry: now + 900,
            renew_at: now + 450,
            trust_mtime: 0,
            warned: false,
            ..State::default()
        };
        assert!(!s.near_expiry(now + 10, 1200));
        assert!(s.near_expiry(now + 450, 1200));
    }

    #[test]
    fn a_recent_failure_backs_off_instead_of_waiting_again() {
        let mut ctx = ctx_with(None, None);
        ctx.renewed = 5;
        let mut retry = |until: i64, stamp: u128| {
            ctx.vars
                .insert(RETRY_VAR.into(), format!("{until};{stamp};dev"));
            ctx.clone()
        };
        let now = ctx_with(None, None).now;
        assert!(matches!(
            decide(&retry(now + 30, 5), wants("dev", dir("/p/.awsrole"))),
            Decision::Backoff { .. }
        ));
        assert!(matches!(
            decide(&retry(now - 1, 5), wants("dev", dir("/p/.awsrole"))),
            Decision::Resolve { .. }
        ));
        // The minute is up at its last second.
        assert!(!retry(now, 5).retry_blocked("dev"));
        let blocked = retry(now + 1, 5);
        assert!(blocked.retry_blocked("dev") && !blocked.retry_blocked("prod"));
        assert!(!blocked.person_acted());
        // A person signed in or entered a code since the failure: no more waiting.
        let acted = retry(now + 30, 4);
        assert!(acted.person_acted() && !acted.retry_blocked("dev"));
        assert!(matches!(
            decide(&acted, wants("dev", dir("/p/.awsrole"))),
            Decision::Resolve { .. }
        ));
        // The old two-field form (a shell older than this awsrole) blocks nothing.
        ctx.vars
            .insert(RETRY_VAR.into(), format!("{};dev", now + 30));
        assert!(!ctx.retry_blocked("dev"));
    }

    #[test]
    fn credentials_that_do_not_expire_are_never_renewed() {
        let now = 1_000_000;
        assert_eq!(State::renew_at_for(0, now, 300), 0);
        assert_eq!(State::renew_at_for(0, now, i64::MAX / 2), 0);
        let s = lasting();
        assert!(!s.near_expiry(now, i64::MAX / 2));
    }

    fn file_at(path: &str, mtime: u128) -> Option<(PathBuf, u128)> {
        Some((PathBuf::from(path), mtime))
    }

    #[test]
    fn the_notice_key_names_the_file_its_mtime_and_the_trust_store() {
        let mut ctx = ctx_with(None, None);
        assert_eq!(ctx.seen_key(), None);
        assert!(!ctx.told_already());
        ctx.nearest = file_at("/p/.awsrole", 5);
        let key = format!("5;7;{}", envdiff::to_hex(b"/p/.awsrole"));
        assert_eq!(ctx.seen_key().as_deref(), Some(key.as_str()));
        assert!(!ctx.told_already());
        ctx.seen = Some(key);
        assert!(ctx.told_already());
        ctx.seen = Some(format!("6;7;{}", envdiff::to_hex(b"/p/.awsrole")));
        assert!(!ctx.told_already(), "the file changed since");
    }

    #[test]
    fn unchanged_is_the_fast_path_table() {
        let far = 2_000_000;
        let near = 1_000_100;
        let at = |origin: Origin, expiry: i64, warned: bool| State {
            origin,
            expiry,
            renew_at: 0,
            trust_mtime: 7,
            warned,
            ..State::default()
        };
        let ctx =
            |state: Option<State>, nearest: Option<(PathBuf, u128)>, seen: Option<&str>| Context {
                nearest,
                seen: seen.map(String::from),
                ..ctx_with(state, Some("dev"))
            };
        let here = || file_at("/p/.awsrole", 1);
        let told = format!("1;7;{}", envdiff::to_hex(b"/p/.awsrole"));
        let p = || dir("/p/.awsrole");
        let moved = State {
            trust_mtime: 8,
            ..at(p(), far, false)
        };
        #[rustfmt::skip]
        let rows: Vec<(&str, Context, bool)> = vec![
            ("use, fresh",                     ctx(Some(at(Origin::Use, far, false)), None, None), true),
            ("use, near expiry",               ctx(Some(at(Origin::Use, near, false)), None, None), false),
            ("use, near expiry, failure told", ctx(Some(at(Origin::Use, near, true)), None, None), true),
            ("dir, same file",                 ctx(Some(at(p(), far, false)), here(), None), true),
            ("dir, same file, near expiry",    ctx(Some(at(p(), near, false)), here(), None), false),
            ("dir, file touched",              ctx(Some(at(p(), far, false)), file_at("/p/.awsrole", 2), None), false),
            ("dir, another file",              ctx(Some(at(p(), far, false)), file_at("/p/q/.awsrole", 1), None), false),
            ("dir, left the tree",             ctx(Some(at(p(), far, false)), None, None), false),
            ("dir, trust store changed",       ctx(Some(moved), here(), None), false),
            ("nothing",                        ctx(None, None, None), true),
            ("nothing, a notice to forget",    ctx(None, None, Some(&told)), false),
            ("a file, told already",           ctx(None, here(), Some(&told)), true),
            ("a file, not told",               ctx(None, here(), None), false),
        ];
        for (name, ctx, want) in rows {
            assert_eq!(ctx.unchanged(), want, "{name}");
        }
        // A person acted since the failure (renewed marker newer than the retry stamp).
        let acted = |mut c: Context| {
            c.vars.insert(RETRY_VAR.into(), "0;3;dev".into());
            c.renewed = 4;
            c
        };
        assert!(!acted(ctx(Some(at(Origin::Use, near, true)), None, None)).unchanged());
        assert!(!acted(ctx(None, here(), Some(&told))).unchanged());
        let idle = |mut c: Context| {
            c.vars.insert(RETRY_VAR.into(), "0;4;dev".into());
            c.renewed = 4;
            c
        };
        assert!(idle(ctx(Some(at(Origin::Use, near, true)), None, None)).unchanged());
        assert!(idle(ctx(None, here(), Some(&told))).unchanged());
        // Keys another tool put in: told once, then quiet.
        let ours = State {
            key: fingerprint("ASIAOURS"),
            ..at(Origin::Use, far, false)
        };
        let mut swapped = ctx(Some(ours.clone()), None, None);
        swapped
            .vars
            .insert("AWS_ACCESS_KEY_ID".into(), "ASIATHEIRS".into());
        assert!(swapped.keys_replaced() && !swapped.unchanged());
        let told_about = State {
            noticed: fingerprint(&swapped.foreign().unwrap()),
            ..ours.clone()
        };
        swapped.state = Some(told_about);
        assert!(swapped.unchanged());
        let mut same = ctx(Some(ours), None, None);
        same.vars
            .insert("AWS_ACCESS_KEY_ID".into(), "ASIAOURS".into());
        assert!(!same.keys_replaced() && same.unchanged());
        same.vars.insert("AWS_PROFILE".into(), "other".into());
        assert!(same.foreign().unwrap().contains("AWS_PROFILE=other") && !same.unchanged());
    }

    #[test]
    fn a_hostile_profile_name_reaches_the_prompt_escaped() {
        let vars = PromptVars {
            profile: Some("prod\u{202e}dev\x1b[2J".into()),
            ..PromptVars::default()
        };
        let line = prompt_from(&vars, 0);
        assert!(
            !line.contains('\u{202e}') && !line.contains('\x1b'),
            "{line:?}"
        );
        assert!(line.starts_with("prod"), "{line:?}");
    }

    #[test]
    fn the_prompt_counts_down_to_expired() {
        let now = 1_000_000;
        assert_eq!(prompt_for("dev", None, now), "dev");
        assert_eq!(prompt_for("dev", Some(now + 120), now), "dev 2m");
        assert_eq!(prompt_for("dev", Some(now + 1), now), "dev 1s");
        assert_eq!(prompt_for("dev", Some(now), now), "dev expired");
    }

    #[test]
    fn the_logical_directory_is_pwd_when_absolute() {
        let cwd = std::env::current_dir().unwrap();
        #[cfg(unix)]
        assert_eq!(logical_dir(Some("/x/y")), PathBuf::from("/x/y"));
        assert_eq!(logical_dir(Some("x/y")), cwd);
        assert_eq!(logical_dir(None), cwd);
    }

    #[test]
    fn the_context_finds_the_nearest_file_above_pwd() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join(trust::FILE_NAME);
        std::fs::write(&file, "dev\n").unwrap();
        let below = root.path().join("a/b");
        std::fs::create_dir_all(&below).unwrap();
        let mtime = std::fs::metadata(&file)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let state = lasting();
        let vars: BTreeMap<String, String> = [
            ("PWD", below.to_str().unwrap()),
            (STATE_VAR, state.encode().as_str()),
            (SEEN_VAR, "s"),
            (MARGIN_VAR, "1m"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ctx = Context::from_parts(vars, Some("d".into()), 42);
        assert_eq!(ctx.nearest, Some((file, mtime)));
        assert_eq!(ctx.state, Some(state));
        assert_eq!(ctx.seen.as_deref(), Some("s"));
        assert_eq!(
            (ctx.margin, ctx.now, ctx.diff.as_deref()),
            (60, 42, Some("d"))
        );
        assert_eq!(ctx.var(SEEN_VAR).as_deref(), Some("s"));
    }

    #[test]
    fn a_file_is_applied_once_allowed_and_refused_with_what_to_do_before() {
        const NAME: &str =
            "env::hook::tests::a_file_is_applied_once_allowed_and_refused_with_what_to_do_before";
        // The file is in HOME, whose allow list (and AWS config) is the child's own.
        let file_in = |home: &Path| home.join("p").join(trust::FILE_NAME);
        if crate::sys::test_child::is_child(NAME) {
            let file = file_in(&crate::sys::dirs::home().unwrap());
            let before = wanted_by_file(&file, 3);
            trust::allow(&file, &std::fs::read_to_string(&file).unwrap()).unwrap();
            let after = wanted_by_file(&file, 3);
            return crate::sys::test_child::answer(&format!("{before:?}|{after:?}"));
        }
        let home = tempfile::tempdir().unwrap();
        let file = file_in(home.path());
        std::fs::create_dir(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "# team role\ndev\n").unwrap();
        let config = home.path().join("config");
        let run = |config_text: &str| {
            std::fs::write(&config, config_text).unwrap();
            let vars = [
                ("HOME", home.path().to_str().unwrap()),
                ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ];
            let (answer, _) = crate::sys::test_child::run(NAME, &[], &vars);
            let (before, after) = answer.split_once('|').unwrap();
            (before.to_string(), after.to_string())
        };
        let applied = format!(
            "{:?}",
            Wanted::Profile {
                profile: "dev".into(),
                origin: Origin::Dir {
                    file: file.clone(),
                    mtime: 3,
                },
            }
        );
        let (before, after) = run("[profile dev]\nregion = eu-west-1\n");
        assert!(
            before.starts_with("Refused") && before.contains("wants dev; run 'awsrole allow'"),
            "{before}"
        );
        assert_eq!(after, applied);
        // Untrusted and naming no profile of the config: it says so rather than "allow".
        std::fs::remove_dir_all(home.path().join(".local")).unwrap();
        let (before, _) = run("[profile prod]\n");
        assert!(
            before.starts_with("Refused") && before.contains("wants dev, which is not a profile"),
            "{before}"
        );
    }

    /// The environment after `ops`, applied over `vars` as a shell would.
    fn applied(vars: &BTreeMap<String, String>, ops: &[Op]) -> BTreeMap<String, String> {
        let mut out = vars.clone();
        for op in ops {
            match op {
                Op::Export(k, v) | Op::Local(k, v) | Op::Private(k, v) => {
                    out.insert(k.clone(), v.clone());
                }
                Op::Unset(k) | Op::UnsetPrivate(k) => {
                    out.remove(k);
                }
            }
        }
        out
    }

    fn vars_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn role(profile: &str, key: &str, region: Option<&str>) -> EnvChange {
        let mut set = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), key.to_string()),
            ("AWSROLE_PROFILE".to_string(), profile.to_string()),
        ];
        if let Some(region) = region {
            set.push(("AWS_REGION".to_string(), region.to_string()));
        }
        EnvChange {
            set,
            unset: vec!["AWS_PROFILE".into()],
        }
    }

    #[test]
    fn a_switch_then_a_restore_gives_back_the_shell_as_it_was() {
        let before = vars_of(&[("AWS_PROFILE", "mine"), ("HOME", "/h")]);
        let state = lasting();
        // First switch: the diff is captured from the shell as it is.
        let ctx = Context {
            vars: before.clone(),
            ..ctx_with(None, None)
        };
        let ops = ctx.apply(&role("a", "ASIAA", Some("eu-west-1")), &state);
        for op in [
            Op::Unset("AWS_PROFILE".into()),
            Op::Export("AWSROLE_PROFILE".into(), "a".into()),
            state_op(&state),
            Op::Unset(SEEN_VAR.into()),
            Op::Unset(RETRY_VAR.into()),
            Op::Local(PROMPT_VAR.into(), "a".into()),
        ] {
            assert!(ops.contains(&op), "{op:?} missing from {ops:?}");
        }
        let during = applied(&before, &ops);
        assert_eq!(
            during.get("AWS_REGION").map(String::as_str),
            Some("eu-west-1")
        );
        let diff = during.get(envdiff::SHELL_VAR).cloned();
        assert!(diff.is_some(), "{ops:?}");

        // A switch to another role puts back what the first set and the second does not.
        let ctx = Context {
            vars: during.clone(),
            diff: diff.clone(),
            ..ctx_with(Some(state.clone()), None)
        };
        let ops = ctx.apply(&role("b", "ASIAB", None), &state);
        let during_b = applied(&during, &ops);
        assert_eq!(
            during_b.get("AWSROLE_PROFILE").map(String::as_str),
            Some("b")
        );
        assert_eq!(during_b.get("AWS_REGION"), None, "{ops:?}");
        assert_eq!(during_b.get("AWS_PROFILE"), None);

        // Leaving restores the shell of before the first switch, not the first role's.
        let ctx = Context {
            vars: during_b.clone(),
            diff: during_b.get(envdiff::SHELL_VAR).cloned(),
            ..ctx_with(Some(state), None)
        };
        let ops = ctx.restore();
        assert_eq!(
            ops.last(),
            Some(&Op::Local(PROMPT_VAR.into(), String::new()))
        );
        for op in [
            Op::Unset(STATE_VAR.into()),
            Op::Unset(OLD_DIFF_VAR.into()),
            Op::UnsetPrivate(envdiff::SHELL_VAR.into()),
        ] {
            assert!(ops.contains(&op), "{op:?} missing from {ops:?}");
        }
        let mut after = applied(&during_b, &ops);
        after.remove(PROMPT_VAR);
        assert_eq!(after, before);
    }

    #[test]
    fn a_restore_without_a_diff_drops_what_a_switch_sets() {
        // A shell started from one with an active role: the variables, no diff.
        let vars = vars_of(&[
            ("AWS_ACCESS_KEY_ID", "ASIAA"),
            ("AWSROLE_PROFILE", "a"),
            ("HOME", "/h"),
        ]);
        let ctx = Context {
            vars: vars.clone(),
            ..ctx_with(Some(state(Origin::Use, 2_000_000)), None)
        };
        let ops = ctx.restore();
        assert!(
            ops.contains(&Op::Unset("AWS_ACCESS_KEY_ID".into())),
            "{ops:?}"
        );
        assert!(
            ops.contains(&Op::Unset("AWSROLE_PROFILE".into())),
            "{ops:?}"
        );
        assert!(
            !ops.contains(&Op::Unset("AWS_REGION".into())),
            "only what is set"
        );
        let mut after = applied(&vars, &ops);
        after.remove(PROMPT_VAR);
        assert_eq!(after, vars_of(&[("HOME", "/h")]));
    }

    /// The variables a shell with a `use` role hands the hook.
    fn active_use() -> Vec<(&'static str, String)> {
        vec![
            ("AWSROLE_PROFILE", "dev".into()),
            (STATE_VAR, lasting().encode()),
        ]
    }

    #[test]
    fn the_context_is_read_from_the_process_environment_once() {
        const NAME: &str =
            "env::hook::tests::the_context_is_read_from_the_process_environment_once";
        if crate::sys::test_child::is_child(NAME) {
            take_diff();
            let ctx = Context::read();
            let answer = serde_json::json!({
                "vars": ctx.vars,
                "diff": ctx.diff,
                "handed_over": std::env::var_os(crate::sys::settings::HANDOFF_VAR).is_some(),
                "state": ctx.state.is_some(),
                "seen": ctx.seen,
                "margin": ctx.margin,
            });
            return crate::sys::test_child::answer(&answer.to_string());
        }
        let dir = tempfile::tempdir().unwrap();
        let pwd = dir.path().to_str().unwrap().to_string();
        let mut vars = active_use();
        vars.extend([
            ("AWS_REGION", "eu-west-1".into()),
            (SEEN_VAR, "s".into()),
            (MARGIN_VAR, "10m".into()),
            ("PWD", pwd.clone()),
            (crate::sys::settings::HANDOFF_VAR, "abcd".into()),
            ("UNWATCHED", "x".into()),
        ]);
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (answer, _) = crate::sys::test_child::run(NAME, &[], &vars);
        let got: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let names: Vec<&str> = got["vars"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // The diff left the environment first, so it is no variable of the context.
        let mut watched = [
            "AWSROLE_PROFILE",
            STATE_VAR,
            SEEN_VAR,
            MARGIN_VAR,
            "AWS_REGION",
            "PWD",
        ];
        watched.sort();
        assert_eq!(names, watched);
        assert_eq!(got["vars"]["PWD"], pwd.as_str());
        assert_eq!(got["diff"], "abcd");
        assert_eq!(got["handed_over"], false, "no child may see the diff");
        assert_eq!(got["state"], true);
        assert_eq!(got["seen"], "s");
        assert_eq!(got["margin"], 600);
    }

    #[test]
    fn the_fast_path_answers_hook_with_only_the_prompt_when_nothing_changed() {
        const NAME: &str =
            "env::hook::tests::the_fast_path_answers_hook_with_only_the_prompt_when_nothing_changed";
        if crate::sys::test_child::is_child(NAME) {
            take_diff();
            return crate::sys::test_child::answer(&format!("{:?}", fast_path()));
        }
        let dir = tempfile::tempdir().unwrap();
        let pwd = dir.path().to_str().unwrap().to_string();
        // `awsrole hook bash`: these arguments also select which tests the child runs.
        let hook = |vars: &[(&str, String)]| {
            let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
            all.push(("PWD", &pwd));
            crate::sys::test_child::run(NAME, &["hook", "bash"], &all).0
        };
        assert_eq!(
            hook(&[("AWSROLE_PROFILE", "dev".into())]),
            r#"Some("AWSROLE_PROMPT=dev\n")"#
        );
        let mut active = active_use();
        assert_eq!(hook(&active), r#"Some("AWSROLE_PROMPT=dev\n")"#);
        // A notice about a file elsewhere stays while a role of `use` is active…
        active.push((SEEN_VAR, "x".into()));
        assert_eq!(hook(&active), r#"Some("AWSROLE_PROMPT=dev\n")"#);
        // …and is forgotten the full way when nothing is active.
        assert_eq!(hook(&[(SEEN_VAR, "x".into())]), "None");
    }

    #[test]
    fn the_prompt_describes_the_environment_after_the_change() {
        let ctx = ctx_with(None, Some("old"));
        let leaving = EnvChange {
            set: Vec::new(),
            unset: vec!["AWSROLE_PROFILE".into()],
        };
        assert_eq!(ctx.prompt_after(&leaving), "");
        let entering = EnvChange {
            set: vec![
                ("AWSROLE_PROFILE".into(), "new".into()),
                (
                    "AWS_CREDENTIAL_EXPIRATION".into(),
                    "1970-01-12T13:46:40Z".into(),
                ),
            ],
            unset: Vec::new(),
        };
        assert_eq!(ctx.prompt_after(&entering), "new expired");
        let guarded = EnvChange {
            set: vec![
                ("AWSROLE_PROFILE".into(), "prod".into()),
                ("AWSROLE_PROMPT_WARN".into(), "1".into()),
                ("AWSROLE_REGION".into(), "us-west-2".into()),
            ],
            unset: Vec::new(),
        };
        assert_eq!(ctx.prompt_after(&guarded), "prod!@us-west-2");
    }
}
