//! `init`, `use`, `unuse`, `hook`, `allow`, `deny`, `prompt`, `status`, `completions`.

use std::path::PathBuf;
use std::time::Duration;

use super::credentials_cmd::{chain_line, plan_profile, resolve_profile, StoredKeys};
use super::{emit, emit_shown, notice, ResolveFlags};
use crate::error::{Error, Result};
use crate::hook::{self, Context, Decision, Origin, State, Wanted};
use crate::render::EnvChange;
use crate::resolve::MfaPolicy;
use crate::shell::{Op, Shell};
use crate::trust;

/// The integration and, after it, the completions: the rc line is all a user adds.
pub fn init(shell: Shell) -> Result<()> {
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
    std::env::var("SHELL").ok().and_then(|s| name_of(&s))
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

/// The state of a switch applied now.
fn new_state(origin: Origin, resolved: &super::credentials_cmd::Resolved, ctx: &Context) -> State {
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
    }
}

pub fn use_profile(
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
            picked = super::pick_cmd::choose("Switch to")?.ok_or(Error::Cancelled)?;
            &picked
        }
        None => {
            return Err(Error::Usage(
                "'awsrole use' needs a PROFILE (at a terminal, with none, it shows a list to pick from)".into(),
            ))
        }
    };
    super::pick_cmd::confirm(
        &plan_profile(profile, flags.duration)?,
        flags.yes,
        "Switch to",
    )?;
    let ctx = Context::read();
    if let Some(running) = ctx.var(super::server_cmd::SERVER_VAR) {
        super::server_cmd::stop_server(&running);
    }
    if server {
        let change = super::server_cmd::use_with_server(profile, flags)?;
        let state = State {
            origin: Origin::Use,
            expiry: 0,
            renew_at: 0,
            trust_mtime: ctx.trust_mtime,
            warned: false,
        };
        return emit(&shell.syntax().render(&ctx.apply(&change, &state)));
    }
    let resolved = resolve_profile(
        profile,
        flags,
        MfaPolicy::Interactive {
            given: flags.mfa_code.clone(),
        },
        Duration::from_secs(120),
    )?;
    let ctx = Context::read();
    let state = new_state(Origin::Use, &resolved, &ctx);
    emit(
        &shell
            .syntax()
            .render(&ctx.apply(&resolved.env_change(), &state)),
    )?;
    notice(&switched(&resolved));
    Ok(())
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

pub fn unuse(shell: Option<Shell>) -> Result<()> {
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
pub fn hook(shell: Shell) -> Result<()> {
    crate::budget::limit(crate::budget::hook_budget());
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
        Decision::Keep { state } => {
            ops.push(hook::state_op(&state));
            ops.push(ctx.prompt_op());
        }
        Decision::Backoff { profile } => {
            match ctx.state {
                Some(_) => ops.extend(ctx.restore()),
                None => ops.push(ctx.prompt_op()),
            }
            if !ctx.told_already() {
                tell(&format!("{profile} could not be resolved a moment ago; the hook tries again in a minute, or run 'awsrole use {profile}'"), &mut ops);
            }
        }
        Decision::Resolve {
            profile,
            origin,
            kept,
        } => {
            ops.extend(switch(&ctx, &profile, origin, kept, &tell));
        }
    }
    emit(&shell.syntax().render(&ops))
}

/// A switch (or renewal) by the hook: from the cache or STS, never asking.
fn switch(
    ctx: &Context,
    profile: &str,
    origin: Origin,
    kept: Option<State>,
    tell: &dyn Fn(&str, &mut Vec<Op>),
) -> Vec<Op> {
    let flags = ResolveFlags::default();
    let lock_wait = crate::budget::within(Duration::from_secs(1));
    let error = match resolve_profile(profile, &flags, MfaPolicy::NeverAsk, lock_wait) {
        Ok(resolved) => {
            let state = new_state(origin, &resolved, ctx);
            return ctx.apply(&resolved.env_change(), &state);
        }
        Err(e) => e,
    };
    if let Some(state) = kept {
        notice(&format!(
            "{profile} expires soon and cannot be renewed here: {error}"
        ));
        let warned = State {
            origin,
            trust_mtime: ctx.trust_mtime,
            warned: true,
            ..state
        };
        return vec![hook::state_op(&warned), ctx.prompt_op()];
    }
    let mut ops = match ctx.state {
        Some(_) => ctx.restore(),
        None => vec![ctx.prompt_op()],
    };
    let message = match error {
        Error::Mfa(_) => format!(
            "{profile} needs an MFA code that no cache holds; run 'awsrole use {profile}' to enter it"
        ),
        other => {
            ops.push(hook::retry_op(profile, ctx.now));
            format!("cannot switch to {profile}: {other}")
        }
    };
    if !ctx.told_already() {
        tell(&message, &mut ops);
    }
    ops
}

