//! The session document of `aws login`, where it is kept: the AWS CLI's
//! `~/.aws/login/cache/<sha256 of the ARN>.json` (`AWS_LOGIN_CACHE_DIRECTORY`), read
//! safely and written back as botocore does (atomically, 0600, unknown fields kept), and
//! awsrole's own sign-ins in the OS keyring, the same document.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::cache::{name_prefix, SecretStore};
use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

/// The largest session document read: a real one is about 2 KB.
pub const MAX_FILE: u64 = 64 * 1024;

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub access_token: AccessToken,
    pub client_id: String,
    pub refresh_token: String,
    pub dpop_key: String,
    /// `tokenType`, `idToken` and anything a later CLI adds, kept as they were.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub expires_at: String,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Document {
    // Never print a secret, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("access_key_id", &self.access_token.access_key_id)
            .field("expires_at", &self.access_token.expires_at)
            .finish_non_exhaustive()
    }
}

/// The fields botocore requires.
const REQUIRED: [&str; 4] = ["accessToken", "refreshToken", "dpopKey", "clientId"];

impl Document {
    pub fn parse(bytes: &[u8]) -> std::result::Result<Document, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| "it is not a JSON document (cut short?)")?;
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|k| value.get(**k).is_none())
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(format!("it lacks {}", missing.join(", ")));
        }
        serde_json::from_value(value).map_err(|e| format!("it is not a login session ({e})"))
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.access_token.expires_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn seconds_left(&self, now: DateTime<Utc>) -> i64 {
        self.expires_at()
            .map(|e| (e - now).num_seconds())
            .unwrap_or(i64::MIN)
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_token.access_key_id.clone(),
            secret_access_key: self.access_token.secret_access_key.clone(),
            session_token: Some(self.access_token.session_token.clone()),
            expiration: self.expires_at(),
            issued: None,
        }
    }
}

/// `sha256_hex(utf8(ARN))`: the file name every SDK uses.
pub fn sha256_hex(text: &str) -> String {
    crate::sys::envdiff::to_hex(&Sha256::digest(text.as_bytes()))
}

/// The AWS CLI's cache folder.
pub fn cache_dir() -> Result<PathBuf> {
    match crate::sys::settings::var("AWS_LOGIN_CACHE_DIRECTORY") {
        Ok(dir) if !dir.is_empty() => Ok(match dir.strip_prefix("~/") {
            Some(rest) => crate::sys::dirs::home()?.join(rest),
            None => PathBuf::from(dir),
        }),
        _ => Ok(crate::sys::dirs::home()?
            .join(".aws")
            .join("login")
            .join("cache")),
    }
}

pub fn cli_file(arn: &str) -> Result<PathBuf> {
    Ok(cache_dir()?.join(format!("{}.json", sha256_hex(arn))))
}

/// What was found at the CLI's file.
pub enum FileState {
    Missing,
    /// There, but not usable; why (no secret).
    Unusable(String),
    Found(Box<Document>),
}

pub fn read_file(path: &Path) -> FileState {
    match crate::chain::root::sso::token::read_bounded(path, MAX_FILE) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Missing,
        Err(e) => FileState::Unusable(e.to_string()),
        Ok(bytes) => match Document::parse(&bytes) {
            Ok(doc) => FileState::Found(Box::new(doc)),
            Err(why) => FileState::Unusable(why),
        },
    }
}

pub fn write_file(path: &Path, doc: &Document) -> Result<()> {
    let bytes =
        serde_json::to_vec(doc).map_err(|e| Error::io("cannot encode the sign-in session", e))?;
    crate::chain::root::sso::token::write_cache_file(path, &bytes)
}

pub fn keyring_name(arn: &str) -> String {
    format!("{}{}", name_prefix("login"), sha256_hex(arn))
}

/// How long a session refreshes at most (AWS: 12 hours): the keyring keeps it as long.
pub const SESSION_HOURS: i64 = 12;
/// Where the keyring copy remembers when its session ends.
const KEEP_UNTIL: &str = "awsroleKeepUntil";

