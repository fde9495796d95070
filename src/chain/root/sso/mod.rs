//! IAM Identity Center as a chain root: the sign-in token (kept, refreshed, shared with
//! the AWS CLI's cache), the sign-in itself (`login`), and GetRoleCredentials.
//!
//! Token choice, in order: a token with more than 15 minutes left (the keyring's first,
//! then the AWS CLI's file); else, under a lock shared by every awsrole and by login, a
//! refresh of the first refreshable one (at most one try a minute); else one that has not
//! expired yet; else a sign-in where a person can answer, or an error saying which
//! `awsrole sso login` to run.

pub mod client;
pub mod login;
pub mod logout;
pub(super) mod provider;
pub mod sync;
pub mod token;

use std::time::{Duration, SystemTime};

use chrono::Utc;

use crate::chain::cache::{open_secret_store, open_session_store, Backend, SecretStore};
use crate::chain::credentials::Credentials;
use crate::chain::plan::SsoRoot;
use crate::error::{Error, Result};
use client::{Clients, Failure, Grant, Registration};
use token::{Origin, Token};

/// botocore refreshes a token with less than this left.
pub const REFRESH_WINDOW: i64 = 15 * 60;
/// And tries at most this often.
const REFRESH_RETRY: Duration = Duration::from_secs(60);

/// Where sign-in tokens are kept: the store of long-term secrets (the Secret Service on
/// Linux, the Keychain, the Credential Manager), else the kernel keyring.
pub fn token_store(backend: Backend) -> Option<Box<dyn SecretStore>> {
    open_secret_store(backend).or_else(|| open_session_store(backend))
}

/// What one sign-in is: its key (session name or legacy start URL) and where it goes.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// `sso_session`, or None for a legacy profile.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// The command that signs in, for messages.
    pub login_command: String,
}

impl SignIn {
    pub fn of_root(root: &SsoRoot, profile: &str) -> SignIn {
        SignIn {
            session: root.session.clone(),
            start_url: root.start_url.clone(),
            region: root.region.clone(),
            scopes: root.scopes.clone(),
            login_command: root.login_command(profile),
        }
    }

    pub fn key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// For messages: `session 'my-sso'` or `https://…/start`.
    pub fn name(&self) -> String {
        match &self.session {
            Some(s) => format!("sso-session '{s}'"),
            None => format!("start URL {}", self.start_url),
        }
    }

    /// The lock every refresh and sign-in of this sign-in takes.
    pub fn lock_id(&self) -> String {
        token::sha1_hex(&format!("sso-lock:{}", self.key()))
    }
}

/// The tokens known for a sign-in, the keyring's first.
pub fn known_tokens(sign_in: &SignIn, store: Option<&dyn SecretStore>) -> Vec<(Token, Origin)> {
    let mut found = Vec::new();
    if let Some(store) = store {
        if let Some(t) = token::read_keyring(store, sign_in.key()) {
            found.push((t, Origin::Keyring));
        }
    }
    if let Ok(path) = token::cli_file(sign_in.key()) {
        if let Some(t) = token::read_file(&path) {
            found.push((t, Origin::File(path)));
        }
    }
    found
}

fn fresh(found: &[(Token, Origin)]) -> Option<Token> {
    let now = Utc::now();
    found
        .iter()
        .find(|(t, _)| t.seconds_left(now) > REFRESH_WINDOW)
        .map(|(t, _)| t.clone())
}

/// How a token may be obtained in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// Never a browser or a wait: the hook, `credential_process`, no terminal.
    Never,
    /// `use` at a terminal: sign in when there is no usable token.
    MayLogIn,
}

