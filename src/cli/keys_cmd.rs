//! `cache list|clear`, `add`, `remove`: what awsrole keeps in the OS keyring.

use std::io::{BufRead, IsTerminal};

use chrono::Utc;

use clap::Subcommand;

use super::{emit_shown, notice, pad, App, Outcome};
use crate::chain::cache::{Backend, Cache, SecretStore};
use crate::chain::config::AwsConfig;
use crate::chain::credentials::Credentials;
use crate::chain::plan::PlanInputs;
use crate::chain::root::keyring_name;
use crate::chain::sts::{Sts, StsFailure};
use crate::error::{Error, Result};
use crate::sys::duration::short;

// The arguments of each command; their help texts are the variants' in `Command`.

#[derive(clap::Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub(crate) action: CacheAction,
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// What is cached: profile, role, expiry, time left (never a secret)
    List(CacheListArgs),
    /// Drop all of awsrole's cached credentials, or those of PROFILE's own hop
    Clear(CacheClearArgs),
}

#[derive(clap::Args, Debug)]
pub struct CacheListArgs {}

#[derive(clap::Args, Debug)]
pub struct CacheClearArgs {
    pub(crate) profile: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The profile whose keys these are (it needs a section in the config)
    pub(crate) profile: String,
    /// Store without checking the keys with STS (offline)
    #[arg(long)]
    pub(crate) no_verify: bool,
}

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// The profile whose keys to delete
    pub(crate) profile: String,
}

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {}

#[derive(clap::Args, Debug)]
pub struct RotateArgs {
    /// The profile whose keys to rotate (a role profile: the keys its chain starts
    /// from)
    pub(crate) profile: String,
}

impl CacheArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        match self.action {
            CacheAction::List(args) => args.run(app),
            CacheAction::Clear(args) => args.run(app),
        }
    }
}

impl CacheListArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        if let Some(cache) = enabled_cache(app)? {
            cache_list(cache)?;
        }
        Ok(Outcome::Done)
    }
}

impl CacheClearArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        if let Some(cache) = enabled_cache(app)? {
            let dropped = cache.clear(self.profile.as_deref());
            notice(&format!("dropped {dropped} cached credential(s)"));
        }
        Ok(Outcome::Done)
    }
}

impl AddArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        add(app, &self.profile, self.no_verify)?;
        Ok(Outcome::Done)
    }
}

impl RemoveArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        remove(app, &self.profile)?;
        Ok(Outcome::Done)
    }
}

impl DoctorArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        doctor(app)?;
        Ok(Outcome::Done)
    }
}

impl RotateArgs {
    pub fn run(self, app: &App) -> Result<Outcome> {
        rotate(app, &self.profile)?;
        Ok(Outcome::Done)
    }
}

/// The cache, or `None` (said once) when `AWSROLE_KEYRING=none` turned it off.
fn enabled_cache(app: &App) -> Result<Option<&Cache>> {
    let cache = app.cache()?;
    if !cache.enabled() {
        notice("the cache is off (AWSROLE_KEYRING=none)");
        return Ok(None);
    }
    Ok(Some(cache))
}

