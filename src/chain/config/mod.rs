//! The AWS CLI's two files, read with botocore's rules. No I/O beyond reading them.

pub(crate) mod ini;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::error::{suggest, Error, Result};

/// One `key = value` with where it was written, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: String,
    /// Shared by every setting of the file (one allocation, not one per key).
    pub file: std::sync::Arc<Path>,
    pub line: usize,
}

/// A profile as botocore sees it: the config file's section, with the credentials
/// file's section of the same name laid over it key by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub name: String,
    pub config: BTreeMap<String, Setting>,
    pub credentials: BTreeMap<String, Setting>,
}

impl Profile {
    /// The effective value: the credentials file wins, as in botocore's merged map.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.setting(key).map(|s| s.value.as_str())
    }

    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.credentials.get(key).or_else(|| self.config.get(key))
    }
}

#[derive(Debug, Clone, Default)]
pub struct AwsConfig {
    pub config_file: PathBuf,
    pub credentials_file: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
    /// `[sso-session NAME]` sections of the config file, by name.
    pub sso_sessions: BTreeMap<String, BTreeMap<String, Setting>>,
}

/// Where the AWS CLI looks for its files, honouring its variables; the home directory
/// by the platform's rule, never the working directory.
pub fn default_paths() -> Result<(PathBuf, PathBuf)> {
    let pick = |value: Option<String>, default: &str| -> Result<PathBuf> {
        match value {
            Some(v) if !v.is_empty() => expand_tilde(&v),
            _ => Ok(crate::sys::dirs::home()?.join(".aws").join(default)),
        }
    };
    Ok((
        pick(crate::sys::settings::var("AWS_CONFIG_FILE").ok(), "config")?,
        // The user's file, not the empty one `use --server` gave the shell.
        pick(
            crate::sys::settings::get().user_credentials_file(),
            "credentials",
        )?,
    ))
}

fn expand_tilde(path: &str) -> Result<PathBuf> {
    Ok(match path.strip_prefix("~/") {
        Some(rest) => crate::sys::dirs::home()?.join(rest),
        None if path == "~" => crate::sys::dirs::home()?,
        None => PathBuf::from(path),
    })
}

impl AwsConfig {
    pub fn load() -> Result<Self> {
        let (config, credentials) = default_paths()?;
        Self::from_files(&config, &credentials)
    }

    pub fn from_files(config_file: &Path, credentials_file: &Path) -> Result<Self> {
        let mut loaded = AwsConfig {
            config_file: config_file.to_path_buf(),
            credentials_file: credentials_file.to_path_buf(),
            profiles: BTreeMap::new(),
            sso_sessions: BTreeMap::new(),
        };
        if let Some(text) = read_optional(config_file)? {
            loaded.add_config_file(&text, config_file)?;
        }
        if let Some(text) = read_optional(credentials_file)? {
            loaded.add_credentials_file(&text, credentials_file)?;
        }
        Ok(loaded)
    }

    /// For tests and tools: both files given as text.
    pub fn from_texts(config: &str, credentials: &str) -> Result<Self> {
        let mut loaded = AwsConfig {
            config_file: "config".into(),
            credentials_file: "credentials".into(),
            ..Default::default()
        };
        loaded.add_config_file(config, Path::new("config"))?;
        loaded.add_credentials_file(credentials, Path::new("credentials"))?;
        Ok(loaded)
    }

    /// Only what the chain of `profile` can need: that profile, the `source_profile`s
    /// up from it, `default`, and the `[sso-session]`s they name. Both files are still
    /// checked whole for syntax, but only those sections are built, so an export from a
    /// config of 100,000 profiles costs milliseconds, not a second. Planning `profile`
    /// over it gives what planning over `load()` gives; an error's near-name hints need
    /// the whole config, so callers plan again over `load()` when planning fails.
    pub fn load_for(profile: &str) -> Result<Self> {
        let (config_file, credentials_file) = default_paths()?;
        Self::from_files_for(&config_file, &credentials_file, profile)
    }

