//! Cache keys: everything that makes a credential what it is, hashed.
//!
//! A hop's key is derived from its parent's *key*, not its secret, so the key of every
//! hop of a chain is known before any credential is read: a warm `export role-e` is one
//! keyring lookup, and two chains that share a prefix share those entries.

use sha2::{Digest, Sha256};

use crate::chain::plan::{ChainPlan, Hop};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// Hex SHA-256; also the keyring entry's name after a fixed prefix.
    pub id: String,
}

fn digest(parts: &[&str]) -> CacheKey {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so no two different part lists hash alike.
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let id = crate::sys::envdiff::to_hex(&h.finalize());
    CacheKey { id }
}

/// A root's own credentials, where they expire (a `credential_process`).
pub fn root_key(identity: &str) -> CacheKey {
    digest(&["root/1", identity])
}

pub fn mfa_session_key(root: &str, serial: &str, endpoint: Option<&str>) -> CacheKey {
    digest(&["mfa-session/1", root, serial, endpoint.unwrap_or("")])
}

pub fn hop_key(parent: &str, hop: &Hop, endpoint: Option<&str>) -> CacheKey {
    let duration = hop.duration.map(|d| d.to_string()).unwrap_or_default();
    digest(&[
        "assume-role/1",
        parent,
        &hop.role_arn,
        hop.external_id.as_deref().unwrap_or(""),
        hop.session_name.as_deref().unwrap_or(""),
        hop.mfa.as_ref().map(|m| m.serial.as_str()).unwrap_or(""),
        &duration,
        endpoint.unwrap_or(""),
    ])
}

/// The keys of a plan: the MFA session's (if any), then one per hop, in call order.
pub fn chain_keys(plan: &ChainPlan, root: &str) -> (Option<CacheKey>, Vec<CacheKey>) {
    let endpoint = plan.endpoint.as_deref();
    let mfa = plan.mfa_session.as_ref().map(|s| {
        let serial = s.mfa.as_ref().map(|m| m.serial.as_str()).unwrap_or("");
        mfa_session_key(root, serial, endpoint)
    });
    let mut parent = mfa
        .as_ref()
        .map(|k| k.id.clone())
        .unwrap_or_else(|| root.to_string());
    let mut hops = Vec::new();
    for hop in &plan.hops {
        let key = hop_key(&parent, hop, endpoint);
        parent = key.id.clone();
        hops.push(key);
    }
    (mfa, hops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::config::AwsConfig;
    use crate::chain::plan::{plan, PlanInputs};

    const CFG: &str = "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = base\n\
        [profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n\
        [profile c]\nrole_arn = arn:aws:iam::1:role/C\nsource_profile = b\n[profile base]\n";

    fn keys(cfg: &str, target: &str) -> Vec<CacheKey> {
        let p = plan(
            &AwsConfig::from_texts(cfg, "").unwrap(),
            target,
            &PlanInputs::default(),
        )
        .unwrap();
        chain_keys(&p, "keys:AKID").1
    }

    #[test]
    fn chains_sharing_a_prefix_share_keys() {
        let c = keys(CFG, "c");
        let b = keys(CFG, "b");
        assert_eq!(c[..2], b[..]);
        assert_ne!(c[2], b[1]);
    }

    #[test]
    fn every_input_changes_the_key() {
        let base = keys(CFG, "c");
        for edit in [
            "[profile b]\nexternal_id = x\n",
            "[profile b]\nrole_session_name = me\n",
            "[profile b]\nmfa_serial = arn:aws:iam::1:mfa/u\n",
            "[profile b]\nduration_seconds = 1800\n",
        ] {
            let edited = keys(&format!("{CFG}{edit}"), "c");
            assert_eq!(edited[0], base[0], "{edit}");
            assert_ne!(edited[1], base[1], "{edit}");
            assert_ne!(
                edited[2], base[2],
                "a changed parent must change the child: {edit}"
            );
        }
        // One endpoint serves the whole chain, so it changes every hop's key.
        let elsewhere = keys(
            &format!("{CFG}[profile c]\nendpoint_url = http://elsewhere\n"),
            "c",
        );
        assert!(elsewhere.iter().zip(&base).all(|(a, b)| a != b));
        let other_role = keys(&CFG.replace("role/B", "role/B2"), "c");
        assert_ne!(other_role[1], base[1]);
    }
}
