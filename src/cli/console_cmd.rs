//! `console`: the AWS console as the active role or a profile, in the browser (or the
//! URL on stdout with `--print`, and nowhere else: it is a bearer credential).

use std::time::Duration;

use super::credentials_cmd::{plan_profile, resolve_profile};
use super::{emit, notice, App, Outcome, ResolveFlags};
use crate::chain::credentials::Credentials;
use crate::chain::plan::{ChainPlan, Root};
use crate::chain::resolve::MfaPolicy;
use crate::chain::root::provider;
use crate::chain::sts::Sts;
use crate::error::{Error, Result};
use crate::serve::console::{self, MAX_SESSION_SECONDS};

// What the console command was asked (its help text is the variant's in `Command`).
#[derive(clap::Args, Debug)]
pub struct ConsoleArgs {
    /// Default: the role active in this shell
    pub(crate) profile: Option<String>,
    /// The service's console page (s3, ec2, iam …) instead of the console home
    #[arg(long, value_name = "NAME", conflicts_with = "destination")]
    pub(crate) service: Option<String>,
    /// Any console URL to land on
    #[arg(long, value_name = "URL")]
    pub(crate) destination: Option<String>,
    /// Write the sign-in URL to stdout instead of opening a browser (it is a
    /// bearer credential: nothing else ever prints it)
    #[arg(long)]
    pub(crate) print: bool,
    /// Go through the console's sign-out first, so an earlier session does not win
    #[arg(long)]
    pub(crate) logout_first: bool,
    #[command(flatten)]
    pub(crate) flags: ResolveFlags,
}

/// Whether AWS lets this session ask for a console session length: a role assumed
/// straight from long-term keys, or a federation session. A chained role session
/// (including one assumed from an MFA session) is refused when it asks.
fn may_set_duration(plan: &ChainPlan) -> bool {
    plan.hops.len() == 1 && plan.mfa_session.is_none() && plan.root.is_long_term()
}

impl ConsoleArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        // Typed by a person: at a terminal, a missing sign-in starts one.
        crate::chain::root::sso::allow_login_here();
        console(app, self)?;
        Ok(Outcome::Done)
    }
}

fn console(app: &App, args: ConsoleArgs) -> Result<()> {
    let env = |k: &str| crate::sys::settings::var(k).ok().filter(|v| !v.is_empty());
    let plan = match &args.profile {
        Some(p) => {
            let plan = plan_profile(app, p, args.flags.duration)?;
            super::pick_cmd::confirm(&plan, args.flags.yes, "Open the console as")?;
            Some(plan)
        }
        // The active role's plan, when its profile still plans: only to tell whether
        // its session is chained.
        None => env("AWSROLE_PROFILE").and_then(|p| plan_profile(app, &p, None).ok()),
    };
    let (creds, duration) = match (&args.profile, &plan) {
        // An IAM user with no role: a federation session, which carries no MFA context.
        (Some(_), Some(plan)) if plan.hops.is_empty() => {
            let creds = federation_session(app, plan, &args.flags)?;
            (
                creds,
                Some(args.flags.duration.unwrap_or(MAX_SESSION_SECONDS)),
            )
        }
        (Some(p), _) => {
            let resolved = resolve_profile(
                app,
                p,
                &args.flags,
                MfaPolicy::Interactive {
                    given: args.flags.mfa_code.clone(),
                },
                Duration::from_secs(120),
            )?;
            let duration = plan
                .as_ref()
                .and_then(|plan| session_length(plan, &args.flags));
            (resolved.credentials, duration)
        }
        // The role active in this shell, from its variables.
        (None, plan) => {
            let creds = Credentials {
                access_key_id: env("AWS_ACCESS_KEY_ID").ok_or_else(|| {
                    Error::Usage(
                        "no role is active in this shell: name a profile (awsrole console PROFILE) or 'awsrole use' one first".into(),
                    )
                })?,
                secret_access_key: env("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
                session_token: env("AWS_SESSION_TOKEN"),
                expiration: None,
                issued: None,
            };
            if creds.session_token.is_none() {
                return Err(Error::Usage(
                    "the keys in this shell are long-term keys, which cannot sign in to the console; name a profile (awsrole console PROFILE)".into(),
                ));
            }
            let duration = plan.as_ref().and_then(|p| session_length(p, &args.flags));
            (creds, duration)
        }
    };
    let region = args
        .flags
        .region
        .clone()
        .or_else(|| plan.as_ref().and_then(|p| p.region.clone()))
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let partition = console::partition(&region);
    let base =
        env("AWSROLE_SIGNIN_ENDPOINT").unwrap_or_else(|| format!("https://{}", partition.signin));
    let token =
        console::fetch_signin_token(&console::signin_token_url(&base, &creds, duration), &base)?;
    let destination = console::destination(
        &region,
        args.service.as_deref(),
        args.destination.as_deref(),
    );
    let mut url = console::login_url(&partition, &destination, &token);
    if args.logout_first {
        url = console::logout_first(&partition, &url);
    }
    if args.print {
        return emit(&format!("{url}\n"));
    }
    open_browser(&url)
}

/// The console session's length for a resolved role, with a notice when AWS ties it
/// to the role session instead.
fn session_length(plan: &ChainPlan, flags: &ResolveFlags) -> Option<u32> {
    if may_set_duration(plan) {
        Some(flags.duration.unwrap_or(MAX_SESSION_SECONDS))
    } else {
        notice(&format!(
            "{} is a chained role session: the console session ends with it (at most 1 h); AWS refuses a longer one",
            plan.target
        ));
        None
    }
}

/// GetFederationToken with the profile's long-term keys.
fn federation_session(app: &App, plan: &ChainPlan, flags: &ResolveFlags) -> Result<Credentials> {
    if !matches!(plan.root, Root::Keys { .. }) {
        return Err(Error::Usage(format!(
            "profile '{}' has no role and no long-term keys to sign in with",
            plan.target
        )));
    }
    notice(&format!(
        "{} has no role: signing in as a federated user of its keys (GetFederationToken), which carries no MFA context",
        plan.target
    ));
    let keys = provider(
        &plan.root,
        app.backend()?,
        crate::chain::root::sso::Interaction::Never,
    )
    .credentials()?;
    let sts = Sts::new(plan.region.as_deref(), plan.endpoint.as_deref())
        .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
    let name: String = crate::chain::resolve::default_session_name()
        .chars()
        .take(32)
        .collect();
    let duration = flags.duration.unwrap_or(MAX_SESSION_SECONDS);
    sts.get_federation_token(&keys, &name, duration)
        .map_err(|f| {
            Error::Sts(format!(
                "GetFederationToken for profile '{}' failed: {f:?}",
                plan.target
            ))
        })
}

fn open_browser(url: &str) -> Result<()> {
    crate::sys::browser::open_secret(url).map_err(|why| {
        Error::System(format!(
            "{why} to open the console; use --print to get the sign-in URL, or set BROWSER"
        ))
    })
}