/// The table of `cache list`: profile, role, expiry and time left, never a secret.
fn cache_list(cache: &Cache) -> Result<()> {
    let now = Utc::now();
    let mut rows: Vec<(String, String, String, String)> = cache
        .entries()
        .into_iter()
        .filter_map(|(_, entry)| entry)
        .map(|e| {
            let left = match e.credentials.seconds_left(now) {
                Some(s) if s > 0 => short(s),
                _ => "expired".into(),
            };
            (
                e.profile,
                e.role,
                e.credentials.expiration_text().unwrap_or_default(),
                left,
            )
        })
        .collect();
    rows.sort();
    let width = |f: fn(&(String, String, String, String)) -> &String, least: usize| {
        rows.iter()
            .map(|r| f(r).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(least, 64)
    };
    let (w0, w1) = (width(|r| &r.0, 7), width(|r| &r.1, 4));
    let mut text = format!(
        "{}  {}  {}  LEFT\n",
        pad("PROFILE", w0),
        pad("ROLE", w1),
        pad("EXPIRES", 20)
    );
    for (p, r, e, l) in rows {
        text.push_str(&format!(
            "{}  {}  {}  {l}\n",
            pad(&p, w0),
            pad(&r, w1),
            pad(&e, 20)
        ));
    }
    emit_shown(&text)
}

fn add(app: &App, profile: &str, no_verify: bool) -> Result<()> {
    let backend = app.backend()?;
    let store = app
        .secret_store()?
        .ok_or_else(|| no_key_store(backend, "store keys"))?;
    let config = app.config()?;
    if !config.profiles.contains_key(profile) {
        notice(&format!(
            "there is no profile '{profile}' in {}: the keys are kept, but nothing uses them until a profile of that name exists (an empty [profile {profile}] is enough; [default] for 'default')",
            config.config_file.display()
        ));
    }
    let (access_key_id, secret_access_key) = read_keys(profile)?;
    let creds = Credentials {
        access_key_id,
        secret_access_key,
        session_token: None,
        expiration: None,
        issued: None,
    };
    if !no_verify {
        let inputs = PlanInputs::from_env(None);
        let profile_setting = |k: &str| {
            config
                .profiles
                .get(profile)
                .and_then(|p| p.get(k))
                .map(str::to_string)
        };
        let region = profile_setting("region").or(inputs.env_region);
        let endpoint = inputs
            .env_endpoint
            .or_else(|| profile_setting("endpoint_url"));
        let sts = Sts::new(region.as_deref(), endpoint.as_deref())
            .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
        let arn = sts.caller_arn(&creds).map_err(|f| match f {
            StsFailure::Unreachable(d) => Error::Sts(format!(
                "cannot reach STS at {} to check the keys ({d}); use --no-verify to store them unchecked",
                sts.endpoint_text()
            )),
            StsFailure::BadCredentials { code, message } => {
                Error::Sts(format!("STS rejected these keys ({code}: {message}); nothing was stored"))
            }
            other => Error::Sts(format!("checking the keys failed: {other:?}; nothing was stored")),
        })?;
        notice(&format!("the keys belong to {arn}"));
    }
    let bytes = serde_json::to_vec(&creds).map_err(|e| Error::Keyring(e.to_string()))?;
    store
        .put(&keyring_name(profile), &bytes, None)
        .map_err(|e| Error::Keyring(format!("cannot store the keys of '{profile}': {e}")))?;
    // Sessions made from this profile's earlier keys must not outlive them; sessions of
    // other roots stay.
    drop_sessions_of(config, profile, app.cache()?);
    crate::env::hook::mark_renewed();
    notice(&format!(
        "stored the keys of '{profile}' in the keyring; they now take precedence over the credentials file"
    ));
    Ok(())
}

/// Where a profile's long-term keys are kept.
enum Place<'a> {
    Store(&'a dyn SecretStore),
    File {
        id: crate::chain::config::Setting,
        secret: crate::chain::config::Setting,
    },
}

/// `awsrole rotate`: a new access key, checked to work, stored where the old one was,
/// then the old one deleted and the sessions made from it dropped. A failure at any
/// step leaves one working key, and says which.
fn rotate(app: &App, profile: &str) -> Result<()> {
    let config = app.config()?;
    let plan =
        crate::chain::plan::plan(config, profile, &super::credentials_cmd::listing_inputs())?;
    let root = plan.root.profile().to_string();
    if !matches!(plan.root, crate::chain::plan::Root::Keys { .. }) {
        return Err(Error::Usage(format!(
            "the chain of '{profile}' starts at '{root}', which has no long-term access keys to rotate"
        )));
    }
    let name = keyring_name(&root);
    let store = app.secret_store()?;
    let stored = match &store {
        Some(s) => s.get(&name).map_err(Error::Keyring)?,
        None => None,
    };
    let (old, place): (crate::chain::credentials::Credentials, Place) = match (stored, store) {
        (Some(bytes), Some(store)) => (
            serde_json::from_slice(&bytes).map_err(|_| {
                Error::Keyring(format!("the stored keys of '{root}' are unreadable"))
            })?,
            Place::Store(store),
        ),
        _ => {
            let p = config.profile(&root)?;
            let (Some(id), Some(secret)) = (
                p.setting("aws_access_key_id").cloned(),
                p.setting("aws_secret_access_key").cloned(),
            ) else {
                return Err(Error::NoCredentials(format!(
                    "profile '{root}' has no access keys to rotate"
                )));
            };
            if p.get("aws_session_token").is_some() {
                return Err(Error::Usage(format!(
                    "the keys of '{root}' carry a session token: they are temporary, not an access key to rotate"
                )));
            }
            (
                crate::chain::credentials::Credentials {
                    access_key_id: id.value.clone(),
                    secret_access_key: secret.value.clone(),
                    session_token: None,
                    expiration: None,
                    issued: None,
                },
                Place::File { id, secret },
            )
        }
    };
    let iam = crate::chain::iam::Iam::new(plan.region.as_deref());
    let new = iam.create_access_key(&old).map_err(|e| {
        Error::Sts(format!(
            "{e}; nothing was changed, the key {} still works",
            old.access_key_id
        ))
    })?;
    notice(&format!(
        "created access key {} for IAM user {}; checking that it works",
        new.access_key_id, new.user
    ));
    let fresh = crate::chain::credentials::Credentials {
        access_key_id: new.access_key_id.clone(),
        secret_access_key: new.secret_access_key.clone(),
        session_token: None,
        expiration: None,
        issued: None,
    };
    // Undoes the new key when a later step fails: one working key is left, the old one.
    let undo = |why: String| -> Error {
        let undone = match iam.delete_access_key(&old, &new.access_key_id) {
            Ok(()) => format!("the new key {} was deleted again", new.access_key_id),
            Err(e) => format!(
                "the new key {} could not be deleted again ({e}); delete it in the IAM console",
                new.access_key_id
            ),
        };
        Error::Sts(format!(
            "{why}; {undone}, and the old key {} still works where it was",
            old.access_key_id
        ))
    };
    // IAM is eventually consistent: a new key can take some seconds to work everywhere.
    let sts = crate::chain::sts::Sts::new(plan.region.as_deref(), plan.endpoint.as_deref())
        .map_err(|e| undo(format!("cannot start the network runtime: {e}")))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match sts.caller_arn(&fresh) {
            Ok(_) => break,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_secs(2))
            }
            Err(e) => {
                return Err(undo(format!(
                    "the new key did not work within a minute ({e:?})"
                )))
            }
        }
    }
    let stored_at = match &place {
        Place::Store(store) => {
            let bytes = serde_json::to_vec(&fresh).map_err(|e| undo(e.to_string()))?;
            store
                .put(&name, &bytes, None)
                .map_err(|e| undo(format!("could not store the new key ({e})")))?;
            "the keyring".to_string()
        }
        Place::File { id, secret } => {
            // Both lines in one write when they share a file (the usual case), so the
            // file never holds the new id with the old secret.
            let edits = [
                (id, new.access_key_id.as_str()),
                (secret, new.secret_access_key.as_str()),
            ];
            let result = if id.file == secret.file {
                replace_in_file(&edits)
            } else {
                replace_in_file(&edits[..1]).and_then(|()| replace_in_file(&edits[1..]))
            };
            result.map_err(|e| undo(format!("could not write the new key ({e})")))?;
            id.file.display().to_string()
        }
    };
    if let Err(e) = iam.delete_access_key(&fresh, &old.access_key_id) {
        return Err(Error::Sts(format!(
            "the new key {} is stored in {stored_at} and works, but the old key {} could not be deleted ({e}); delete it in the IAM console",
            new.access_key_id, old.access_key_id
        )));
    }
    let dropped = drop_sessions_of(config, &root, app.cache()?);
    crate::env::hook::mark_renewed();
    notice(&format!(
        "rotated the access key of '{root}': {} replaces {} (deleted) in {stored_at}; {dropped} cached session(s) made from the old key dropped",
        new.access_key_id, old.access_key_id
    ));
    Ok(())
}

