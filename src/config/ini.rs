//! The AWS shared-config INI dialect, as botocore reads it through Python's configparser:
//! full-line `#`/`;` comments only (an inline `# …` stays part of the value), `=` or `:`
//! between key and value, keys case-folded, indented lines continuing the previous
//! value (botocore's `s3 =` sub-sections), no escape processing (Windows paths in
//! `credential_process` stay intact). Unlike botocore, a repeated section is merged
//! (later keys win), as the other AWS SDKs do, instead of rejecting the whole file.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

pub fn parse(text: &str, file: &Path) -> Result<Vec<Section>> {
    let syntax = |line: usize, problem: &str| Error::ConfigSyntax {
        file: file.to_path_buf(),
        line,
        problem: problem.to_string(),
    };
    let mut sections: Vec<Section> = Vec::new();
    // Indexes by name, so a large file parses in linear time: where each section is,
    // and where each key of a section is.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut keys: Vec<HashMap<String, usize>> = Vec::new();
    // Which section and entry an indented line would continue.
    let mut continuing: Option<(usize, usize)> = None;
    let mut current: Option<usize> = None;

    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let raw = if index == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            // configparser ends a multi-line value at a blank line only when a key
            // follows; an empty line inside a value is kept, but AWS configs never rely
            // on that, so a blank line simply ends continuation.
            if trimmed.is_empty() {
                continuing = None;
            }
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented {
            if let Some((s, e)) = continuing {
                let entry = &mut sections[s].entries[e];
                entry.value.push('\n');
                entry.value.push_str(trimmed);
                continue;
            }
        }
        if trimmed.starts_with('[') {
            // configparser takes everything between '[' and the last ']' as it is:
            // `[ profile x ]` is the section " profile x ", which is no profile.
            let Some(close) = trimmed.rfind(']').filter(|&c| c > 1) else {
                return Err(syntax(number, "a section header must end with ']'"));
            };
            let name = &trimmed[1..close];
            if name.trim().is_empty() {
                return Err(syntax(number, "empty section name '[]'"));
            }
            continuing = None;
            // A repeated section is merged with its earlier twin, later keys winning.
            let index = *by_name.entry(name.to_string()).or_insert_with(|| {
                sections.push(Section {
                    name: name.to_string(),
                    line: number,
                    entries: Vec::new(),
                });
                keys.push(HashMap::new());
                sections.len() - 1
            });
            current = Some(index);
            continue;
        }
        let Some(section_index) = current else {
            return Err(syntax(
                number,
                "a key outside any section; put a [profile NAME] header above it",
            ));
        };
        let split = trimmed.find(['=', ':']);
        let Some(at) = split else {
            return Err(syntax(
                number,
                &format!("'{}' is not 'key = value'", shorten(trimmed)),
            ));
        };
        let key = trimmed[..at].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(syntax(number, "a value with no key before '='"));
        }
        let value = trimmed[at + 1..].trim().to_string();
        let section = &mut sections[section_index];
        let entry_index = match keys[section_index].get(&key) {
            Some(&i) => {
                section.entries[i] = Entry {
                    key,
                    value,
                    line: number,
                };
                i
            }
            None => {
                keys[section_index].insert(key.clone(), section.entries.len());
                section.entries.push(Entry {
                    key,
                    value,
                    line: number,
                });
                section.entries.len() - 1
            }
        };
        continuing = Some((section_index, entry_index));
    }
    Ok(sections)
}

/// Keeps secrets out of error messages: a malformed line is shown only in part.
fn shorten(line: &str) -> String {
    let visible: String = line.chars().take(12).collect();
    if visible.len() < line.len() {
        format!("{visible}…")
    } else {
        visible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Section> {
        parse(text, Path::new("config")).unwrap()
    }

    fn value<'a>(sections: &'a [Section], section: &str, key: &str) -> Option<&'a str> {
        sections
            .iter()
            .find(|s| s.name == section)?
            .entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }

    #[test]
    fn backslashes_are_not_escapes() {
        let s = parse_ok("[profile w]\ncredential_process = C:\\tools\\new\\cred.exe --t\n");
        assert_eq!(
            value(&s, "profile w", "credential_process"),
            Some("C:\\tools\\new\\cred.exe --t")
        );
    }

    #[test]
    fn duplicate_sections_merge_with_later_keys_winning() {
        let s = parse_ok(
            "[profile a]\nregion = eu-west-1\nrole_arn = x\n\n[profile a]\nregion = us-east-2\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(value(&s, "profile a", "region"), Some("us-east-2"));
        assert_eq!(value(&s, "profile a", "role_arn"), Some("x"));
    }

    #[test]
    fn inline_hash_stays_in_the_value_like_botocore() {
        let s = parse_ok("[default]\nregion = us-east-1 # tokyo\n");
        assert_eq!(value(&s, "default", "region"), Some("us-east-1 # tokyo"));
    }

    #[test]
    fn comments_colons_case_and_indented_subsections() {
        let s = parse_ok(
            "# top\n; also\n[default]\nRegion: ap-northeast-1\ns3 =\n  max_concurrent_requests = 20\n  addressing_style = path\n\toutput=json\n",
        );
        assert_eq!(value(&s, "default", "region"), Some("ap-northeast-1"));
        assert_eq!(
            value(&s, "default", "s3"),
            Some("\nmax_concurrent_requests = 20\naddressing_style = path\noutput=json")
        );
    }

    #[test]
    fn section_names_keep_their_inner_spaces_as_configparser_does() {
        let s = parse_ok("[ profile x ]\nregion = a\n[profile y] trailing\nregion = b\n");
        assert_eq!(s[0].name, " profile x ");
        assert_eq!(s[1].name, "profile y");
    }

    #[test]
    fn malformed_lines_name_the_file_and_line() {
        let err = parse(
            "[default]\nregion = x\nthis is junk\n",
            Path::new("/h/.aws/config"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("/h/.aws/config:3:"), "{err}");
        let err = parse("region = x\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c:1:") && err.contains("outside any section"),
            "{err}"
        );
        let err = parse("[default\n", Path::new("c")).unwrap_err().to_string();
        assert!(err.contains("c:1:") && err.contains("']'"), "{err}");
    }

    #[test]
    fn a_junk_line_does_not_leak_a_whole_secret() {
        let err = parse(
            "[default]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n",
            Path::new("c"),
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("EXAMPLEKEY"), "{err}");
    }
}
