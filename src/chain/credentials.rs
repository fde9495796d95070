//! Credentials in process memory. Debug output never shows a secret.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(rename = "k")]
    pub access_key_id: String,
    #[serde(rename = "s")]
    pub secret_access_key: String,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    #[serde(
        rename = "e",
        default,
        skip_serializing_if = "Option::is_none",
        with = "epoch"
    )]
    pub expiration: Option<DateTime<Utc>>,
    /// When they were issued, where known.
    #[serde(
        rename = "i",
        default,
        skip_serializing_if = "Option::is_none",
        with = "epoch"
    )]
    pub issued: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// RFC 3339 in UTC with `Z`, as botocore and Starship parse it.
    pub fn expiration_text(&self) -> Option<String> {
        self.expiration
            .map(|e| e.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    pub fn seconds_left(&self, now: DateTime<Utc>) -> Option<i64> {
        self.expiration.map(|e| (e - now).num_seconds())
    }
}

/// Expiry stored as Unix seconds: compact, for the keyutils quota.
mod epoch {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_i64(t.timestamp()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let secs: Option<i64> = Option::deserialize(d)?;
        Ok(secs.and_then(|s| DateTime::from_timestamp(s, 0)))
    }
}
