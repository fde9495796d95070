//! What a switch does to the environment (`EnvChange`: the variables set and cleared)
//! and its text in each output format. The quoting for each shell is that shell's module
//! in `env/shell/`; dotenv's is here.

use crate::chain::credentials::Credentials;
use crate::env::shell::{Op, Shell};

/// The variables a role switch sets, and those it clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvChange {
    pub set: Vec<(String, String)>,
    pub unset: Vec<String>,
}

/// Variables cleared while a role is active (and put back afterwards by `unuse` or on
/// leaving a directory):
/// - `AWS_PROFILE` / `AWS_DEFAULT_PROFILE`: the Node SDK (aws-sdk-js-v3) prefers a set
///   `AWS_PROFILE` over the exported keys and re-resolves the chain itself;
/// - `AWS_SECURITY_TOKEN`: a stale one is still read by old SDKs;
/// - the peers' markers, so no prompt shows another tool's stale profile or expiry
///   (Starship reads `AWSU_PROFILE`, `AWS_VAULT`, `AWSUME_PROFILE`, `AWS_SSO_PROFILE`
///   and `AWS_SESSION_EXPIRATION`, `AWSUME_EXPIRATION`).
pub const ALWAYS_UNSET: [&str; 16] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_EXPIRATION",
    "AWS_VAULT",
    "AWSUME_PROFILE",
    "AWSUME_EXPIRATION",
    "AWSUME_COMMAND",
    "AWSU_PROFILE",
    "AWS_SSO_PROFILE",
    "GRANTED_SSO",
    "GRANTED_SSO_START_URL",
    "GRANTED_SSO_ROLE_NAME",
    "GRANTED_SSO_REGION",
    "GRANTED_SSO_ACCOUNT_ID",
    "GRANTED_COMMAND",
];

/// What a switch exports. `AWSROLE_PROMPT_WARN` (a profile marked `awsrole_confirm`)
/// and `AWSROLE_REGION` (a `--region` override) are set only when they apply.
pub const EXPORTED: [&str; 13] = [
    "AWSROLE_PROMPT_WARN",
    "AWSROLE_REGION",
    // `use --server`: the endpoint instead of keys, and the daemon serving it.
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWSROLE_SERVER",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWSROLE_PROFILE",
];

/// Every variable a switch may touch: what `unuse` must restore.
pub fn managed() -> impl Iterator<Item = &'static str> {
    EXPORTED.into_iter().chain(ALWAYS_UNSET)
}

pub fn is_managed(name: &str) -> bool {
    managed().any(|m| m == name)
}

pub fn credential_vars(profile: &str, creds: &Credentials, region: Option<&str>) -> EnvChange {
    let mut change = EnvChange::default();
    let mut put = |k: &str, v: Option<String>| match v {
        Some(v) => change.set.push((k.to_string(), v)),
        None => change.unset.push(k.to_string()),
    };
    put("AWS_ACCESS_KEY_ID", Some(creds.access_key_id.clone()));
    put(
        "AWS_SECRET_ACCESS_KEY",
        Some(creds.secret_access_key.clone()),
    );
    put("AWS_SESSION_TOKEN", creds.session_token.clone());
    put("AWS_CREDENTIAL_EXPIRATION", creds.expiration_text());
    if let Some(region) = region {
        put("AWS_REGION", Some(region.to_string()));
        put("AWS_DEFAULT_REGION", Some(region.to_string()));
    }
    put("AWSROLE_PROFILE", Some(profile.to_string()));
    for name in ALWAYS_UNSET {
        change.unset.push(name.to_string());
    }
    change
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// bash and zsh: export / unset
    Sh,
    /// fish: set -gx / set -e
    Fish,
    /// nushell: {set, unset} as JSON, for load-env
    Nu,
    /// the credential_process JSON document
    Json,
    /// KEY=value lines (dotenv)
    Env,
}

/// The change as operations on a shell's variables: unsets first, then exports.
pub fn ops(change: &EnvChange) -> Vec<Op> {
    change
        .unset
        .iter()
        .map(|n| Op::Unset(n.clone()))
        .chain(
            change
                .set
                .iter()
                .map(|(n, v)| Op::Export(n.clone(), v.clone())),
        )
        .collect()
}

/// Text for `export --format`: the shell-like formats through their shell's syntax.
pub fn render_env(format: Format, change: &EnvChange) -> String {
    let shell = match format {
        Format::Sh => Shell::Bash,
        Format::Fish => Shell::Fish,
        Format::Nu => Shell::Nu,
        Format::Env => {
            return change
                .set
                .iter()
                .map(|(name, value)| format!("{name}={}\n", dotenv_quote(value)))
                .collect()
        }
        Format::Json => return String::new(),
    };
    shell.syntax().render(&ops(change))
}

