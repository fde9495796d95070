//! The sign-in token of one IAM Identity Center session, where it is kept: awsrole's own
//! logins in the OS keyring, and the AWS CLI's `~/.aws/sso/cache/<sha1>.json`, read so a
//! user of `aws sso login` need not sign in twice, and written back (atomically, 0600)
//! only when awsrole refreshes a token that came from it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::chain::cache::{name_prefix, SecretStore};
use crate::error::{Error, Result};

/// The AWS CLI's token document; fields this version does not know are kept as they
/// were when the file is written back.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub access_token: String,
    #[serde(with = "timestamp")]
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_timestamp"
    )]
    pub registration_expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_url: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Token {
    // Never print a secret, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_at", &self.expires_at)
            .field("refreshable", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl Token {
    pub fn seconds_left(&self, now: DateTime<Utc>) -> i64 {
        (self.expires_at - now).num_seconds()
    }

    /// botocore's conditions for a refresh: a refresh token and an unexpired client
    /// registration to present it with.
    pub fn refreshable(&self, now: DateTime<Utc>) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|e| e > now)
    }

    /// How long the keyring should keep it: while it can still be used or refreshed.
    pub fn keep_until(&self) -> DateTime<Utc> {
        match self.registration_expires_at {
            Some(r) if self.refresh_token.is_some() => r.max(self.expires_at),
            _ => self.expires_at,
        }
    }
}

/// Where a token was found, and so where a refreshed one goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    Keyring,
    File(PathBuf),
}

pub fn sha1_hex(text: &str) -> String {
    crate::sys::envdiff::to_hex(&Sha1::digest(text.as_bytes()))
}

/// The AWS CLI's token file for a session name (or a legacy start URL).
pub fn cli_file(key: &str) -> Result<PathBuf> {
    Ok(crate::sys::dirs::home()?
        .join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{}.json", sha1_hex(key))))
}

pub fn keyring_name(key: &str) -> String {
    format!("{}{}", name_prefix("sso"), sha1_hex(key))
}

pub fn read_keyring(store: &dyn SecretStore, key: &str) -> Option<Token> {
    match store.get(&keyring_name(key)) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
        Ok(None) => None,
        Err(e) => {
            crate::chain::cache::warn(&format!(
                "cannot read the sign-in token from the keyring ({e})"
            ));
            None
        }
    }
}

pub fn write_keyring(store: &dyn SecretStore, key: &str, token: &Token) -> Result<()> {
    let bytes = serde_json::to_vec(token).map_err(|e| Error::Keyring(e.to_string()))?;
    store
        .put(&keyring_name(key), &bytes, Some(token.keep_until()))
        .map_err(|e| Error::Keyring(format!("cannot keep the sign-in token in the keyring: {e}")))
}

/// The largest token document read: a real one is a few hundred bytes.
const MAX_FILE: u64 = 1 << 20;

/// A token file that is missing, unreadable or not a token document is no token; a
/// malformed one is left for the AWS CLI to deal with. Opened without blocking (a FIFO
/// would hang the prompt for ever), a regular file only, and never more than
/// [`MAX_FILE`] read, whatever its size.
pub fn read_file(path: &Path) -> Option<Token> {
    serde_json::from_slice(&read_bounded(path, MAX_FILE).ok()?).ok()
}

/// The bytes of a small file that another program writes (the AWS CLI's token caches):
/// opened without blocking, a regular file only, never more than `max` bytes read.
/// The error says which of these it was not.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidData, "not a regular file"));
    }
    let too_large = || Error::new(ErrorKind::InvalidData, format!("larger than {max} bytes"));
    if meta.len() > max {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// Writes a token file as botocore does: the whole file at once (a temporary file in
/// the same directory, then a rename), mode 0600, the directory 0700 when made here.
pub fn write_file(path: &Path, token: &Token) -> Result<()> {
    let bytes =
        serde_json::to_vec(token).map_err(|e| Error::io("cannot encode the sign-in token", e))?;
    write_cache_file(path, &bytes)
}

/// One of the AWS CLI's cache files (SSO tokens, login sessions), as botocore writes
/// them: whole, mode 0600, its directory 0700 when made here.
pub fn write_cache_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Error::io(format!("cannot write {}", path.display()), e);
    let dir = path.parent().expect("a cache file has a directory");
    create_dir(dir).map_err(fail)?;
    crate::sys::dirs::replace_private(path, bytes).map_err(fail)
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// `2026-11-30T10:00:00Z` as the AWS CLI writes it; also any RFC 3339 time, and the
/// `…UTC` form of older CLI versions.
mod timestamp {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SUTC")
                    .ok()
                    .map(|t| t.and_utc())
            })
    }

    pub fn text(t: &DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom("not a timestamp"))
    }
}

mod optional_timestamp {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::timestamp::text(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        Ok(text.as_deref().and_then(super::timestamp::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_the_sha1_the_sdks_use() {
        // Test vectors of the Rust SDK's token provider.
        assert_eq!(sha1_hex("test"), "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
        assert_eq!(
            sha1_hex("https://ssotest.awsapps.com/start"),
            "dace00cba5f8355ec9d274ceb2bcebdfbeed0e12"
        );
    }

    #[test]
    fn a_cli_token_round_trips_with_unknown_fields_kept() {
        let text = r#"{"startUrl":"https://x.awsapps.com/start","region":"eu-west-1","accessToken":"AT","expiresAt":"2026-11-30T10:00:00Z","clientId":"C","clientSecret":"S","registrationExpiresAt":"2027-02-01T00:00:00Z","refreshToken":"R","futureField":{"a":1}}"#;
        let token: Token = serde_json::from_str(text).unwrap();
        assert_eq!(timestamp::text(&token.expires_at), "2026-11-30T10:00:00Z");
        let now = DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(token.refreshable(now));
        assert_eq!(token.seconds_left(now), 3600);
        let back: serde_json::Value = serde_json::to_value(&token).unwrap();
        let original: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, original);
        assert!(!format!("{token:?}").contains("AT"));
    }

    #[test]
    fn older_cli_timestamps_and_missing_registration() {
        let token: Token = serde_json::from_str(
            r#"{"accessToken":"AT","expiresAt":"2019-11-14T04:05:45UTC","refreshToken":"R"}"#,
        )
        .unwrap();
        assert_eq!(token.expires_at.timestamp(), 1573704345);
        assert!(!token.refreshable(Utc::now()), "no client registration");
        assert!(
            serde_json::from_str::<Token>(r#"{"accessToken":"AT","expiresAt":"soon"}"#).is_err()
        );
    }
}
