//! `init`, `use`, `unuse`, `hook`, `allow`, `deny`, `prompt`, `status`, `completions`.

use std::path::PathBuf;
use std::time::Duration;

use super::credentials_cmd::{chain_line, plan_profile, resolve_profile};
use super::{emit, notice, ResolveFlags};
use crate::error::{Error, Result};
use crate::hook::{self, Context, Origin, State};
use crate::render::{Format, Shell};
use crate::resolve::MfaPolicy;
use crate::trust;

const BASH: &str = include_str!("../../shell/awsrole.bash");
const ZSH: &str = include_str!("../../shell/awsrole.zsh");
const FISH: &str = include_str!("../../shell/awsrole.fish");

pub fn init(shell: Shell) -> Result<()> {
    emit(match shell {
        Shell::Bash => BASH,
        Shell::Zsh => ZSH,
        Shell::Fish => FISH,
    })
}

fn needs_integration(command: &str) -> Error {
    Error::Usage(format!(
        "'awsrole {command}' changes your shell, so it needs the shell integration: add eval \"$(awsrole init bash)\" to ~/.bashrc (zsh: eval \"$(awsrole init zsh)\" in ~/.zshrc; fish: awsrole init fish | source in config.fish) and open a new shell; or, for one shell, run eval \"$(awsrole export PROFILE)\""
    ))
}

fn expiry_of(creds: &crate::credentials::Credentials) -> i64 {
    creds.expiration.map(|e| e.timestamp()).unwrap_or(0)
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
    let state = State {
        origin: Origin::Use,
        expiry: expiry_of(&resolved.credentials),
        trust_mtime: ctx.trust_mtime,
        warned: false,
    };
    let format = shell.format();
    let mut out = hook::apply(format, &resolved.env_change(), &state);
    out.push_str(&prompt_after(format, &resolved));
    emit(&out)
}

pub fn unuse(shell: Option<Shell>) -> Result<()> {
    let shell = shell.ok_or_else(|| needs_integration("unuse"))?;
    if State::from_env().is_none() {
        notice("no role is active in this shell");
        return Ok(());
    }
    emit(&hook::restore(shell.format()))
}

/// The prompt line as it will read once the switch is applied.
fn prompt_after(format: Format, resolved: &super::credentials_cmd::Resolved) -> String {
    let expiry = resolved.credentials.expiration.map(|e| e.timestamp());
    let text = hook::prompt_for(
        &resolved.plan.target,
        expiry,
        chrono::Utc::now().timestamp(),
    );
    crate::render::local_line(format, hook::PROMPT_VAR, &text)
}

/// What an `.awsrole` asks for, or why it is not applied.
fn wanted_by_file(file: &std::path::Path) -> Result<String> {
    let text = trust::read_checked(file)?;
    let profile = trust::parse_profile(&text, file)?;
    if !trust::is_allowed(file, &text) {
        let dir = file.parent().unwrap_or(file);
        return Err(Error::Trust(format!(
            ".awsrole in {} wants {profile}; run 'awsrole allow' to trust it",
            dir.display()
        )));
    }
    Ok(profile)
}

