//! `web_identity_token_file` + `role_arn`: AssumeRoleWithWebIdentity with the token the
//! file holds now. The file is read on every call, never cached: EKS and CI runners
//! rotate it, and a token kept from an earlier read would be refused once it expired.
//! The role credentials are cached by the `Cached` wrapper like any expiring root.

use std::io::Read;

use crate::chain::credentials::Credentials;
use crate::chain::plan::WebIdentity;
use crate::chain::sts::{Sts, StsFailure};
use crate::error::{Error, Result};

pub struct WebIdentityRoot<'a> {
    pub profile: &'a str,
    pub web: &'a WebIdentity,
}

/// OIDC tokens are a few KiB (STS takes at most 20,000 characters); a larger file is
/// not a token, and reading an endless one must not fill memory.
const MAX_TOKEN: u64 = 64 * 1024;

impl super::Provider for WebIdentityRoot<'_> {
    fn identity(&self) -> String {
        // The token changes with each rotation; the role and file name who it is.
        format!(
            "web-identity:{}:{}:{}",
            self.web.token_file,
            self.web.role_arn,
            self.web.session_name.as_deref().unwrap_or("")
        )
    }

    fn credentials(&self) -> Result<Credentials> {
        let token = read_token(self.profile, &self.web.token_file)?;
        let session_name = self
            .web
            .session_name
            .clone()
            .unwrap_or_else(crate::chain::resolve::default_session_name);
        let sts = Sts::new(self.web.region.as_deref(), self.web.endpoint.as_deref())
            .map_err(|e| Error::Sts(format!("cannot start the network runtime: {e}")))?;
        sts.assume_role_with_web_identity(&self.web.role_arn, &session_name, &token)
            .map_err(|failure| self.explain(failure, &sts))
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        format!("[web identity: {}]", self.web.role_arn)
    }

    fn describe(&self) -> String {
        describe(self.profile, self.web)
    }
}

impl WebIdentityRoot<'_> {
    fn explain(&self, failure: StsFailure, sts: &Sts) -> Error {
        let at = format!(
            "AssumeRoleWithWebIdentity for {} (profile '{}', token from {})",
            self.web.role_arn, self.profile, self.web.token_file
        );
        match failure {
            StsFailure::Denied(message) | StsFailure::BadCredentials { message, .. } => {
                Error::Sts(format!(
                    "{at} was refused: {message}; check that the role's trust policy allows this identity provider and the token's audience and subject"
                ))
            }
            StsFailure::Other { code, message } => Error::Sts(format!(
                "{at} failed: {code}: {message}{}",
                match code.as_str() {
                    "ExpiredTokenException" => "; the token in the file has expired: whatever writes it (the kubelet, the CI runner) has stopped renewing it",
                    "InvalidIdentityToken" | "IDPRejectedClaim" => "; the file does not hold a token this role accepts",
                    _ => "",
                }
            )),
            StsFailure::Unreachable(detail) => Error::Sts(format!(
                "{at}: cannot reach STS at {} ({detail}); check the network, or AWS_ENDPOINT_URL_STS / endpoint_url",
                sts.endpoint_text()
            )),
            StsFailure::Malformed(detail) => Error::Sts(format!(
                "{at} got a malformed answer from {}: {detail}; nothing was exported or cached",
                sts.endpoint_text()
            )),
            StsFailure::BadMfa(message) => Error::Sts(format!("{at} was refused: {message}")),
        }
    }
}

/// `explain`'s line: the role, the file and whether it holds a token now.
pub fn describe(profile: &str, web: &WebIdentity) -> String {
    let state = match read_token(profile, &web.token_file) {
        Ok(_) => "it holds a token".to_string(),
        Err(e) => {
            let text = e.to_string();
            let why = text
                .split(&web.token_file)
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_string();
            format!("it {}", why.trim_start_matches("it "))
        }
    };
    format!(
        "AssumeRoleWithWebIdentity of {} (profile '{profile}') with the token in {}, read at each call; {state}",
        web.role_arn, web.token_file
    )
}

/// The token as the file holds it now. Missing, unreadable, empty or oversized files
/// are errors naming the file and the profile; a FIFO or a device is refused before it
/// is opened, so nothing can make awsrole wait on it.
fn read_token(profile: &str, path: &str) -> Result<String> {
    let fail = |why: String| {
        Error::NoCredentials(format!(
            "profile '{profile}': the web identity token file {path} {why}"
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(
            "does not exist; check web_identity_token_file (whatever writes the token — the kubelet, the CI runner — may not have run yet)".into(),
        ),
        _ => fail(format!("cannot be read: {e}")),
    })?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TOKEN + 1).read_to_string(&mut text))
        .map_err(|e| fail(format!("cannot be read: {e}")))?;
    if text.len() as u64 > MAX_TOKEN {
        return Err(fail(format!(
            "is larger than {} KiB, which no token is",
            MAX_TOKEN / 1024
        )));
    }
    // botocore sends the file as it is; a trailing newline from `echo` is not part of
    // a JWT, so it is dropped rather than sent.
    let token = text.trim();
    if token.is_empty() {
        return Err(fail(
            "is empty; whatever writes the token has not written one".into(),
        ));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<String>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn a_missing_empty_or_special_token_file_names_the_file_and_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let text = message(read_token("ci", missing.to_str().unwrap()));
        assert!(
            text.contains("profile 'ci'")
                && text.contains("nope")
                && text.contains("does not exist"),
            "{text}"
        );

        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let text = message(read_token("ci", empty.to_str().unwrap()));
        assert!(
            text.contains("is empty") && text.contains("empty"),
            "{text}"
        );

        let text = message(read_token("ci", dir.path().to_str().unwrap()));
        assert!(text.contains("not a regular file"), "{text}");

        let big = dir.path().join("big");
        std::fs::write(&big, "x".repeat(70 * 1024)).unwrap();
        assert!(message(read_token("ci", big.to_str().unwrap())).contains("larger than"));

        let good = dir.path().join("token");
        std::fs::write(&good, "eyJ.a.b\n").unwrap();
        assert_eq!(read_token("ci", good.to_str().unwrap()).unwrap(), "eyJ.a.b");
    }
}
