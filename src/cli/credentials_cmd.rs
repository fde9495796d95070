//! `export`, `exec`, `list`, `explain`.

use std::time::Duration;

use chrono::Utc;

use super::{emit, emit_shown, notice, pad, App, Outcome, ResolveFlags};
use crate::chain::cache::key::chain_keys;
use crate::chain::cache::{Backend, Cache};
use crate::chain::config::AwsConfig;
use crate::chain::credentials::Credentials;
use crate::chain::plan::{plan, ChainPlan, PlanInputs, Root};
use crate::chain::resolve::{MfaPolicy, Resolver};
use crate::chain::root;
use crate::env::render::{credential_vars, json_document, render_env, EnvChange, Format};
use crate::error::{Error, Result};
use crate::sys::duration::short;

// The arguments of each command; their help texts are the variants' in `Command`.

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A profile of ~/.aws/config (see 'awsrole list')
    pub(crate) profile: String,
    #[arg(long, value_enum, default_value = "sh")]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) flags: ResolveFlags,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// A profile of ~/.aws/config (see 'awsrole list')
    pub(crate) profile: String,
    /// Serve the credentials from a local endpoint that keeps them fresh, instead of
    /// putting keys in the command's environment (for jobs longer than a session)
    #[arg(long)]
    pub(crate) server: bool,
    #[command(flatten)]
    pub(crate) flags: ResolveFlags,
    /// The command and its arguments (after `--` when they could be taken for
    /// awsrole's own flags); none: a subshell ($SHELL)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only the names, one per line
    #[arg(long)]
    pub(crate) names: bool,
    /// Only the profiles whose chain starts at IAM Identity Center
    #[arg(long)]
    pub(crate) sso: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// A profile of ~/.aws/config (see 'awsrole list')
    pub(crate) profile: String,
    /// Explain it as with --duration DURATION
    #[arg(long, value_name = "DURATION", value_parser = super::parse_duration_arg)]
    pub(crate) duration: Option<u32>,
}

/// The resolved credentials of a profile, with what rendering them needs.
pub(crate) struct Resolved {
    pub plan: ChainPlan,
    pub credentials: Credentials,
    /// `--region`, shown in the prompt line.
    pub region_override: Option<String>,
}

impl Resolved {
    pub fn env_change(&self) -> EnvChange {
        let mut change = credential_vars(
            &self.plan.target,
            &self.credentials,
            self.plan.region.as_deref(),
        );
        let mut mark = |name: &str, value: Option<String>| match value {
            Some(v) => change.set.push((name.to_string(), v)),
            None => change.unset.push(name.to_string()),
        };
        mark(
            "AWSROLE_PROMPT_WARN",
            self.plan.confirm.then(|| "1".to_string()),
        );
        mark("AWSROLE_REGION", self.region_override.clone());
        change
    }
}

/// The plan of `profile` (`App::plan`: from only the sections its chain can need, parsed
/// once per run).
pub(crate) fn plan_profile(app: &App, profile: &str, duration: Option<u32>) -> Result<ChainPlan> {
    app.plan(profile, &PlanInputs::from_env(duration))
}

/// The plan `flags` ask for (`--duration`, `--no-session`).
pub(crate) fn plan_for(app: &App, profile: &str, flags: &ResolveFlags) -> Result<ChainPlan> {
    app.plan(
        profile,
        &PlanInputs {
            no_session: flags.no_session,
            ..PlanInputs::from_env(flags.duration)
        },
    )
}

pub(crate) fn resolve_profile(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
    mfa: MfaPolicy,
    lock_wait: Duration,
) -> Result<Resolved> {
    resolve_with_margin(app, profile, flags, mfa, lock_wait, None)
}

/// The same, with a refresh margin of its own for the cache (the credential endpoint
/// wants more left than a shell does).
pub(crate) fn resolve_with_margin(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
    mfa: MfaPolicy,
    lock_wait: Duration,
    margin: Option<i64>,
) -> Result<Resolved> {
    let mut plan = plan_for(app, profile, flags)?;
    if let Some(region) = &flags.region {
        plan.region = Some(region.clone());
    }
    for line in plan.notices() {
        notice(&line);
    }
    let backend = app.backend()?;
    let disabled;
    let cache = if flags.no_cache {
        disabled = Cache::disabled();
        &disabled
    } else {
        app.cache_with_margin(margin)?
    };
    let credentials = Resolver {
        cache,
        backend,
        mfa,
        lock_wait,
    }
    .resolve(&plan)?;
    Ok(Resolved {
        plan,
        credentials,
        region_override: flags.region.clone(),
    })
}

fn interactive(flags: &ResolveFlags) -> MfaPolicy {
    MfaPolicy::Interactive {
        given: flags.mfa_code.clone(),
    }
}

