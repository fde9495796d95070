//! The credentials a chain starts from: keys (keyring, then files), the environment,
//! or a `credential_process`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::cache::{open_secret_store, Backend};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::plan::Root;

/// Where `awsrole add` keeps a profile's long-term keys.
pub fn keyring_name(profile: &str) -> String {
    format!("{}{profile}", crate::cache::name_prefix("keys"))
}

/// A stable name for the root, used in cache keys; reads no secret and no keyring.
pub fn identity(root: &Root) -> String {
    match root {
        Root::Keys { profile, file_keys } => format!(
            "keys:{profile}:{}",
            file_keys
                .as_ref()
                .map(|k| k.access_key_id.as_str())
                .unwrap_or("-")
        ),
        Root::Environment { .. } => format!(
            "env:{}",
            std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default()
        ),
        Root::Process { profile, command } => format!("process:{profile}:{command}"),
    }
}

pub fn credentials(root: &Root, backend: Backend) -> Result<Credentials> {
    match root {
        Root::Keys { profile, file_keys } => {
            if let Some(creds) = keyring_keys(profile, backend) {
                return Ok(creds);
            }
            match file_keys {
                Some(k) => Ok(Credentials {
                    access_key_id: k.access_key_id.clone(),
                    secret_access_key: k.secret_access_key.clone(),
                    session_token: k.session_token.clone(),
                    expiration: None,
                    issued: None,
                }),
                None => Err(Error::NoCredentials(format!(
                    "the source profile '{profile}' has no credentials: add aws_access_key_id and aws_secret_access_key to it, or store them with 'awsrole add {profile}'"
                ))),
            }
        }
        Root::Environment { profile } => environment(profile),
        Root::Process { profile, command } => process(profile, command),
    }
}

fn keyring_keys(profile: &str, backend: Backend) -> Option<Credentials> {
    let store = open_secret_store(backend)?;
    match store.get(&keyring_name(profile)) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
        Ok(None) => None,
        Err(e) => {
            crate::cache::warn(&format!("cannot read keys of '{profile}' from the keyring ({e}); trying the credentials file"));
            None
        }
    }
}

fn environment(profile: &str) -> Result<Credentials> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: var("AWS_SESSION_TOKEN").or_else(|| var("AWS_SECURITY_TOKEN")),
            expiration: None,
            issued: None,
        }),
        _ => Err(Error::NoCredentials(format!(
            "profile '{profile}' has credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProcessOutput {
    version: serde_json::Value,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<String>,
}

/// A `credential_process` that itself runs awsrole for the same profile would recurse
/// forever; the AWS CLI stops at 4 levels too.
const MAX_PROCESS_DEPTH: u32 = 4;
const DEPTH_VAR: &str = "AWSROLE_PROCESS_DEPTH";

fn process(profile: &str, command: &str) -> Result<Credentials> {
    let fail = |why: String| {
        Error::CredentialProcess(format!("credential_process of profile '{profile}' {why}"))
    };
    let depth: u32 = std::env::var(DEPTH_VAR)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if depth >= MAX_PROCESS_DEPTH {
        return Err(fail(format!(
            "recursed {MAX_PROCESS_DEPTH} levels deep; does it call awsrole for the same profile?"
        )));
    }
    let words = shell_words::split(command).map_err(|e| fail(format!("cannot be parsed: {e}")))?;
    let (program, args) = words.split_first().ok_or_else(|| fail("is empty".into()))?;
    let mut command = std::process::Command::new(program);
    command.args(args).env(DEPTH_VAR, (depth + 1).to_string());
    let output = crate::process::run(command, crate::process::CREDENTIAL_PROCESS_DEADLINE)
        .map_err(|e| match e {
            crate::process::RunError::Start(e) => fail(format!("({program}) did not start: {e}")),
            crate::process::RunError::TimedOut(after) => fail(format!(
                "({program}) did not finish within {}s and was stopped; check that it does not wait for input",
                after.as_secs_f32().round()
            )),
        })?;
    if !output.status.success() {
        return Err(fail(format!(
            "failed ({}); its messages are above",
            output.status
        )));
    }
    // The output is never echoed back: it may hold a secret.
    let parsed: ProcessOutput = serde_json::from_slice(&output.stdout).map_err(|_| {
        fail("printed something that is not a credential_process JSON document (Version, AccessKeyId, SecretAccessKey…)".into())
    })?;
    if parsed.version != serde_json::json!(1) {
        return Err(fail("printed a document whose Version is not 1".into()));
    }
    let expiration = match parsed.expiration {
        Some(text) => Some(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|_| {
                    fail(format!(
                        "printed an Expiration that is not RFC 3339: {text}"
                    ))
                })?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    if expiration.is_some_and(|e| e <= Utc::now()) {
        return Err(fail(
            "returned credentials that have already expired".into(),
        ));
    }
    Ok(Credentials {
        access_key_id: parsed.access_key_id,
        secret_access_key: parsed.secret_access_key,
        session_token: parsed.session_token.filter(|t| !t.is_empty()),
        issued: expiration.map(|_| Utc::now()),
        expiration,
    })
}
