//! The one place where failures become `awsrole: error: …` and an exit code.

use std::path::PathBuf;

/// Every failure a user can meet. Messages name the file, line, profile or hop, and
/// say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}:{line}: {problem}; fix that line of the file")]
    ConfigSyntax {
        file: PathBuf,
        line: usize,
        problem: String,
    },

    #[error("cannot read {file}: {source}")]
    ConfigRead {
        file: PathBuf,
        source: std::io::Error,
    },

    #[error("profile '{name}' is not in {files}{hint}")]
    UnknownProfile {
        name: String,
        files: String,
        hint: String,
    },

    #[error("source_profile loop: {cycle}; make one of these profiles take its credentials from somewhere else")]
    SourceLoop { cycle: String },

    #[error("profile '{profile}' has both source_profile and credential_source; keep only one")]
    SourceAndCredentialSource { profile: String },

    #[error("profile '{profile}' has role_arn but neither source_profile nor credential_source; add one of them")]
    NoSource { profile: String },

    #[error(
        "the source_profile '{source_name}' named by profile '{profile}' does not exist{hint}"
    )]
    MissingSourceProfile {
        profile: String,
        source_name: String,
        hint: String,
    },

    #[error("{0}")]
    NoCredentials(String),

    #[error("profile '{profile}': {problem}")]
    BadProfile { profile: String, problem: String },

    #[error("{0}")]
    Mfa(String),

    #[error("{0}")]
    Sts(String),

    #[error("{0}")]
    CredentialProcess(String),

    /// IAM Identity Center: sign-in, token, GetRoleCredentials.
    #[error("{0}")]
    Sso(String),

    /// No sign-in that is still good (IAM Identity Center): only a person, signing in
    /// again, can go on.
    #[error("{0}")]
    SignIn(String),

    #[error("{0}")]
    Keyring(String),

    #[error("{0}")]
    Trust(String),

    #[error("{0}")]
    Usage(String),

    /// A file, socket, process or the terminal failed; the cause is kept.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The system cannot give what awsrole needs (no home directory, no browser, a
    /// helper that did not start) and there is no underlying error to keep.
    #[error("{0}")]
    System(String),

    /// The person said no, or left a picker or prompt.
    #[error("cancelled; nothing was changed")]
    Cancelled,
}

impl Error {
    /// Whether only a person can get past this: an MFA code, a sign-in, a confirmation.
    /// The hook, the credential endpoint and the picker ask this instead of matching
    /// variants, so a new kind of "a person must act" is one line here.
    pub fn needs_person(&self) -> bool {
        matches!(self, Error::Mfa(_) | Error::SignIn(_) | Error::Cancelled)
    }

    /// The exit status of a failure (a usage error: 2). A command that ends with a
    /// status of its own (`exec`'s child's) is no failure: `cli::Outcome::Exit`.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl Error {
    /// An `Io` error: `what` was being done when `source` happened.
    pub fn io(
        what: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Io {
            what: what.into(),
            source: source.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Like `suggest`, for `[sso-session]` names: when none is near, it names the sessions
/// there are (or says there are none) instead of sending to `awsrole list`, which lists
/// profiles.
pub fn suggest_session<'a>(wanted: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.collect();
    if let Some(near) = did_you_mean(wanted, known.iter().copied()) {
        return near;
    }
    match known.as_slice() {
        [] => "; the config has no [sso-session] section".to_string(),
        names => format!("; its sessions: {}", names.join(", ")),
    }
}

/// Up to three known names closest to `wanted`, phrased as a hint.
pub fn suggest<'a>(wanted: &str, known: impl Iterator<Item = &'a str>) -> String {
    did_you_mean(wanted, known)
        .unwrap_or_else(|| "; run 'awsrole list' to see the profiles".to_string())
}

/// "; did you mean 'a' or 'b'?" for the (up to three) known names nearest `wanted`, or
/// `None` when none is near.
fn did_you_mean<'a>(wanted: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut scored: Vec<(usize, &str)> = known
        .map(|k| (edit_distance(wanted, k), k))
        .filter(|(d, k)| *d <= (wanted.len().max(k.len()) / 2).max(2) || k.contains(wanted))
        .collect();
    scored.sort();
    let names: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, k)| format!("'{k}'"))
        .collect();
    (!names.is_empty()).then(|| format!("; did you mean {}?", names.join(" or ")))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_suggests_the_nearest_profiles() {
        let hint = suggest("role-bb", ["role-a", "role-b", "prod"].into_iter());
        assert!(hint.contains("'role-b'"), "{hint}");
        assert!(!hint.contains("prod"), "{hint}");
    }

    #[test]
    fn nothing_near_points_at_list() {
        let hint = suggest("zzzzzzzzzz", ["role-a"].into_iter());
        assert!(hint.contains("awsrole list"), "{hint}");
    }

    #[test]
    fn a_missing_session_names_the_sessions_not_the_profile_list() {
        let near = suggest_session("corpp", ["corp", "lab"].into_iter());
        assert_eq!(near, "; did you mean 'corp'?");
        let far = suggest_session("nope", ["corporate", "laboratory"].into_iter());
        assert_eq!(far, "; its sessions: corporate, laboratory");
        let none = suggest_session("nope", std::iter::empty());
        assert_eq!(none, "; the config has no [sso-session] section");
    }
}
