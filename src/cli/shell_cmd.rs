//! `init`, `use`, `unuse`, `hook`, `allow`, `deny`, `prompt`, `status`, `completions`.

use std::path::PathBuf;
use std::time::Duration;

use super::credentials_cmd::{chain_line, plan_profile, resolve_profile};
use super::{emit, emit_shown, notice, App, Outcome, ResolveFlags};
use crate::chain::resolve::MfaPolicy;
use crate::env::hook::{self, Context, Decision, Origin, State, Wanted};
use crate::env::render::EnvChange;
use crate::env::shell::{Op, Shell};
use crate::env::trust;
use crate::error::{Error, Result};

// The arguments of each command; their help texts are the variants' in `Command`.

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    pub(crate) shell: Shell,
}

#[derive(clap::Args, Debug)]
pub struct UseArgs {
    /// A profile of ~/.aws/config (see 'awsrole list'); none: pick from a list
    pub(crate) profile: Option<String>,
    #[command(flatten)]
    pub(crate) flags: ResolveFlags,
    /// Serve the credentials to this shell from a local endpoint that keeps them
    /// fresh, instead of putting keys in it
    #[arg(long)]
    pub(crate) server: bool,
    /// Set by the shell function: print code for this shell
    #[arg(long, hide = true)]
    pub(crate) shell: Option<Shell>,
}

#[derive(clap::Args, Debug)]
pub struct RefreshArgs {
    /// A profile of ~/.aws/config (default: the one this shell uses, or the nearest
    /// allowed .awsrole's)
    pub(crate) profile: Option<String>,
    /// The current code of the MFA device (else mfa_process, else asked on the terminal)
    #[arg(long, value_name = "CODE")]
    pub(crate) mfa_code: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UnuseArgs {
    #[arg(long, hide = true)]
    pub(crate) shell: Option<Shell>,
}

#[derive(clap::Args, Debug)]
pub struct HookArgs {
    pub(crate) shell: Shell,
}

#[derive(clap::Args, Debug)]
pub struct AllowArgs {
    /// The .awsrole file or its directory (default: the nearest one)
    pub(crate) path: Option<PathBuf>,
    /// Confirm a profile marked `awsrole_confirm = true` without a terminal
    #[arg(long)]
    pub(crate) yes: bool,
}

#[derive(clap::Args, Debug)]
pub struct DenyArgs {
    /// The .awsrole file or its directory (default: the nearest one)
    pub(crate) path: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct PromptArgs {}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Also make one GetCallerIdentity to check that the keys still work
    #[arg(long)]
    pub(crate) verify: bool,
}

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    pub(crate) shell: Shell,
}

impl InitArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        init(self.shell)?;
        Ok(Outcome::Done)
    }
}

impl UseArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        // Typed by a person: at a terminal, a missing sign-in starts one.
        crate::chain::root::sso::allow_login_here();
        use_profile(
            app,
            self.profile.as_deref(),
            &self.flags,
            self.server,
            self.shell,
        )?;
        Ok(Outcome::Done)
    }
}

impl RefreshArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        crate::chain::root::sso::allow_login_here();
        refresh(app, self.profile.as_deref(), self.mfa_code)?;
        Ok(Outcome::Done)
    }
}

impl UnuseArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        unuse(self.shell)?;
        Ok(Outcome::Done)
    }
}

impl HookArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        hook(app, self.shell)?;
        Ok(Outcome::Done)
    }
}

impl AllowArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        allow(app, self.path, self.yes)?;
        Ok(Outcome::Done)
    }
}

impl DenyArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        deny(self.path)?;
        Ok(Outcome::Done)
    }
}

impl PromptArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        prompt()?;
        Ok(Outcome::Done)
    }
}

impl StatusArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        status(app, self.verify)?;
        Ok(Outcome::Done)
    }
}

impl CompletionsArgs {
    pub fn run(self, _app: &App) -> Result<Outcome> {
        emit(&completion_script(self.shell))?;
        Ok(Outcome::Done)
    }
}

/// The integration and, after it, the completions: the rc line is all a user adds.
fn init(shell: Shell) -> Result<()> {
    let mut text = shell.syntax().init_script();
    text.push_str(&completion_script(shell));
    emit(&text)
}