impl ExportArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        export(app, &self.profile, self.format, &self.flags)?;
        Ok(Outcome::Done)
    }
}

fn export(app: &App, profile: &str, format: Format, flags: &ResolveFlags) -> Result<()> {
    let resolved = resolve_profile(
        app,
        profile,
        flags,
        interactive(flags),
        Duration::from_secs(120),
    )?;
    let mut change = resolved.env_change();
    // Only what changes: a variable this environment does not have needs no unset,
    // except the two that make SDKs ignore the keys, should the text be sourced
    // elsewhere later.
    change.unset.retain(|name| {
        matches!(name.as_str(), "AWS_PROFILE" | "AWS_DEFAULT_PROFILE")
            || crate::sys::settings::os(name).is_some()
    });
    // Rendered whole, then written once: never a half-written export.
    let text = match format {
        Format::Json => json_document(&resolved.credentials),
        other => render_env(other, &change),
    };
    emit(&text)
}

impl ExecArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        // Typed by a person: at a terminal, a missing sign-in starts one.
        crate::chain::root::sso::allow_login_here();
        exec(app, &self.profile, &self.flags, &self.command, self.server)
    }
}

fn exec(
    app: &App,
    profile: &str,
    flags: &ResolveFlags,
    command: &[String],
    server: bool,
) -> Result<Outcome> {
    let subshell;
    let (program, args) = match command.split_first() {
        Some(split) => split,
        // No command: a subshell with the credentials, as aws-vault does.
        None => {
            subshell = [user_shell()];
            notice(&format!(
                "starting a subshell ({}) as {profile}; 'exit' leaves it and its credentials",
                subshell[0]
            ));
            (&subshell[0], &[][..])
        }
    };
    super::pick_cmd::confirm(
        &plan_profile(app, profile, flags.duration)?,
        flags.yes,
        "Run the command as",
    )?;
    if server {
        return super::server_cmd::exec_with_server(app, profile, flags, program, args);
    }
    let resolved = resolve_profile(
        app,
        profile,
        flags,
        interactive(flags),
        Duration::from_secs(120),
    )?;
    let change = resolved.env_change();
    let mut child = std::process::Command::new(program);
    child.args(args);
    for name in &change.unset {
        child.env_remove(name);
    }
    for (name, value) in &change.set {
        child.env(name, value);
    }
    run_child(child, program)
}

/// On Unix the child replaces awsrole (as aws-vault does): signals reach it directly
/// and its exit status is ours. Elsewhere awsrole waits and exits with its status.
#[cfg(unix)]
fn run_child(mut child: std::process::Command, program: &str) -> Result<Outcome> {
    use std::os::unix::process::CommandExt;
    crate::sys::protect::restore_core_limit();
    let err = child.exec();
    Err(Error::io(format!("cannot run '{program}'"), err))
}

#[cfg(not(unix))]
fn run_child(mut child: std::process::Command, program: &str) -> Result<Outcome> {
    let status = child
        .status()
        .map_err(|e| Error::io(format!("cannot run '{program}'"), e))?;
    Ok(Outcome::Exit(status.code().unwrap_or(1)))
}

/// `role-e ← role-d ← role-c ← role-b ← role-a (mfa) ← default [keys]`
pub(crate) fn chain_line(plan: &ChainPlan, backend: Backend) -> String {
    let mfa_mark = |mfa: bool| if mfa { " (mfa)" } else { "" };
    let mut parts: Vec<String> = plan
        .hops
        .iter()
        .enumerate()
        .rev()
        .map(|(i, hop)| {
            let mfa = hop.mfa.is_some()
                || (i == 0 && plan.mfa_session.as_ref().is_some_and(|s| s.mfa.is_some()));
            format!("{}{}", hop.profile, mfa_mark(mfa))
        })
        .collect();
    let root_name = plan.root.profile();
    let kind = root::shown(&plan.root, backend).label();
    let root_mfa = plan.hops.is_empty() && plan.needs_mfa();
    parts.push(format!("{root_name}{} {kind}", mfa_mark(root_mfa)));
    parts.join(" ← ")
}

/// When keys in the environment are enough, and when a job wants the endpoint.
fn mode_advice(plan: &ChainPlan) -> String {
    let last = if plan.target_is_chained() {
        "at most 1 h (a chained session)".to_string()
    } else {
        match plan.hops.last().and_then(|h| h.duration) {
            Some(d) => format!("{d}s"),
            None if plan.hops.is_empty() => "as long as the source credentials".into(),
            None => "1 h (STS's default)".into(),
        }
    };
    format!(
        "keys in the environment (export, exec, use) last {last}; a job that runs longer wants 'awsrole exec --server {}', whose endpoint renews them before any SDK notices",
        plan.target
    )
}

