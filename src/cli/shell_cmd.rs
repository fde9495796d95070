//! `init`, `use`, `unuse`, `hook`, `allow`, `deny`, `prompt`, `status`, `completions`.

use std::path::PathBuf;
use std::time::Duration;

use super::credentials_cmd::{chain_line, plan_profile, resolve_profile};
use super::{emit, emit_shown, notice, ResolveFlags};
use crate::error::{Error, Result};
use crate::hook::{self, Context, Decision, Origin, State, Wanted};
use crate::render::{EnvChange, Format, Shell};
use crate::resolve::MfaPolicy;
use crate::trust;

const BASH: &str = include_str!("../../shell/awsrole.bash");
const ZSH: &str = include_str!("../../shell/awsrole.zsh");
const FISH: &str = include_str!("../../shell/awsrole.fish");

/// The integration and, after it, the completions: the rc line is all a user adds.
pub fn init(shell: Shell) -> Result<()> {
    let mut text = String::from(match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    });
    text.push_str(&completion_script(shell));
    emit(&text)
}

/// The rc line for a shell, as a user would type it.
fn rc_line(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "eval \"$(awsrole init bash)\" in ~/.bashrc",
        Shell::Zsh => "eval \"$(awsrole init zsh)\" in ~/.zshrc",
        Shell::Fish => "awsrole init fish | source in ~/.config/fish/config.fish",
    }
}