/// The shell this command was typed in: the parent process (Linux), else `$SHELL`.
fn calling_shell() -> Option<Shell> {
    let name_of = |path: &str| {
        let base = path.rsplit(['/', '\\']).next().unwrap_or(path).trim();
        let base = base.trim_start_matches('-').trim_end_matches(".exe");
        base.parse::<Shell>().ok()
    };
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() };
        if let Ok(comm) = std::fs::read_to_string(format!("/proc/{parent}/comm")) {
            if let Some(shell) = name_of(&comm) {
                return Some(shell);
            }
        }
    }
    crate::sys::settings::var("SHELL")
        .ok()
        .and_then(|s| name_of(&s))
}

fn needs_integration(command: &str) -> Error {
    let what = match command {
        "unuse" => "'awsrole unuse' puts back what 'awsrole use' changed in your shell",
        _ => "'awsrole use' changes your shell",
    };
    let shell = calling_shell();
    let one_shell = match (command, shell) {
        ("unuse", _) => String::new(),
        (_, Some(shell)) => format!(
            "; or, for this shell only: {}",
            shell.syntax().one_shell_line()
        ),
        (_, None) => "; or, for this shell only: eval \"$(awsrole export PROFILE)\"".into(),
    };
    let install = match shell {
        Some(shell) => format!("add {}", shell.syntax().rc_line()),
        None => Shell::all()
            .iter()
            .map(|s| format!("add {}", s.syntax().rc_line()))
            .collect::<Vec<_>>()
            .join("; or "),
    };
    Error::Usage(format!(
        "{what}, so it needs the shell integration: {install}, and open a new shell{one_shell}"
    ))
}

/// The state of a switch applied now, with the choices a renewal must repeat.
fn new_state(
    origin: Origin,
    resolved: &super::credentials_cmd::Resolved,
    ctx: &Context,
    choices: hook::Choices,
) -> State {
    let expiry = resolved
        .credentials
        .expiration
        .map(|e| e.timestamp())
        .unwrap_or(0);
    State {
        origin,
        expiry,
        renew_at: State::renew_at_for(expiry, ctx.now, ctx.margin),
        trust_mtime: ctx.trust_mtime,
        warned: false,
        choices,
        key: hook::fingerprint(&resolved.credentials.access_key_id),
        noticed: String::new(),
    }
}

/// What of `flags` a renewal repeats (the MFA code is spent, `--yes` was said once).
fn choices_of(flags: &ResolveFlags) -> hook::Choices {
    hook::Choices {
        duration: flags.duration,
        region: flags.region.clone(),
        no_cache: flags.no_cache,
        no_session: flags.no_session,
    }
}

fn flags_of(choices: &hook::Choices) -> ResolveFlags {
    ResolveFlags {
        duration: choices.duration,
        region: choices.region.clone(),
        no_cache: choices.no_cache,
        no_session: choices.no_session,
        ..ResolveFlags::default()
    }
}

fn use_profile(
    app: &App,
    profile: Option<&str>,
    flags: &ResolveFlags,
    server: bool,
    shell: Option<Shell>,
) -> Result<()> {
    let shell = shell.ok_or_else(|| needs_integration("use"))?;
    let picked;
    let profile = match profile {
        Some(p) => p,
        None if super::pick_cmd::at_terminal() => {
            picked = super::pick_cmd::choose(app, "Switch to")?.ok_or(Error::Cancelled)?;
            &picked
        }
        None => {
            return Err(Error::Usage(
                "'awsrole use' needs a PROFILE (at a terminal, with none, it shows a list to pick from)".into(),
            ))
        }
    };
    super::pick_cmd::confirm(
        &plan_profile(app, profile, flags.duration)?,
        flags.yes,
        "Switch to",
    )?;
    let ctx = Context::read();
    if let Some(running) = ctx.var(super::server_cmd::SERVER_VAR) {
        super::server_cmd::stop_server(&running);
    }
    if server {
        let change = super::server_cmd::use_with_server(app, profile, flags)?;
        let state = State {
            origin: Origin::Use,
            trust_mtime: ctx.trust_mtime,
            choices: choices_of(flags),
            ..State::default()
        };
        hook::mark_renewed();
        return emit(&shell.syntax().render(&ctx.apply(&change, &state)));
    }
    let resolved = resolve_profile(
        app,
        profile,
        flags,
        MfaPolicy::Interactive {
            given: flags.mfa_code.clone(),
        },
        Duration::from_secs(120),
    )?;
    hook::mark_renewed();
    let ctx = Context::read();
    let state = new_state(Origin::Use, &resolved, &ctx, choices_of(flags));
    emit(
        &shell
            .syntax()
            .render(&ctx.apply(&resolved.env_change(), &state)),
    )?;
    notice(&switched(&resolved));
    Ok(())
}

