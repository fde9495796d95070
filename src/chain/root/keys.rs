//! Long-term keys of a profile: from the OS keyring (`awsrole add`) when present there,
//! else from the credentials or config file.

use crate::chain::cache::{open_secret_store, Backend};
use crate::chain::credentials::Credentials;
use crate::chain::plan::StaticKeys;
use crate::error::{Error, Result};

pub struct Keys<'a> {
    pub profile: &'a str,
    pub file_keys: Option<&'a StaticKeys>,
    pub backend: Backend,
}

/// The profiles whose long-term keys `awsrole add` put in the keyring: listed once per
/// process, and only when a label asks, so every listing marks them `[keyring]` (status,
/// `allow` and the picker once printed `[no keys]` for them) at the cost of one listing.
pub fn stored_profiles(backend: Backend) -> &'static [String] {
    static LISTED: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LISTED.get_or_init(|| {
        let Some(store) = open_secret_store(backend) else {
            return Vec::new();
        };
        let prefix = keyring_name("");
        store
            .list(&prefix)
            .map(|names| {
                names
                    .into_iter()
                    .map(|n| n[prefix.len()..].to_string())
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Where `awsrole add` keeps a profile's long-term keys.
pub fn keyring_name(profile: &str) -> String {
    format!("{}{profile}", crate::chain::cache::name_prefix("keys"))
}

impl super::Provider for Keys<'_> {
    fn identity(&self) -> String {
        format!(
            "keys:{}:{}",
            self.profile,
            self.file_keys
                .map(|k| k.access_key_id.as_str())
                .unwrap_or("-")
        )
    }

    fn credentials(&self) -> Result<Credentials> {
        let from_store = keyring_keys(self.profile, self.backend);
        if let Ok(Some(creds)) = from_store {
            return Ok(creds);
        }
        // No keys in the files either: say why the store had none, not "add them" again
        // when they may be there (a locked keyring, another session's Secret Service).
        let store_trouble = match (&from_store, self.file_keys) {
            (Err(e), None) => Some(format!(
                "its keys could not be read from the keyring ({e}); unlock it (or answer its prompt) and try again"
            )),
            (Ok(None), None) if open_secret_store(self.backend).is_none() && self.backend != Backend::None => {
                Some(crate::chain::cache::why_no_key_store(self.backend))
            }
            _ => None,
        };
        if let Some(why) = store_trouble {
            return Err(Error::NoCredentials(format!(
                "the source profile '{}' has no keys in the credentials file, and {why}",
                self.profile
            )));
        }
        match self.file_keys {
            Some(k) => Ok(Credentials {
                access_key_id: k.access_key_id.clone(),
                secret_access_key: k.secret_access_key.clone(),
                session_token: k.session_token.clone(),
                expiration: None,
                issued: None,
            }),
            None => Err(Error::NoCredentials(format!(
                "the source profile '{}' has no credentials: add aws_access_key_id and aws_secret_access_key to it, or store them with 'awsrole add {}'",
                self.profile, self.profile
            ))),
        }
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        if stored_profiles(self.backend)
            .iter()
            .any(|p| p == self.profile)
        {
            "[keyring]".into()
        } else if self.file_keys.is_some() {
            "[keys]".into()
        } else {
            "[no keys]".into()
        }
    }

    fn describe(&self) -> String {
        match self.file_keys {
            Some(k) => format!(
                "long-term keys of profile '{}' ({}…, from the keyring if 'awsrole add' stored some, else the files)",
                self.profile,
                k.access_key_id.chars().take(8).collect::<String>()
            ),
            None => format!(
                "keys of profile '{0}' from the keyring ('awsrole add {0}'); none in the files",
                self.profile
            ),
        }
    }
}

/// The keys `awsrole add` stored: `Ok(None)` when there are none (or no store).
fn keyring_keys(profile: &str, backend: Backend) -> Result<Option<Credentials>, String> {
    let Some(store) = open_secret_store(backend) else {
        return Ok(None);
    };
    match store.get(&keyring_name(profile)) {
        Ok(Some(bytes)) => Ok(serde_json::from_slice(&bytes).ok()),
        Ok(None) => Ok(None),
        Err(e) => {
            crate::chain::cache::warn(&format!("cannot read keys of '{profile}' from the keyring ({e}); trying the credentials file"));
            Err(e)
        }
    }
}