/// Rewrites `key = value` lines of one of the AWS files: their values only, every other
/// byte of the file kept, written whole with the file's mode.
fn replace_in_file(edits: &[(&crate::chain::config::Setting, &str)]) -> std::io::Result<()> {
    let Some((first, _)) = edits.first() else {
        return Ok(());
    };
    let path = first.file.to_path_buf();
    let text = std::fs::read_to_string(&path)?;
    let mut out = String::with_capacity(text.len() + 64);
    let mut done = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let Some((setting, value)) = edits.iter().find(|(s, _)| s.line == i + 1) else {
            out.push_str(line);
            continue;
        };
        let Some(at) = line.find(['=', ':']) else {
            return Err(std::io::Error::other("the line moved"));
        };
        let (head, rest) = line.split_at(at + 1);
        if rest.trim() != setting.value {
            return Err(std::io::Error::other(format!(
                "{} changed since it was read",
                path.display()
            )));
        }
        let ending = &rest[rest.trim_end_matches(['\r', '\n']).len()..];
        let lead = &rest[..rest.len() - rest.trim_start().len()];
        out.push_str(head);
        out.push_str(lead);
        out.push_str(value);
        out.push_str(ending);
        done += 1;
    }
    if done != edits.len() {
        return Err(std::io::Error::other("a line is gone"));
    }
    let mode = std::fs::metadata(&path)?.permissions();
    crate::sys::dirs::replace_with(&path, out.as_bytes(), Some(mode), || Ok(()))
}

