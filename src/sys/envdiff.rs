//! The shell's diff as a value: what each managed variable held before the first switch
//! (`prior`) and a fingerprint of what awsrole left in it (`ours`), encoded as hex of
//! JSON so it is inert in every shell's quoting. How a diff is made and reverted is
//! `env::envdiff`'s; this is the form `settings` reads the user's own values from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvDiff {
    #[serde(rename = "p")]
    pub(crate) prior: BTreeMap<String, Option<String>>,
    #[serde(rename = "o", default)]
    pub(crate) ours: BTreeMap<String, Option<String>>,
}

pub(crate) fn fingerprint(value: Option<&str>) -> Option<String> {
    value.map(|v| {
        let digest = Sha256::digest(v.as_bytes());
        to_hex(&digest[..8])
    })
}

impl EnvDiff {
    /// What `name` held before the first switch (`None`: unset, or not recorded).
    pub fn prior(&self, name: &str) -> Option<String> {
        self.prior.get(name).cloned().flatten()
    }

    /// Hex of JSON: inert in every shell's quoting, whatever bytes the values hold.
    pub fn encode(&self) -> String {
        to_hex(&serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(hex: &str) -> Option<EnvDiff> {
        serde_json::from_slice(&from_hex(hex)?).ok()
    }

    /// Records what `name` held before the first switch.
    pub fn set_prior(&mut self, name: &str, value: Option<String>) {
        self.prior.insert(name.to_string(), value);
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
