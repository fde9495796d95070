//! `awsrole login PROFILE [--remote] [--share-with-aws-cli]` and `awsrole logout
//! [PROFILE]`: sign-in for local development, as `aws login` / `aws logout` do, with the
//! session kept in the OS keyring.

use std::path::Path;

use super::{notice, App, Outcome};
use crate::chain::config::AwsConfig;
use crate::chain::plan::{plan, PlanInputs, Root};
use crate::chain::root::login::document;
use crate::chain::root::login::flow::{self, Options};
use crate::chain::root::login::profile_edit::{self, Edit};
use crate::error::{Error, Result};

// The arguments of each command; their help texts are the variants' in `Command`.

#[derive(clap::Args, Debug)]
pub struct LoginArgs {
    /// The profile to sign in for (created when missing)
    pub(crate) profile: String,
    /// Sign in on another device: print the address, then read the code it shows
    #[arg(long)]
    pub(crate) remote: bool,
    /// Also write the session to the AWS CLI's cache (~/.aws/login/cache), so the
    /// AWS CLI and SDKs use it too
    #[arg(long)]
    pub(crate) share_with_aws_cli: bool,
    /// Replace another login_session of the profile without asking
    #[arg(long)]
    pub(crate) yes: bool,
    /// The region of the sign-in service, written into the profile when it has
    /// none (default: the profile's, AWS_REGION, [default]'s)
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct LogoutArgs {
    /// A profile whose chain starts at a login_session
    pub(crate) profile: Option<String>,
}

impl LoginArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        login_cmd(
            app,
            &self.profile,
            Options {
                remote: self.remote,
                share_with_aws_cli: self.share_with_aws_cli,
            },
            self.yes,
            self.region.as_deref(),
        )?;
        Ok(Outcome::Done)
    }
}

impl LogoutArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        logout_cmd(app, self.profile.as_deref())?;
        Ok(Outcome::Done)
    }
}

fn login_cmd(
    app: &App,
    profile: &str,
    options: Options,
    yes: bool,
    region: Option<&str>,
) -> Result<()> {
    let config = app.config()?;
    let backend = app.backend()?;
    let own_region = config
        .profiles
        .get(profile)
        .and_then(|p| p.get("region"))
        .map(str::to_string);
    let region = region
        .map(str::to_string)
        .or_else(|| region_of(config, profile));
    if region.is_none() && crate::chain::root::login::client::endpoint(None).is_err() {
        return Err(Error::Usage(format!(
            "no region for the sign-in service (it has no global endpoint): the profile '{profile}' has none, nor AWS_REGION or [default]; add --region REGION (it is written into the profile)"
        )));
    }
    let arn = flow::login(profile, region.as_deref(), backend, options)?;
    // As `aws login` does: a profile without a region gets the one signed in with.
    let region_line = own_region.is_none().then_some(region.as_deref()).flatten();
    write_session(&config.config_file, profile, &arn, region_line, yes)?;
    notice(&format!(
        "signed in as {arn}; 'awsrole export {}' and every profile sourcing it use the session (refreshed for up to {} hours)",
        shell_words::quote(profile),
        document::SESSION_HOURS
    ));
    crate::env::hook::mark_renewed();
    Ok(())
}

/// The profile's own region, else the environment's, else `[default]`'s: where the
/// sign-in service is called (it has no global endpoint).
fn region_of(config: &AwsConfig, profile: &str) -> Option<String> {
    let var = |k: &str| crate::sys::settings::var(k).ok().filter(|v| !v.is_empty());
    let of = |name: &str| {
        config
            .profiles
            .get(name)
            .and_then(|p| p.get("region"))
            .map(str::to_string)
    };
    of(profile)
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| of("default"))
}