static MAY_LOG_IN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set by the commands a person types and that are never a `credential_process`
/// (`use`, `exec`, `console`): there, a missing sign-in may start one at the terminal.
pub fn allow_login_here() {
    MAY_LOG_IN.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub fn interaction() -> Interaction {
    if MAY_LOG_IN.load(std::sync::atomic::Ordering::Relaxed) && !crate::sys::budget::is_limited() {
        Interaction::MayLogIn
    } else {
        Interaction::Never
    }
}

pub struct Tokens<'a> {
    pub sign_in: &'a SignIn,
    pub backend: Backend,
    pub interaction: Interaction,
    pub lock_wait: Duration,
}

impl Tokens<'_> {
    /// A usable access token, refreshed or signed in for as the rules above say.
    pub fn access_token(&self) -> Result<String> {
        let store = token_store(self.backend);
        if let Some(t) = fresh(&known_tokens(self.sign_in, store.as_deref())) {
            return Ok(t.access_token);
        }
        let _lock = crate::chain::lock::acquire(&self.sign_in.lock_id(), self.lock_wait);
        // Another awsrole may have refreshed or signed in while we waited.
        let found = known_tokens(self.sign_in, store.as_deref());
        if let Some(t) = fresh(&found) {
            return Ok(t.access_token);
        }
        let now = Utc::now();
        // botocore never refreshes a legacy profile's token from the AWS CLI's cache;
        // neither does awsrole (its own legacy sign-ins, in the keyring, it does).
        let may_refresh =
            |origin: &Origin| self.sign_in.session.is_some() || *origin == Origin::Keyring;
        if let Some((t, origin)) = found
            .iter()
            .find(|(t, origin)| t.refreshable(now) && may_refresh(origin))
        {
            if self.may_try_refresh() {
                match self.refresh(t, origin, store.as_deref()) {
                    Ok(t) => return Ok(t.access_token),
                    Err(e) => crate::chain::cache::warn(&format!(
                        "could not refresh the sign-in of {} ({e})",
                        self.sign_in.name()
                    )),
                }
            }
        }
        if let Some((t, _)) = found.iter().find(|(t, _)| t.seconds_left(now) > 0) {
            return Ok(t.access_token.clone());
        }
        match self.interaction {
            Interaction::MayLogIn if crate::sys::tty::available() => {
                crate::sys::output::notice(&format!(
                    "not signed in to {}; signing in",
                    self.sign_in.name()
                ));
                let token = login::login(self.sign_in, self.backend, &login::Options::default())?;
                Ok(token.access_token)
            }
            _ => Err(self.not_signed_in(found.is_empty())),
        }
    }

    fn not_signed_in(&self, never: bool) -> Error {
        let state = if never {
            "not signed in"
        } else {
            "the sign-in has expired"
        };
        Error::SignIn(format!(
            "{state} to IAM Identity Center ({}); run '{}'",
            self.sign_in.name(),
            self.sign_in.login_command
        ))
    }

    /// At most one try a minute, across processes: a marker file (no secret) in the
    /// private runtime directory records the last one.
    fn may_try_refresh(&self) -> bool {
        let Ok(dir) = crate::sys::dirs::runtime_dir() else {
            return true;
        };
        if crate::sys::dirs::private_dir(&dir).is_err() {
            return true;
        }
        let marker = dir.join(format!("sso-{}.refreshed", &self.sign_in.lock_id()[..32]));
        let recent = std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < REFRESH_RETRY);
        if recent {
            return false;
        }
        let _ = std::fs::write(&marker, b"");
        true
    }

    /// CreateToken with the refresh token; the result goes back where the token came
    /// from (the AWS CLI's file is rewritten so it does not keep a spent refresh token).
    fn refresh(
        &self,
        old: &Token,
        origin: &Origin,
        store: Option<&dyn SecretStore>,
    ) -> Result<Token> {
        let clients = Clients::new(&self.sign_in.region)?;
        let registration = Registration {
            client_id: old.client_id.clone().unwrap_or_default(),
            client_secret: old.client_secret.clone().unwrap_or_default(),
            expires_at: old.registration_expires_at.unwrap_or_else(Utc::now),
        };
        let refresh_token = old.refresh_token.as_deref().unwrap_or_default();
        let new = clients
            .create_token(&registration, Grant::Refresh(refresh_token))
            .map_err(|e| Error::Sso(format!("CreateToken at {}: {e}", clients.oidc_endpoint)))?;
        let mut token = old.clone();
        token.access_token = new.access_token;
        token.expires_at = Utc::now() + chrono::Duration::seconds(new.expires_in);
        // A refresh without a new refresh token keeps the old one (botocore).
        if let Some(r) = new.refresh_token {
            token.refresh_token = Some(r);
        }
        match origin {
            Origin::Keyring => {
                let store = store.ok_or_else(|| Error::Keyring("the keyring is gone".into()))?;
                token::write_keyring(store, self.sign_in.key(), &token)?;
            }
            Origin::File(path) => token::write_file(path, &token)?,
        }
        Ok(token)
    }
}