/// `refresh`: the chain resolved now, at the terminal, through the cache with at least
/// the credential endpoint's margin, so that whatever waits for it (this shell's hook,
/// other shells, `exec --server`/`use --server` endpoints) finds credentials that last.
/// It changes no variable: the hook applies them at the next prompt (it sees
/// `hook::renewed_marker`), keeping the scope (`use` or the directory).
fn refresh(app: &App, profile: Option<&str>, mfa_code: Option<String>) -> Result<()> {
    let ctx = Context::read();
    let profile = match profile {
        Some(p) => p.to_string(),
        None => refresh_target(&ctx)?,
    };
    let choices = ctx
        .state
        .as_ref()
        .filter(|_| ctx.var("AWSROLE_PROFILE").as_deref() == Some(profile.as_str()))
        .map(|s| s.choices.clone())
        .unwrap_or_default();
    let flags = ResolveFlags {
        mfa_code: mfa_code.clone(),
        ..flags_of(&choices)
    };
    let margin = ctx.margin.max(crate::serve::endpoint::DEFAULT_MARGIN);
    let resolved = super::credentials_cmd::resolve_with_margin(
        app,
        &profile,
        &flags,
        MfaPolicy::Interactive { given: mfa_code },
        Duration::from_secs(120),
        Some(margin),
    )?;
    hook::mark_renewed();
    let mut line = switched(&resolved);
    line.push_str("; nothing was switched");
    notice(&format!("refreshed {line}"));
    Ok(())
}

/// What `refresh` with no profile means: the role this shell uses, else the one the
/// nearest allowed `.awsrole` wants.
fn refresh_target(ctx: &Context) -> Result<String> {
    if let Some(profile) = ctx.var("AWSROLE_PROFILE").filter(|p| !p.is_empty()) {
        return Ok(profile);
    }
    if let Some((file, mtime)) = &ctx.nearest {
        if let Wanted::Profile { profile, .. } = hook::wanted_by_file(file, *mtime) {
            return Ok(profile);
        }
    }
    Err(Error::Usage(
        "'awsrole refresh' needs a PROFILE here: this shell uses none, and no allowed .awsrole is at or above this directory".into(),
    ))
}

