//! The marked block `sso sync` owns in the config file (pure): finding it, reading what
//! the last sync wrote into it, writing the new one in its place, and the diff between
//! the two. Only the block's lines ever change; the rest of the file is kept byte for
//! byte, which is why this splices text instead of re-serialising an INI tree (granted's
//! go-ini round trip reformats the whole file).

use std::collections::BTreeMap;
use std::path::Path;

use super::names::Assignment;
use crate::chain::config::{ini, profile_section_name};
use crate::error::{Error, Result};

/// The first and last line of the block of one `[sso-session]`.
pub fn markers(session: &str) -> (String, String) {
    (
        format!("# >>> awsrole sso sync: sso-session {session} >>>"),
        format!("# <<< awsrole sso sync: sso-session {session} <<<"),
    )
}

const NOTE: &str =
    "# Written by 'awsrole sso sync'; each sync replaces everything down to the closing line.";
const TEMPLATE_LINE: &str = "# name-template: ";
const REGION_LINE: &str = "# region: ";
/// Where the account's name goes: a key of the profile, which every AWS SDK ignores,
/// so it travels with the section and reaches each chain built on it.
pub const ACCOUNT_NAME_KEY: &str = "awsrole_account_name";

/// The file cut around the block: `before` and `after` are kept as they are.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    pub before: &'a str,
    /// Between the marker lines, when there is a block.
    pub inner: Option<&'a str>,
    pub after: &'a str,
}

/// Finds the block of `session`; a marker without its partner, or two blocks, is an
/// error naming the line (writing then would lose the user's text or duplicate ours).
pub fn locate<'a>(text: &'a str, session: &str, file: &Path) -> Result<Split<'a>> {
    let (begin, end) = markers(session);
    let mut at = 0;
    let mut open: Option<(usize, usize, usize)> = None; // line number, start, inner start
    let mut found: Option<(usize, usize, usize, usize)> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let start = at;
        at += line.len();
        let trimmed = line.trim();
        let problem = |line_no: usize, what: String| {
            Err(Error::ConfigSyntax {
                file: file.to_path_buf(),
                line: line_no,
                problem: what,
            })
        };
        if trimmed == begin {
            if let Some((first, ..)) = open {
                return problem(index + 1, format!("a second opening line of the 'awsrole sso sync' block of sso-session {session} (the first is line {first}); delete one block"));
            }
            if found.is_some() {
                return problem(index + 1, format!("a second 'awsrole sso sync' block of sso-session {session}; delete one of them"));
            }
            open = Some((index + 1, start, at));
        } else if trimmed == end {
            let Some((_, block_start, inner_start)) = open.take() else {
                return problem(index + 1, format!("the closing line of the 'awsrole sso sync' block of sso-session {session} has no opening line above it; delete it, or put back '{begin}'"));
            };
            found = Some((block_start, inner_start, start, at));
        }
    }
    if let Some((line, ..)) = open {
        return Err(Error::ConfigSyntax {
            file: file.to_path_buf(),
            line,
            problem: format!("the 'awsrole sso sync' block of sso-session {session} has no closing line; put back '{end}' where it ended, or delete the block"),
        });
    }
    Ok(match found {
        Some((block_start, inner_start, inner_end, block_end)) => Split {
            before: &text[..block_start],
            inner: Some(&text[inner_start..inner_end]),
            after: &text[block_end..],
        },
        None => Split {
            before: text,
            inner: None,
            after: "",
        },
    })
}

/// One profile of a block: its name, what it stands for (when it has both keys), and
/// its lines as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub assignment: Option<Assignment>,
    pub text: String,
}

/// What the last sync wrote: its settings and profiles.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub template: Option<String>,
    pub region: Option<String>,
    pub sections: Vec<Section>,
}

