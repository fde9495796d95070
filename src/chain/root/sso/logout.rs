//! Signing out of an IAM Identity Center sign-in (`awsrole sso logout`): the portal's
//! Logout for each token that is still good, the tokens dropped (the keyring's, and the
//! AWS CLI's file, as `aws sso logout` does), and every credential cached from the
//! sign-in. The command chooses the sign-ins and says what was dropped.

use std::path::PathBuf;

use chrono::Utc;

use super::token::{self, Origin};
use super::{known_tokens, SignIn};
use crate::chain::cache::key::{chain_keys, root_key};
use crate::chain::cache::{Cache, SecretStore};
use crate::chain::plan::{ChainPlan, Root};
use crate::chain::root;
use crate::error::Result;

/// One thing a sign-out dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// The token in the keyring (`store`).
    KeyringToken,
    /// The AWS CLI's copy of the token, this file.
    CliToken(PathBuf),
    /// This many cached credentials made from the sign-in (roots and hops).
    Cached(usize),
}

/// Signs out of `sign_in`: Logout at the portal for each live token (a failure there is
/// warned about, and the token dropped here anyway), the tokens deleted from `store` and
/// the AWS CLI's cache, and the cached credentials of those of `plans` that start at this
/// sign-in. What was dropped, in that order; empty when there was nothing.
pub fn logout(
    sign_in: &SignIn,
    store: Option<&dyn SecretStore>,
    cache: &Cache,
    plans: &[ChainPlan],
) -> Result<Vec<Dropped>> {
    let found = known_tokens(sign_in, store);
    let mut dropped = Vec::new();
    let mut live: Vec<&str> = found
        .iter()
        .filter(|(t, _)| t.seconds_left(Utc::now()) > 0)
        .map(|(t, _)| t.access_token.as_str())
        .collect();
    live.dedup();
    if !live.is_empty() {
        let clients = super::client::Clients::new(&sign_in.region)?;
        for access_token in live {
            if let Err(e) = clients.logout(access_token) {
                crate::chain::cache::warn(&format!(
                    "the portal's Logout for {} failed ({e}); the token is dropped here anyway",
                    sign_in.name()
                ));
            }
        }
    }
    for (_, origin) in &found {
        match origin {
            Origin::Keyring => {
                if let Some(store) = store {
                    let _ = store.delete(&token::keyring_name(sign_in.key()));
                    dropped.push(Dropped::KeyringToken);
                }
            }
            // As `aws sso logout` does: the AWS CLI's copy is spent too.
            Origin::File(path) => {
                if std::fs::remove_file(path).is_ok() {
                    dropped.push(Dropped::CliToken(path.clone()));
                }
            }
        }
    }
    // Every cached credential that came from this sign-in: the roots and each hop.
    let cached = drop_cached(cache, plans.iter().filter(|p| starts_at(p, sign_in)));
    if cached > 0 {
        dropped.push(Dropped::Cached(cached));
    }
    Ok(dropped)
}

/// Whether `plan`'s chain starts at this sign-in.
pub fn starts_at(plan: &ChainPlan, sign_in: &SignIn) -> bool {
    matches!(&plan.root, Root::Sso { sso, .. } if sso.token_key() == sign_in.key())
}

/// Drops every cached credential of these chains — their roots and each hop — and
/// says how many there were (a sign-out's: of IAM Identity Center, or of a
/// `login_session`).
pub fn drop_cached<'a>(cache: &Cache, plans: impl Iterator<Item = &'a ChainPlan>) -> usize {
    let mut dropped = 0;
    for p in plans {
        let identity = root::identity(&p.root);
        let (_, hops) = chain_keys(p, &identity);
        for key in std::iter::once(root_key(&identity)).chain(hops) {
            if cache.remove(&key) {
                dropped += 1;
            }
        }
    }
    dropped
}

#[cfg(test)]
mod tests {

    use chrono::Utc;

    use super::*;
    use crate::chain::cache::memory::Memory;
    use crate::chain::cache::CacheEntry;
    use crate::chain::config::AwsConfig;
    use crate::chain::credentials::Credentials;
    use crate::chain::plan::{plan, PlanInputs};

    fn entry(profile: &str) -> CacheEntry {
        CacheEntry {
            profile: profile.into(),
            role: "arn:aws:iam::123456789012:role/R".into(),
            credentials: Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "S".into(),
                session_token: Some("T".into()),
                expiration: Some(Utc::now() + chrono::Duration::seconds(3600)),
                issued: None,
            },
            session: None,
        }
    }

    #[test]
    fn signing_out_drops_what_was_cached_from_that_sign_in_only() {
        let config = AwsConfig::from_texts(
            "[sso-session awsrole-unit-test-logout]\nsso_start_url = https://unit-test.invalid/start\nsso_region = eu-west-1\n\n[profile portal]\nsso_session = awsrole-unit-test-logout\nsso_account_id = 123456789012\nsso_role_name = Dev\n\n[profile above]\nrole_arn = arn:aws:iam::123456789012:role/Above\nsource_profile = portal\n\n[profile keys-role]\nrole_arn = arn:aws:iam::123456789012:role/K\nsource_profile = dev\n",
            "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = s\n",
        )
        .unwrap();
        let inputs = PlanInputs {
            skip_suggestions: true,
            ..PlanInputs::default()
        };
        let plans: Vec<ChainPlan> = ["portal", "above", "keys-role"]
            .iter()
            .map(|p| plan(&config, p, &inputs).unwrap())
            .collect();
        let memory = Memory::default();
        let cache = Cache::with_store(Box::new(memory.clone()), 300);
        for p in &plans {
            let identity = root::identity(&p.root);
            let (_, hops) = chain_keys(p, &identity);
            cache.put(&root_key(&identity), &entry(&p.target));
            for hop in hops {
                cache.put(&hop, &entry(&p.target));
            }
        }
        // portal's root, above's root (the same key) and above's hop; keys-role's two stay.
        let before = memory.0.borrow().len();
        let sign_in = match &plans[0].root {
            Root::Sso { sso, profile } => SignIn::of_root(sso, profile),
            other => panic!("{other:?}"),
        };
        assert!(starts_at(&plans[1], &sign_in) && !starts_at(&plans[2], &sign_in));
        let store = Memory::default();
        let dropped = logout(&sign_in, Some(&store), &cache, &plans).unwrap();
        assert_eq!(dropped, [Dropped::Cached(before - 2)]);
        assert_eq!(memory.0.borrow().len(), 2);
        // Nothing left: nothing dropped.
        assert!(logout(&sign_in, Some(&store), &cache, &plans)
            .unwrap()
            .is_empty());
    }
}
