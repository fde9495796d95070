//! Sign-in for local development (`aws login`, AWS CLI 2.32+; profile key
//! `login_session`) as a chain root: the session's 15-minute credentials, refreshed at
//! the sign-in service with a single-use refresh token bound to the session's key.
//!
//! Where a session is: awsrole's own sign-ins (`awsrole login`) in the OS keyring, the
//! AWS CLI's in `~/.aws/login/cache/`. Credentials with more than 5 minutes left are used
//! as they are (botocore's rule). Otherwise one refresh, under a lock every awsrole
//! shares, so two shells never spend the same refresh token (botocore takes no lock);
//! the rotated token goes back where the session came from. A session in both places
//! (`--share-with-aws-cli`) is refreshed from the CLI's file, which the CLI may have
//! rotated, and written back to both; a copy the service refuses gives way to the next.
//! A refresh the service refuses for good (TOKEN_EXPIRED, USER_CREDENTIALS_CHANGED) marks that refresh token
//! dead, so it is never sent again, and says how to sign in again — or, where a person
//! types the command at a terminal (`use`, `exec`), signs in there and then.

pub mod client;
pub mod document;
pub mod dpop;
pub mod flow;
pub mod profile_edit;
pub(super) mod provider;

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use crate::chain::cache::{Backend, SecretStore};
use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};
use client::{Failure, Grant};
use document::{Document, FileState};

/// botocore refreshes credentials with less than this left.
pub const REFRESH_WINDOW: i64 = 5 * 60;

/// One `login_session` root.
pub struct Session<'a> {
    pub profile: &'a str,
    pub arn: &'a str,
    pub region: Option<&'a str>,
    pub backend: Backend,
    pub lock_wait: Duration,
    /// Whether a person may be asked to sign in (never from the hook or `export`).
    pub interaction: crate::chain::root::sso::Interaction,
}

/// Where a session document was found, and so where a refreshed one goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Keyring,
    File(PathBuf),
}