impl Block {
    pub fn read(inner: &str, file: &Path) -> Result<Block> {
        let mut block = Block::default();
        let mut chunks: Vec<String> = Vec::new();
        for line in inner.split_inclusive('\n') {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                chunks.push(String::new());
            }
            match chunks.last_mut() {
                Some(chunk) => chunk.push_str(line),
                None => {
                    if let Some(t) = trimmed.strip_prefix(TEMPLATE_LINE.trim_end()) {
                        block.template = Some(t.trim().to_string());
                    } else if let Some(r) = trimmed.strip_prefix(REGION_LINE.trim_end()) {
                        block.region = Some(r.trim().to_string()).filter(|r| !r.is_empty());
                    }
                }
            }
        }
        for chunk in chunks {
            let text = format!("{}\n", chunk.trim_end());
            let parsed = ini::parse(&text, file)?;
            let Some(section) = parsed.first() else {
                continue;
            };
            let Some(name) = profile_section_name(&section.name) else {
                continue;
            };
            let get = |k: &str| {
                section
                    .entries
                    .iter()
                    .find(|e| e.key == k)
                    .map(|e| e.value.clone())
            };
            let assignment = match (get("sso_account_id"), get("sso_role_name")) {
                (Some(account_id), Some(role_name)) => Some(Assignment {
                    account_id,
                    role_name,
                }),
                _ => None,
            };
            block.sections.push(Section {
                name,
                assignment,
                text,
            });
        }
        Ok(block)
    }
}

/// One generated profile's lines.
pub fn profile_text(
    name: &str,
    session: &str,
    a: &Assignment,
    account_name: &str,
    region: &str,
) -> String {
    let mut text = format!(
        "[profile {name}]\nsso_session = {session}\nsso_account_id = {}\nsso_role_name = {}\nregion = {region}\n",
        a.account_id, a.role_name
    );
    let shown = one_line(account_name);
    if !shown.is_empty() {
        text.push_str(&format!("{ACCOUNT_NAME_KEY} = {shown}\n"));
    }
    text
}

/// Whether an id or role name from the portal can be written as a value and read back
/// the same: AWS's own are `[\w+=,.@-]+`; a line break from a hostile or broken portal
/// would start a key or section of its own (`credential_process = …`).
pub fn safe_value(text: &str) -> bool {
    !text.is_empty() && text.trim() == text && !text.chars().any(char::is_control)
}

/// A value on one line: a portal's name with a line break or a control character in it
/// must not start a new key or section.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The whole block: the marker lines, its settings, and the sections sorted by name.
pub fn render(
    session: &str,
    template: &str,
    region: Option<&str>,
    sections: &[(String, String)],
) -> String {
    let (begin, end) = markers(session);
    let mut out = format!("{begin}\n{NOTE}\n{TEMPLATE_LINE}{template}\n");
    if let Some(region) = region {
        out.push_str(&format!("{REGION_LINE}{region}\n"));
    }
    for (_, text) in sections {
        out.push('\n');
        out.push_str(text);
    }
    out.push('\n');
    out.push_str(&end);
    out.push('\n');
    out
}

/// The file with `block` in place of the old one, or appended after a blank line.
pub fn splice(text: &str, split: &Split, block: &str) -> String {
    if split.inner.is_some() {
        return format!("{}{block}{}", split.before, split.after);
    }
    let gap = if text.is_empty() || text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    format!("{text}{gap}{block}")
}

/// What a sync changes, profile by profile.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

impl Changes {
    pub fn between(old: &[Section], new: &[(String, String)]) -> Changes {
        let old: BTreeMap<&str, &str> = old
            .iter()
            .map(|s| (s.name.as_str(), s.text.as_str()))
            .collect();
        let new_map: BTreeMap<&str, &str> =
            new.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let mut changes = Changes::default();
        for (name, text) in &new_map {
            match old.get(name) {
                None => changes.added.push(name.to_string()),
                Some(before) if before != text => changes.changed.push(name.to_string()),
                Some(_) => changes.unchanged += 1,
            }
        }
        changes.removed = old
            .keys()
            .filter(|n| !new_map.contains_key(*n))
            .map(|n| n.to_string())
            .collect();
        changes
    }