/// `login_session = ARN` (and `region`, when given) in the profile, asking before
/// another session is replaced.
fn write_session(
    config_file: &Path,
    profile: &str,
    arn: &str,
    region: Option<&str>,
    yes: bool,
) -> Result<()> {
    let path = crate::chain::root::sso::sync::writable_path(config_file)?;
    let original = crate::chain::config::read_optional(&path)?;
    let base = original.clone().unwrap_or_default();
    let (mut text, replaced) = match profile_edit::set(&base, profile, "login_session", arn) {
        Edit::Unchanged => (base, None),
        Edit::Changed { text, replaced } => (text, replaced),
    };
    if let Some(region) = region {
        if let Edit::Changed {
            text: with_region, ..
        } = profile_edit::set(&text, profile, "region", region)
        {
            text = with_region;
        }
    }
    if Some(text.as_str()) == original.as_deref() {
        return Ok(());
    }
    if let Some(old) = replaced {
        let question =
            format!("profile '{profile}' has login_session = {old}; replace it with {arn}? [y/N] ");
        let agreed = yes
            || crate::sys::tty::ask(&question, false)
                .map(|a| matches!(a.trim(), "y" | "Y" | "yes"))
                .unwrap_or(false);
        if !agreed {
            notice(&format!(
                "profile '{profile}' still names {old}; the new session is kept for {arn} (add --yes to replace it without asking)"
            ));
            return Ok(());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot make {}", dir.display()), e))?;
    }
    crate::chain::root::sso::sync::write_atomically(
        &path,
        original.as_deref(),
        &text,
        "you signed in",
        &format!("add 'login_session = {arn}' to profile '{profile}' yourself, or sign in again"),
    )
}

/// Drops the sessions (of PROFILE, or every `login_session` of the config): the
/// keyring's copy, the AWS CLI's file (as `aws logout` does) and every credential
/// cached from them. The config keeps its `login_session` lines.
fn logout_cmd(app: &App, profile: Option<&str>) -> Result<()> {
    let config = app.config()?;
    let backend = app.backend()?;
    let plans: Vec<_> = config
        .profiles
        .keys()
        .filter_map(|name| {
            // The environment's endpoint and region, as `export` planned: they are
            // part of the cache keys.
            let inputs = PlanInputs {
                skip_suggestions: true,
                ..PlanInputs::from_env(None)
            };
            plan(config, name, &inputs).ok()
        })
        .collect();
    let session_of = |root: &Root| match root {
        Root::Login { session, .. } => Some(session.clone()),
        _ => None,
    };
    let mut sessions: Vec<String> = match profile {
        Some(name) => {
            let p = plan(config, name, &PlanInputs::from_env(None))?;
            vec![session_of(&p.root).ok_or_else(|| Error::BadProfile {
                profile: name.to_string(),
                problem: "its chain does not start at a login_session; nothing to sign out of"
                    .into(),
            })?]
        }
        None => plans.iter().filter_map(|p| session_of(&p.root)).collect(),
    };
    sessions.sort();
    sessions.dedup();
    if sessions.is_empty() {
        notice("no profile of the config has a login_session; nothing to sign out of");
        return Ok(());
    }
    let store = crate::chain::root::sso::token_store(backend);
    let cache = app.cache()?;
    for arn in &sessions {
        let mut told = Vec::new();
        if let Some(store) = &store {
            if store
                .get(&document::keyring_name(arn))
                .ok()
                .flatten()
                .is_some()
                && store.delete(&document::keyring_name(arn)).is_ok()
            {
                told.push("the session in the keyring".to_string());
            }
        }
        if let Ok(path) = document::cli_file(arn) {
            if std::fs::remove_file(&path).is_ok() {
                told.push(format!("the AWS CLI's session {}", path.display()));
            }
        }
        let dropped = crate::chain::root::sso::logout::drop_cached(
            cache,
            plans
                .iter()
                .filter(|p| session_of(&p.root).as_ref() == Some(arn)),
        );
        if dropped > 0 {
            told.push(format!("{dropped} cached credential(s)"));
        }
        if told.is_empty() {
            notice(&format!("{arn}: not signed in; nothing to drop"));
        } else {
            notice(&format!("signed out of {arn}: dropped {}", told.join(", ")));
        }
    }
    Ok(())
}
