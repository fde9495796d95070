//! Temporary credentials in the OS keyring: one compact record per hop, with the
//! expiry inside the value. Any failure is a one-line warning; the command goes on
//! uncached, and nothing ever falls back to a plaintext file.

pub mod file_store;
pub mod key;
#[cfg(test)]
pub(crate) mod memory;
pub mod pass_store;
mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::chain::credentials::Credentials;
pub use key::CacheKey;
pub use store::{
    describe_stores, open_secret_store, open_session_store, secret_service_missing,
    why_no_key_store, Backend, SecretStore,
};

/// Refresh a cached credential when less than this remains (`AWSROLE_REFRESH_MARGIN`).
pub use crate::sys::settings::{parse_margin, DEFAULT_REFRESH_MARGIN};

pub fn refresh_margin() -> i64 {
    crate::sys::settings::get().refresh_margin_or(DEFAULT_REFRESH_MARGIN)
}

pub fn parse_margin_or_default(text: Option<&str>) -> i64 {
    text.and_then(parse_margin)
        .unwrap_or(DEFAULT_REFRESH_MARGIN)
}

/// What is stored: the credentials plus what `cache list` shows (never a secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Profile whose hop this is (or the root profile for an MFA session).
    #[serde(rename = "p")]
    pub profile: String,
    /// Role ARN, or the MFA serial for an MFA session.
    #[serde(rename = "r")]
    pub role: String,
    #[serde(rename = "c")]
    pub credentials: Credentials,
    /// The role session name sent, for `status`'s assumed-role ARN.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

impl CacheEntry {
    pub fn expires(&self) -> Option<DateTime<Utc>> {
        self.credentials.expiration
    }

    pub fn fresh(&self, now: DateTime<Utc>, margin: i64) -> bool {
        self.credentials
            .seconds_left(now)
            .is_some_and(|left| left > margin)
    }
}

/// Where hop credentials are cached; `None` when caching is off.
pub struct Cache {
    store: Option<Box<dyn SecretStore>>,
    margin: i64,
    prefix: String,
    /// The names the store held when listed (`with_listing`): a name not among them is
    /// not read, so a look-up over thousands of profiles costs one listing.
    listed: Option<std::collections::HashSet<String>>,
}

/// Entry names start with this; `AWSROLE_CACHE_NAMESPACE` (for tests and anyone who
/// wants separate caches) is added after it.
pub fn name_prefix(kind: &str) -> String {
    match crate::sys::settings::get().cache_namespace() {
        Some(ns) => format!("awsrole:{kind}:{ns}:"),
        None => format!("awsrole:{kind}:"),
    }
}

/// Whether the entry `name` (which starts with `prefix`) belongs to that namespace
/// itself: an entry of a namespace below it (`…:ns:id`) does not.
pub fn in_namespace(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|id| !id.contains(':'))
}

impl Cache {
    pub fn disabled() -> Self {
        Cache {
            store: None,
            margin: DEFAULT_REFRESH_MARGIN,
            prefix: name_prefix("session"),
            listed: None,
        }
    }

    /// A cache over any store (the OS keyrings; an in-memory one in unit tests).
    pub fn with_store(store: Box<dyn SecretStore>, margin: i64) -> Self {
        Cache {
            store: Some(store),
            margin,
            prefix: name_prefix("session"),
            listed: None,
        }
    }

    pub fn open(backend: Backend) -> Self {
        Cache {
            store: open_session_store(backend),
            margin: refresh_margin(),
            prefix: name_prefix("session"),
            listed: None,
        }
    }

    /// The OS keyring, with a refresh margin other than `AWSROLE_REFRESH_MARGIN`'s.
    pub fn open_with_margin(backend: Backend, margin: i64) -> Self {
        Cache {
            margin,
            ..Cache::open(backend)
        }
    }

    /// The same cache, listed once now: `get` then reads only entries that exist (the
    /// picker and `list` ask about every profile of the config).
    pub fn with_listing(mut self) -> Self {
        if let Some(store) = &self.store {
            if let Ok(names) = store.list(&self.prefix) {
                self.listed = Some(names.into_iter().collect());
            }
        }
        self
    }