impl Session<'_> {
    /// The command that signs in again, for messages.
    pub fn login_command(&self) -> String {
        let p = shell_words::quote(self.profile);
        format!("'awsrole login {p}' (or 'aws login --profile {p}')")
    }

    fn lock_id(&self) -> String {
        document::sha256_hex(&format!("login-lock:{}", self.arn))
    }

    /// The documents known for the session, the keyring's first; and why the CLI's file,
    /// when there is one, cannot be used.
    fn known(&self, store: Option<&dyn SecretStore>) -> (Vec<(Document, Origin)>, Option<String>) {
        let mut found = Vec::new();
        if let Some(doc) = store.and_then(|s| document::read_keyring(s, self.arn)) {
            found.push((doc, Origin::Keyring));
        }
        let mut unusable = None;
        match document::cli_file(self.arn) {
            Ok(path) => match document::read_file(&path) {
                FileState::Found(doc) => found.push((*doc, Origin::File(path))),
                FileState::Missing => {}
                FileState::Unusable(why) => {
                    unusable = Some(format!("{} cannot be used: {why}", path.display()))
                }
            },
            Err(e) => unusable = Some(e.to_string()),
        }
        (found, unusable)
    }

    /// Usable credentials of the session, refreshed when due.
    pub fn credentials(&self) -> Result<Credentials> {
        let store = crate::chain::root::sso::token_store(self.backend);
        let (found, _) = self.known(store.as_deref());
        if let Some(c) = fresh(&found) {
            return Ok(c);
        }
        let _lock = crate::chain::lock::acquire_telling(
            &self.lock_id(),
            self.lock_wait,
            Some("fresh credentials of a login session"),
        );
        // Another awsrole may have refreshed while we waited.
        let (found, unusable) = self.known(store.as_deref());
        if let Some(c) = fresh(&found) {
            return Ok(c);
        }
        if found.is_empty() {
            return self.sign_in_here(self.not_signed_in(unusable));
        }
        self.refresh_a_copy(&found, store.as_deref())
    }

    /// One refresh, of the first copy of the session the service takes; the rotated
    /// token goes back where that copy came from.
    fn refresh_a_copy(
        &self,
        found: &[(Document, Origin)],
        store: Option<&dyn SecretStore>,
    ) -> Result<Credentials> {
        // A refresh token refused for good is never sent again; another copy of the
        // session (a new `aws login` beside a dead keyring entry) still may be. One
        // session in both places (`--share-with-aws-cli`: the same key) is refreshed
        // from the CLI's file, which the CLI may have rotated since, and saved to both.
        let copy_in = |keyring: bool, key: &str| {
            found
                .iter()
                .find(|(d, o)| (*o == Origin::Keyring) == keyring && d.dpop_key == key)
                .map(|(d, _)| d)
        };
        let live: Vec<&(Document, Origin)> = found
            .iter()
            .filter(|(d, _)| !dead::is_dead(self.arn, &d.refresh_token))
            .filter(|(d, o)| *o != Origin::Keyring || copy_in(false, &d.dpop_key).is_none())
            .collect();
        if live.is_empty() {
            return self.sign_in_here(self.ended("refused before"));
        }
        // Each copy in turn while the service refuses one (its token spent by the AWS
        // CLI, say, when an older awsrole kept the same session in both places); an
        // outage or a busy service would meet the next copy too, so that ends the turn.
        let mut refused_keyring_copy = false;
        let mut last = None;
        for (doc, origin) in live {
            match self.refresh(doc) {
                Ok(new) => {
                    self.save(&new, origin, store)?;
                    if let Some(store) = store {
                        let kept =
                            copy_in(true, &doc.dpop_key).filter(|_| *origin != Origin::Keyring);
                        if let Some(kept) = kept {
                            let both = document::with_bookkeeping_of(&new, kept);
                            document::write_keyring(store, self.arn, &both)?;
                        } else if refused_keyring_copy {
                            document::delete_keyring(store, self.arn);
                        }
                    }
                    return Ok(new.credentials());
                }
                Err(f) => {
                    let refused = matches!(
                        &f,
                        Failure::Service { status, .. } if (400..500).contains(status) && *status != 429
                    );
                    if ended_for_good(&f).is_some() {
                        dead::mark(self.arn, &doc.refresh_token);
                        if *origin == Origin::Keyring {
                            if let Some(store) = store {
                                let _ = store.delete(&document::keyring_name(self.arn));
                            }
                        }
                    }
                    refused_keyring_copy |= refused && *origin == Origin::Keyring;
                    last = Some((doc, f));
                    if !refused {
                        break;
                    }
                }
            }
        }
        let Some((doc, f)) = last else {
            return Err(Error::System(
                "a login session refresh ended without an answer".into(),
            ));
        };
        match ended_for_good(&f) {
            Some(code) => self.sign_in_here(self.ended(code)),
            None => {
                let error = self.refresh_error(&f);
                // Credentials that have not expired yet still work for a while.
                if doc.seconds_left(Utc::now()) > 0 {
                    crate::chain::cache::warn(&error.to_string());
                    return Ok(doc.credentials());
                }
                Err(error)
            }
        }
    }

    /// `why` as the error, unless a person at this terminal may sign in instead (the
    /// lock is held meanwhile: other shells wait for this sign-in).
    fn sign_in_here(&self, why: Error) -> Result<Credentials> {
        if self.interaction != crate::chain::root::sso::Interaction::MayLogIn
            || !crate::sys::tty::available()
        {
            return Err(why);
        }
        crate::sys::output::notice(&format!("{why}; signing in"));
        let arn = flow::login(
            self.profile,
            self.region,
            self.backend,
            flow::Options::default(),
        )?;
        if arn != self.arn {
            return Err(Error::SignIn(format!(
                "signed in as {arn}, but profile '{}' names {}; run 'awsrole login {}' to make the profile use the new session",
                self.profile,
                self.arn,
                shell_words::quote(self.profile)
            )));
        }
        let store = crate::chain::root::sso::token_store(self.backend);
        store
            .as_deref()
            .and_then(|s| document::read_keyring(s, self.arn))
            .map(|d| d.credentials())
            .ok_or_else(|| Error::Keyring("the new session is not in the keyring".into()))
    }

    fn refresh(&self, doc: &Document) -> std::result::Result<Document, Failure> {
        let key = dpop::Key::from_pem(&doc.dpop_key).map_err(Failure::BadAnswer)?;
        let endpoint = client::endpoint(self.region).map_err(Failure::Unreachable)?;
        let out = client::create_token(
            &endpoint,
            &doc.client_id,
            Grant::Refresh(&doc.refresh_token),
            &key,
        )?;
        let mut new = doc.clone();
        let expires = Utc::now() + chrono::Duration::seconds(out.expires_in.clamp(0, 12 * 3600));
        new.access_token.access_key_id = out.access_token.access_key_id;
        new.access_token.secret_access_key = out.access_token.secret_access_key;
        new.access_token.session_token = out.access_token.session_token;
        new.access_token.expires_at = expires.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        new.refresh_token = out.refresh_token;
        Ok(new)
    }

    fn save(&self, doc: &Document, origin: &Origin, store: Option<&dyn SecretStore>) -> Result<()> {
        match origin {
            Origin::Keyring => {
                let store = store.ok_or_else(|| Error::Keyring("the keyring is gone".into()))?;
                document::write_keyring(store, self.arn, doc)
            }
            Origin::File(path) => document::write_file(path, doc),
        }
    }

    fn not_signed_in(&self, unusable: Option<String>) -> Error {
        let why = unusable.unwrap_or_else(|| {
            let file = document::cli_file(self.arn)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            format!("no session in the keyring and no file {file}")
        });
        Error::SignIn(format!(
            "profile '{}': not signed in as {} ({why}); run {}",
            self.profile,
            self.arn,
            self.login_command()
        ))
    }

    fn ended(&self, why: &str) -> Error {
        Error::SignIn(format!(
            "profile '{}': the login session of {} has ended or its credentials changed ({why}); sign in again with {}",
            self.profile,
            self.arn,
            self.login_command()
        ))
    }

    fn refresh_error(&self, f: &Failure) -> Error {
        let endpoint = client::endpoint(self.region).unwrap_or_default();
        match f {
            Failure::Service { code, .. } if code == "INSUFFICIENT_PERMISSIONS" => Error::SignIn(format!(
                "profile '{}': {} may not refresh its login session ({f}); it needs signin:CreateOAuth2Token (the AWS managed policy SignInLocalDevelopmentAccess grants it)",
                self.profile, self.arn
            )),
            Failure::Service { status, .. } if *status == 429 || *status >= 500 => Error::SignIn(format!(
                "profile '{}': the sign-in service at {endpoint} is busy or failing ({f}); try again in a minute",
                self.profile
            )),
            Failure::Unreachable(why) => Error::SignIn(format!(
                "profile '{}': cannot reach the sign-in service at {endpoint} ({why}); check the network, the region ({}), or AWS_ENDPOINT_URL_SIGNIN",
                self.profile,
                self.region.unwrap_or("none")
            )),
            other => Error::SignIn(format!(
                "profile '{}': refreshing the login session of {} at {endpoint} failed ({other}); sign in again with {}",
                self.profile,
                self.arn,
                self.login_command()
            )),
        }
    }
}