    /// `load_for` from given files.
    pub fn from_files_for(
        config_file: &Path,
        credentials_file: &Path,
        profile: &str,
    ) -> Result<Self> {
        let (config_file, credentials_file) =
            (config_file.to_path_buf(), credentials_file.to_path_buf());
        let config_text = read_optional(&config_file)?.unwrap_or_default();
        let credentials_text = read_optional(&credentials_file)?.unwrap_or_default();
        let config_spans = ini::index(&config_text, &config_file)?;
        let credentials_spans = ini::index(&credentials_text, &credentials_file)?;
        // Which sections belong to which profile or session: one pass over the
        // headers, so following a chain costs its own sections only (linear even for a
        // source_profile loop through thousands of profiles).
        let mut of_profile: HashMap<String, Vec<usize>> = HashMap::new();
        let mut of_session: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, span) in config_spans.iter().enumerate() {
            if span.header == "default" {
                of_profile.entry("default".into()).or_default().push(i);
            } else if let Some(name) = profile_section_name(span.header) {
                of_profile.entry(name).or_default().push(i);
            } else if let Some(name) = prefixed_section_name("sso-session", span.header) {
                of_session.entry(name).or_default().push(i);
            }
        }
        let mut of_credentials: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, span) in credentials_spans.iter().enumerate() {
            of_credentials.entry(span.header).or_default().push(i);
        }
        let mut chosen_config: Vec<usize> = Vec::new();
        let mut chosen_credentials: Vec<usize> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut sessions: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut queue: Vec<String> = vec!["default".into(), profile.to_string()];
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let config_part = of_profile.get(&name).cloned().unwrap_or_default();
            let credentials_part = of_credentials
                .get(name.as_str())
                .cloned()
                .unwrap_or_default();
            // This profile's own sections say where its chain goes on.
            let mut one = AwsConfig::default();
            let (config_at, credentials_at) = (config_part, credentials_part);
            one.add_config_sections(
                ini::parse_spans(
                    &config_text,
                    &config_file,
                    &config_at
                        .iter()
                        .map(|&i| &config_spans[i])
                        .collect::<Vec<_>>(),
                )?,
                &config_file,
            );
            one.add_credentials_sections(
                ini::parse_spans(
                    &credentials_text,
                    &credentials_file,
                    &credentials_at
                        .iter()
                        .map(|&i| &credentials_spans[i])
                        .collect::<Vec<_>>(),
                )?,
                &credentials_file,
            );
            chosen_config.extend(config_at);
            chosen_credentials.extend(credentials_at);
            if let Some(p) = one.profiles.get(&name) {
                if let Some(source) = p.get("source_profile") {
                    queue.push(source.to_string());
                }
                if let Some(session) = p.get("sso_session") {
                    if sessions.insert(session.to_string()) {
                        chosen_config.extend(of_session.get(session).cloned().unwrap_or_default());
                    }
                }
            }
        }
        // Built once, from the chosen sections in file order (duplicates merge as in a
        // whole load).
        chosen_config.sort_unstable();
        chosen_config.dedup();
        chosen_credentials.sort_unstable();
        chosen_credentials.dedup();
        let mut loaded = AwsConfig {
            config_file: config_file.clone(),
            credentials_file: credentials_file.clone(),
            ..Default::default()
        };
        let spans: Vec<&ini::Span> = chosen_config.iter().map(|&i| &config_spans[i]).collect();
        loaded.add_config_sections(
            ini::parse_spans(&config_text, &config_file, &spans)?,
            &config_file,
        );
        let spans: Vec<&ini::Span> = chosen_credentials
            .iter()
            .map(|&i| &credentials_spans[i])
            .collect();
        loaded.add_credentials_sections(
            ini::parse_spans(&credentials_text, &credentials_file, &spans)?,
            &credentials_file,
        );
        Ok(loaded)
    }

    fn add_config_file(&mut self, text: &str, file: &Path) -> Result<()> {
        let sections = ini::parse(text, file)?;
        self.add_config_sections(sections, file);
        Ok(())
    }

    fn add_config_sections(&mut self, sections: Vec<ini::Section>, file: &Path) {
        let file: std::sync::Arc<Path> = file.into();
        let file = &file;
        // `[profile default]` beats `[default]` when both exist, as in the AWS SDKs'
        // shared-config specification; so bare `[default]` goes in first.
        let mut ordered: Vec<(String, ini::Section)> = Vec::new();
        for section in sections {
            if section.name == "default" {
                ordered.insert(0, ("default".into(), section));
            } else if let Some(name) = profile_section_name(&section.name) {
                ordered.push((name, section));
            } else if let Some(name) = prefixed_section_name("sso-session", &section.name) {
                // Duplicate sections merge key by key, as profiles do.
                self.sso_sessions
                    .entry(name)
                    .or_default()
                    .extend(settings(section, file));
            }
            // `[services …]` and bare `[name]` are not profiles.
        }
        for (name, section) in ordered {
            let profile = self.profile_entry(name);
            profile.config = settings(section, file);
        }
    }

    fn add_credentials_file(&mut self, text: &str, file: &Path) -> Result<()> {
        self.add_credentials_sections(ini::parse(text, file)?, file);
        Ok(())
    }

    fn add_credentials_sections(&mut self, sections: Vec<ini::Section>, file: &Path) {
        let file: std::sync::Arc<Path> = file.into();
        let file = &file;
        for mut section in sections {
            let name = std::mem::take(&mut section.name);
            let profile = self.profile_entry(name);
            profile.credentials = settings(section, file);
        }
    }

    fn profile_entry(&mut self, name: String) -> &mut Profile {
        self.profiles
            .entry(name)
            .or_insert_with_key(|name| Profile {
                name: name.clone(),
                ..Default::default()
            })
    }

    pub fn profile(&self, name: &str) -> Result<&Profile> {
        self.profiles
            .get(name)
            .ok_or_else(|| Error::UnknownProfile {
                name: name.to_string(),
                files: format!(
                    "{} or {}",
                    self.config_file.display(),
                    self.credentials_file.display()
                ),
                hint: suggest(name, self.profiles.keys().map(String::as_str)),
            })
    }
}