    /// The diff `--dry-run` prints: each added, changed or removed profile's lines with
    /// `+`/`-`, under `@@ profile NAME @@`, in name order.
    pub fn diff(&self, old: &[Section], new: &[(String, String)], file: &Path) -> String {
        let old: BTreeMap<&str, &str> = old
            .iter()
            .map(|s| (s.name.as_str(), s.text.as_str()))
            .collect();
        let new: BTreeMap<&str, &str> = new.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let mut names: Vec<&str> = self
            .added
            .iter()
            .chain(&self.changed)
            .chain(&self.removed)
            .map(String::as_str)
            .collect();
        names.sort();
        let mut out = format!(
            "--- {0}\n+++ {0} (after awsrole sso sync)\n",
            file.display()
        );
        for name in names {
            out.push_str(&format!("@@ profile {name} @@\n"));
            let before: Vec<&str> = old
                .get(name)
                .map(|t| t.lines().collect())
                .unwrap_or_default();
            let after: Vec<&str> = new
                .get(name)
                .map(|t| t.lines().collect())
                .unwrap_or_default();
            for line in &before {
                if !after.contains(line) {
                    out.push_str(&format!("-{line}\n"));
                }
            }
            for line in &after {
                if before.contains(line) {
                    out.push_str(&format!(" {line}\n"));
                } else {
                    out.push_str(&format!("+{line}\n"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: &str, role: &str) -> Assignment {
        Assignment {
            account_id: id.into(),
            role_name: role.into(),
        }
    }

    const FILE: &str = "config";

    fn block_of(sections: &[(&str, &str, &str)]) -> String {
        let rendered: Vec<(String, String)> = sections
            .iter()
            .map(|(name, id, role)| {
                (
                    name.to_string(),
                    profile_text(name, "corp", &a(id, role), "dev", "eu-west-1"),
                )
            })
            .collect();
        render("corp", "{account_name}/{role_name}", None, &rendered)
    }

    #[test]
    fn a_new_block_goes_after_a_blank_line_and_the_text_before_stays_a_prefix() {
        for text in ["", "[default]\nregion = x", "[default]\n", "[default]\n\n"] {
            let split = locate(text, "corp", Path::new(FILE)).unwrap();
            assert_eq!(split.inner, None);
            let out = splice(text, &split, &block_of(&[("dev/Admin", "1", "Admin")]));
            assert!(out.starts_with(text));
            let added = &out[text.len()..];
            assert!(
                text.is_empty() || (text.to_string() + added).contains("\n\n# >>>"),
                "{out:?}"
            );
        }
    }

    #[test]
    fn a_block_is_replaced_in_place_and_everything_around_it_kept() {
        let before = "# mine\n[profile hand]\nregion = x   \n\n";
        let after = "\n; after\n[profile later]\nregion = y";
        let text = format!(
            "{before}{}{after}",
            block_of(&[("dev/Admin", "1", "Admin")])
        );
        let split = locate(&text, "corp", Path::new(FILE)).unwrap();
        assert_eq!(split.before, before);
        assert_eq!(split.after, after);
        let new = block_of(&[("dev/Read", "1", "Read")]);
        assert_eq!(splice(&text, &split, &new), format!("{before}{new}{after}"));
        // Another session's block is not ours.
        let split = locate(&text, "other", Path::new(FILE)).unwrap();
        assert_eq!(split.inner, None);
    }

    #[test]
    fn a_broken_or_doubled_block_is_refused_naming_the_line() {
        let (begin, end) = markers("corp");
        for (text, line, says) in [
            (
                format!("[default]\n{begin}\n[profile a]\n"),
                2,
                "no closing line",
            ),
            (format!("{end}\n"), 1, "no opening line"),
            (format!("{begin}\n{end}\n{begin}\n{end}\n"), 3, "a second"),
            (format!("{begin}\n{begin}\n{end}\n"), 2, "a second opening"),
        ] {
            let e = locate(&text, "corp", Path::new(FILE))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("config:{line}:")) && e.contains(says),
                "{e}"
            );
        }
    }

    #[test]
    fn the_block_reads_back_as_it_was_written() {
        let rendered = vec![
            (
                "dev/Admin".to_string(),
                profile_text("dev/Admin", "corp", &a("1", "Admin"), "Dev\nX", "eu-west-1"),
            ),
            (
                "dev/Read".to_string(),
                profile_text("dev/Read", "corp", &a("1", "Read"), "", "eu-west-1"),
            ),
        ];
        let text = render(
            "corp",
            "{account_id}-{role_name}",
            Some("us-east-2"),
            &rendered,
        );
        let split = locate(&text, "corp", Path::new(FILE)).unwrap();
        let block = Block::read(split.inner.unwrap(), Path::new(FILE)).unwrap();
        assert_eq!(block.template.as_deref(), Some("{account_id}-{role_name}"));
        assert_eq!(block.region.as_deref(), Some("us-east-2"));
        assert_eq!(block.sections.len(), 2);
        assert_eq!(block.sections[0].name, "dev/Admin");
        assert_eq!(block.sections[0].assignment, Some(a("1", "Admin")));
        assert!(
            block.sections[0]
                .text
                .contains("awsrole_account_name = Dev X\n"),
            "a line break in a name stays on one line: {}",
            block.sections[0].text
        );
        assert!(!block.sections[1].text.contains("awsrole_account_name"));
        assert_eq!(
            Changes::between(&block.sections, &rendered),
            Changes {
                unchanged: 2,
                ..Changes::default()
            }
        );
    }

    #[test]
    fn only_values_that_read_back_the_same_are_written() {
        assert!(safe_value("AWSAdministratorAccess") && safe_value("111111111111"));
        assert!(safe_value("Admin Role+=,.@-"));
        for bad in [
            "",
            " Admin",
            "Admin ",
            "Admin\n[profile x]",
            "a\rb",
            "a\u{7f}",
        ] {
            assert!(!safe_value(bad), "{bad:?}");
        }
    }

    #[test]
    fn changes_and_the_diff_name_each_profile() {
        let old = vec![
            Section {
                name: "a".into(),
                assignment: None,
                text: "[profile a]\nregion = x\n".into(),
            },
            Section {
                name: "gone".into(),
                assignment: None,
                text: "[profile gone]\nregion = x\n".into(),
            },
        ];
        let new = vec![
            ("a".to_string(), "[profile a]\nregion = y\n".to_string()),
            ("b".to_string(), "[profile b]\nregion = x\n".to_string()),
        ];
        let c = Changes::between(&old, &new);
        assert_eq!(c.added, ["b"]);
        assert_eq!(c.changed, ["a"]);
        assert_eq!(c.removed, ["gone"]);
        let diff = c.diff(&old, &new, Path::new("/h/.aws/config"));
        assert_eq!(
            diff,
            "--- /h/.aws/config\n+++ /h/.aws/config (after awsrole sso sync)\n\
             @@ profile a @@\n-region = x\n [profile a]\n+region = y\n\
             @@ profile b @@\n+[profile b]\n+region = x\n\
             @@ profile gone @@\n-[profile gone]\n-region = x\n"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Whatever the file holds around it (CR, no final newline, tabs, other
        /// sessions' markers), the first sync keeps the text as a prefix and the next
        /// one changes the block's bytes only.
        #[test]
        fn only_the_block_ever_changes(
            before in "([\\[\\]a-z=# \t\r]{0,12}\n?){0,8}",
            after in "([\\[\\]a-z=# \t\r]{0,12}\n?){0,8}",
            other in proptest::bool::ANY,
        ) {
            let (other_begin, _) = markers("other");
            let text = if other { format!("{before}{other_begin}\n{after}") } else { format!("{before}{after}") };
            let first = block_of(&[("dev/Admin", "1", "Admin")]);
            let split = locate(&text, "corp", Path::new(FILE)).unwrap();
            let once = splice(&text, &split, &first);
            proptest::prop_assert!(once.starts_with(&text));
            let split = locate(&once, "corp", Path::new(FILE)).unwrap();
            proptest::prop_assert!(split.inner.is_some());
            let second = block_of(&[("dev/Read", "1", "Read")]);
            let twice = splice(&once, &split, &second);
            proptest::prop_assert_eq!(twice.replace(&second, &first), once);
        }
    }
}