/// The code of a refusal that ends the session (its refresh token is never sent again).
fn ended_for_good(f: &Failure) -> Option<&str> {
    match f {
        Failure::Service { code, .. }
            if code == "TOKEN_EXPIRED" || code == "USER_CREDENTIALS_CHANGED" =>
        {
            Some(code)
        }
        _ => None,
    }
}

fn fresh(found: &[(Document, Origin)]) -> Option<Credentials> {
    let now = Utc::now();
    found
        .iter()
        .find(|(d, _)| d.seconds_left(now) > REFRESH_WINDOW)
        .map(|(d, _)| d.credentials())
}

/// What a session shows in `list`, `explain` and `status`, from what is on this machine
/// (no network, no secret): `signed in, credentials until …`, `expired`, `not signed in`.
pub fn state(arn: &str, backend: Backend) -> String {
    let store = crate::chain::root::sso::token_store(backend);
    let session = Session {
        profile: "",
        arn,
        region: None,
        backend,
        lock_wait: Duration::ZERO,
        interaction: crate::chain::root::sso::Interaction::Never,
    };
    let (found, unusable) = session.known(store.as_deref());
    match found.first() {
        Some((doc, origin)) => {
            let place = match origin {
                Origin::Keyring => "keyring",
                Origin::File(_) => "AWS CLI cache",
            };
            if dead::is_dead(arn, &doc.refresh_token) {
                return format!("ended ({place}); sign in again");
            }
            let until = doc
                .expires_at()
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            format!("signed in ({place}), credentials until {until}, refreshed when due")
        }
        None => match unusable {
            Some(why) => format!("unusable: {why}"),
            None => "not signed in".into(),
        },
    }
}

/// Refresh tokens the service refused for good: their SHA-256 (no secret) in a marker
/// of the private runtime directory, so the dead AWS CLI file is left as the CLI wrote
/// it (its next `aws login` replaces it) but never sent again.
mod dead {
    use super::document::sha256_hex;

    fn marker(arn: &str) -> Option<std::path::PathBuf> {
        let dir = crate::sys::dirs::runtime_dir().ok()?;
        crate::sys::dirs::private_dir(&dir).ok()?;
        Some(dir.join(format!("login-{}.dead", &sha256_hex(arn)[..32])))
    }

    pub fn is_dead(arn: &str, refresh_token: &str) -> bool {
        marker(arn)
            .and_then(|m| std::fs::read_to_string(m).ok())
            .is_some_and(|text| text.trim() == sha256_hex(refresh_token))
    }

    pub fn mark(arn: &str, refresh_token: &str) {
        if let Some(m) = marker(arn) {
            let _ = crate::sys::dirs::replace_private(&m, sha256_hex(refresh_token).as_bytes());
        }
    }
}