/// What `use` says once it switched, as granted and awsume do:
/// `role-b (123456789012, eu-west-1) until 14:05`.
fn switched(resolved: &super::credentials_cmd::Resolved) -> String {
    let plan = &resolved.plan;
    let about: Vec<&str> = [plan.account(), plan.region.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let mut line = plan.target.clone();
    if !about.is_empty() {
        line.push_str(&format!(" ({})", about.join(", ")));
    }
    if let Some(expires) = resolved.credentials.expiration {
        let local = expires.with_timezone(&chrono::Local);
        line.push_str(&format!(" until {}", local.format("%H:%M")));
    }
    line
}

fn unuse(shell: Option<Shell>) -> Result<()> {
    let shell = shell.ok_or_else(|| needs_integration("unuse"))?;
    let ctx = Context::read();
    if let Some(running) = ctx.var(super::server_cmd::SERVER_VAR) {
        super::server_cmd::stop_server(&running);
    }
    let ops = match (&ctx.state, ctx.var("AWSROLE_PROFILE")) {
        (Some(_), _) => ctx.restore(),
        // `eval "$(awsrole export P)"`, the fallback without the integration: its
        // variables go; what they replaced was never kept.
        (None, Some(profile)) => {
            notice(&format!(
                "{profile} came from 'awsrole export', not 'use': its variables are removed; the values they replaced were not kept"
            ));
            ctx.restore()
        }
        (None, None) => {
            notice("no role is active in this shell");
            vec![ctx.prompt_op()]
        }
    };
    emit(&shell.syntax().render(&ops))
}

/// The hook when something changed: entering or leaving a tree, an edited or newly
/// allowed file, or credentials near expiry. Never asks for anything, and never takes
/// longer than its budget (`budget::hook_budget`). Decides (`hook::decide`), then
/// prints once.
fn hook(app: &App, shell: Shell) -> Result<()> {
    crate::sys::budget::limit(crate::sys::budget::hook_budget());
    let ctx = Context::read();
    let wanted = match (&ctx.state, &ctx.nearest) {
        (
            Some(State {
                origin: Origin::Use,
                ..
            }),
            _,
        ) => Wanted::Profile {
            profile: ctx.var("AWSROLE_PROFILE").unwrap_or_default(),
            origin: Origin::Use,
        },
        (_, None) => Wanted::Nothing,
        (_, Some((file, mtime))) => hook::wanted_by_file(file, *mtime),
    };
    let mut ops = Vec::new();
    let tell = |message: &str, ops: &mut Vec<Op>| {
        notice(message);
        if let Some(seen) = ctx.seen_key() {
            ops.push(hook::seen_op(&seen));
        }
    };
    match hook::decide(&ctx, wanted) {
        Decision::Idle { forget_seen } => {
            if forget_seen {
                ops.push(Op::Unset(hook::SEEN_VAR.into()));
            }
            ops.push(ctx.prompt_op());
        }
        Decision::Restore { tell: message } => {
            ops.extend(ctx.restore());
            if let Some(message) = message {
                tell(&message, &mut ops);
            }
        }
        Decision::Tell { message } => {
            tell(&message, &mut ops);
            ops.push(ctx.prompt_op());
        }
        Decision::Keep { mut state } => {
            if let Some(foreign) = ctx.foreign() {
                let key = hook::fingerprint(&foreign);
                if key != state.noticed {
                    notice(&foreign);
                    state.noticed = key;
                }
            }
            ops.push(hook::state_op(&state));
            ops.push(ctx.prompt_op());
        }
        Decision::Backoff { profile } => {
            match ctx.state {
                Some(_) => ops.extend(ctx.restore()),
                None => ops.push(ctx.prompt_op()),
            }
            if !ctx.told_already() {
                tell(&format!("{profile} could not be resolved a moment ago; the hook tries again in a minute, or run 'awsrole refresh {profile}'"), &mut ops);
            }
        }
        Decision::Resolve {
            profile,
            origin,
            kept,
        } => {
            ops.extend(switch(app, &ctx, &profile, origin, kept, &tell));
        }
    }
    emit(&shell.syntax().render(&ops))
}

/// A switch (or renewal) by the hook: from the cache or STS, never asking. A renewal
/// asks for what the switch it renews asked for (`--duration`, `--region`,
/// `--no-cache`).
fn switch(
    app: &App,
    ctx: &Context,
    profile: &str,
    origin: Origin,
    kept: Option<State>,
    tell: &dyn Fn(&str, &mut Vec<Op>),
) -> Vec<Op> {
    let choices = kept.as_ref().map(|k| k.choices.clone()).unwrap_or_default();
    let lock_wait = crate::sys::budget::within(Duration::from_secs(1));
    let flags = flags_of(&choices);
    let error = match resolve_profile(app, profile, &flags, MfaPolicy::NeverAsk, lock_wait) {
        Ok(resolved) => {
            let mut state = new_state(origin.clone(), &resolved, ctx, choices);
            if let Some(kept) = &kept {
                state.noticed = kept.noticed.clone();
            }
            let mut change = resolved.env_change();
            if matches!(origin, Origin::Dir { .. }) {
                keep_outside_region(ctx, &mut change, &resolved, &mut state);
            }
            return ctx.apply(&change, &state);
        }
        Err(e) => e,
    };
    let remedy = remedy_for(&error, profile);
    if let Some(state) = kept {
        notice(&format!(
            "{profile} expires soon and cannot be renewed here: {error}{remedy}"
        ));
        let warned = State {
            origin,
            trust_mtime: ctx.trust_mtime,
            warned: true,
            ..state
        };
        return vec![
            hook::state_op(&warned),
            ctx.retry_op(profile, 0),
            ctx.prompt_op(),
        ];
    }
    let mut ops = match ctx.state {
        Some(_) => ctx.restore(),
        None => vec![ctx.prompt_op()],
    };
    let message = if error.needs_person() {
        // Only a person can help: tried again as soon as one acts (`renewed_marker`).
        ops.push(ctx.retry_op(profile, 0));
        format!("cannot switch to {profile}: {error}{remedy}")
    } else {
        ops.push(ctx.retry_op(profile, hook::RETRY_AFTER));
        format!("cannot switch to {profile}: {error}")
    };
    if !ctx.told_already() {
        tell(&message, &mut ops);
    }
    ops
}

/// The command that gets past `error` for `profile` without changing what the shell
/// uses (a directory's role stays the directory's), when the error does not name one.
fn remedy_for(error: &Error, profile: &str) -> String {
    match error {
        Error::Mfa(_) => {
            format!("; run 'awsrole refresh {profile}' to enter it (this shell keeps what it uses)")
        }
        _ => String::new(),
    }
}

/// A directory's role does not replace a region variable the shell has from elsewhere
/// (the rc file, direnv's `.envrc`); it sets only those that are unset. One rule per
/// variable, so the result is the same whichever of direnv's and awsrole's hooks
/// applied first (direnv replaces what awsrole set, awsrole keeps what direnv set). The
/// first time a kept region differs from the profile's, it says so.
fn keep_outside_region(
    ctx: &Context,
    change: &mut EnvChange,
    resolved: &super::credentials_cmd::Resolved,
    state: &mut State,
) {
    if state.choices.region.is_some() {
        return;
    }
    let mut kept = Vec::new();
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(theirs) = ctx.outside_value(name) {
            change.set.retain(|(n, _)| n != name);
            change.unset.retain(|n| n != name);
            kept.push((name, theirs));
        }
    }
    let profile = &resolved.plan.target;
    let Some(own) = resolved.plan.region.as_deref() else {
        return;
    };
    let differing: Vec<String> = kept
        .iter()
        .filter(|(_, theirs)| theirs != own)
        .map(|(name, theirs)| format!("{name}={theirs}"))
        .collect();
    if differing.is_empty() {
        return;
    }
    let message = format!(
        "{profile}'s region is {own}, but {} came from outside awsrole and stays (the AWS CLI prefers it); 'awsrole use {profile}' would replace it",
        differing.join(" and ")
    );
    let key = hook::fingerprint(&message);
    if ctx.state.as_ref().map(|s| &s.noticed) != Some(&key) {
        notice(&message);
    }
    state.noticed = key;
}