/// The hook when something changed: entering or leaving a tree, an edited or newly
/// allowed file, or credentials near expiry. Never asks for anything.
pub fn hook(shell: Shell) -> Result<()> {
    let format = shell.format();
    let ctx = Context::read();
    let active_profile = std::env::var("AWSROLE_PROFILE").unwrap_or_default();

    // What should be applied here, and any notice for the user.
    let (wanted, problem): (Option<(String, Origin)>, Option<String>) =
        match (&ctx.state, &ctx.nearest) {
            (
                Some(State {
                    origin: Origin::Use,
                    ..
                }),
                _,
            ) => (Some((active_profile.clone(), Origin::Use)), None),
            (_, None) => (None, None),
            (_, Some((file, mtime))) => match wanted_by_file(file) {
                Ok(profile) => (
                    Some((
                        profile,
                        Origin::Dir {
                            file: file.clone(),
                            mtime: *mtime,
                        },
                    )),
                    None,
                ),
                Err(e) => (None, Some(e.to_string())),
            },
        };

    let mut out = String::new();
    let told_already = ctx.seen.is_some() && ctx.seen == ctx.seen_key();
    let tell = |message: &str, out: &mut String| {
        if !told_already {
            notice(message);
            if let Some(seen) = ctx.seen_key() {
                out.push_str(&hook::seen_line(format, &seen));
            }
        }
    };

    let same = match (&wanted, &ctx.state) {
        (Some((profile, origin)), Some(state)) => {
            *profile == active_profile
                && match (origin, &state.origin) {
                    (Origin::Use, Origin::Use) => true,
                    (Origin::Dir { file: a, .. }, Origin::Dir { file: b, .. }) => a == b,
                    _ => false,
                }
        }
        _ => false,
    };

    match wanted {
        None => {
            if ctx.state.is_some() {
                out.push_str(&hook::restore(format));
            }
            match problem {
                Some(message) => tell(&message, &mut out),
                None if ctx.nearest.is_none() && ctx.seen.is_some() => {
                    out.push_str(&crate::render::render_env(
                        format,
                        &crate::render::EnvChange {
                            set: vec![],
                            unset: vec![hook::SEEN_VAR.into()],
                        },
                    ));
                }
                None => {}
            }
        }
        Some((profile, origin)) => {
            let kept = ctx.state.clone().filter(|_| same);
            match kept {
                // Same role, same place: a touched but unchanged file, the trust store
                // changed elsewhere, or a renewal that already failed and was reported.
                Some(state) if !near_expiry(&state, ctx.now) || state.warned => {
                    out.push_str(&hook::state_line(
                        format,
                        &State {
                            origin,
                            trust_mtime: ctx.trust_mtime,
                            ..state
                        },
                    ));
                }
                kept => {
                    let flags = ResolveFlags::default();
                    match resolve_profile(
                        &profile,
                        &flags,
                        MfaPolicy::NeverAsk,
                        Duration::from_secs(2),
                    ) {
                        Ok(resolved) => {
                            let new_state = State {
                                origin,
                                expiry: expiry_of(&resolved.credentials),
                                trust_mtime: ctx.trust_mtime,
                                warned: false,
                            };
                            out.push_str(&hook::apply(format, &resolved.env_change(), &new_state));
                            out.push_str(&prompt_after(format, &resolved));
                            return emit(&out);
                        }
                        Err(e) => match kept {
                            Some(state) => {
                                notice(&format!(
                                    "{profile} expires soon and cannot be renewed here: {e}"
                                ));
                                let warned = State {
                                    origin,
                                    trust_mtime: ctx.trust_mtime,
                                    warned: true,
                                    ..state
                                };
                                out.push_str(&hook::state_line(format, &warned));
                            }
                            None => {
                                if ctx.state.is_some() {
                                    out.push_str(&hook::restore(format));
                                }
                                let message = match e {
                                    Error::Mfa(_) => format!(
                                        "{profile} needs an MFA code that no cache holds; run 'awsrole use {profile}' to enter it"
                                    ),
                                    other => format!("cannot switch to {profile}: {other}"),
                                };
                                tell(&message, &mut out);
                                return emit(&out);
                            }
                        },
                    }
                }
            }
        }
    }
    out.push_str(&hook::prompt_line(format, ctx.now));
    emit(&out)
}

fn near_expiry(state: &State, now: i64) -> bool {
    state.expiry != 0 && state.expiry - now <= crate::cache::refresh_margin()
}

fn target_file(path: Option<PathBuf>) -> Result<PathBuf> {
    let cwd = hook::current_dir();
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
    let now = chrono::Utc::now().timestamp();
    let text = hook::prompt_text(now);
    if text.is_empty() {
        return Ok(());
    }
    emit(&format!("{text}\n"))
}

pub fn status() -> Result<()> {
    let Ok(profile) = std::env::var("AWSROLE_PROFILE") else {
        return emit("no role is active\n");
    };
    let now = chrono::Utc::now().timestamp();
    let mut out = format!("profile: {profile}\n");
    match plan_profile(&profile, None) {
        Ok(plan) => out.push_str(&format!("chain:   {}\n", chain_line(&plan, &[]))),
        Err(e) => out.push_str(&format!("chain:   unknown ({e})\n")),
    }
    if let Ok(exp) = std::env::var("AWS_CREDENTIAL_EXPIRATION") {
        out.push_str(&format!(
            "expires: {exp} ({})\n",
            hook::prompt_text(now).trim_start_matches(&*profile).trim()
        ));
    }
    let origin = match State::from_env().map(|s| s.origin) {
        Some(Origin::Use) => "awsrole use".to_string(),
        Some(Origin::Dir { file, .. }) => file.display().to_string(),
        None => "awsrole export (no shell integration bookkeeping)".to_string(),
    };
    out.push_str(&format!("from:    {origin}\n"));
    emit(&out)
}

pub fn completions(shell: Shell) -> Result<()> {
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
    text.push_str(match shell {
        Shell::Bash => include_str!("../../shell/complete-profiles.bash"),
        Shell::Zsh => include_str!("../../shell/complete-profiles.zsh"),
        Shell::Fish => include_str!("../../shell/complete-profiles.fish"),
    });
    emit(&text)
}