    pub fn enabled(&self) -> bool {
        self.store.is_some()
    }

    /// A fresh entry, or None. An expired or unreadable entry is dropped, never served;
    /// one merely inside this process's margin is left for others (a shell with the
    /// default margin still uses what `AWSROLE_REFRESH_MARGIN=1h` will not).
    pub fn get(&self, key: &CacheKey, now: DateTime<Utc>) -> Option<CacheEntry> {
        let store = self.store.as_ref()?;
        let name = format!("{}{}", self.prefix, key.id);
        if self
            .listed
            .as_ref()
            .is_some_and(|listed| !listed.contains(&name))
        {
            return None;
        }
        let bytes = match store.get(&name) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return None,
            Err(e) => {
                warn(&format!(
                    "cache read failed ({e}); going on without the cache"
                ));
                return None;
            }
        };
        match serde_json::from_slice::<CacheEntry>(&bytes) {
            Ok(entry) if entry.fresh(now, self.margin) => Some(entry),
            Ok(entry) if entry.fresh(now, 0) => None,
            _ => {
                let _ = store.delete(&name);
                None
            }
        }
    }

    pub fn put(&self, key: &CacheKey, entry: &CacheEntry) {
        let Some(store) = self.store.as_ref() else {
            return;
        };
        let Some(expires) = entry.expires() else {
            return;
        };
        let lifetime = (expires - Utc::now()).num_seconds();
        if lifetime <= self.margin {
            warn_once(&format!(
                "the refresh margin ({} s, AWSROLE_REFRESH_MARGIN) is not shorter than the {lifetime} s {} lasts: the cache cannot serve it, so every switch calls STS; set a margin under the session length",
                self.margin, entry.profile
            ));
        }
        let bytes = match serde_json::to_vec(entry) {
            Ok(b) => b,
            Err(_) => return,
        };
        let name = format!("{}{}", self.prefix, key.id);
        if let Err(e) = store.put(&name, &bytes, Some(expires)) {
            warn(&format!(
                "could not cache {} ({e}); going on uncached",
                entry.profile
            ));
        }
    }

    /// Drops one entry; whether it was there.
    pub fn remove(&self, key: &CacheKey) -> bool {
        let Some(store) = self.store.as_ref() else {
            return false;
        };
        let name = format!("{}{}", self.prefix, key.id);
        matches!(store.get(&name), Ok(Some(_))) && store.delete(&name).is_ok()
    }

    /// Every entry of ours, readable or not, with its name.
    pub fn entries(&self) -> Vec<(String, Option<CacheEntry>)> {
        let Some(store) = self.store.as_ref() else {
            return Vec::new();
        };
        match store.list(&self.prefix) {
            Ok(names) => names
                .into_iter()
                .filter(|name| in_namespace(name, &self.prefix))
                .map(|name| {
                    let entry = store
                        .get(&name)
                        .ok()
                        .flatten()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    (name, entry)
                })
                .collect(),
            Err(e) => {
                warn(&format!("cannot list the cache ({e})"));
                Vec::new()
            }
        }
    }

    /// Drops all entries, or those of one profile's own hop. Returns how many.
    pub fn clear(&self, profile: Option<&str>) -> usize {
        let Some(store) = self.store.as_ref() else {
            return 0;
        };
        let mut dropped = 0;
        for (name, entry) in self.entries() {
            let matches = match (profile, &entry) {
                (None, _) => true,
                (Some(p), Some(e)) => e.profile == p,
                (Some(_), None) => false,
            };
            if matches && store.delete(&name).is_ok() {
                dropped += 1;
            }
        }
        dropped
    }
}

/// `warn`, once per process.
fn warn_once(message: &str) {
    static TOLD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !TOLD.swap(true, std::sync::atomic::Ordering::Relaxed) {
        warn(message);
    }
}

pub fn warn(message: &str) {
    crate::sys::output::line(&format!("awsrole: warning: {message}"));
}

