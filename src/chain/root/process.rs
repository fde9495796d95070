//! `credential_process` of a profile: its JSON document, with a deadline.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

pub struct Process<'a> {
    pub profile: &'a str,
    pub command: &'a str,
}

impl super::Provider for Process<'_> {
    fn identity(&self) -> String {
        format!("process:{}:{}", self.profile, self.command)
    }

    fn credentials(&self) -> Result<Credentials> {
        process(self.profile, self.command)
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        "[credential_process]".into()
    }

    fn describe(&self) -> String {
        format!(
            "credential_process of profile '{}': {}",
            self.profile, self.command
        )
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
use crate::sys::settings::PROCESS_DEPTH_VAR as DEPTH_VAR;

fn process(profile: &str, command: &str) -> Result<Credentials> {
    let fail = |why: String| {
        Error::CredentialProcess(format!("credential_process of profile '{profile}' {why}"))
    };
    let depth = crate::sys::settings::get().process_depth();
    if depth >= MAX_PROCESS_DEPTH {
        return Err(fail(format!(
            "recursed {MAX_PROCESS_DEPTH} levels deep; does it call awsrole for the same profile?"
        )));
    }
    let words = shell_words::split(command).map_err(|e| fail(format!("cannot be parsed: {e}")))?;
    let (program, args) = words.split_first().ok_or_else(|| fail("is empty".into()))?;
    let mut command = std::process::Command::new(program);
    command.args(args).env(DEPTH_VAR, (depth + 1).to_string());
    let output = crate::sys::process::run(command, crate::sys::process::CREDENTIAL_PROCESS_DEADLINE)
        .map_err(|e| match e {
            crate::sys::process::RunError::Start(e) => fail(format!("({program}) did not start: {e}")),
            crate::sys::process::RunError::TimedOut(after) => fail(format!(
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
