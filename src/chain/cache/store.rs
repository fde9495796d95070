//! The OS keyrings behind one small trait: named byte blobs.

use chrono::{DateTime, Utc};

#[cfg(any(target_os = "macos", target_os = "windows"))]
use crate::chain::cache::warn;
use crate::error::{Error, Result};

pub trait SecretStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    /// `expires`: the kernel keyring drops the entry by itself at that time.
    fn put(&self, name: &str, value: &[u8], expires: Option<DateTime<Utc>>) -> Result<(), String>;
    fn delete(&self, name: &str) -> Result<(), String>;
    fn list(&self, prefix: &str) -> Result<Vec<String>, String>;
}

/// `AWSROLE_KEYRING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Auto,
    Keyutils,
    SecretService,
    /// Long-term keys in an encrypted file (`file_store`); the cache in the kernel
    /// keyring as with `auto`.
    File,
    /// Long-term keys in password-store (`pass_store`); the cache as with `auto`.
    Pass,
    None,
}

impl Backend {
    pub fn from_env() -> Result<Backend> {
        match crate::sys::settings::get().keyring() {
            None | Some("auto") => Ok(Backend::Auto),
            Some("keyutils") => Ok(Backend::Keyutils),
            Some("secret-service") => Ok(Backend::SecretService),
            Some("file") => Ok(Backend::File),
            Some("pass") => Ok(Backend::Pass),
            Some("none") => Ok(Backend::None),
            Some(other) => Err(Error::Usage(format!(
                "AWSROLE_KEYRING={other} is not one of auto, keyutils, secret-service, file, pass, none"
            ))),
        }
    }
}

/// Where temporary credentials go. On Linux `auto` is the kernel's per-user keyring:
/// in memory, shared by all the user's terminals, ~8 µs a read, gone at reboot, which
/// suits a cache.
pub fn open_session_store(backend: Backend) -> Option<Box<dyn SecretStore>> {
    match backend {
        Backend::None => None,
        // A kernel keyring the system forbids (Docker's default seccomp profile blocks
        // keyctl): one line, then no cache, instead of a warning at every hop.
        #[cfg(target_os = "linux")]
        Backend::Auto | Backend::Keyutils | Backend::File | Backend::Pass => {
            match linux::keyutils_refused() {
                None => Some(Box::new(linux::Keyutils)),
                Some(why) => {
                    crate::chain::cache::warn_once_about(
                    "keyutils",
                    &format!("the kernel keyring cannot be used here ({why}; a container's seccomp profile does this): going on without a cache, so every switch calls STS; AWSROLE_KEYRING=none says the same without this line"),
                );
                    None
                }
            }
        }
        #[cfg(target_os = "linux")]
        Backend::SecretService => Some(Box::new(linux::SecretService)),
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        _ => native::open(),
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        _ => None,
    }
}

/// Where long-term keys (`awsrole add`) go. On Linux `auto` is the Secret Service,
/// which survives reboots; keyutils is honoured when asked for explicitly.
pub fn open_secret_store(backend: Backend) -> Option<Box<dyn SecretStore>> {
    match backend {
        Backend::None => None,
        Backend::File => crate::chain::cache::file_store::FileStore::open()
            .ok()
            .map(|s| Box::new(s) as Box<dyn SecretStore>),
        Backend::Pass => Some(Box::new(crate::chain::cache::pass_store::PassStore)),
        // No Secret Service here, but an encrypted key file made earlier: that.
        #[cfg(target_os = "linux")]
        Backend::Auto
            if !linux::secret_service_offered()
                && crate::chain::cache::file_store::FileStore::exists() =>
        {
            crate::chain::cache::file_store::FileStore::open()
                .ok()
                .map(|s| Box::new(s) as Box<dyn SecretStore>)
        }
        // Without a session bus, or with one that has no Secret Service (a headless
        // host), `auto` has no long-term key store rather than a warning on every
        // command, and an SSO sign-in goes to the kernel keyring instead of failing
        // after the person approved it.
        #[cfg(target_os = "linux")]
        Backend::Auto if !linux::secret_service_offered() => None,
        #[cfg(target_os = "linux")]
        Backend::Auto | Backend::SecretService => Some(Box::new(linux::SecretService)),
        #[cfg(target_os = "linux")]
        Backend::Keyutils => Some(Box::new(linux::Keyutils)),
        #[cfg(any(target_os = "macos", target_os = "windows"))]
        _ => native::open(),
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        _ => None,
    }
}

