//! `awsrole sso login` / `awsrole sso logout` / `awsrole sso sync`.

use std::collections::BTreeMap;

use clap::Subcommand;

use super::{notice, App, Outcome};
use crate::chain::config::AwsConfig;
use crate::chain::plan::{parse_scopes, plan, ChainPlan, Root, SsoRoot};
use crate::chain::root::sso::logout::{self, Dropped};
use crate::chain::root::sso::{login, token_store, SignIn};
use crate::error::{suggest_session, Error, Result};

// The arguments of each command; their help texts are the variants' in `Command` and
// `SsoAction`.

#[derive(clap::Args, Debug)]
pub struct SsoArgs {
    #[command(subcommand)]
    pub(crate) action: SsoAction,
}

#[derive(Subcommand, Debug)]
pub enum SsoAction {
    /// Sign in (in the browser with PKCE, or with a device code) and keep the token in
    /// the OS keyring
    Login(SsoLoginArgs),
    /// Write one profile per account and role you have in IAM Identity Center into a
    /// marked block of the config (one block per [sso-session]); run it again any time
    Sync(SsoSyncArgs),
    /// Sign out at the portal; drop the token and every credential cached from it
    /// (default: every sign-in of the config)
    Logout(SsoLogoutArgs),
}

#[derive(clap::Args, Debug)]
pub struct SsoLoginArgs {
    /// A profile whose chain starts at an IAM Identity Center role (default: the
    /// active profile's sign-in, else the config's only one)
    #[arg(conflicts_with = "sso_session")]
    pub(crate) profile: Option<String>,
    /// The [sso-session NAME] to sign in to
    #[arg(long, value_name = "NAME")]
    pub(crate) sso_session: Option<String>,
    /// The device-code flow (a code to confirm in any browser) instead of PKCE
    #[arg(long)]
    pub(crate) use_device_code: bool,
    /// Do not open a browser: print the address (and code) on stderr
    #[arg(long)]
    pub(crate) no_browser: bool,
}

#[derive(clap::Args, Debug)]
pub struct SsoSyncArgs {
    /// The [sso-session NAME] to list (default: the config's only one)
    #[arg(long, value_name = "NAME")]
    pub(crate) sso_session: Option<String>,
    /// Print what would change (a diff) and write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Profile names: {account_name}, {account_id}, {role_name}, {sso_session} and
    /// text (default: the last sync's, else {account_name}/{role_name})
    #[arg(long, value_name = "TEMPLATE")]
    pub(crate) name_template: Option<String>,
    /// Keep the profiles of accounts and roles the portal no longer lists
    #[arg(long)]
    pub(crate) keep_removed: bool,
    /// The `region` of the generated profiles (default: the last sync's --region,
    /// else the session's sso_region)
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct SsoLogoutArgs {
    /// A profile whose chain starts at an IAM Identity Center role
    #[arg(conflicts_with = "sso_session")]
    pub(crate) profile: Option<String>,
    /// The [sso-session NAME] to sign out of
    #[arg(long, value_name = "NAME")]
    pub(crate) sso_session: Option<String>,
}

impl SsoArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        match self.action {
            SsoAction::Login(args) => args.run(app),
            SsoAction::Sync(args) => args.run(app),
            SsoAction::Logout(args) => args.run(app),
        }
    }
}

impl SsoLoginArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        login_cmd(
            app,
            self.profile.as_deref(),
            self.sso_session.as_deref(),
            login::Options {
                device_code: self.use_device_code,
                no_browser: self.no_browser,
            },
        )?;
        Ok(Outcome::Done)
    }
}

impl SsoSyncArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        // Typed by a person: at a terminal, a missing sign-in starts one.
        crate::chain::root::sso::allow_login_here();
        sync_cmd(
            app,
            self.sso_session.as_deref(),
            crate::chain::root::sso::sync::Options {
                dry_run: self.dry_run,
                template: self.name_template,
                keep_removed: self.keep_removed,
                region: self.region,
            },
        )?;
        Ok(Outcome::Done)
    }
}