/// The shell this command was typed in: the parent process (Linux), else `$SHELL`.
fn calling_shell() -> Option<Shell> {
    let name_of = |path: &str| {
        let base = path.rsplit('/').next().unwrap_or(path).trim();
        base.trim_start_matches('-').parse::<Shell>().ok()
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
    let one_shell = match (command, calling_shell()) {
        ("unuse", _) => String::new(),
        (_, Some(Shell::Fish)) => {
            "; or, for this shell only: awsrole export PROFILE --format fish | source".into()
        }
        _ => "; or, for this shell only: eval \"$(awsrole export PROFILE)\"".into(),
    };
    let install = match calling_shell() {
        Some(shell) => format!("add {}", rc_line(shell)),
        None => {
            [Shell::Bash, Shell::Zsh, Shell::Fish]
                .map(|s| format!("add {}", rc_line(s)))
                .join(" (or ")
                + "))"
        }
    };
    Error::Usage(format!(
        "{what}, so it needs the shell integration: {install} and open a new shell{one_shell}"
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

pub fn use_profile(profile: &str, flags: &ResolveFlags, shell: Option<Shell>) -> Result<()> {
    let shell = shell.ok_or_else(|| needs_integration("use"))?;
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
    emit(&ctx.apply(shell.format(), &resolved.env_change(), &state))
}

pub fn unuse(shell: Option<Shell>) -> Result<()> {
    let shell = shell.ok_or_else(|| needs_integration("unuse"))?;
    let ctx = Context::read();
    if ctx.state.is_none() {
        notice("no role is active in this shell");
        return emit(&prompt_now(shell.format(), &ctx));
    }
    emit(&ctx.restore(shell.format()))
}

fn prompt_now(format: Format, ctx: &Context) -> String {
    crate::render::local_line(
        format,
        hook::PROMPT_VAR,
        &ctx.prompt_after(&EnvChange::default()),
    )
}

/// The hook when something changed: entering or leaving a tree, an edited or newly
/// allowed file, or credentials near expiry. Never asks for anything, and never takes
/// longer than `budget::HOOK`.
pub fn hook(shell: Shell) -> Result<()> {
    crate::budget::limit(crate::budget::HOOK);
    let format = shell.format();
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
    let mut out = String::new();
    let tell = |message: &str, out: &mut String| {
        notice(message);
        if let Some(seen) = ctx.seen_key() {
            out.push_str(&hook::seen_line(format, &seen));
        }
    };
    match hook::decide(&ctx, wanted) {
        Decision::Idle { forget_seen } => {
            if forget_seen {
                out.push_str(&hook::unset_line(format, hook::SEEN_VAR));
            }
            out.push_str(&prompt_now(format, &ctx));
        }
        Decision::Restore { tell: message } => {
            out.push_str(&ctx.restore(format));
            if let Some(message) = message {
                tell(&message, &mut out);
            }
        }
        Decision::Tell { message } => {
            tell(&message, &mut out);
            out.push_str(&prompt_now(format, &ctx));
        }
        Decision::Keep { state } => {
            out.push_str(&hook::state_line(format, &state));
            out.push_str(&prompt_now(format, &ctx));
        }
        Decision::Backoff { profile } => {
            if ctx.state.is_some() {
                out.push_str(&ctx.restore(format));
            } else {
                out.push_str(&prompt_now(format, &ctx));
            }
            if !ctx.told_already() {
                tell(&format!("{profile} could not be resolved a moment ago; the hook tries again in a minute, or run 'awsrole use {profile}'"), &mut out);
            }
        }
        Decision::Resolve {
            profile,
            origin,
            kept,
        } => {
            out.push_str(&switch(&ctx, format, &profile, origin, kept, &tell));
        }
    }
    emit(&out)
}

/// A switch (or renewal) by the hook: from the cache or STS, never asking.
fn switch(
    ctx: &Context,
    format: Format,
    profile: &str,
    origin: Origin,
    kept: Option<State>,
    tell: &dyn Fn(&str, &mut String),
) -> String {
    let flags = ResolveFlags::default();
    let lock_wait = crate::budget::within(Duration::from_secs(1));
    let error = match resolve_profile(profile, &flags, MfaPolicy::NeverAsk, lock_wait) {
        Ok(resolved) => {
            let state = new_state(origin, &resolved, ctx);
            return ctx.apply(format, &resolved.env_change(), &state);
        }
        Err(e) => e,
    };
    let mut out = String::new();
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
        out.push_str(&hook::state_line(format, &warned));
        out.push_str(&prompt_now(format, ctx));
        return out;
    }
    if ctx.state.is_some() {
        out.push_str(&ctx.restore(format));
    } else {
        out.push_str(&prompt_now(format, ctx));
    }
    let message = match error {
        Error::Mfa(_) => format!(
            "{profile} needs an MFA code that no cache holds; run 'awsrole use {profile}' to enter it"
        ),
        other => {
            out.push_str(&hook::retry_line(format, profile, ctx.now));
            format!("cannot switch to {profile}: {other}")
        }
    };
    if !ctx.told_already() {
        tell(&message, &mut out);
    }
    out
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

pub fn allow(path: Option<PathBuf>) -> Result<()> {
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
    trust::allow(&file, &text)?;
    notice(&format!(
        "allowed {}: {profile} ({})",
        file.display(),
        chain_line(&plan, &[])
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

pub fn status() -> Result<()> {
    let ctx = Context::read();
    let Some(profile) = ctx.var("AWSROLE_PROFILE") else {
        return emit("no role is active\n");
    };
    let mut out = format!("profile: {profile}\n");
    match plan_profile(&profile, None) {
        Ok(plan) => out.push_str(&format!("chain:   {}\n", chain_line(&plan, &[]))),
        Err(e) => out.push_str(&format!("chain:   unknown ({e})\n")),
    }
    if let Some(exp) = ctx.var("AWS_CREDENTIAL_EXPIRATION") {
        let line = ctx.prompt_after(&EnvChange::default());
        out.push_str(&format!(
            "expires: {exp} ({})\n",
            line.strip_prefix(profile.as_str()).unwrap_or(&line).trim()
        ));
    }
    let origin = match &ctx.state {
        Some(State {
            origin: Origin::Use,
            ..
        }) => "awsrole use".to_string(),
        Some(State {
            origin: Origin::Dir { file, .. },
            ..
        }) => file.display().to_string(),
        None => "awsrole export (no shell integration bookkeeping)".to_string(),
    };
    out.push_str(&format!("from:    {origin}\n"));
    emit_shown(&out)
}

pub fn completions(shell: Shell) -> Result<()> {
    emit(&completion_script(shell))
}

/// clap's completions plus profile names (and paths for allow/deny), from the same
/// definitions as `--help`.
fn completion_script(shell: Shell) -> String {
    use clap::CommandFactory;
    let mut cmd = super::Cli::command();
    let mut buf = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "awsrole", &mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if shell == Shell::Zsh {
        // Without compinit (loaded before the rc line) there is no compdef: say nothing
        // rather than an error at every shell start.
        text = text.replace(
            "    compdef _awsrole awsrole",
            "    (( $+functions[compdef] )) && compdef _awsrole awsrole",
        );
    }
    text.push_str(match shell {
        Shell::Bash => include_str!("../../shell/complete-profiles.bash"),
        Shell::Zsh => include_str!("../../shell/complete-profiles.zsh"),
        Shell::Fish => include_str!("../../shell/complete-profiles.fish"),
    });
    text
}