pub fn read_keyring(store: &dyn SecretStore, arn: &str) -> Option<Document> {
    match store.get(&keyring_name(arn)) {
        Ok(Some(bytes)) => Document::parse(&bytes).ok(),
        Ok(None) => None,
        Err(e) => {
            crate::chain::cache::warn(&format!(
                "cannot read the login session from the keyring ({e})"
            ));
            None
        }
    }
}

pub fn write_keyring(store: &dyn SecretStore, arn: &str, doc: &Document) -> Result<()> {
    let mut doc = doc.clone();
    let keep = doc
        .other
        .get(KEEP_UNTIL)
        .and_then(|v| v.as_i64())
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .unwrap_or_else(|| Utc::now() + chrono::Duration::hours(SESSION_HOURS));
    doc.other
        .insert(KEEP_UNTIL.into(), serde_json::json!(keep.timestamp()));
    let bytes = serde_json::to_vec(&doc).map_err(|e| Error::Keyring(e.to_string()))?;
    store
        .put(&keyring_name(arn), &bytes, Some(keep))
        .map_err(|e| Error::Keyring(format!("cannot keep the login session in the keyring: {e}")))
}

/// Drops the keyring's copy of a session, if any (a failure only warns: the copy is
/// then refused at its next refresh and the file's used).
pub fn delete_keyring(store: &dyn SecretStore, arn: &str) {
    if let Err(e) = store.delete(&keyring_name(arn)) {
        crate::chain::cache::warn(&format!(
            "cannot drop the keyring's copy of the login session ({e})"
        ));
    }
}

/// `doc` with the bookkeeping of the keyring's copy of the same session (when its
/// keeping ends), to write back to the keyring after the file's copy was refreshed.
pub fn with_bookkeeping_of(doc: &Document, keyring_copy: &Document) -> Document {
    let mut doc = doc.clone();
    if let Some(keep) = keyring_copy.other.get(KEEP_UNTIL) {
        doc.other.insert(KEEP_UNTIL.into(), keep.clone());
    }
    doc
}

/// The document as the AWS CLI keeps it: without awsrole's own bookkeeping.
pub fn for_cli(doc: &Document) -> Document {
    let mut doc = doc.clone();
    doc.other.remove(KEEP_UNTIL);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"accessToken":{"accessKeyId":"ASIA1","secretAccessKey":"S","sessionToken":"T","accountId":"123456789012","expiresAt":"2026-12-02T10:15:00Z"},"tokenType":"aws_sigv4","clientId":"arn:aws:signin:::devtools/same-device","refreshToken":"R","idToken":"I","dpopKey":"K","future":[1]}"#;

    #[test]
    fn the_file_name_is_the_sha256_of_the_arn() {
        // Plain SHA-256 of the ARN's UTF-8, in lowercase hex (botocore's
        // generate_login_cache_key).
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_cli_document_round_trips_with_unknown_fields_kept() {
        let doc = Document::parse(FILE.as_bytes()).unwrap();
        assert_eq!(
            doc.seconds_left("2026-12-02T10:00:00Z".parse().unwrap()),
            900
        );
        let back = serde_json::to_value(&doc).unwrap();
        let original: serde_json::Value = serde_json::from_str(FILE).unwrap();
        assert_eq!(back, original);
        assert!(!format!("{doc:?}").contains("\"S\""));
        assert!(!format!("{doc:?}").contains('R'));
    }

    #[test]
    fn a_document_without_what_botocore_requires_says_what_it_lacks() {
        let err = Document::parse(br#"{"accessToken":{},"clientId":"c"}"#).unwrap_err();
        assert!(err.contains("refreshToken, dpopKey"), "{err}");
        let cut = &FILE.as_bytes()[..FILE.len() / 2];
        assert!(Document::parse(cut).unwrap_err().contains("cut short"));
    }
}