/// The role credentials of the root, from the portal.
pub fn role_credentials(
    sign_in: &SignIn,
    root: &SsoRoot,
    profile: &str,
    access_token: &str,
    backend: Backend,
) -> Result<Credentials> {
    let clients = Clients::new(&sign_in.region)?;
    clients
        .get_role_credentials(access_token, &root.account_id, &root.role_name)
        .map_err(|f| match (f.status(), f.code()) {
            (401, _) | (_, "UnauthorizedException") => token_rejected(sign_in, backend),
            (403, _) | (_, "ForbiddenException") => Error::Sso(format!(
                "profile '{profile}': the signed-in user has no access to account {} with role {} ({f}); check the permission set assignments in IAM Identity Center",
                root.account_id, root.role_name
            )),
            (_, "ResourceNotFoundException") => Error::Sso(format!(
                "profile '{profile}': IAM Identity Center has no role {} in account {} ({f}); check sso_account_id and sso_role_name",
                root.role_name, root.account_id
            )),
            (0, _) => Error::Sso(format!(
                "cannot reach IAM Identity Center at {} ({f}); check the network, or AWS_ENDPOINT_URL_SSO",
                clients.portal_endpoint
            )),
            _ => Error::Sso(format!(
                "GetRoleCredentials for account {} role {} (profile '{profile}') failed: {f}",
                root.account_id, root.role_name
            )),
        })
}

/// The portal answered 401 (token expired or revoked): drop awsrole's copy so the next
/// try signs in, and say how.
pub fn token_rejected(sign_in: &SignIn, backend: Backend) -> Error {
    if let Some(store) = token_store(backend) {
        let _ = store.delete(&token::keyring_name(sign_in.key()));
    }
    Error::SignIn(format!(
        "IAM Identity Center no longer accepts the sign-in of {} (expired or revoked); run '{}'",
        sign_in.name(),
        sign_in.login_command
    ))
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        Error::Sso(f.to_string())
    }
}

/// One line for `explain`: whether the sign-in is there, until when, and from where.
pub fn token_state(sso: &SsoRoot, profile: &str, backend: Backend) -> String {
    let sign_in = SignIn::of_root(sso, profile);
    let store = token_store(backend);
    let now = Utc::now();
    let found = known_tokens(&sign_in, store.as_deref());
    let best = found
        .iter()
        .find(|(t, _)| t.seconds_left(now) > 0)
        .or_else(|| found.iter().find(|(t, _)| t.refreshable(now)));
    match best {
        Some((t, origin)) => format!(
            "signed in ({}), {} {}{}",
            match origin {
                Origin::Keyring => "token in the keyring".to_string(),
                Origin::File(p) => format!("the AWS CLI's token {}", p.display()),
            },
            if t.seconds_left(now) > 0 {
                "until"
            } else {
                "expired at"
            },
            t.expires_at.format("%Y-%m-%d %H:%M UTC"),
            if t.refreshable(now) {
                ", refreshable"
            } else {
                ""
            }
        ),
        None => format!("not signed in: run '{}'", sign_in.login_command),
    }
}