/// `profile NAME` → NAME; botocore splits the header shell-style, so
/// `[profile "my name"]` is the profile `my name`.
pub(crate) fn profile_section_name(header: &str) -> Option<String> {
    prefixed_section_name("profile", header)
}

/// `KIND NAME` → NAME, with the same splitting (`[sso-session "my org"]`).
fn prefixed_section_name(kind: &str, header: &str) -> Option<String> {
    let rest = header.strip_prefix(kind)?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name = rest.trim();
    // Most names need no shell-style splitting (no quote, no backslash, no space).
    if !name.contains(['"', '\'', '\\']) && !name.contains(char::is_whitespace) {
        return (!name.is_empty()).then(|| name.to_string());
    }
    let words = shell_words::split(name).ok()?;
    match words.as_slice() {
        [name] => Some(name.clone()),
        _ => None,
    }
}

/// The names of the profiles a config file's text defines (`[default]` and
/// `[profile NAME]`), for `sso sync`, which must know what the user wrote by hand.
pub fn profile_names(text: &str, file: &Path) -> Result<Vec<String>> {
    Ok(ini::parse(text, file)?
        .iter()
        .filter_map(|s| {
            if s.name == "default" {
                Some("default".to_string())
            } else {
                profile_section_name(&s.name)
            }
        })
        .collect())
}

fn settings(section: ini::Section, file: &std::sync::Arc<Path>) -> BTreeMap<String, Setting> {
    section
        .entries
        .into_iter()
        .map(|e| {
            (
                e.key,
                Setting {
                    value: e.value,
                    file: std::sync::Arc::clone(file),
                    line: e.line,
                },
            )
        })
        .collect()
}

