//! What every command works over, built once per run: the settings snapshot, and —
//! each at most once, and only when a command asks — the whole config, the chain-only
//! config of a profile, the keyring backend, the store of long-term keys and the
//! credential cache. A command is an `Args` struct whose `run` takes an `App`, so unit
//! tests run commands over an in-memory config and store (`App::for_tests`).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use crate::chain::cache::{open_secret_store, Backend, Cache, SecretStore};
use crate::chain::config::AwsConfig;
use crate::chain::plan::{plan, ChainPlan, PlanInputs};
use crate::error::Result;
use crate::sys::settings::Settings;

/// How a command ended when it did not fail: done (exit 0), or with an exit status of
/// its own (`exec`'s child's), which is no error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Exit(i32),
}

impl Outcome {
    /// The process's exit status.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Done => 0,
            Outcome::Exit(code) => code,
        }
    }
}

pub struct App {
    settings: &'static Settings,
    /// The whole config (`AwsConfig::load`).
    config: OnceCell<AwsConfig>,
    /// The sections one profile's chain can need (`AwsConfig::load_for`), by profile:
    /// `use` and `exec` plan twice (confirm, then resolve) over one parse.
    chains: RefCell<HashMap<String, AwsConfig>>,
    backend: OnceCell<Backend>,
    /// The store of long-term keys (`add`, `remove`, `rotate`); `None` inside when the
    /// backend has none here.
    secrets: OnceCell<Option<Box<dyn SecretStore>>>,
    /// The cache resolutions and look-ups go through, with the margin the first asker
    /// gave (`cache_with_margin`); one construction per run.
    cache: OnceCell<Cache>,
    cache_margin: OnceCell<Option<i64>>,
    /// The same store listed once (`Cache::with_listing`), for what asks about every
    /// profile (the picker). Kept apart from `cache`: a listed cache does not see what
    /// another process stores after the listing, which a resolution waiting on a lock
    /// must see.
    listing: OnceCell<Cache>,
}

impl App {
    /// Nothing is read until a command asks for it.
    pub fn new() -> App {
        App {
            settings: crate::sys::settings::get(),
            config: OnceCell::new(),
            chains: RefCell::new(HashMap::new()),
            backend: OnceCell::new(),
            secrets: OnceCell::new(),
            cache: OnceCell::new(),
            cache_margin: OnceCell::new(),
            listing: OnceCell::new(),
        }
    }

    pub fn settings(&self) -> &'static Settings {
        self.settings
    }

    /// The whole config, loaded on first use.
    pub fn config(&self) -> Result<&AwsConfig> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let loaded = AwsConfig::load()?;
        Ok(self.config.get_or_init(|| loaded))
    }

    /// The plan of `profile`: over the whole config when it is loaded already, else over
    /// only the sections its chain can need (parsed once per profile and run); when that
    /// fails, planned again over the whole config, so the error's near-name hints know
    /// every profile.
    pub fn plan(&self, profile: &str, inputs: &PlanInputs) -> Result<ChainPlan> {
        if let Some(config) = self.config.get() {
            return plan(config, profile, inputs);
        }
        let planned = {
            let mut chains = self.chains.borrow_mut();
            let chain = match chains.get(profile) {
                Some(chain) => chain,
                None => {
                    let loaded = AwsConfig::load_for(profile)?;
                    chains.entry(profile.to_string()).or_insert(loaded)
                }
            };
            plan(chain, profile, inputs)
        };
        match planned {
            Ok(planned) => Ok(planned),
            Err(_) => plan(self.config()?, profile, inputs),
        }
    }

    /// `AWSROLE_KEYRING`'s backend (a wrong value is a usage error each time asked).
    pub fn backend(&self) -> Result<Backend> {
        if let Some(backend) = self.backend.get() {
            return Ok(*backend);
        }
        let backend = Backend::from_env()?;
        Ok(*self.backend.get_or_init(|| backend))
    }

    /// The backend listings look in for `[keyring]` marks: the configured one, or none
    /// when `AWSROLE_KEYRING` is wrong (a listing still shows every chain).
    pub fn listing_backend(&self) -> Backend {
        self.backend().unwrap_or(Backend::None)
    }

    /// The store of long-term keys, opened once; `None` when this backend has none here.
    pub fn secret_store(&self) -> Result<Option<&dyn SecretStore>> {
        if self.secrets.get().is_none() {
            let opened = open_secret_store(self.backend()?);
            let _ = self.secrets.set(opened);
        }
        Ok(self.secrets.get().and_then(|s| s.as_deref()))
    }

    /// The credential cache with `AWSROLE_REFRESH_MARGIN`'s margin.
    pub fn cache(&self) -> Result<&Cache> {
        self.cache_with_margin(None)
    }

    /// The credential cache with a refresh margin of its own (the credential endpoint
    /// wants more left than a shell does), or the settings' with `None`. Built on the
    /// first ask; a run asks with one margin only.
    pub fn cache_with_margin(&self, margin: Option<i64>) -> Result<&Cache> {
        if let Some(cache) = self.cache.get() {
            debug_assert_eq!(
                self.cache_margin.get(),
                Some(&margin),
                "one run, one cache margin"
            );
            return Ok(cache);
        }
        let backend = self.backend()?;
        let cache = match margin {
            None => Cache::open(backend),
            Some(margin) => Cache::open_with_margin(backend, margin),
        };
        let _ = self.cache_margin.set(margin);
        Ok(self.cache.get_or_init(|| cache))
    }

    /// The cache listed once, for looking up every profile of the config.
    pub fn listing_cache(&self) -> Result<&Cache> {
        if let Some(cache) = self.listing.get() {
            return Ok(cache);
        }
        let cache = Cache::open(self.backend()?).with_listing();
        Ok(self.listing.get_or_init(|| cache))
    }
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