fn target_file(path: Option<PathBuf>) -> Result<PathBuf> {
    let cwd = hook::logical_dir(std::env::var("PWD").ok().as_deref());
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

pub fn allow(path: Option<PathBuf>, yes: bool) -> Result<()> {
    let file = target_file(path)?;
    let text = trust::read_checked(&file)?;
    let profile = trust::parse_profile(&text, &file)?;
    // Show what is being trusted; refuse a file naming a profile that cannot resolve.
    let plan = plan_profile(&profile, None).map_err(|e| {
        Error::Trust(format!(
            "{} names profile '{profile}', which cannot be used: {e}",
            file.display()
        ))
    })?;
    // A guarded profile is confirmed once, here: the hook never asks.
    super::pick_cmd::confirm(&plan, yes, "Trust this directory with")?;
    trust::allow(&file, &text)?;
    notice(&format!(
        "allowed {}: {profile} ({})",
        file.display(),
        chain_line(&plan, &StoredKeys::default())
    ));
    Ok(())
}

pub fn deny(path: Option<PathBuf>) -> Result<()> {
    let file = target_file(path)?;
    let dropped = trust::forget(&file)?;
    if dropped == 0 {
        notice(&format!("{} was not allowed", file.display()));
    } else {
        notice(&format!("denied {}", file.display()));
    }
    Ok(())
}

pub fn prompt() -> Result<()> {
    let ctx = Context::read();
    let text = ctx.prompt_after(&EnvChange::default());
    if text.is_empty() {
        return Ok(());
    }
    emit(&format!("{text}\n"))
}

/// Who am I: from the environment, the config and the cache; `--verify` adds one
/// GetCallerIdentity.
pub fn status(verify: bool) -> Result<()> {
    let ctx = Context::read();
    let Some(profile) = ctx.var("AWSROLE_PROFILE") else {
        return emit("no role is active\n");
    };
    let mut out = format!("profile: {profile}\n");
    let plan = plan_profile(&profile, None);
    if let Ok(plan) = &plan {
        out.push_str(&format!(
            "account: {}\n",
            plan.account().unwrap_or("unknown")
        ));
        if let Some(arn) = assumed_role_arn(plan, ctx.var("AWS_ACCESS_KEY_ID").as_deref()) {
            out.push_str(&format!("role:    {arn}\n"));
        }
    }
    match &plan {
        Ok(plan) => out.push_str(&format!(
            "chain:   {}\n",
            chain_line(plan, &StoredKeys::default())
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
                format!("{} left", crate::duration::short(e.timestamp() - ctx.now))
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
    if verify {
        out.push_str(&format!(
            "verify:  {}\n",
            verify_keys(&ctx, plan.ok().as_ref())?
        ));
    }
    emit_shown(&out)
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, from the role ARN and the session
/// name the cache recorded for these very keys.
fn assumed_role_arn(plan: &crate::plan::ChainPlan, key_id: Option<&str>) -> Option<String> {
    let hop = plan.hops.last()?;
    let mut parts = hop.role_arn.splitn(6, ':');
    let (partition, account, resource) = (parts.nth(1)?, parts.nth(2)?, parts.next()?);
    let role = resource.rsplit('/').next()?;
    let backend = crate::cache::Backend::from_env().ok()?;
    let cache = crate::cache::Cache::open(backend);
    let (_, keys) =
        crate::cache::key::chain_keys(plan, &crate::resolve::root::identity(&plan.root));
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

/// One GetCallerIdentity with the keys in this shell.
fn verify_keys(ctx: &Context, plan: Option<&crate::plan::ChainPlan>) -> Result<String> {
    let creds = crate::credentials::Credentials {
        access_key_id: ctx.var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
        secret_access_key: std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        session_token: std::env::var("AWS_SESSION_TOKEN").ok(),
        expiration: None,
        issued: None,
    };
    let sts = crate::resolve::sts::Sts::new(
        ctx.var("AWS_REGION").as_deref(),
        plan.and_then(|p| p.endpoint.as_deref()),
    )
    .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
    Ok(match sts.caller_arn(&creds) {
        Ok(arn) => format!("the keys work: {arn}"),
        Err(f) => format!("the keys do not work: {f:?}"),
    })
}

pub fn completions(shell: Shell) -> Result<()> {
    emit(&completion_script(shell))
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