/// `awsrole doctor`: which store each kind of secret goes to here, and why.
fn doctor(app: &App) -> Result<()> {
    let backend = app.backend()?;
    let mut out = String::new();
    for (what, text) in crate::chain::cache::describe_stores(backend) {
        out.push_str(&format!("{}{text}\n", super::pad(&format!("{what}:"), 7)));
    }
    super::emit_shown(&out)
}

/// Why there is no store for long-term keys, and what to do.
fn no_key_store(backend: Backend, to: &str) -> Error {
    Error::Keyring(format!(
        "cannot {to}: {}; 'awsrole doctor' says where secrets go here",
        crate::chain::cache::why_no_key_store(backend)
    ))
}

fn remove(app: &App, profile: &str) -> Result<()> {
    let backend = app.backend()?;
    let store = app
        .secret_store()?
        .ok_or_else(|| no_key_store(backend, "remove keys"))?;
    let name = keyring_name(profile);
    let present = store.get(&name).map_err(Error::Keyring)?.is_some();
    if !present {
        return Err(Error::Keyring(format!(
            "no keys of '{profile}' in the keyring; 'awsrole list' marks the profiles that have some"
        )));
    }
    store.delete(&name).map_err(Error::Keyring)?;
    let dropped = drop_sessions_of(app.config()?, profile, app.cache()?);
    notice(&format!(
        "removed the keys of '{profile}' and {dropped} cached session(s)"
    ));
    Ok(())
}

/// Drops the cached sessions made from `root`'s long-term keys — its MFA session and
/// every hop of the chains that start at it — and no others; how many.
fn drop_sessions_of(config: &AwsConfig, root: &str, cache: &Cache) -> usize {
    let inputs = super::credentials_cmd::listing_inputs();
    let mut derived = vec![root.to_string()];
    for name in config.profiles.keys() {
        if let Ok(plan) = crate::chain::plan::plan(config, name, &inputs) {
            if plan.root.profile() == root
                && matches!(plan.root, crate::chain::plan::Root::Keys { .. })
            {
                derived.extend(plan.hops.iter().map(|h| h.profile.clone()));
            }
        }
    }
    derived.sort();
    derived.dedup();
    derived.iter().map(|p| cache.clear(Some(p))).sum()
}