/// The user's shell for `exec` with no command: `$SHELL`, else the platform's own.
fn user_shell() -> String {
    match crate::sys::settings::var("SHELL") {
        Ok(shell) if !shell.trim().is_empty() => shell,
        _ if cfg!(windows) => {
            crate::sys::settings::var("COMSPEC").unwrap_or_else(|_| "cmd.exe".into())
        }
        _ => "/bin/sh".into(),
    }
}

/// Why a listing is empty: which file is missing (or empty), and where it was looked for.
fn no_profiles(config: &AwsConfig) -> String {
    let state = |path: &std::path::Path| {
        if path.exists() {
            "has no profile"
        } else {
            "does not exist"
        }
    };
    format!(
        "no profiles: {} {} (AWS_CONFIG_FILE), {} {} (AWS_SHARED_CREDENTIALS_FILE); 'aws configure' or an editor writes them",
        config.config_file.display(),
        state(&config.config_file),
        config.credentials_file.display(),
        state(&config.credentials_file)
    )
}

/// Planning every profile for a listing: no "did you mean" per row, which would make
/// it quadratic in the number of profiles.
pub(crate) fn listing_inputs() -> PlanInputs {
    PlanInputs {
        skip_suggestions: true,
        ..PlanInputs::from_env(None)
    }
}

/// The width of a column of profile names; longer names than `cap` do not widen it
/// (a hostile config).
pub(crate) fn name_width(config: &AwsConfig, cap: usize) -> usize {
    config
        .profiles
        .keys()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .min(cap)
}

/// `list`; `sso_only` keeps the profiles whose chain starts at IAM Identity Center (the
/// completions of `sso login`/`logout` offer those alone).
impl ListArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        list(app, self.names, self.sso)?;
        Ok(Outcome::Done)
    }
}

fn list(app: &App, names_only: bool, sso_only: bool) -> Result<()> {
    let config = app.config()?;
    if config.profiles.is_empty() {
        notice(&no_profiles(config));
    }
    let inputs = listing_inputs();
    let is_sso = |planned: &Result<ChainPlan>| {
        planned
            .as_ref()
            .is_ok_and(|p| matches!(p.root, Root::Sso { .. }))
    };
    if names_only {
        let text: String = config
            .profiles
            .keys()
            .filter(|n| !sso_only || is_sso(&plan(config, n, &inputs)))
            .map(|n| format!("{n}\n"))
            .collect();
        // Names for completion and scripts, escaped like every name awsrole shows: a
        // name holding ESC or U+202E must not reach a terminal raw.
        return emit_shown(&text);
    }
    let backend = app.listing_backend();
    let width = name_width(config, 64);
    let mut text = format!(
        "{}  {:12}  {:14}  CHAIN\n",
        pad("PROFILE", width),
        "ACCOUNT",
        "REGION"
    );
    for name in config.profiles.keys() {
        let planned = plan(config, name, &inputs);
        if sso_only && !is_sso(&planned) {
            continue;
        }
        let (account, region, line) = match planned {
            Ok(p) => (
                p.account().unwrap_or("-").to_string(),
                p.region.clone().unwrap_or_else(|| "-".into()),
                format!("{}{}", chain_line(&p, backend), guard_mark(&p)),
            ),
            Err(e) => ("-".into(), "-".into(), format!("error: {e}")),
        };
        text.push_str(&format!(
            "{}  {account:12}  {region:14}  {line}\n",
            pad(name, width)
        ));
    }
    emit_shown(&text)
}

/// `list`'s mark for a guarded profile: `  [confirm]`, naming the guarded profile it is
/// reached through when that is not itself.
fn guard_mark(plan: &ChainPlan) -> String {
    match plan.guarded_by.as_deref() {
        None => String::new(),
        Some(g) if g == plan.target => "  [confirm]".into(),
        Some(g) => format!("  [confirm: through {g}]"),
    }
}

impl ExplainArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        explain(app, &self.profile, self.duration)?;
        Ok(Outcome::Done)
    }
}

