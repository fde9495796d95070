//! Profile names for `sso sync` (pure): the name template, the normalisation to names
//! the AWS CLI and every shell take as they are, and the choice of a unique name for
//! each account and role, stable from one sync to the next.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::error::{Error, Result};

pub const DEFAULT_TEMPLATE: &str = "{account_name}/{role_name}";

const PLACEHOLDERS: [&str; 4] = ["account_name", "account_id", "role_name", "sso_session"];

/// A parsed `--name-template`: literal text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(&'static str),
}

/// What one generated profile stands for: an account and one of its roles.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Assignment {
    pub account_id: String,
    pub role_name: String,
}

/// The values a template is filled with.
pub struct Fields<'a> {
    pub account_name: &'a str,
    pub account_id: &'a str,
    pub role_name: &'a str,
    pub sso_session: &'a str,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template> {
        let bad = |problem: String| {
            Error::Usage(format!(
                "--name-template '{text}': {problem}; the placeholders are {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ))
        };
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Text(rest.to_string()));
                    break;
                }
                Some(at) if rest.as_bytes()[at] == b'}' => {
                    return Err(bad("a '}' with no '{' before it".into()))
                }
                Some(at) => {
                    if at > 0 {
                        parts.push(Part::Text(rest[..at].to_string()));
                    }
                    let Some(close) = rest[at..].find('}') else {
                        return Err(bad("a '{' with no '}' after it".into()));
                    };
                    let name = &rest[at + 1..at + close];
                    let Some(field) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                        return Err(bad(format!("there is no placeholder {{{name}}}")));
                    };
                    parts.push(Part::Field(field));
                    rest = &rest[at + close + 1..];
                }
            }
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Part::Field("account_name" | "account_id")))
        {
            return Err(bad(
                "it names no account ({account_name} or {account_id}), so every account would get the same names".into(),
            ));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The profile name for these values, normalised.
    pub fn render(&self, fields: &Fields) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field("account_name") if fields.account_name.trim().is_empty() => {
                    out.push_str(fields.account_id)
                }
                Part::Field("account_name") => out.push_str(fields.account_name),
                Part::Field("account_id") => out.push_str(fields.account_id),
                Part::Field("role_name") => out.push_str(fields.role_name),
                Part::Field(_) => out.push_str(fields.sso_session),
            }
        }
        let name = normalise(&out);
        if name.is_empty() {
            normalise(&format!("{}-{}", fields.account_id, fields.role_name))
        } else {
            name
        }
    }
}

/// Characters kept in a generated name: what botocore's section-header split, the AWS
/// CLI's `--profile`, `AWS_PROFILE` and an unquoted shell word all take as they are.
fn kept(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@' | '+')
}