#[cfg(test)]
impl App {
    /// An app over a given config and cache: no file, keyring or environment is read
    /// for them. The backend is `None` (so the listing cache is off).
    pub(crate) fn for_tests(config: AwsConfig, cache: Cache) -> App {
        let app = App::new();
        let _ = app.config.set(config);
        let _ = app.backend.set(Backend::None);
        let _ = app.cache.set(cache);
        let _ = app.cache_margin.set(None);
        app
    }

    /// The same, with this store of long-term keys.
    pub(crate) fn with_secrets(self, store: Box<dyn SecretStore>) -> App {
        let _ = self.secrets.set(Some(store));
        self
    }
}

#[cfg(test)]
pub(crate) mod memory {
    //! An in-memory `SecretStore` for unit tests of commands (clones share the map), and
    //! a cache entry to put in it.

    use chrono::Utc;

    pub(crate) use crate::chain::cache::memory::Memory;
    use crate::chain::cache::CacheEntry;
    use crate::chain::credentials::Credentials;

    /// An entry of `profile`'s hop that lasts another hour; its secret is `SECRET-<profile>`.
    pub(crate) fn entry(profile: &str) -> CacheEntry {
        CacheEntry {
            profile: profile.into(),
            role: format!("arn:aws:iam::123456789012:role/{profile}"),
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: format!("SECRET-{profile}"),
                session_token: Some("TOKEN".into()),
                expiration: Some(Utc::now() + chrono::Duration::seconds(3600)),
                issued: None,
            },
            session: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_profile_s_chain_is_parsed_once_per_run_and_the_whole_config_only_when_needed() {
        const NAME: &str = "cli::app::tests::a_profile_s_chain_is_parsed_once_per_run_and_the_whole_config_only_when_needed";
        if crate::sys::test_child::is_child(NAME) {
            let file = crate::sys::settings::var("AWS_CONFIG_FILE").unwrap();
            let app = App::new();
            let first = app.plan("role-a", &PlanInputs::from_env(None)).unwrap();
            // The file changes (here: breaks) after the first plan; `use` and `exec`
            // plan again (confirm, then resolve) over what was parsed the first time.
            std::fs::write(&file, "[profile role-a\n").unwrap();
            let again = app
                .plan("role-a", &PlanInputs::from_env(Some(900)))
                .unwrap();
            let same = first.hops[0].role_arn == again.hops[0].role_arn;
            // The whole config was never loaded: loading it now reads the broken file.
            let whole = app.config().is_err();
            return crate::sys::test_child::answer(&format!("{same} {whole}"));
        }
        let dir = tempfile::tempdir().unwrap();
        let (config, credentials) = (dir.path().join("config"), dir.path().join("creds"));
        std::fs::write(
            &config,
            "[profile role-a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = dev\n\n[profile unrelated]\nregion = eu-west-1\n",
        )
        .unwrap();
        std::fs::write(
            &credentials,
            "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n",
        )
        .unwrap();
        let (answer, stderr) = crate::sys::test_child::run(
            NAME,
            &[],
            &[
                ("AWS_CONFIG_FILE", config.to_str().unwrap()),
                ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
                ("HOME", dir.path().to_str().unwrap()),
            ],
        );
        assert_eq!(answer, "true true", "{stderr}");
    }

    #[test]
    fn an_exit_status_is_an_outcome_not_an_error() {
        assert_eq!(Outcome::Done.code(), 0);
        assert_eq!(Outcome::Exit(7).code(), 7);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::Cancelled.exit_code(), 1);
        assert!(Error::Cancelled.needs_person());
    }
}
