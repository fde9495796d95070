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