/// Each run of other characters (spaces, quotes, brackets, `#`, `;`, `=`, non-ASCII…)
/// becomes one `-` (merged with a `-` beside it); each `/`-separated part loses its
/// `-` and `.` at either end, and empty parts go (a leading `-` reads as an option,
/// `a//b` or a trailing `/` looks like a path).
pub fn normalise(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut after_replacement = false;
    for c in raw.chars() {
        if kept(c) && !(c == '-' && after_replacement) {
            out.push(c);
            after_replacement = false;
        } else if !kept(c) && !out.ends_with('-') {
            out.push('-');
            after_replacement = true;
        } else {
            after_replacement = true;
        }
    }
    out.split('/')
        .map(|part| part.trim_matches(|c| matches!(c, '-' | '.')))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The outcome of naming: a name per assignment, what was skipped and what renamed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Naming {
    pub names: BTreeMap<Assignment, String>,
    /// The template's name is a profile written by hand (or `default`): left alone.
    pub skipped: Vec<(Assignment, String)>,
    /// Two assignments wanted one name: (assignment, wanted, given).
    pub renamed: Vec<(Assignment, String, String)>,
}

/// Gives each assignment its wanted name unless that is `taken` (written by hand:
/// skipped) or wanted by another one too. Of those that want one name, the one that
/// had it at the last sync keeps it (`previous`), else the first by account id and
/// role; the others get `-<account id>` appended (then `-2`, `-3`…), so one new account
/// never renames the profiles people already use. `reserved` are names kept from the
/// last sync (`--keep-removed`): nobody else gets them.
pub fn assign(
    wanted: &[(Assignment, String)],
    previous: &BTreeMap<Assignment, String>,
    taken: &HashSet<String>,
    reserved: &BTreeSet<String>,
) -> Naming {
    let mut naming = Naming::default();
    let mut by_name: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
    for (a, name) in wanted {
        if taken.contains(name) || name == "default" {
            naming.skipped.push((a.clone(), name.clone()));
        } else {
            by_name.entry(name).or_default().push(a);
        }
    }
    let mut used: HashSet<String> = reserved.iter().cloned().collect();
    let mut losers = Vec::new();
    for (name, mut claimants) in by_name {
        claimants.sort();
        if used.contains(name) {
            losers.extend(claimants.into_iter().map(|a| (a, name)));
            continue;
        }
        let winner = claimants
            .iter()
            .position(|a| previous.get(*a).map(String::as_str) == Some(name))
            .unwrap_or(0);
        let first = claimants.remove(winner);
        used.insert(name.to_string());
        naming.names.insert(first.clone(), name.to_string());
        losers.extend(claimants.into_iter().map(|a| (a, name)));
    }
    for (a, name) in losers {
        let base = format!("{name}-{}", a.account_id);
        // The name it got last time, when it is one of the forms it could get now.
        let earlier = previous
            .get(a)
            .filter(|p| **p == base || p.strip_prefix(&format!("{base}-")).is_some())
            .filter(|p| !used.contains(*p) && !taken.contains(*p));
        let given = match earlier {
            Some(p) => p.clone(),
            None => std::iter::once(base.clone())
                .chain((2..).map(|n| format!("{base}-{n}")))
                .find(|c| !used.contains(c) && !taken.contains(c))
                .expect("an unused name"),
        };
        used.insert(given.clone());
        naming.names.insert(a.clone(), given.clone());
        naming.renamed.push((a.clone(), name.to_string(), given));
    }
    naming
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(name: &'a str, id: &'a str, role: &'a str) -> Fields<'a> {
        Fields {
            account_name: name,
            account_id: id,
            role_name: role,
            sso_session: "corp",
        }
    }

    fn a(id: &str, role: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            role_name: role.into(),
        }
    }

    #[test]
    fn the_default_template_is_account_name_slash_role() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            t.render(&fields("prod-web", "111111111111", "Admin")),
            "prod-web/Admin"
        );
        let t = Template::parse("{sso_session}.{account_id}-{role_name}").unwrap();
        assert_eq!(
            t.render(&fields("x", "111111111111", "ReadOnly")),
            "corp.111111111111-ReadOnly"
        );
    }

    #[test]
    fn names_are_normalised_to_what_the_aws_cli_and_shells_take() {
        let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            t.render(&fields("Prod (EU) #1; web=x", "1", "Admin Access")),
            "Prod-EU-1-web-x/Admin-Access"
        );
        assert_eq!(
            t.render(&fields("  -Été  ", "1", "R")),
            "t/R",
            "no leading dash"
        );
        assert_eq!(normalise("a\tb\nc[d]"), "a-b-c-d");
        assert_eq!(normalise("x.y@z+w_v"), "x.y@z+w_v");
        // An account without a name is named by its id.
        assert_eq!(t.render(&fields("", "123", "R")), "123/R");
        assert_eq!(
            Template::parse("{account_id}---")
                .unwrap()
                .render(&fields("", "7", "R")),
            "7"
        );
    }

    #[test]
    fn a_template_is_checked_before_anything_is_listed() {
        for (bad, says) in [
            ("{account}/{role_name}", "no placeholder {account}"),
            ("{account_id", "no '}'"),
            ("x}{account_id}", "no '{'"),
            ("{role_name}", "names no account"),
        ] {
            let e = Template::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains("{account_name}"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn hand_written_names_and_default_are_skipped_never_taken() {
        let wanted = vec![
            (a("1", "Admin"), "dev/Admin".to_string()),
            (a("1", "Read"), "default".to_string()),
            (a("2", "Admin"), "prod/Admin".to_string()),
        ];
        let taken = HashSet::from(["dev/Admin".to_string()]);
        let n = assign(&wanted, &BTreeMap::new(), &taken, &BTreeSet::new());
        assert_eq!(n.names.len(), 1);
        assert_eq!(n.names[&a("2", "Admin")], "prod/Admin");
        assert_eq!(
            n.skipped,
            vec![
                (a("1", "Admin"), "dev/Admin".into()),
                (a("1", "Read"), "default".into())
            ]
        );
    }

    #[test]
    fn clashes_get_the_account_id_and_the_earlier_holder_keeps_the_name() {
        let wanted = vec![
            (a("222", "Admin"), "dev/Admin".to_string()),
            (a("111", "Admin"), "dev/Admin".to_string()),
            (a("333", "Admin"), "dev/Admin".to_string()),
        ];
        let n = assign(&wanted, &BTreeMap::new(), &HashSet::new(), &BTreeSet::new());
        assert_eq!(n.names[&a("111", "Admin")], "dev/Admin", "lowest id first");
        assert_eq!(n.names[&a("222", "Admin")], "dev/Admin-222");
        assert_eq!(n.names[&a("333", "Admin")], "dev/Admin-333");
        assert_eq!(n.renamed.len(), 2);

        // A new account that sorts first does not take the name from the one that had it.
        let previous = BTreeMap::from([(a("222", "Admin"), "dev/Admin".to_string())]);
        let n = assign(&wanted, &previous, &HashSet::new(), &BTreeSet::new());
        assert_eq!(n.names[&a("222", "Admin")], "dev/Admin");
        assert_eq!(n.names[&a("111", "Admin")], "dev/Admin-111");
    }

    #[test]
    fn a_made_up_name_never_lands_on_another_wanted_or_hand_written_one() {
        // Two roles of one account that normalise alike, and a hand-written profile
        // where the first unique name would go.
        let wanted = vec![
            (a("1", "Admin Role"), "x/Admin-Role".to_string()),
            (a("1", "Admin-Role"), "x/Admin-Role".to_string()),
            (a("1", "Admin.Role"), "x/Admin-Role-1".to_string()),
        ];
        let taken = HashSet::from(["x/Admin-Role-1-2".to_string()]);
        let n = assign(&wanted, &BTreeMap::new(), &taken, &BTreeSet::new());
        let mut given: Vec<&str> = n.names.values().map(String::as_str).collect();
        given.sort();
        assert_eq!(
            given,
            ["x/Admin-Role", "x/Admin-Role-1", "x/Admin-Role-1-3"]
        );
    }

    #[test]
    fn names_kept_with_keep_removed_are_not_handed_out_again() {
        let wanted = vec![(a("9", "Admin"), "old/Admin".to_string())];
        let reserved = BTreeSet::from(["old/Admin".to_string()]);
        let n = assign(&wanted, &BTreeMap::new(), &HashSet::new(), &reserved);
        assert_eq!(n.names[&a("9", "Admin")], "old/Admin-9");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any text, any Unicode: a name of kept characters only, no part starting or
        /// ending with `-` or `.`, none empty, and normalising it again changes nothing.
        #[test]
        fn normalised_names_are_plain_words(raw in "\\PC{0,40}") {
            let name = normalise(&raw);
            proptest::prop_assert!(name.chars().all(kept), "{name:?}");
            for part in name.split('/') {
                proptest::prop_assert!(!part.is_empty() || name.is_empty(), "{name:?}");
                proptest::prop_assert!(!part.starts_with(['-', '.']) && !part.ends_with(['-', '.']), "{name:?}");
            }
            proptest::prop_assert_eq!(normalise(&name), name);
        }
    }
}
