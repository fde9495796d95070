//! The credentials a chain starts from. One provider per kind of root — long-term keys
//! (the keyring, then the files), `credential_process`, the environment, IAM Identity
//! Center — behind one interface, and caching added by one wrapper (`Cached`), so root
//! credentials that expire (a `credential_process` with `Expiration`) are cached in the
//! keyring like any hop, and long-term keys never are.

mod container;
mod environment;
mod imds;
mod keys;
pub mod login;
mod metadata_http;
mod process;
pub mod sso;
mod web_identity;

use chrono::Utc;

use crate::chain::cache::key::root_key;
use crate::chain::cache::{Backend, Cache, CacheEntry};
use crate::chain::credentials::Credentials;
use crate::chain::plan::Root;
use crate::chain::root::sso::Interaction;
use crate::error::Result;

pub use keys::keyring_name;

/// One kind of root.
pub trait Provider {
    /// A stable name for these credentials, for cache keys; reads no secret and no
    /// keyring, so every key of a chain is known before anything is fetched.
    fn identity(&self) -> String;
    fn credentials(&self) -> Result<Credentials>;
    /// The profile it belongs to, for messages and `cache list`.
    fn profile(&self) -> &str;
    /// Its mark on a chain line (`[keyring]`, `[sso: …]`): reads no secret.
    fn label(&self) -> String;
    /// What `explain` says of where the credentials come from and their state (a
    /// sign-in's expiry): reads no secret, calls no service.
    fn describe(&self) -> String;
}

/// The registry: one arm per kind of root.
pub fn provider(root: &Root, backend: Backend, sso: Interaction) -> Box<dyn Provider + '_> {
    match root {
        Root::Keys { profile, file_keys } => Box::new(keys::Keys {
            profile,
            file_keys: file_keys.as_ref(),
            backend,
        }),
        Root::Process { profile, command } => Box::new(process::Process { profile, command }),
        Root::Environment { profile } => Box::new(environment::Environment { profile }),
        Root::WebIdentity { profile, web } => {
            Box::new(web_identity::WebIdentityRoot { profile, web })
        }
        Root::InstanceMetadata { profile, imds } => {
            Box::new(imds::InstanceMetadata { profile, imds })
        }
        Root::Container { profile } => Box::new(container::Container { profile }),
        Root::Login {
            profile,
            session,
            region,
        } => Box::new(login::provider::Login {
            profile,
            session,
            region: region.as_deref(),
            backend,
            interaction: sso,
        }),
        Root::Sso { profile, sso: root } => Box::new(sso::provider::Sso {
            profile,
            sso: root,
            backend,
            interaction: sso,
        }),
    }
}

/// `root`'s provider as listings and `explain` need it: never asks a person.
pub fn shown(root: &Root, backend: Backend) -> Box<dyn Provider + '_> {
    provider(root, backend, Interaction::Never)
}

/// A stable name for the root, used in cache keys.
pub fn identity(root: &Root) -> String {
    provider(root, Backend::None, Interaction::Never).identity()
}

/// Any provider, with its expiring credentials kept in the cache.
pub struct Cached<'a> {
    pub inner: Box<dyn Provider + 'a>,
    pub cache: &'a Cache,
}

impl Provider for Cached<'_> {
    fn identity(&self) -> String {
        self.inner.identity()
    }

    fn credentials(&self) -> Result<Credentials> {
        let key = root_key(&self.inner.identity());
        if let Some(entry) = self.cache.get(&key, Utc::now()) {
            return Ok(entry.credentials);
        }
        let creds = self.inner.credentials()?;
        // Only credentials with an expiry are stored (`Cache::put`).
        self.cache.put(
            &key,
            &CacheEntry {
                profile: self.inner.profile().to_string(),
                role: format!("root of {}", self.inner.profile()),
                credentials: creds.clone(),
                session: None,
            },
        );
        Ok(creds)
    }

    fn profile(&self) -> &str {
        self.inner.profile()
    }

    fn label(&self) -> String {
        self.inner.label()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