/// `warn`, once per process for each `topic` (the Linux stores' troubles).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn warn_once_about(topic: &str, message: &str) {
    static TOLD: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut told) = TOLD.lock() else { return };
    if !told.iter().any(|t| t == topic) {
        told.push(topic.to_string());
        warn(message);
    }
}

#[cfg(test)]
mod tests {
    use super::memory::Memory;
    use super::*;

    #[test]
    fn margin_accepts_units() {
        assert_eq!(parse_margin("300"), Some(300));
        assert_eq!(parse_margin("20m"), Some(1200));
        assert_eq!(parse_margin("1h"), Some(3600));
        assert_eq!(parse_margin("-1"), None);
        assert_eq!(parse_margin("x"), None);
        assert_eq!(parse_margin("45s"), Some(45));
        assert_eq!(parse_margin(" 2m "), Some(120));
        assert_eq!(parse_margin_or_default(Some("20m")), 1200);
        assert_eq!(parse_margin_or_default(Some("0")), 0);
        assert_eq!(
            parse_margin_or_default(Some("soon")),
            DEFAULT_REFRESH_MARGIN
        );
        assert_eq!(parse_margin_or_default(None), 300);
    }

    #[test]
    fn the_namespace_and_the_margin_come_from_the_environment() {
        const NAME: &str =
            "chain::cache::tests::the_namespace_and_the_margin_come_from_the_environment";
        if crate::sys::test_child::is_child(NAME) {
            let answer = format!("{}|{}", name_prefix("session"), refresh_margin());
            return crate::sys::test_child::answer(&answer);
        }
        let run = |vars: &[(&str, &str)]| crate::sys::test_child::run(NAME, &[], vars);
        assert_eq!(run(&[]).0, "awsrole:session:|300");
        let empty = [
            ("AWSROLE_CACHE_NAMESPACE", ""),
            ("AWSROLE_REFRESH_MARGIN", "soon"),
        ];
        assert_eq!(run(&empty).0, "awsrole:session:|300");
        let set = [
            ("AWSROLE_CACHE_NAMESPACE", "t1"),
            ("AWSROLE_REFRESH_MARGIN", "2m"),
        ];
        assert_eq!(run(&set).0, "awsrole:session:t1:|120");
    }

    #[test]
    fn warnings_go_to_stderr_escaped_and_a_margin_too_long_is_told_once() {
        const NAME: &str =
            "chain::cache::tests::warnings_go_to_stderr_escaped_and_a_margin_too_long_is_told_once";
        if crate::sys::test_child::is_child(NAME) {
            warn("no keyring\x1b[2J");
            let cache = Cache::with_store(Box::new(Memory::default()), 600);
            let mut long = entry(3600);
            long.profile = "role-long".into();
            cache.put(&CacheKey { id: "l".into() }, &long);
            let mut short = entry(300);
            short.profile = "role-short".into();
            for _ in 0..3 {
                cache.put(&CacheKey { id: "s".into() }, &short);
            }
            return crate::sys::test_child::answer("done");
        }
        let (_, stderr) = crate::sys::test_child::run(NAME, &[], &[]);
        assert!(
            stderr.contains("awsrole: warning: no keyring\\u{1b}[2J"),
            "{stderr:?}"
        );
        let told: Vec<&str> = stderr.lines().filter(|l| l.contains("margin")).collect();
        assert_eq!(told.len(), 1, "{stderr}");
        assert!(
            told[0].contains("(600 s, AWSROLE_REFRESH_MARGIN)") && told[0].contains("role-short"),
            "{stderr}"
        );
    }

    #[test]
    fn a_cache_is_enabled_by_its_store_and_keeps_the_margin_it_was_given() {
        assert!(!Cache::disabled().enabled());
        let off = Cache::open_with_margin(Backend::None, 42);
        assert!(!off.enabled());
        assert_eq!(off.margin, 42);
        let cache = Cache::with_store(Box::new(Memory::default()), 7);
        assert!(cache.enabled());
        assert_eq!(cache.margin, 7);
    }