fn explain(app: &App, profile: &str, duration: Option<u32>) -> Result<()> {
    let plan = plan_profile(app, profile, duration)?;
    let backend = app.backend()?;
    let cache = app.cache()?;
    let (mfa_key, hop_keys) = chain_keys(&plan, &root::identity(&plan.root));
    let now = Utc::now();
    let cached = |key: &crate::chain::cache::CacheKey| match cache.get(key, now) {
        Some(entry) => {
            let expires = entry.credentials.expiration_text().unwrap_or_default();
            let left = entry
                .credentials
                .seconds_left(now)
                .map(short)
                .unwrap_or_default();
            format!("cached until {expires} ({left} left)")
        }
        None if cache.enabled() => "not cached".to_string(),
        None => "cache off".to_string(),
    };

    let mut out = format!(
        "profile: {}\nchain:   {}\n",
        plan.target,
        chain_line(&plan, backend)
    );
    let root_text = root::shown(&plan.root, backend).describe();
    out.push_str(&format!("source:  {root_text}\n"));
    if let (Some(session), Some(key)) = (&plan.mfa_session, &mfa_key) {
        out.push_str(&format!(
            "mfa:     GetSessionToken {} for {}s, shared by every role using it; {}\n",
            session
                .mfa
                .as_ref()
                .map(|m| format!("with {}", m.serial))
                .unwrap_or_else(|| {
                    "without MFA (the long-term keys stay here; --no-session hands them out)".into()
                }),
            session.duration,
            cached(key)
        ));
    }
    for (i, (hop, key)) in plan.hops.iter().zip(&hop_keys).enumerate() {
        let duration = match (hop.duration, hop.capped_from) {
            (Some(d), Some(asked)) => {
                format!("{d}s (capped from {asked}s: chained sessions last at most 1h)")
            }
            (Some(d), None) => format!("{d}s"),
            (None, _) => "STS default (1h)".to_string(),
        };
        let mfa = match (&hop.mfa, i, &plan.mfa_session) {
            (Some(m), _, _) => format!("code for {} sent on this call", m.serial),
            (None, 0, Some(_)) => "from the MFA session".to_string(),
            _ => "none".to_string(),
        };
        out.push_str(&format!(
            "hop {}:   {} → {}\n         mfa: {mfa}; duration: {duration}; session name: {}{}\n         {}\n",
            i + 1,
            hop.profile,
            hop.role_arn,
            hop.session_name.as_deref().unwrap_or("awsrole-<user>-<time>"),
            hop.external_id.as_ref().map(|e| format!("; external id: {e}")).unwrap_or_default(),
            cached(key),
        ));
    }
    out.push_str(&format!(
        "region:  {}\nendpoint: {}\n",
        plan.region
            .as_deref()
            .unwrap_or("none (STS calls use us-east-1)"),
        plan.endpoint.clone().unwrap_or_else(|| format!(
            "sts.{}.amazonaws.com",
            plan.region.as_deref().unwrap_or("us-east-1")
        ))
    ));
    for line in plan.notices() {
        out.push_str(&format!("note:    {line}\n"));
    }
    if let Some(guard) = &plan.guarded_by {
        out.push_str(&format!(
            "guard:   awsrole_confirm on '{guard}': use, exec, console and allow ask first (--yes without a terminal)\n"
        ));
    }
    out.push_str(&format!("mode:    {}\n", mode_advice(&plan)));
    emit_shown(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::app::memory::{entry, Memory};
    use crate::sys::output::capture::capture;

    #[test]
    fn explain_shows_the_plan_and_what_of_it_is_cached() {
        let config = AwsConfig::from_texts(
            "[profile role-a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = dev\nregion = eu-west-1\n\n[profile role-b]\nrole_arn = arn:aws:iam::123456789012:role/B\nsource_profile = role-a\n",
            "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\n",
        )
        .unwrap();
        let sessions = Memory::default();
        let app = App::for_tests(config, Cache::with_store(Box::new(sessions.clone()), 300));
        // role-a's hop is cached, role-b's is not.
        let plan = plan_profile(&app, "role-b", None).unwrap();
        let (_, hops) = chain_keys(&plan, &root::identity(&plan.root));
        assert_eq!(hops.len(), 2);
        app.cache().unwrap().put(&hops[0], &entry("role-a"));

        let mut ran = None;
        let (out, err) = capture(|| {
            ran = Some(
                ExplainArgs {
                    profile: "role-b".into(),
                    duration: None,
                }
                .run(&app),
            )
        });
        assert_eq!(ran.take().unwrap().unwrap(), Outcome::Done);
        assert!(err.is_empty(), "{err:?}");
        assert!(
            out.starts_with("profile: role-b\nchain:   role-b ← role-a ← dev"),
            "{out}"
        );
        let hop = |n: usize| {
            let at = out.find(&format!("hop {n}:")).expect("the hop");
            out[at..].lines().take(3).collect::<Vec<_>>().join("\n")
        };
        assert!(
            hop(1).contains("role-a → arn:aws:iam::123456789012:role/A"),
            "{out}"
        );
        assert!(hop(1).contains("cached until"), "{out}");
        assert!(
            hop(2).contains("role-b → arn:aws:iam::123456789012:role/B"),
            "{out}"
        );
        assert!(hop(2).contains("not cached"), "{out}");
        assert!(!out.contains("SECRET"), "{out}");

        // A profile that is not there: the error names the near ones.
        let missing = ExplainArgs {
            profile: "role-c".into(),
            duration: None,
        }
        .run(&app);
        assert!(
            matches!(&missing, Err(Error::UnknownProfile { hint, .. }) if hint.contains("role-a") || hint.contains("role-b")),
            "{missing:?}"
        );
    }
}