impl SsoLogoutArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        logout_cmd(app, self.profile.as_deref(), self.sso_session.as_deref())?;
        Ok(Outcome::Done)
    }
}

/// Which sign-in a command names: `--sso-session NAME`, a profile (whose chain starts at
/// an SSO root), or, with neither, the active profile's, else the only one the config has.
fn sign_in_of(config: &AwsConfig, profile: Option<&str>, session: Option<&str>) -> Result<SignIn> {
    if let Some(name) = session {
        return session_sign_in(config, name);
    }
    let inputs = super::credentials_cmd::listing_inputs();
    if let Some(profile) = profile {
        let p = plan(config, profile, &inputs)?;
        return root_sign_in(&p).ok_or_else(|| Error::Usage(format!(
            "profile '{profile}' does not sign in through IAM Identity Center (its chain starts at profile '{}'); name a profile with sso_session or sso_start_url, or use --sso-session",
            p.root.profile()
        )));
    }
    // The role active in this shell, when it comes from a sign-in.
    if let Ok(active) = crate::sys::settings::var("AWSROLE_PROFILE") {
        if let Some(s) = plan(config, &active, &inputs)
            .ok()
            .as_ref()
            .and_then(root_sign_in)
        {
            return Ok(s);
        }
    }
    let all = all_sign_ins(config);
    match all.len() {
        1 => Ok(all.into_values().next().expect("one")),
        0 => Err(Error::Usage(format!(
            "{} has no IAM Identity Center sign-in ([sso-session NAME], or a profile with sso_start_url)",
            config.config_file.display()
        ))),
        _ => Err(Error::Usage(format!(
            "the config has several IAM Identity Center sign-ins ({}); name one with --sso-session NAME or a PROFILE",
            all.values().map(SignIn::name).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The sign-in a chain starts from, if it starts at IAM Identity Center.
fn root_sign_in(p: &ChainPlan) -> Option<SignIn> {
    match &p.root {
        Root::Sso { profile, sso } => Some(SignIn::of_root(sso, profile)),
        _ => None,
    }
}

fn session_sign_in(config: &AwsConfig, name: &str) -> Result<SignIn> {
    let section = config.sso_sessions.get(name).ok_or_else(|| {
        Error::Usage(format!(
            "there is no [sso-session {name}] in {}{}",
            config.config_file.display(),
            suggest_session(name, config.sso_sessions.keys().map(String::as_str))
        ))
    })?;
    let get = |k: &str| {
        section
            .get(k)
            .map(|s| s.value.clone())
            .filter(|v| !v.is_empty())
    };
    let need = |k: &str| {
        get(k).ok_or_else(|| Error::BadProfile {
            profile: format!("sso-session {name}"),
            problem: format!("{k} is missing; add it to [sso-session {name}]"),
        })
    };
    let root = SsoRoot {
        session: Some(name.to_string()),
        start_url: need("sso_start_url")?,
        region: need("sso_region")?,
        account_id: String::new(),
        role_name: String::new(),
        scopes: get("sso_registration_scopes")
            .map(|s| parse_scopes(&s))
            .unwrap_or_default(),
        account_name: None,
    };
    Ok(SignIn::of_root(&root, ""))
}

/// Every sign-in of the config, by key: each `[sso-session]`, and each legacy start URL.
fn all_sign_ins(config: &AwsConfig) -> BTreeMap<String, SignIn> {
    let mut found = BTreeMap::new();
    for name in config.sso_sessions.keys() {
        if let Ok(s) = session_sign_in(config, name) {
            found.insert(s.key().to_string(), s);
        }
    }
    for s in sso_plans(config).iter().filter_map(root_sign_in) {
        if s.session.is_none() {
            found.entry(s.key().to_string()).or_insert(s);
        }
    }
    found
}

/// The plan of every profile whose chain starts at IAM Identity Center.
fn sso_plans(config: &AwsConfig) -> Vec<ChainPlan> {
    let inputs = super::credentials_cmd::listing_inputs();
    config
        .profiles
        .keys()
        .filter_map(|name| plan(config, name, &inputs).ok())
        .filter(|p| matches!(p.root, Root::Sso { .. }))
        .collect()
}

/// `awsrole sso sync`: the named `[sso-session]`, else the config's only one.
fn sync_cmd(
    app: &App,
    session: Option<&str>,
    options: crate::chain::root::sso::sync::Options,
) -> Result<()> {
    let config = app.config()?;
    let name = match session {
        Some(name) => name.to_string(),
        None => {
            let mut names = config.sso_sessions.keys();
            match (names.next(), names.next()) {
                (Some(only), None) => only.clone(),
                (None, _) => return Err(Error::Usage(format!(
                    "{} has no [sso-session NAME]; add one with sso_start_url, sso_region and sso_registration_scopes = sso:account:access, sign in with 'awsrole sso login --sso-session NAME', then sync",
                    config.config_file.display()
                ))),
                _ => return Err(Error::Usage(format!(
                    "the config has several [sso-session] sections ({}); name one with --sso-session NAME",
                    config.sso_sessions.keys().cloned().collect::<Vec<_>>().join(", ")
                ))),
            }
        }
    };
    let sign_in = session_sign_in(config, &name)?;
    crate::chain::root::sso::sync::sync(config, &sign_in, &options, || app.backend())
}

fn login_cmd(
    app: &App,
    profile: Option<&str>,
    session: Option<&str>,
    options: login::Options,
) -> Result<()> {
    let sign_in = sign_in_of(app.config()?, profile, session)?;
    let backend = app.backend()?;
    // Shared with refreshes: a second login waits for this one.
    let lock_id = sign_in.lock_id();
    let mut lock = crate::chain::lock::acquire(&lock_id, std::time::Duration::from_millis(200));
    if lock.is_none() {
        notice(&format!(
            "another awsrole is signing in to {} or refreshing it; waiting for it",
            sign_in.name()
        ));
        lock = crate::chain::lock::acquire(&lock_id, std::time::Duration::from_secs(11 * 60));
    }
    let _lock = lock;
    login::login(&sign_in, backend, &options)?;
    // Shells whose directory role waited for this sign-in try again at once.
    crate::env::hook::mark_renewed();
    Ok(())
}

fn logout_cmd(app: &App, profile: Option<&str>, session: Option<&str>) -> Result<()> {
    let config = app.config()?;
    let backend = app.backend()?;
    let sign_ins: Vec<SignIn> = if profile.is_some() || session.is_some() {
        vec![sign_in_of(config, profile, session)?]
    } else {
        all_sign_ins(config).into_values().collect()
    };
    let store = token_store(backend);
    let cache = app.cache()?;
    let plans = sso_plans(config);
    for sign_in in &sign_ins {
        let dropped = logout::logout(sign_in, store.as_deref(), cache, &plans)?;
        let told: Vec<String> = dropped
            .iter()
            .map(|d| match d {
                Dropped::KeyringToken => "the token in the keyring".to_string(),
                Dropped::CliToken(path) => format!("the AWS CLI's token {}", path.display()),
                Dropped::Cached(n) => format!("{n} cached credential(s)"),
            })
            .collect();
        if told.is_empty() {
            notice(&format!(
                "{}: not signed in; nothing to drop",
                sign_in.name()
            ));
        } else {
            notice(&format!(
                "signed out of {}: dropped {}",
                sign_in.name(),
                told.join(", ")
            ));
        }
        tell_about_this_shell(&plans, sign_in);
    }
    Ok(())
}

/// Keys already in this shell that came from the sign-in just dropped stay valid until
/// they expire, and no command can take them out of the shell: say so, and how.
fn tell_about_this_shell(plans: &[ChainPlan], sign_in: &SignIn) {
    let Ok(active) = crate::sys::settings::var("AWSROLE_PROFILE") else {
        return;
    };
    let from_it = plans
        .iter()
        .any(|p| p.target == active && logout::starts_at(p, sign_in));
    if from_it {
        let until = crate::sys::settings::var("AWS_CREDENTIAL_EXPIRATION").unwrap_or_default();
        notice(&format!(
            "this shell still holds {active}'s keys from that sign-in, valid until {}; 'awsrole unuse' drops them",
            if until.is_empty() { "they expire" } else { &until }
        ));
    }
}
