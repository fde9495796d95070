//! Walks a plan: for each step, ask the cache, else call STS (with MFA where the plan
//! says), and store what comes back.

use std::time::Duration;

use chrono::Utc;

use crate::chain::cache::key::chain_keys;
use crate::chain::cache::{Backend, Cache, CacheEntry};
use crate::chain::credentials::Credentials;
use crate::chain::mfa::MfaCodes;
pub use crate::chain::mfa::MfaPolicy;
use crate::chain::plan::{ChainPlan, Hop};
use crate::chain::root::Provider;
use crate::chain::sts::{Sts, StsFailure};
use crate::chain::{lock, root};
use crate::error::{Error, Result};

pub struct Resolver<'a> {
    pub cache: &'a Cache,
    pub backend: Backend,
    pub mfa: MfaPolicy,
    /// How long to wait for another awsrole that is resolving (maybe asking for MFA).
    pub lock_wait: Duration,
}

/// Where the walk starts: the last cached step, if any.
struct Start {
    /// Index of the first hop still to call.
    next_hop: usize,
    credentials: Option<Credentials>,
}

impl Resolver<'_> {
    pub fn resolve(&self, plan: &ChainPlan) -> Result<Credentials> {
        let root_id = root::identity(&plan.root);
        let (mfa_key, hop_keys) = chain_keys(plan, &root_id);
        let find_start = || -> Start {
            let now = Utc::now();
            for (i, key) in hop_keys.iter().enumerate().rev() {
                if let Some(entry) = self.cache.get(key, now) {
                    return Start {
                        next_hop: i + 1,
                        credentials: Some(entry.credentials),
                    };
                }
            }
            let session = mfa_key.as_ref().and_then(|k| self.cache.get(k, now));
            Start {
                next_hop: 0,
                credentials: session.map(|e| e.credentials),
            }
        };

        let start = find_start();
        if start.next_hop == plan.hops.len() {
            if let Some(creds) = start.credentials {
                return Ok(creds);
            }
        }
        // Lock the first step still to be made; then look again, since another awsrole
        // may have made it while we waited (or between our look and the lock).
        let step = match (start.next_hop, &mfa_key, start.credentials.is_none()) {
            (0, Some(session), true) => plan
                .mfa_session
                .as_ref()
                .map(|m| (session, session_text(m))),
            (i, _, _) => hop_keys
                .get(i)
                .zip(plan.hops.get(i))
                .map(|(key, hop)| (key, format!("the credentials of {}", hop.profile))),
        };
        let _lock = match step {
            Some((step, what)) if self.cache.enabled() => {
                lock::acquire_telling(&step.id, self.lock_wait, Some(&what))
            }
            _ => None,
        };
        let mut start = if _lock.is_some() { find_start() } else { start };
        if start.next_hop == plan.hops.len() {
            if let Some(creds) = start.credentials.take() {
                return Ok(creds);
            }
        }

        let mut sts: Option<Sts> = None;
        let mut codes = MfaCodes::new(self.mfa.clone());

        let mut creds = match start.credentials {
            Some(c) => c,
            None => {
                let root_creds = root::Cached {
                    inner: root::provider(&plan.root, self.backend, self.sso_interaction()),
                    cache: self.cache,
                }
                .credentials()?;
                match &plan.mfa_session {
                    None => root_creds,
                    Some(session) => {
                        let asking = plan
                            .hops
                            .first()
                            .map(|h| h.profile.as_str())
                            .unwrap_or(&plan.target);
                        let sts = sts_of(&mut sts, plan)?;
                        // A code typed at the terminal that STS refuses is asked again,
                        // up to three tries in all.
                        let mut tries = 0;
                        let creds = loop {
                            tries += 1;
                            let code = match &session.mfa {
                                Some(mfa) => Some(codes.code_for(mfa, asking)?),
                                None => None,
                            };
                            let mfa = session
                                .mfa
                                .as_ref()
                                .zip(code.as_deref())
                                .map(|(m, c)| (m.serial.as_str(), c));
                            match sts.get_session_token(&root_creds, session.duration, mfa) {
                                Ok(creds) => break creds,
                                Err(StsFailure::BadMfa(message) | StsFailure::Denied(message))
                                    if tries < 3
                                        && session.mfa.as_ref().is_some_and(|m| codes.typed(m)) =>
                                {
                                    crate::sys::output::notice(&format!(
                                        "STS refused the MFA code ({message}); wait for the next code"
                                    ));
                                    if let Some(m) = &session.mfa {
                                        codes.forget(m);
                                    }
                                }
                                Err(f) => return Err(explain_session_failure(f, plan, sts)),
                            }
                        };
                        if let Some(key) = &mfa_key {
                            self.cache.put(
                                key,
                                &CacheEntry {
                                    profile: plan.root.profile().to_string(),
                                    role: session
                                        .mfa
                                        .as_ref()
                                        .map(|m| m.serial.clone())
                                        .unwrap_or_else(|| "session".into()),
                                    credentials: creds.clone(),
                                    session: None,
                                },
                            );
                        }
                        creds
                    }
                }
            }
        };

        for (i, (hop, key)) in plan
            .hops
            .iter()
            .zip(&hop_keys)
            .enumerate()
            .skip(start.next_hop)
        {
            let code = match &hop.mfa {
                Some(m) => Some(codes.code_for(m, &hop.profile)?),
                None => None,
            };
            let session_name = hop
                .session_name
                .clone()
                .unwrap_or_else(default_session_name);
            let sts = sts_of(&mut sts, plan)?;
            let mfa = hop
                .mfa
                .as_ref()
                .zip(code.as_deref())
                .map(|(m, c)| (m.serial.as_str(), c));
            creds = sts
                .assume_role(
                    &creds,
                    &hop.role_arn,
                    &session_name,
                    hop.external_id.as_deref(),
                    hop.duration,
                    mfa,
                )
                .map_err(|f| explain_hop_failure(f, plan, i, sts))?;
            self.cache.put(
                key,
                &CacheEntry {
                    profile: hop.profile.clone(),
                    role: hop.role_arn.clone(),
                    credentials: creds.clone(),
                    session: Some(session_name),
                },
            );
        }
        Ok(creds)
    }
}