/// The file's text, or None when it does not exist; not UTF-8 is a syntax error.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::ConfigSyntax {
                file: path.to_path_buf(),
                line: 1,
                problem: "the file is not UTF-8 text".into(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::ConfigRead {
            file: path.to_path_buf(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_for_builds_only_the_chain_and_plans_it_as_the_whole_config_does() {
        let dir = std::env::temp_dir().join(format!("awsrole-loadfor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (config, credentials) = (dir.join("config"), dir.join("credentials"));
        let mut text = String::from("[default]\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = eu-west-1\nsso_start_url = https://x.awsapps.com/start\n\n");
        for i in 0..50 {
            text.push_str(&format!("[profile p{i}]\nrole_arn = arn:aws:iam::123456789012:role/R{i}\nsource_profile = {}\n\n", if i == 0 { "default".to_string() } else { format!("p{}", i - 1) }));
        }
        text.push_str("[profile \"quoted name\"]\nrole_arn = arn:aws:iam::123456789012:role/Q\nsource_profile = sso\n\n[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n\n[profile p3]\nregion = us-east-2\n");
        std::fs::write(&config, &text).unwrap();
        std::fs::write(&credentials, "[default]\naws_access_key_id = K\naws_secret_access_key = S\n[p40]\naws_access_key_id = X\naws_secret_access_key = Y\n").unwrap();
        let whole = AwsConfig::from_files(&config, &credentials).unwrap();
        let inputs = crate::chain::plan::PlanInputs::default();
        for target in ["p5", "p49", "quoted name", "default"] {
            let part = AwsConfig::from_files_for(&config, &credentials, target).unwrap();
            assert!(
                part.profiles.len() < whole.profiles.len(),
                "{target}: {:?}",
                part.profiles.keys()
            );
            let a = crate::chain::plan::plan(&part, target, &inputs).map(|p| format!("{p:?}"));
            let b = crate::chain::plan::plan(&whole, target, &inputs).map(|p| format!("{p:?}"));
            assert_eq!(a.unwrap(), b.unwrap(), "{target}");
        }
        // p5's chain: p5..p0, default; the duplicate [profile p3] merged in.
        let part = AwsConfig::from_files_for(&config, &credentials, "p5").unwrap();
        assert_eq!(part.profiles.len(), 7, "{:?}", part.profiles.keys());
        assert_eq!(part.profiles["p3"].get("region"), Some("us-east-2"));
        assert!(part.sso_sessions.is_empty());
        let sso = AwsConfig::from_files_for(&config, &credentials, "quoted name").unwrap();
        assert!(sso.sso_sessions.contains_key("corp"));
        // A broken line anywhere is still an error, with its line.
        std::fs::write(&config, format!("{text}\nnot a key line\n")).unwrap();
        let err = AwsConfig::from_files_for(&config, &credentials, "p1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not 'key = value'"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn config_needs_the_profile_prefix_and_credentials_does_not() {
        let c = AwsConfig::from_texts(
            "[default]\nregion = r1\n[profile a]\nrole_arn = A\n[b]\nrole_arn = B\n[sso-session s]\nsso_region = x\n",
            "[default]\naws_access_key_id = K\n[c]\naws_access_key_id = C\n",
        )
        .unwrap();
        let names: Vec<&str> = c.profiles.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "c", "default"]);
        assert_eq!(c.profile("default").unwrap().get("region"), Some("r1"));
        assert_eq!(
            c.profile("default").unwrap().get("aws_access_key_id"),
            Some("K")
        );
    }

    #[test]
    fn credentials_file_wins_key_by_key() {
        let c = AwsConfig::from_texts(
            "[profile p]\naws_access_key_id = FROMCONFIG\nregion = r\n",
            "[p]\naws_access_key_id = FROMCREDS\n",
        )
        .unwrap();
        let p = c.profile("p").unwrap();
        assert_eq!(p.get("aws_access_key_id"), Some("FROMCREDS"));
        assert_eq!(p.get("region"), Some("r"));
        assert_eq!(
            p.setting("aws_access_key_id").unwrap().file.to_path_buf(),
            PathBuf::from("credentials")
        );
    }

    #[test]
    fn profile_default_section_beats_bare_default() {
        let c = AwsConfig::from_texts(
            "[profile default]\nregion = from-profile\n[default]\nregion = from-bare\n",
            "",
        )
        .unwrap();
        assert_eq!(
            c.profile("default").unwrap().get("region"),
            Some("from-profile")
        );
    }

    #[test]
    fn quoted_profile_headers_and_junk_headers() {
        let c = AwsConfig::from_texts(
            "[profile \"my role\"]\nregion=x\n[profilex]\nregion=y\n",
            "",
        )
        .unwrap();
        assert!(c.profiles.contains_key("my role"));
        assert!(!c.profiles.contains_key("profilex"));
    }

    #[test]
    fn unknown_profile_suggests_near_names() {
        let c = AwsConfig::from_texts("[profile role-b]\n[profile role-a]\n", "").unwrap();
        let err = c.profile("role-bb").unwrap_err().to_string();
        assert!(
            err.contains("'role-bb'") && err.contains("did you mean 'role-b'"),
            "{err}"
        );
    }

    #[test]
    fn missing_files_are_empty_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let c = AwsConfig::from_files(&dir.path().join("nope"), &dir.path().join("nope2")).unwrap();
        assert!(c.profiles.is_empty());
    }
}
