//! `credential_source = Environment`: the AWS_* variables awsrole was started with.

use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

pub struct Environment<'a> {
    pub profile: &'a str,
}

impl super::Provider for Environment<'_> {
    fn identity(&self) -> String {
        format!(
            "env:{}",
            crate::sys::settings::var("AWS_ACCESS_KEY_ID").unwrap_or_default()
        )
    }

    fn credentials(&self) -> Result<Credentials> {
        environment(self.profile)
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        "[environment]".into()
    }

    fn describe(&self) -> String {
        format!(
            "AWS_* variables of the environment (credential_source = Environment in '{}')",
            self.profile
        )
    }
}

fn environment(profile: &str) -> Result<Credentials> {
    let var = |k: &str| crate::sys::settings::var(k).ok().filter(|v| !v.is_empty());
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
