//! The reversible change a switch makes to the shell's environment, as one value
//! (direnv's `env_diff.go`, mise's `env_diff.rs`).
//!
//! It records what every managed variable held before the first switch (`prior`) and a
//! fingerprint of what awsrole left in it (`ours`). Reverting puts a variable back only
//! while it still holds what awsrole left there: a variable that another tool changed
//! since (direnv applying or reverting an `.envrc`) is that tool's to put back, so the
//! two hooks undo each other's work correctly in either order.
//!
//! The diff holds earlier values, maybe long-term keys, so it never goes into the
//! environment of a child process: the shell keeps it in an unexported variable and
//! hands it to awsrole for one call only (`AWSROLE_DIFF=… awsrole hook bash`); awsrole
//! takes it out of its own environment before anything else runs.

use std::collections::BTreeMap;

use crate::env::render::{managed, EnvChange};

/// The unexported shell variable that holds the encoded diff.
pub const SHELL_VAR: &str = "__awsrole_diff";
use crate::sys::envdiff::fingerprint;
pub use crate::sys::envdiff::{from_hex, to_hex, EnvDiff};

impl EnvDiff {
    /// What the managed variables hold now, before the first switch.
    pub fn capture(current: &dyn Fn(&str) -> Option<String>) -> EnvDiff {
        EnvDiff {
            prior: managed().map(|n| (n.to_string(), current(n))).collect(),
            ours: BTreeMap::new(),
        }
    }

    /// Notes what `change` leaves in each managed variable.
    pub fn record(&mut self, change: &EnvChange, current: &dyn Fn(&str) -> Option<String>) {
        self.ours = managed()
            .map(|name| {
                let after = after_change(change, name).unwrap_or_else(|| current(name));
                (name.to_string(), fingerprint(after.as_deref()))
            })
            .collect();
    }

    /// The change that puts back what was there, leaving alone what others changed.
    pub fn revert(&self, current: &dyn Fn(&str) -> Option<String>) -> EnvChange {
        let mut change = EnvChange::default();
        for (name, prior) in &self.prior {
            if !crate::env::render::is_managed(name) {
                continue;
            }
            let now = current(name);
            let untouched = match self.ours.get(name) {
                Some(ours) => *ours == fingerprint(now.as_deref()),
                None => true,
            };
            if !untouched || now == *prior {
                continue;
            }
            match prior {
                Some(v) => change.set.push((name.clone(), v.clone())),
                None => change.unset.push(name.clone()),
            }
        }
        change
    }
}

/// `Some(value after)` when `change` touches `name`.
fn after_change(change: &EnvChange, name: &str) -> Option<Option<String>> {
    if let Some((_, v)) = change.set.iter().rev().find(|(k, _)| k == name) {
        return Some(Some(v.clone()));
    }
    change.unset.iter().any(|k| k == name).then_some(None)
}

/// `first`, then `second` on top: what applying both in turn leaves.
pub fn overlay(first: EnvChange, second: &EnvChange) -> EnvChange {
    let touched = |name: &str| {
        second.set.iter().any(|(k, _)| k == name) || second.unset.iter().any(|k| k == name)
    };
    let mut out = EnvChange {
        set: first.set.into_iter().filter(|(k, _)| !touched(k)).collect(),
        unset: first.unset.into_iter().filter(|k| !touched(k)).collect(),
    };
    out.set.extend(second.set.iter().cloned());
    out.unset.extend(second.unset.iter().cloned());
    out
}

/// The value `name` has once `change` is applied over `current`.
pub fn value_after(
    change: &EnvChange,
    current: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<String> {
    after_change(change, name).unwrap_or_else(|| current(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn role_change(region: &str) -> EnvChange {
        EnvChange {
            set: vec![
                ("AWS_ACCESS_KEY_ID".into(), "ASIAROLE".into()),
                ("AWS_REGION".into(), region.into()),
                ("AWSROLE_PROFILE".into(), "role-b".into()),
            ],
            unset: vec!["AWS_PROFILE".into()],
        }
    }

    #[test]
    fn revert_puts_back_what_was_there() {
        let before = env(&[("AWS_ACCESS_KEY_ID", "AKIAUSER"), ("AWS_PROFILE", "mine")]);
        let mut diff = EnvDiff::capture(&before);
        diff.record(&role_change("r1"), &before);
        let during = env(&[
            ("AWS_ACCESS_KEY_ID", "ASIAROLE"),
            ("AWS_REGION", "r1"),
            ("AWSROLE_PROFILE", "role-b"),
        ]);
        let back = diff.revert(&during);
        assert!(back
            .set
            .contains(&("AWS_ACCESS_KEY_ID".into(), "AKIAUSER".into())));
        assert!(back.set.contains(&("AWS_PROFILE".into(), "mine".into())));
        assert!(back.unset.contains(&"AWS_REGION".into()));
        assert!(back.unset.contains(&"AWSROLE_PROFILE".into()));
    }

    #[test]
    fn a_variable_another_tool_changed_since_is_left_to_that_tool() {
        // direnv set AWS_REGION=X before the switch, and reverted it to unset before
        // awsrole's hook ran on the way out: awsrole must not bring X back.
        let before = env(&[("AWS_REGION", "X")]);
        let mut diff = EnvDiff::capture(&before);
        diff.record(&role_change("R"), &before);
        let after_direnv = env(&[
            ("AWS_ACCESS_KEY_ID", "ASIAROLE"),
            ("AWSROLE_PROFILE", "role-b"),
        ]);
        let back = diff.revert(&after_direnv);
        assert!(!back.set.iter().any(|(k, _)| k == "AWS_REGION"), "{back:?}");
        assert!(!back.unset.contains(&"AWS_REGION".into()));
        assert!(back.unset.contains(&"AWS_ACCESS_KEY_ID".into()));
    }

    #[test]
    fn encoding_round_trips_and_holds_no_plain_value() {
        let before = env(&[("AWS_SECRET_ACCESS_KEY", "s3cr3t value")]);
        let mut diff = EnvDiff::capture(&before);
        diff.record(&role_change("r"), &before);
        let hex = diff.encode();
        assert!(!hex.contains("s3cr3t"));
        assert_eq!(EnvDiff::decode(&hex), Some(diff));
        assert_eq!(EnvDiff::decode("zz"), None);
    }

    #[test]
    fn overlay_lets_the_second_change_win() {
        let first = EnvChange {
            set: vec![("A".into(), "1".into())],
            unset: vec!["B".into()],
        };
        let second = EnvChange {
            set: vec![("B".into(), "2".into())],
            unset: vec!["A".into()],
        };
        let out = overlay(first, &second);
        assert_eq!(out.set, vec![("B".to_string(), "2".to_string())]);
        assert_eq!(out.unset, vec!["A".to_string()]);
    }
}
