//! Walks a plan: for each step, ask the cache, else call STS (with MFA where the plan
//! says), and store what comes back.

use std::time::Duration;

use chrono::Utc;

use crate::chain::cache::key::{chain_keys, CacheKey};
use crate::chain::cache::{Backend, Cache, CacheEntry};
use crate::chain::credentials::Credentials;
use crate::chain::mfa::MfaCodes;
pub use crate::chain::mfa::MfaPolicy;
use crate::chain::plan::{ChainPlan, Hop, MfaSession};
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

/// One step of a chain after its root: the MFA session (GetSessionToken) or a hop
/// (AssumeRole). Each turns the credentials before it into its own; the walk keeps
/// each step's result in the cache under the step's key and locks the first step it
/// must make, so the caching and the locking are the same for every step.
trait Step {
    /// Where its credentials are kept.
    fn key(&self) -> &CacheKey;
    /// What another awsrole waiting for it is told ("the credentials of role-b").
    fn what(&self) -> String;
    /// Makes the call: its credentials and how the cache lists them.
    fn call(&self, before: &Credentials, walk: &mut Walk) -> Result<(Credentials, CacheEntry)>;
}

/// What the steps of one walk share: the plan, one STS client built on first need, and
/// the MFA codes asked so far (one device's code serves every step that needs it).
struct Walk<'p> {
    plan: &'p ChainPlan,
    sts: Option<Sts>,
    codes: MfaCodes,
}

impl Walk<'_> {
    /// The STS client, built on first need only.
    fn sts(&mut self) -> Result<&Sts> {
        if self.sts.is_none() {
            let plan = self.plan;
            let sts = Sts::new(plan.region.as_deref(), plan.endpoint.as_deref())
                .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
            self.sts = Some(sts);
        }
        Ok(self.sts.as_ref().expect("just built"))
    }
}

/// GetSessionToken over the root's long-term keys, with the MFA code where the plan
/// has a device. A code typed at the terminal that STS refuses is asked again, up to
/// three tries in all.
struct SessionStep<'p> {
    session: &'p MfaSession,
    key: CacheKey,
}

impl Step for SessionStep<'_> {
    fn key(&self) -> &CacheKey {
        &self.key
    }

    fn what(&self) -> String {
        session_text(self.session)
    }

    fn call(&self, root: &Credentials, walk: &mut Walk) -> Result<(Credentials, CacheEntry)> {
        let plan = walk.plan;
        let session = self.session;
        // The profile a person is asked the code for: the first role, or the target.
        let asking = plan
            .hops
            .first()
            .map(|h| h.profile.as_str())
            .unwrap_or(&plan.target);
        let mut tries = 0;
        let creds = loop {
            tries += 1;
            let code = match &session.mfa {
                Some(mfa) => Some(walk.codes.code_for(mfa, asking)?),
                None => None,
            };
            let mfa = session
                .mfa
                .as_ref()
                .zip(code.as_deref())
                .map(|(m, c)| (m.serial.as_str(), c));
            let answer = walk.sts()?.get_session_token(root, session.duration, mfa);
            match answer {
                Ok(creds) => break creds,
                Err(StsFailure::BadMfa(message) | StsFailure::Denied(message))
                    if tries < 3 && session.mfa.as_ref().is_some_and(|m| walk.codes.typed(m)) =>
                {
                    crate::sys::output::notice(&format!(
                        "STS refused the MFA code ({message}); wait for the next code"
                    ));
                    if let Some(m) = &session.mfa {
                        walk.codes.forget(m);
                    }
                }
                Err(f) => return Err(explain_session_failure(f, plan, walk.sts()?)),
            }
        };
        let entry = CacheEntry {
            profile: plan.root.profile().to_string(),
            role: session
                .mfa
                .as_ref()
                .map(|m| m.serial.clone())
                .unwrap_or_else(|| "session".into()),
            credentials: creds.clone(),
            session: None,
        };
        Ok((creds, entry))
    }
}

/// AssumeRole of one hop, with its MFA code where it asks one directly.
struct HopStep<'p> {
    index: usize,
    hop: &'p Hop,
    key: CacheKey,
}