fn target_file(path: Option<PathBuf>) -> Result<PathBuf> {
    let cwd = hook::logical_dir(crate::sys::settings::var("PWD").ok().as_deref());
    let file = match path {
        Some(p) => {
            let p = if p.is_absolute() { p } else { cwd.join(p) };
            if p.is_dir() {
                p.join(trust::FILE_NAME)
            } else {
                p
            }
        }
        None => trust::find_nearest(&cwd).ok_or_else(|| {
            Error::Trust(format!(
                "no {} at or above {}; create one holding a profile name",
                trust::FILE_NAME,
                cwd.display()
            ))
        })?,
    };
    if !file.is_file() {
        return Err(Error::Trust(format!("{} does not exist", file.display())));
    }
    Ok(file)
}

fn allow(app: &App, path: Option<PathBuf>, yes: bool) -> Result<()> {
    let file = target_file(path)?;
    let text = trust::read_checked(&file)?;
    let profile = trust::parse_profile(&text, &file)?;
    // Show what is being trusted; refuse a file naming a profile that cannot resolve.
    let plan = plan_profile(app, &profile, None).map_err(|e| {
        Error::Trust(format!(
            "{} names profile '{profile}', which cannot be used: {e}",
            file.display()
        ))
    })?;
    // A guarded profile is confirmed once, here: the hook never asks.
    super::pick_cmd::confirm(&plan, yes, "Trust this directory with")?;
    trust::allow(&file, &text)?;
    // A role this directory failed to get a moment ago is tried again at once.
    hook::mark_renewed();
    notice(&format!(
        "allowed {}: {profile} ({})",
        file.display(),
        chain_line(&plan, app.listing_backend())
    ));
    Ok(())
}