    #[test]
    fn remove_says_whether_the_entry_was_there() {
        let memory = Memory::default();
        let cache = Cache::with_store(Box::new(memory.clone()), 300);
        let key = CacheKey { id: "k".into() };
        assert!(!cache.remove(&key), "nothing to remove");
        cache.put(&key, &entry(3600));
        assert!(cache.remove(&key));
        assert!(memory.0.borrow().is_empty());
        assert!(!cache.remove(&key), "removed already");
    }

    fn entry(expires_in: i64) -> CacheEntry {
        CacheEntry {
            profile: "role-b".into(),
            role: "arn:aws:iam::1:role/B".into(),
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "S".into(),
                session_token: Some("T".into()),
                expiration: Some(Utc::now() + chrono::Duration::seconds(expires_in)),
                issued: None,
            },
            session: None,
        }
    }

    #[test]
    fn stale_or_unreadable_entries_are_dropped_never_served() {
        let memory = Memory::default();
        let cache = Cache::with_store(Box::new(memory.clone()), 300);
        let key = CacheKey { id: "k".into() };
        let now = Utc::now();
        cache.put(&key, &entry(3600));
        assert!(cache.get(&key, now).is_some());
        cache.put(&key, &entry(100));
        assert!(cache.get(&key, now).is_none(), "inside the margin");
        assert_eq!(memory.0.borrow().len(), 1, "but kept for others");
        cache.put(&key, &entry(-10));
        assert!(cache.get(&key, now).is_none(), "expired");
        assert!(memory.0.borrow().is_empty(), "and dropped");
        memory
            .put(&format!("{}k", name_prefix("session")), b"not json", None)
            .unwrap();
        assert!(cache.get(&key, now).is_none());
        assert!(memory.0.borrow().is_empty(), "garbage dropped");
        let mut no_expiry = entry(3600);
        no_expiry.credentials.expiration = None;
        cache.put(&key, &no_expiry);
        assert!(
            memory.0.borrow().is_empty(),
            "long-term credentials are never cached"
        );
    }

    #[test]
    fn a_namespace_holds_its_own_entries_only() {
        let everyday = "awsrole:session:";
        assert!(in_namespace("awsrole:session:abc", everyday));
        assert!(!in_namespace("awsrole:session:tests:abc", everyday));
        assert!(in_namespace(
            "awsrole:session:tests:abc",
            "awsrole:session:tests:"
        ));
        assert!(!in_namespace(
            "awsrole:session:other:abc",
            "awsrole:session:tests:"
        ));
        assert!(!in_namespace("awsrole:sso:abc", everyday));
    }

    #[test]
    fn clear_by_profile_drops_only_that_hop() {
        let memory = Memory::default();
        let cache = Cache::with_store(Box::new(memory.clone()), 300);
        cache.put(&CacheKey { id: "b".into() }, &entry(3600));
        let mut other = entry(3600);
        other.profile = "role-c".into();
        cache.put(&CacheKey { id: "c".into() }, &other);
        assert_eq!(cache.clear(Some("role-b")), 1);
        let left = cache.entries();
        assert_eq!(left.len(), 1);
        assert_eq!(
            left[0].1.as_ref().map(|e| e.profile.as_str()),
            Some("role-c")
        );
        assert_eq!(cache.clear(None), 1);
    }

    #[test]
    fn an_entry_inside_the_margin_is_not_fresh() {
        let now = Utc::now();
        let entry = CacheEntry {
            profile: "p".into(),
            role: "r".into(),
            credentials: Credentials {
                access_key_id: "A".into(),
                secret_access_key: "S".into(),
                session_token: None,
                expiration: Some(now + chrono::Duration::seconds(200)),
                issued: None,
            },
            session: None,
        };
        assert!(!entry.fresh(now, 300));
        assert!(entry.fresh(now, 100));
        // Exactly the margin left is already inside it.
        assert!(!entry.fresh(now, 200));
        assert!(entry.fresh(now, 199));
    }
}