/// Why `open_secret_store(backend)` has no store, and what the person can do: said by
/// `add`, `remove` and a chain whose keys are not found, never blaming a variable the
/// person did not set, never sending them back to `add`.
pub fn why_no_key_store(backend: Backend) -> String {
    let choices = "keep long-term keys in an encrypted file instead (AWSROLE_KEYRING=file, asks a passphrase), in password-store (AWSROLE_KEYRING=pass), or in the kernel keyring until reboot (AWSROLE_KEYRING=keyutils)";
    if backend == Backend::None {
        return "AWSROLE_KEYRING=none keeps no keys; unset it or pick a store".into();
    }
    #[cfg(target_os = "linux")]
    let why = if !linux::session_bus_exists() {
        format!(
            "no Secret Service in this session (DBUS_SESSION_BUS_ADDRESS is not set: an SSH session, tmux started outside the desktop, WSL or a container), so keys added in a desktop session are not reachable here; {choices}"
        )
    } else {
        format!("no Secret Service on this session's D-Bus (nothing owns org.freedesktop.secrets); start gnome-keyring or KWallet, or {choices}")
    };
    #[cfg(not(target_os = "linux"))]
    let why = format!("no OS keyring here; {choices}");
    why
}

/// What `awsrole doctor` says about the stores: one line each, with why.
pub fn describe_stores(backend: Backend) -> Vec<(String, String)> {
    let chosen = match crate::sys::settings::get().keyring() {
        Some(v) => format!("AWSROLE_KEYRING={v}"),
        None => "AWSROLE_KEYRING is not set: auto".to_string(),
    };
    let session = match backend {
        Backend::None => "none: nothing is cached, every switch calls STS".to_string(),
        #[cfg(target_os = "linux")]
        _ => match linux::keyutils_refused() {
            None => "the kernel's per-user keyring (in memory, shared by your terminals, gone at reboot)".into(),
            Some(why) => format!("none: the kernel keyring cannot be used here ({why})"),
        },
        #[cfg(not(target_os = "linux"))]
        _ => "the OS keyring (Keychain / Credential Manager)".into(),
    };
    let long_term = match backend {
        Backend::None => "none (keys only from the credentials file)".to_string(),
        Backend::File => format!(
            "the encrypted file {} ({})",
            crate::chain::cache::file_store::path()
                .unwrap_or_default()
                .display(),
            if crate::chain::cache::file_store::FileStore::exists() {
                "exists"
            } else {
                "not made yet: 'awsrole add' makes it"
            }
        ),
        Backend::Pass => match crate::chain::cache::pass_store::usable() {
            Ok(()) => "password-store (pass), under awsrole/".into(),
            Err(e) => format!("password-store, which cannot be used: {e}"),
        },
        Backend::Keyutils => "the kernel keyring (forgotten at reboot)".into(),
        #[cfg(target_os = "linux")]
        Backend::SecretService => "the Secret Service (gnome-keyring, KWallet)".into(),
        #[cfg(target_os = "linux")]
        Backend::Auto if linux::secret_service_offered() => {
            "the Secret Service of this session (gnome-keyring, KWallet)".into()
        }
        #[cfg(target_os = "linux")]
        Backend::Auto if crate::chain::cache::file_store::FileStore::exists() => format!(
            "the encrypted file {} (this session has no Secret Service)",
            crate::chain::cache::file_store::path()
                .unwrap_or_default()
                .display()
        ),
        #[cfg(target_os = "linux")]
        Backend::Auto => format!("none: {}", why_no_key_store(backend)),
        #[cfg(not(target_os = "linux"))]
        _ => "the OS keyring (Keychain / Credential Manager)".into(),
    };
    vec![
        ("store".into(), chosen),
        ("cache".into(), session),
        ("keys".into(), long_term),
    ]
}