fn deny(path: Option<PathBuf>) -> Result<()> {
    let file = target_file(path)?;
    let dropped = trust::forget(&file)?;
    if dropped == 0 {
        notice(&format!("{} was not allowed", file.display()));
    } else {
        notice(&format!("denied {}", file.display()));
    }
    Ok(())
}

fn prompt() -> Result<()> {
    let ctx = Context::read();
    let text = ctx.prompt_after(&EnvChange::default());
    if text.is_empty() {
        return Ok(());
    }
    emit(&format!("{text}\n"))
}

/// Who am I: from the environment, the config and the cache; `--verify` adds one
/// GetCallerIdentity.
fn status(app: &App, verify: bool) -> Result<()> {
    let ctx = Context::read();
    let Some(profile) = ctx.var("AWSROLE_PROFILE") else {
        return emit("no role is active\n");
    };
    let mut out = format!("profile: {profile}\n");
    let plan = plan_profile(app, &profile, None);
    if let Ok(plan) = &plan {
        // The account's name from `sso sync`, beside its id: people know accounts by it.
        let named = match &plan.root {
            crate::chain::plan::Root::Sso { sso, .. } => sso
                .account_name
                .as_ref()
                .filter(|_| plan.account() == Some(sso.account_id.as_str()))
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "account: {}{named}\n",
            plan.account().unwrap_or("unknown")
        ));
        if let Some(arn) = assumed_role_arn(app, plan, ctx.var("AWS_ACCESS_KEY_ID").as_deref()) {
            out.push_str(&format!("role:    {arn}\n"));
        }
    }
    match &plan {
        Ok(plan) => out.push_str(&format!(
            "chain:   {}\n",
            chain_line(plan, app.listing_backend())
        )),
        Err(e) => out.push_str(&format!("chain:   unknown ({e})\n")),
    }
    let region = ctx.var("AWS_REGION").unwrap_or_else(|| "none".into());
    let overridden = if ctx.var("AWSROLE_REGION").is_some() {
        " (--region)"
    } else {
        ""
    };
    out.push_str(&format!("region:  {region}{overridden}\n"));
    if let Some(exp) = ctx.var("AWS_CREDENTIAL_EXPIRATION") {
        let left = match chrono::DateTime::parse_from_rfc3339(&exp) {
            Ok(e) if e.timestamp() > ctx.now => {
                format!(
                    "{} left",
                    crate::sys::duration::short(e.timestamp() - ctx.now)
                )
            }
            Ok(_) => "expired".into(),
            Err(_) => "unreadable".into(),
        };
        out.push_str(&format!("expires: {exp} ({left})\n"));
    }
    let server = ctx.var(super::server_cmd::SERVER_VAR);
    let origin = match (&ctx.state, server) {
        (
            Some(State {
                origin: Origin::Use,
                ..
            }),
            Some(server),
        ) => {
            let (pid, url) = server.split_once(';').unwrap_or(("?", ""));
            format!("awsrole use --server (endpoint {url}, awsrole pid {pid})")
        }
        (
            Some(State {
                origin: Origin::Use,
                ..
            }),
            None,
        ) => "awsrole use".to_string(),
        (
            Some(State {
                origin: Origin::Dir { file, .. },
                ..
            }),
            _,
        ) => file.display().to_string(),
        (None, _) => "awsrole export (no shell integration bookkeeping)".to_string(),
    };
    out.push_str(&format!("from:    {origin}\n"));
    if ctx.var("AWSROLE_PROMPT_WARN").is_some() {
        out.push_str("guard:   awsrole_confirm (production)\n");
    }
    if let Some(foreign) = ctx.foreign() {
        out.push_str(&format!("warning: {foreign}\n"));
    }
    if verify {
        let (line, ok) = verify_keys(&ctx, plan.as_ref().ok(), &profile)?;
        out.push_str(&format!("verify:  {line}\n"));
        if !ok {
            emit_shown(&out)?;
            return Err(Error::Sts(format!(
                "the keys in this shell are not what awsrole set for {profile}: {line}"
            )));
        }
    }
    emit_shown(&out)
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, from the role ARN and the session
/// name the cache recorded for these very keys.
fn assumed_role_arn(
    app: &App,
    plan: &crate::chain::plan::ChainPlan,
    key_id: Option<&str>,
) -> Option<String> {
    let hop = plan.hops.last()?;
    let mut parts = hop.role_arn.splitn(6, ':');
    let (partition, account, resource) = (parts.nth(1)?, parts.nth(2)?, parts.next()?);
    let role = resource.rsplit('/').next()?;
    let cache = app.cache().ok()?;
    let (_, keys) =
        crate::chain::cache::key::chain_keys(plan, &crate::chain::root::identity(&plan.root));
    let session = keys
        .last()
        .and_then(|k| cache.get(k, chrono::Utc::now()))
        .filter(|e| Some(e.credentials.access_key_id.as_str()) == key_id)
        .and_then(|e| e.session)
        .or_else(|| hop.session_name.clone())
        .unwrap_or_else(|| "<session name not in the cache>".into());
    Some(format!(
        "arn:{partition}:sts::{account}:assumed-role/{role}/{session}"
    ))
}