impl Step for HopStep<'_> {
    fn key(&self) -> &CacheKey {
        &self.key
    }

    fn what(&self) -> String {
        format!("the credentials of {}", self.hop.profile)
    }

    fn call(&self, before: &Credentials, walk: &mut Walk) -> Result<(Credentials, CacheEntry)> {
        let hop = self.hop;
        let code = match &hop.mfa {
            Some(m) => Some(walk.codes.code_for(m, &hop.profile)?),
            None => None,
        };
        let session_name = hop
            .session_name
            .clone()
            .unwrap_or_else(default_session_name);
        let mfa = hop
            .mfa
            .as_ref()
            .zip(code.as_deref())
            .map(|(m, c)| (m.serial.as_str(), c));
        let plan = walk.plan;
        let sts = walk.sts()?;
        let creds = sts
            .assume_role(
                before,
                &hop.role_arn,
                &session_name,
                hop.external_id.as_deref(),
                hop.duration,
                mfa,
            )
            .map_err(|f| explain_hop_failure(f, plan, self.index, sts))?;
        let entry = CacheEntry {
            profile: hop.profile.clone(),
            role: hop.role_arn.clone(),
            credentials: creds.clone(),
            session: Some(session_name),
        };
        Ok((creds, entry))
    }
}

/// The steps of a plan after its root, in call order, each with its cache key.
fn steps<'p>(plan: &'p ChainPlan, root_id: &str) -> Vec<Box<dyn Step + 'p>> {
    let (session_key, hop_keys) = chain_keys(plan, root_id);
    let session = plan
        .mfa_session
        .as_ref()
        .zip(session_key)
        .map(|(session, key)| Box::new(SessionStep { session, key }) as Box<dyn Step>);
    let hops = plan
        .hops
        .iter()
        .zip(hop_keys)
        .enumerate()
        .map(|(index, (hop, key))| Box::new(HopStep { index, hop, key }) as Box<dyn Step>);
    session.into_iter().chain(hops).collect()
}

impl Resolver<'_> {
    /// The root's credentials, then each step not yet cached folded over them: the walk
    /// starts after the last step whose credentials are cached, under the lock of the
    /// first step it must make, and looks again once it holds it, since another awsrole
    /// may have made that step meanwhile.
    pub fn resolve(&self, plan: &ChainPlan) -> Result<Credentials> {
        let steps = steps(plan, &root::identity(&plan.root));
        let first = self.cached_start(&steps);
        if let (done, Some(creds)) = &first {
            if *done == steps.len() {
                return Ok(creds.clone());
            }
        }
        let _lock = self.lock(steps.get(first.0).map(|s| s.as_ref()));
        let (start, cached) = if _lock.is_some() {
            self.cached_start(&steps)
        } else {
            first
        };
        let before = match cached {
            Some(creds) if start == steps.len() => return Ok(creds),
            Some(creds) => creds,
            None => self.root_credentials(plan)?,
        };
        let mut walk = Walk {
            plan,
            sts: None,
            codes: MfaCodes::new(self.mfa.clone()),
        };
        steps[start..].iter().try_fold(before, |before, step| {
            let (creds, entry) = step.call(&before, &mut walk)?;
            self.cache.put(step.key(), &entry);
            Ok(creds)
        })
    }

    /// How many steps are already made: the index after the last cached one, and its
    /// credentials (`(0, None)`: the walk starts at the root).
    fn cached_start(&self, steps: &[Box<dyn Step + '_>]) -> (usize, Option<Credentials>) {
        let now = Utc::now();
        steps
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, step)| {
                self.cache
                    .get(step.key(), now)
                    .map(|entry| (i + 1, Some(entry.credentials)))
            })
            .unwrap_or((0, None))
    }

    /// The lock of `step`, the first still to be made, telling who waits for what.
    fn lock(&self, step: Option<&dyn Step>) -> Option<lock::ResolveLock> {
        let step = step.filter(|_| self.cache.enabled())?;
        lock::acquire_telling(&step.key().id, self.lock_wait, Some(&step.what()))
    }

    /// The root's credentials through its provider, its expiring ones cached.
    fn root_credentials(&self, plan: &ChainPlan) -> Result<Credentials> {
        root::Cached {
            inner: root::provider(&plan.root, self.backend, self.sso_interaction()),
            cache: self.cache,
        }
        .credentials()
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