/// The credential_process document (Version 1) any AWS SDK reads.
pub fn json_document(creds: &Credentials) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("Version".into(), 1.into());
    doc.insert("AccessKeyId".into(), creds.access_key_id.clone().into());
    doc.insert(
        "SecretAccessKey".into(),
        creds.secret_access_key.clone().into(),
    );
    if let Some(token) = &creds.session_token {
        doc.insert("SessionToken".into(), token.clone().into());
    }
    if let Some(expiration) = creds.expiration_text() {
        doc.insert("Expiration".into(), expiration.into());
    }
    let mut text = serde_json::Value::Object(doc).to_string();
    text.push('\n');
    text
}

/// dotenv: bare when safe, else double quotes with `\`, `"`, `$` and newlines escaped.
fn dotenv_quote(value: &str) -> String {
    let safe = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/+=-_.:@,".contains(c));
    if safe && !value.is_empty() {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            // `set -a; . file` in sh would run a backquoted command.
            '`' => out.push_str("\\`"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::shell::{fish_quote, sh_quote};
    use chrono::TimeZone;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "se/cr+et=".into(),
            session_token: Some("tok".into()),
            expiration: Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 11, 29, 13, 0, 0)
                    .unwrap(),
            ),
            issued: None,
        }
    }

    #[test]
    fn sh_format_exports_the_contract_variables() {
        let out = render_env(
            Format::Sh,
            &credential_vars("role-b", &creds(), Some("ap-northeast-1")),
        );
        for line in [
            "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n",
            "export AWS_SECRET_ACCESS_KEY=se/cr+et=\n",
            "export AWS_SESSION_TOKEN=tok\n",
            "export AWS_CREDENTIAL_EXPIRATION=2026-11-29T13:00:00Z\n",
            "export AWS_REGION=ap-northeast-1\n",
            "export AWS_DEFAULT_REGION=ap-northeast-1\n",
            "export AWSROLE_PROFILE=role-b\n",
            "unset AWS_PROFILE\n",
            "unset AWS_SECURITY_TOKEN\n",
            "unset AWS_DEFAULT_PROFILE\n",
            "unset AWSUME_PROFILE\n",
            "unset AWS_VAULT\n",
        ] {
            assert!(out.contains(line), "missing {line:?} in\n{out}");
        }
        assert!(!out.contains("export AWS_PROFILE"), "{out}");
    }

    #[test]
    fn long_term_keys_clear_token_and_expiry() {
        let mut c = creds();
        c.session_token = None;
        c.expiration = None;
        let out = render_env(Format::Fish, &credential_vars("u", &c, None));
        assert!(out.contains("set -e AWS_SESSION_TOKEN; or true\n"), "{out}");
        assert!(
            out.contains("set -e AWS_CREDENTIAL_EXPIRATION; or true\n"),
            "{out}"
        );
        assert!(!out.contains("AWS_REGION"), "{out}");
    }

    #[test]
    fn only_the_variables_a_switch_touches_are_managed() {
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWSROLE_PROFILE",
            "AWS_PROFILE",
            "GRANTED_COMMAND",
        ] {
            assert!(is_managed(name), "{name}");
        }
        // A diff handed back by the shell may name anything: it must not restore these.
        for name in ["PATH", "LD_PRELOAD", "AWS_CONFIG_FILE", ""] {
            assert!(!is_managed(name), "{name}");
        }
    }

    #[test]
    fn json_is_a_credential_process_document() {
        let v: serde_json::Value = serde_json::from_str(&json_document(&creds())).unwrap();
        assert_eq!(v["Version"], 1);
        assert_eq!(v["AccessKeyId"], "ASIAEXAMPLE");
        assert_eq!(v["SessionToken"], "tok");
        assert_eq!(v["Expiration"], "2026-11-29T13:00:00Z");
    }

    #[test]
    fn quoting_of_awkward_values() {
        assert_eq!(sh_quote("it's $HOME"), "'it'\\''s $HOME'");
        for special in ["}", "{", "^x", "~", "a*", "", "#", "!"] {
            assert!(
                sh_quote(special).starts_with('\''),
                "{special:?} must be quoted"
            );
        }
        assert_eq!(sh_quote("ASIA/x+y=="), "ASIA/x+y==");
        assert_eq!(fish_quote("a\\'b"), "'a\\\\\\'b'");
        assert_eq!(dotenv_quote("ab/+="), "ab/+=");
        assert_eq!(dotenv_quote("a b\"$\n"), "\"a b\\\"\\$\\n\"");
        assert_eq!(dotenv_quote(""), "\"\"");
        assert_eq!(dotenv_quote("a`id`"), "\"a\\`id\\`\"");
    }
}