/// One GetCallerIdentity with the keys in this shell, and whether they are what
/// awsrole set: the keys it exported (by fingerprint), and the identity of the chain's
/// last role.
fn verify_keys(
    ctx: &Context,
    plan: Option<&crate::chain::plan::ChainPlan>,
    profile: &str,
) -> Result<(String, bool)> {
    let creds = crate::chain::credentials::Credentials {
        access_key_id: ctx.var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        secret_access_key: crate::sys::settings::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        session_token: crate::sys::settings::var("AWS_SESSION_TOKEN").ok(),
        expiration: None,
        issued: None,
    };
    let sts = crate::chain::sts::Sts::new(
        ctx.var("AWS_REGION").as_deref(),
        plan.and_then(|p| p.endpoint.as_deref()),
    )
    .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
    let arn = match sts.caller_arn(&creds) {
        Ok(arn) => arn,
        Err(f) => return Ok((format!("the keys do not work: {f:?}"), false)),
    };
    let expected = plan.and_then(expected_identity);
    let verdict = match expected {
        Some(role) if !arn.contains(&role) => {
            format!("the keys are {arn}, not {profile}'s role ({role})")
        }
        _ if ctx.keys_replaced() => {
            format!("the keys are {arn}, which another tool put here in place of {profile}'s")
        }
        _ => return Ok((format!("the keys work: {arn}"), true)),
    };
    Ok((verdict, false))
}

/// `:assumed-role/ROLE/` of the chain's last role, in its account.
fn expected_identity(plan: &crate::chain::plan::ChainPlan) -> Option<String> {
    let hop = plan.hops.last()?;
    let mut parts = hop.role_arn.splitn(6, ':');
    let account = parts.nth(4)?;
    let role = parts.next()?.rsplit('/').next()?;
    Some(format!("::{account}:assumed-role/{role}/"))
}

/// The completions, from the same clap definitions as `--help`, less the hidden
/// subcommands (clap_complete offers them: zsh completed `serve-shell`).
fn completion_script(shell: Shell) -> String {
    use clap::CommandFactory;
    shell
        .syntax()
        .completions(&mut without_hidden(&super::Cli::command()))
}

/// `cli` rebuilt with its visible arguments and subcommands only (for completions).
fn without_hidden(cli: &clap::Command) -> clap::Command {
    let mut kept = clap::Command::new(cli.get_name().to_string());
    if let Some(about) = cli.get_about() {
        kept = kept.about(about.clone());
    }
    if let Some(version) = cli.get_version() {
        kept = kept.version(version.to_string());
    }
    let visible: Vec<clap::Arg> = cli
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .cloned()
        .collect();
    // clap's derive groups each struct's arguments: keep the visible ones in them.
    let groups = cli.get_groups().filter_map(|g| {
        let members: Vec<clap::Id> = g
            .get_args()
            .filter(|id| visible.iter().any(|a| a.get_id() == *id))
            .cloned()
            .collect();
        let mut group = g.clone();
        let multiple = group.is_multiple();
        (!members.is_empty()).then(|| {
            clap::ArgGroup::new(g.get_id().clone())
                .args(members)
                .multiple(multiple)
                .required(g.is_required_set())
        })
    });
    kept.args(visible.iter().cloned())
        .groups(groups.collect::<Vec<_>>())
        .subcommands(
            cli.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(without_hidden),
        )
}
