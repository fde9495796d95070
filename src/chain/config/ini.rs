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

/// What one line of the file is, once botocore's rules are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Line<'a> {
    /// `[NAME]`: the text between `[` and the last `]`, as it is.
    Header(&'a str),
    /// `key = value` (or `key: value`): the key as written, the value trimmed.
    Entry { key: &'a str, value: &'a str },
    /// An indented line that continues the previous value.
    Continuation(&'a str),
}

/// Walks `text` with the rules above, checking every line, and hands each header,
/// entry and continuation to `on` with its line number (counted from `first_line`) and
/// its byte offset in `text`. Nothing is allocated: `index` uses it to find sections in
/// a large file, `parse` to build them.
pub fn scan<'a>(
    text: &'a str,
    file: &Path,
    first_line: usize,
    mut on: impl FnMut(usize, usize, Line<'a>),
) -> Result<()> {
    let syntax = |line: usize, problem: &str| Error::ConfigSyntax {
        file: file.to_path_buf(),
        line,
        problem: problem.to_string(),
    };
    let base = text.as_ptr() as usize;
    // Whether an indented line would continue a value, and whether a section is open.
    let mut can_continue = false;
    let mut in_section = false;
    for (index, raw) in text.lines().enumerate() {
        let number = first_line + index;
        let offset = raw.as_ptr() as usize - base;
        let raw = if number == 1 {
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
                can_continue = false;
            }
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented && can_continue {
            on(number, offset, Line::Continuation(trimmed));
            continue;
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
            can_continue = false;
            in_section = true;
            on(number, offset, Line::Header(name));
            continue;
        }
        if !in_section {
            return Err(syntax(
                number,
                "a key outside any section; put a [profile NAME] header above it",
            ));
        }
        let Some(at) = trimmed.find(['=', ':']) else {
            return Err(syntax(
                number,
                &format!("'{}' is not 'key = value'", shorten(trimmed)),
            ));
        };
        let key = trimmed[..at].trim();
        if key.is_empty() {
            return Err(syntax(number, "a value with no key before '='"));
        }
        can_continue = true;
        on(
            number,
            offset,
            Line::Entry {
                key,
                value: trimmed[at + 1..].trim(),
            },
        );
    }
    Ok(())
}

/// Where each section of a file is: its header, its first line and its bytes (up to
/// the next header). The whole file is checked, nothing else is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Span<'a> {
    pub header: &'a str,
    pub line: usize,
    pub bytes: std::ops::Range<usize>,
}

pub fn index<'a>(text: &'a str, file: &Path) -> Result<Vec<Span<'a>>> {
    let mut spans: Vec<Span<'a>> = Vec::new();
    scan(text, file, 1, |line, offset, item| {
        if let Line::Header(header) = item {
            if let Some(last) = spans.last_mut() {
                last.bytes.end = offset;
            }
            spans.push(Span {
                header,
                line,
                bytes: offset..text.len(),
            });
        }
    })?;
    Ok(spans)
}

/// The sections of `spans` (from `index` of the same `text`), parsed and merged as
/// `parse` would merge them.
pub fn parse_spans(text: &str, file: &Path, spans: &[&Span]) -> Result<Vec<Section>> {
    let mut builder = Builder::default();
    for span in spans {
        scan(
            &text[span.bytes.clone()],
            file,
            span.line,
            |line, _, item| builder.add(line, item),
        )?;
    }
    Ok(builder.sections)
}

pub fn parse(text: &str, file: &Path) -> Result<Vec<Section>> {
    let mut builder = Builder::default();
    scan(text, file, 1, |line, _, item| builder.add(line, item))?;
    Ok(builder.sections)
}

/// Sections built from scanned lines: a repeated section is merged with its earlier
/// twin, later keys winning. Indexed by name (and, in a large section, by key), so a
/// large file builds in linear time.
#[derive(Default)]
struct Builder<'a> {
    sections: Vec<Section>,
    /// Names borrowed from the text being read.
    by_name: HashMap<&'a str, usize>,
    /// Keys of the sections that grew large, by position.
    keys: HashMap<usize, HashMap<String, usize>>,
    current: usize,
    /// The entry an indented line continues (the scanner says when one may).
    continuing: Option<(usize, usize)>,
}

/// Past this many keys a section gets a key index; below it a scan is faster.
const SMALL_SECTION: usize = 16;

impl<'a> Builder<'a> {
    fn add(&mut self, line: usize, item: Line<'a>) {
        match item {
            Line::Header(name) => {
                self.current = match self.by_name.get(name) {
                    Some(&i) => i,
                    None => {
                        self.sections.push(Section {
                            name: name.to_string(),
                            line,
                            entries: Vec::new(),
                        });
                        self.by_name.insert(name, self.sections.len() - 1);
                        self.sections.len() - 1
                    }
                };
            }
            Line::Entry { key, value } => {
                let key = key.to_ascii_lowercase();
                let at = self.current;
                let section = &mut self.sections[at];
                let found = match self.keys.get(&at) {
                    Some(keys) => keys.get(&key).copied(),
                    None => section.entries.iter().position(|e| e.key == key),
                };
                let entry = Entry {
                    key,
                    value: value.to_string(),
                    line,
                };
                let position = match found {
                    Some(i) => {
                        section.entries[i] = entry;
                        i
                    }
                    None => {
                        if let Some(keys) = self.keys.get_mut(&at) {
                            keys.insert(entry.key.clone(), section.entries.len());
                        }
                        section.entries.push(entry);
                        if section.entries.len() == SMALL_SECTION && !self.keys.contains_key(&at) {
                            let keys = section
                                .entries
                                .iter()
                                .enumerate()
                                .map(|(i, e)| (e.key.clone(), i))
                                .collect();
                            self.keys.insert(at, keys);
                        }
                        section.entries.len() - 1
                    }
                };
                self.continuing = Some((at, position));
            }
            Line::Continuation(text) => {
                if let Some((s, e)) = self.continuing {
                    let entry = &mut self.sections[s].entries[e];
                    entry.value.push('\n');
                    entry.value.push_str(text);
                }
            }
        }
    }
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