impl Resolver<'_> {
    /// A sign-in may start only where an MFA code may be asked, and only in the
    /// commands a person types (`crate::chain::root::sso::allow_login_here`).
    fn sso_interaction(&self) -> crate::chain::root::sso::Interaction {
        match self.mfa {
            MfaPolicy::NeverAsk => crate::chain::root::sso::Interaction::Never,
            MfaPolicy::Interactive { .. } => crate::chain::root::sso::interaction(),
        }
    }
}

/// The STS client, built on first need only.
fn sts_of<'s>(slot: &'s mut Option<Sts>, plan: &ChainPlan) -> Result<&'s Sts> {
    if slot.is_none() {
        let sts = Sts::new(plan.region.as_deref(), plan.endpoint.as_deref())
            .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
        *slot = Some(sts);
    }
    Ok(slot.as_ref().expect("just built"))
}

/// `awsrole-<user>-<unix time>`: a CloudTrail reader can tell who and when. The user
/// is `$USER`, else the login name of the effective user (`id -un`).
pub fn default_session_name() -> String {
    let user = crate::sys::settings::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(crate::sys::dirs::user_name)
        .unwrap_or_else(|| "user".into());
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
        .take(32)
        .collect();
    format!("awsrole-{user}-{}", Utc::now().timestamp())
}

fn hop_source(plan: &ChainPlan, index: usize) -> String {
    match index {
        0 if plan.mfa_session.is_some() => {
            format!("the MFA session of profile '{}'", plan.root.profile())
        }
        0 => format!("profile '{}'", plan.root.profile()),
        i => format!("role profile '{}'", plan.hops[i - 1].profile),
    }
}

fn explain_hop_failure(failure: StsFailure, plan: &ChainPlan, index: usize, sts: &Sts) -> Error {
    let hop: &Hop = &plan.hops[index];
    let at = format!(
        "hop {} of {} (profile '{}', role {})",
        index + 1,
        plan.hops.len(),
        hop.profile,
        hop.role_arn
    );
    let source = hop_source(plan, index);
    match failure {
        StsFailure::Denied(message) => Error::Sts(format!(
            "AssumeRole was denied at {at}: {message}; check that the trust policy of {} allows {source} to assume it",
            hop.role_arn
        )),
        StsFailure::BadMfa(message) => Error::Mfa(format!(
            "the MFA code was refused at {at}: {message}; wait for the next code and try again"
        )),
        StsFailure::BadCredentials { code, message } if index == 0 && plan.mfa_session.is_none() => {
            bad_keys(plan, &code, &message)
        }
        StsFailure::BadCredentials { code, message } => Error::Sts(format!(
            "the credentials of {source} were rejected at {at} ({code}: {message}); run 'awsrole cache clear' and try again"
        )),
        StsFailure::Unreachable(detail) => unreachable(sts, &detail),
        StsFailure::Malformed(detail) => Error::Sts(format!(
            "AssumeRole at {at} got a malformed answer from {}: {detail}; nothing was exported or cached",
            sts.endpoint_text()
        )),
        StsFailure::Other { code, message } => Error::Sts(format!("AssumeRole failed at {at}: {code}: {message}")),
    }
}

/// "the MFA session of SERIAL", or "the session of the keys of PROFILE".
fn session_text(session: &crate::chain::plan::MfaSession) -> String {
    match &session.mfa {
        Some(m) => format!("the MFA session of {}", m.serial),
        None => "a session of the long-term keys".to_string(),
    }
}

fn explain_session_failure(failure: StsFailure, plan: &ChainPlan, sts: &Sts) -> Error {
    let serial = plan
        .mfa_session
        .as_ref()
        .and_then(|s| s.mfa.as_ref())
        .map(|m| m.serial.as_str())
        .unwrap_or("(no MFA)");
    match failure {
        StsFailure::BadMfa(message) | StsFailure::Denied(message) => Error::Mfa(format!(
            "GetSessionToken with MFA device {serial} was refused: {message}; check the code (wait for the next one) and the mfa_serial"
        )),
        StsFailure::BadCredentials { code, message } => bad_keys(plan, &code, &message),
        StsFailure::Unreachable(detail) => unreachable(sts, &detail),
        StsFailure::Malformed(detail) => Error::Sts(format!(
            "GetSessionToken for {serial} got a malformed answer from {}: {detail}; nothing was exported or cached",
            sts.endpoint_text()
        )),
        StsFailure::Other { code, message } => Error::Sts(format!("GetSessionToken for {serial} failed: {code}: {message}")),
    }
}

fn bad_keys(plan: &ChainPlan, code: &str, message: &str) -> Error {
    let profile = plan.root.profile();
    Error::Sts(format!(
        "STS rejected the access keys of profile '{profile}' ({code}: {message}); check them in the credentials file or store new ones with 'awsrole add {profile}'"
    ))
}

fn unreachable(sts: &Sts, detail: &str) -> Error {
    Error::Sts(format!(
        "cannot reach STS at {} ({detail}); check the network, or AWS_ENDPOINT_URL_STS / endpoint_url",
        sts.endpoint_text()
    ))
}