/// Whether `auto` keeps secrets of the Secret Service elsewhere because the session bus
/// has none (Linux only): for a notice saying where they went.
pub fn secret_service_missing() -> bool {
    #[cfg(target_os = "linux")]
    {
        linux::session_bus_exists() && !linux::secret_service_offered()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Mutex};
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use dbus_secret_service::{EncryptionType, SecretService as Ss};
    use linux_keyutils::{KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};

    use super::SecretStore;

    /// Why the per-user kernel keyring cannot be reached, if it cannot (asked once a
    /// process: one `keyctl` call).
    pub fn keyutils_refused() -> Option<String> {
        static REFUSED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        REFUSED
            .get_or_init(|| {
                KeyRing::from_special_id(KeyRingIdentifier::User, true)
                    .err()
                    .map(|e| format!("{e:?}"))
            })
            .clone()
    }

    pub fn session_bus_exists() -> bool {
        crate::sys::settings::os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
            || crate::sys::settings::os("XDG_RUNTIME_DIR")
                .is_some_and(|d| std::path::Path::new(&d).join("bus").exists())
    }

    /// Whether a Secret Service is on the session bus or can be started there. Only a
    /// clear answer from the bus says no: a bus that fails or is slow leaves the
    /// Secret Service in place, to be warned about (and skipped) as before. Asked once a
    /// process.
    pub fn secret_service_offered() -> bool {
        static OFFERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *OFFERED.get_or_init(|| session_bus_exists() && !secret_service_absent())
    }

    fn secret_service_absent() -> bool {
        const NAME: &str = "org.freedesktop.secrets";
        with_deadline(|| {
            let fail = |e: dbus::Error| format!("session bus: {e}");
            let bus = dbus::blocking::Connection::new_session().map_err(fail)?;
            let daemon = bus.with_proxy(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                Duration::from_secs(2),
            );
            let (owned,): (bool,) = daemon
                .method_call("org.freedesktop.DBus", "NameHasOwner", (NAME,))
                .map_err(fail)?;
            if owned {
                return Ok(false);
            }
            let (startable,): (Vec<String>,) = daemon
                .method_call("org.freedesktop.DBus", "ListActivatableNames", ())
                .map_err(fail)?;
            Ok(!startable.iter().any(|n| n == NAME))
        })
        .unwrap_or(false)
    }

    /// The kernel's per-user keyring, `@u`.
    pub struct Keyutils;

    fn ring() -> Result<KeyRing, String> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true)
            .map_err(|e| format!("kernel keyring: {e:?}"))
    }

    fn our_keys(
        ring: &KeyRing,
        prefix: &str,
    ) -> Result<Vec<(String, linux_keyutils::Key)>, String> {
        let links = ring
            .get_links(4096)
            .map_err(|e| format!("kernel keyring: {e:?}"))?;
        Ok(links
            .iter()
            .filter_map(|node| node.as_key())
            .filter_map(|key| {
                let description = key.metadata().ok()?.get_description().to_string();
                description
                    .starts_with(prefix)
                    .then_some((description, key))
            })
            .collect())
    }

    /// Set once `@u` turned out not to be possessed here: later entries go through the
    /// process keyring at once.
    static VIA_OWN_RING: AtomicBool = AtomicBool::new(false);

    /// The user (not only the possessor) may read an entry: a terminal whose session
    /// keyring does not link @u still shares the cache. And the kernel drops it by itself
    /// at its credentials' expiry.
    fn prepare(key: linux_keyutils::Key, expires: Option<DateTime<Utc>>) -> Result<(), KeyError> {
        let perms = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::ALL)
            .build();
        key.set_perms(perms)?;
        if let Some(expires) = expires {
            let seconds = (expires - Utc::now()).num_seconds().max(1) as usize;
            key.set_timeout(seconds)?;
        }
        Ok(())
    }

    fn remember(name: &str) {
        if let Ok(mut written) = WRITTEN.lock() {
            written.push(name.to_string());
        }
    }

    /// Names this process wrote: never evicted to make room for their own siblings
    /// (entries of one chain are written in the same second and tie on expiry).
    static WRITTEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn expiry_of(key: &linux_keyutils::Key) -> i64 {
        key.read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice::<crate::chain::cache::CacheEntry>(&b).ok())
            .and_then(|e| e.expires())
            .map(|e| e.timestamp())
            .unwrap_or(i64::MIN)
    }

    impl Keyutils {
        /// Adds the entry, evicting older ones of ours while the per-user quota is full.
        /// The kernel frees an invalidated key's quota in its garbage collector, a moment
        /// later, so each eviction is followed by a few short waits before the next.
        fn add_within_quota(
            &self,
            ring: &KeyRing,
            name: &str,
            value: &[u8],
        ) -> Result<linux_keyutils::Key, String> {
            let mut evictions = 0;
            loop {
                for wait_ms in [0, 1, 2, 4, 8, 16, 32, 64, 128] {
                    std::thread::sleep(std::time::Duration::from_millis(wait_ms));
                    match ring.add_key(name, value) {
                        Ok(key) => return Ok(key),
                        Err(KeyError::QuotaExceeded) if evictions > 0 => continue,
                        Err(KeyError::QuotaExceeded) => break,
                        Err(e) => return Err(format!("kernel keyring: {e:?}")),
                    }
                }
                if evictions >= 8 || !self::ring().is_ok_and(|user| self.evict_one(&user)) {
                    return Err("kernel keyring: QuotaExceeded".into());
                }
                evictions += 1;
            }
        }

        /// Over the per-user quota (200 keys, 20,000 bytes for non-root): drop our
        /// expired entries first, then the soonest to expire. Only entries of this
        /// cache namespace are candidates: a test run (or anyone with a namespace of
        /// their own) never evicts the user's everyday cache, nor the reverse.
        fn evict_one(&self, ring: &KeyRing) -> bool {
            let prefix = crate::chain::cache::name_prefix("session");
            let Ok(keys) = our_keys(ring, &prefix) else {
                return false;
            };
            let written = WRITTEN.lock().map(|w| w.clone()).unwrap_or_default();
            let victim = keys
                .into_iter()
                .filter(|(name, _)| crate::chain::cache::in_namespace(name, &prefix))
                .filter(|(name, _)| !written.contains(name))
                .map(|(_, key)| (expiry_of(&key), key))
                .min_by_key(|(expiry, _)| *expiry);
            let Some((expiry, key)) = victim else {
                return false;
            };
            let _ = key.invalidate();
            crate::chain::cache::warn(if expiry <= Utc::now().timestamp() {
                "kernel keyring quota reached; dropped an expired cache entry"
            } else {
                "kernel keyring quota reached; dropped the cache entry nearest expiry"
            });
            true
        }
    }

    impl SecretStore for Keyutils {
        fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
            let ring = ring()?;
            match ring.search(name) {
                Ok(key) => match key.read_to_vec() {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(
                        KeyError::KeyExpired | KeyError::KeyRevoked | KeyError::KeyDoesNotExist,
                    ) => Ok(None),
                    Err(e) => Err(format!("kernel keyring: {e:?}")),
                },
                Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                    Ok(None)
                }
                Err(e) => Err(format!("kernel keyring: {e:?}")),
            }
        }

        /// The entry is made in `@u` and given its permissions and timeout there. In a
        /// session keyring that does not link `@u` (`keyctl session`, some sudo, ssh and
        /// container setups) a key made in `@u` is not ours to change: every timeout and
        /// permission call was refused and a secret stayed in `@u` with no timeout. Then
        /// the key is unlinked again, and this process makes its entries in its own
        /// keyring (which it always possesses), prepares them there, and only then links
        /// them into `@u`.
        fn put(
            &self,
            name: &str,
            value: &[u8],
            expires: Option<DateTime<Utc>>,
        ) -> Result<(), String> {
            let user = ring()?;
            if !VIA_OWN_RING.load(Ordering::Relaxed) {
                let key = self.add_within_quota(&user, name, value)?;
                match prepare(key, expires) {
                    Ok(()) => {
                        remember(name);
                        return Ok(());
                    }
                    Err(KeyError::AccessDenied) => {
                        let _ = user.unlink_key(key);
                        VIA_OWN_RING.store(true, Ordering::Relaxed);
                    }
                    Err(e) => {
                        let _ = key.invalidate();
                        let _ = user.unlink_key(key);
                        return Err(format!("kernel keyring: {e:?}"));
                    }
                }
            }
            let own = KeyRing::from_special_id(KeyRingIdentifier::Process, true)
                .map_err(|e| format!("kernel keyring: {e:?}"))?;
            let key = self.add_within_quota(&own, name, value)?;
            let prepared = prepare(key, expires).and_then(|()| user.link_key(key));
            let _ = own.unlink_key(key);
            if let Err(e) = prepared {
                let _ = key.invalidate();
                return Err(format!("kernel keyring: {e:?}"));
            }
            remember(name);
            Ok(())
        }

        fn delete(&self, name: &str) -> Result<(), String> {
            let ring = ring()?;
            match ring.search(name) {
                Ok(key) => key
                    .invalidate()
                    .map_err(|e| format!("kernel keyring: {e:?}")),
                Err(_) => Ok(()),
            }
        }

        fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
            Ok(our_keys(&ring()?, prefix)?
                .into_iter()
                .map(|(d, _)| d)
                .collect())
        }
    }

    /// The freedesktop Secret Service (gnome-keyring, KWallet), over D-Bus. Every call
    /// runs on a thread of its own with a deadline: a bus that never answers costs a
    /// few seconds and a warning, never a hang.
    pub struct SecretService;

    const DEADLINE: Duration = Duration::from_secs(5);
    const SERVICE: &str = "awsrole";

    /// Set once a call missed its deadline, or failed slowly (a stopped daemon makes
    /// libdbus wait for its own reply timeout and then fail): the rest of this process
    /// skips the bus rather than waiting again on every lookup.
    static UNRESPONSIVE: AtomicBool = AtomicBool::new(false);

    /// A healthy Secret Service answers in milliseconds.
    const SLOW: Duration = Duration::from_millis(1500);

    fn with_deadline<T: Send + 'static>(
        job: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        if UNRESPONSIVE.load(Ordering::Relaxed) {
            return Err("the Secret Service did not answer earlier; skipped".into());
        }
        let deadline = crate::sys::budget::within(DEADLINE);
        let started = std::time::Instant::now();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(job());
        });
        let result = rx.recv_timeout(deadline).unwrap_or_else(|_| {
            Err(format!(
                "the Secret Service did not answer within {:.1}s",
                deadline.as_secs_f32()
            ))
        });
        if result.is_err() && started.elapsed() >= SLOW.min(deadline) {
            UNRESPONSIVE.store(true, Ordering::Relaxed);
        }
        result
    }

    fn connect() -> Result<Ss, String> {
        // No unlock prompt may pop up and wait: zero seconds dismisses it.
        Ss::connect_with_max_prompt_timeout(EncryptionType::Dh, 0).map_err(failed)
    }

    /// The crate's error, said once as the Secret Service's: some of its messages
    /// already start so ("Secret Service: unlock prompt was dismissed"), others do not
    /// ("DBus error: …").
    fn failed(e: dbus_secret_service::Error) -> String {
        let text = e.to_string();
        if text.starts_with("Secret Service") {
            text
        } else {
            format!("Secret Service: {text}")
        }
    }

    fn attrs(name: &str) -> HashMap<&str, &str> {
        HashMap::from([("service", SERVICE), ("name", name)])
    }

    impl SecretStore for SecretService {
        fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
            let name = name.to_string();
            with_deadline(move || {
                let ss = connect()?;
                let found = ss.search_items(attrs(&name)).map_err(failed)?;
                let Some(item) = found.unlocked.first().or(found.locked.first()) else {
                    return Ok(None);
                };
                item.ensure_unlocked().map_err(failed)?;
                item.get_secret().map(Some).map_err(failed)
            })
        }

        fn put(
            &self,
            name: &str,
            value: &[u8],
            _expires: Option<DateTime<Utc>>,
        ) -> Result<(), String> {
            let name = name.to_string();
            let value = value.to_vec();
            with_deadline(move || {
                let ss = connect()?;
                let collection = ss
                    .get_default_collection()
                    .or_else(|_| ss.get_any_collection())
                    .map_err(|e| format!("Secret Service has no collection to store in: {e}"))?;
                collection.ensure_unlocked().map_err(failed)?;
                collection
                    .create_item(
                        &format!("awsrole {name}"),
                        attrs(&name),
                        &value,
                        true,
                        "application/octet-stream",
                    )
                    .map(|_| ())
                    .map_err(failed)
            })
        }

        fn delete(&self, name: &str) -> Result<(), String> {
            let name = name.to_string();
            with_deadline(move || {
                let ss = connect()?;
                let found = ss.search_items(attrs(&name)).map_err(failed)?;
                for item in found.unlocked.iter().chain(found.locked.iter()) {
                    item.delete().map_err(failed)?;
                }
                Ok(())
            })
        }

        fn list(&self, prefix: &str) -> Result<Vec<String>, String> {
            let prefix = prefix.to_string();
            with_deadline(move || {
                let ss = connect()?;
                let found = ss
                    .search_items(HashMap::from([("service", SERVICE)]))
                    .map_err(failed)?;
                Ok(found
                    .unlocked
                    .iter()
                    .chain(found.locked.iter())
                    .filter_map(|item| item.get_attributes().ok()?.get("name").cloned())
                    .filter(|n| n.starts_with(&prefix))
                    .collect())
            })
        }
    }
}

/// macOS Keychain and Windows Credential Manager, in a file of its own beside this
/// one (a plain `mod native;` here would be looked for in `store/`, E0583: the whole
/// crate is now checked for macOS and built and run for Windows, tests/cross-check.sh).
#[cfg(any(target_os = "macos", target_os = "windows"))]
#[path = "native.rs"]
mod native;