/// Key id and secret: hidden input on a terminal, else two lines on stdin.
fn read_keys(profile: &str) -> Result<(String, String)> {
    let stdin = std::io::stdin();
    let (id, secret) = if stdin.is_terminal() {
        let ask = |question: String, hidden: bool| {
            crate::sys::tty::ask(&question, hidden).map_err(|e| Error::io("nothing was stored", e))
        };
        let id = ask(format!("Access key id for {profile}: "), false)?;
        let secret = ask(format!("Secret access key for {profile}: "), true)?;
        (id, secret)
    } else {
        let mut lines = stdin.lock().lines();
        let mut next = || lines.next().and_then(|l| l.ok()).unwrap_or_default();
        (next(), next())
    };
    let (id, secret) = (id.trim().to_string(), secret.trim().to_string());
    if id.is_empty() || secret.is_empty() {
        return Err(Error::Usage(
            "give the access key id and the secret access key: two lines on stdin, or at the terminal prompts".into(),
        ));
    }
    Ok((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::cache::key::CacheKey;
    use crate::cli::app::memory::{entry, Memory};
    use crate::sys::output::capture::capture;

    const CONFIG: &str = "[profile role-a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = dev\n\n[profile other]\nrole_arn = arn:aws:iam::123456789012:role/O\nsource_profile = elsewhere\n";
    const CREDENTIALS: &str = "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\n\n[elsewhere]\naws_access_key_id = AKIAELSE\naws_secret_access_key = else-secret\n";

    fn app_over(sessions: &Memory) -> App {
        let config = AwsConfig::from_texts(CONFIG, CREDENTIALS).unwrap();
        App::for_tests(config, Cache::with_store(Box::new(sessions.clone()), 300))
    }

    fn put(app: &App, id: &str, profile: &str) {
        let key = CacheKey { id: id.into() };
        app.cache().unwrap().put(&key, &entry(profile));
    }

    #[test]
    fn cache_list_shows_the_entries_without_a_secret_and_clear_empties_it() {
        let sessions = Memory::default();
        let app = app_over(&sessions);
        put(&app, "k1", "role-a");
        put(&app, "k2", "other");
        let mut ran = None;
        let (out, err) = capture(|| ran = Some(CacheListArgs {}.run(&app)));
        assert_eq!(ran.take().unwrap().unwrap(), Outcome::Done);
        assert!(err.is_empty(), "{err:?}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[0].starts_with("PROFILE") && lines[0].ends_with("LEFT"),
            "{out}"
        );
        assert!(
            lines[1].starts_with("other ") && lines[1].contains(":role/other"),
            "{out}"
        );
        assert!(
            lines[2].starts_with("role-a ") && lines[2].contains(":role/role-a"),
            "{out}"
        );
        assert!(!out.contains("SECRET") && !out.contains("TOKEN"), "{out}");

        let (out, err) = capture(|| ran = Some(CacheClearArgs { profile: None }.run(&app)));
        assert_eq!(ran.take().unwrap().unwrap(), Outcome::Done);
        assert_eq!(out, "");
        assert_eq!(err.len(), 1, "{err:?}");
        assert!(err[0].contains("dropped 2 cached credential(s)"), "{err:?}");
        assert!(sessions.0.borrow().is_empty());
    }

    #[test]
    fn remove_drops_the_keys_and_the_sessions_made_from_them_only() {
        let (sessions, secrets) = (Memory::default(), Memory::default());
        let app = app_over(&sessions).with_secrets(Box::new(secrets.clone()));
        secrets.put(&keyring_name("dev"), b"{}", None).unwrap();
        put(&app, "k1", "role-a");
        put(&app, "k2", "other");
        let mut ran = None;
        let (out, err) = capture(|| {
            ran = Some(
                RemoveArgs {
                    profile: "dev".into(),
                }
                .run(&app),
            )
        });
        assert_eq!(ran.take().unwrap().unwrap(), Outcome::Done);
        assert_eq!(out, "");
        assert!(
            err.len() == 1 && err[0].contains("removed the keys of 'dev' and 1 cached session(s)"),
            "{err:?}"
        );
        assert!(secrets.0.borrow().is_empty());
        let left: Vec<String> = app
            .cache()
            .unwrap()
            .entries()
            .into_iter()
            .filter_map(|(_, e)| e.map(|e| e.profile))
            .collect();
        assert_eq!(left, ["other"]);

        // Nothing left to remove: an error that says where to look.
        let again = RemoveArgs {
            profile: "dev".into(),
        }
        .run(&app);
        assert!(
            matches!(&again, Err(Error::Keyring(m)) if m.contains("no keys of 'dev'")),
            "{again:?}"
        );
    }
}
