//! `credential_source = EcsContainer`: the container credentials endpoint, as botocore's
//! `ContainerProvider` and `ContainerMetadataFetcher` use it. The URI is
//! `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS), else
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI`, which must be https or name a loopback
//! address, the ECS or EKS Pod Identity agent (169.254.170.2, 169.254.170.23,
//! fd00:ec2::23) or `localhost`. The `Authorization` header comes from
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at each call: EKS rotates it), else
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`. A GET, 2 s timeouts, 3 attempts a second apart.
//! The per-prompt hook never calls it (cached credentials only).

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::metadata_http::{no_credentials, outside_the_hook, Client};
use crate::chain::credentials::Credentials;
use crate::error::Result;

pub struct Container<'a> {
    pub profile: &'a str,
}

const ECS_HOST: &str = "169.254.170.2";
const ALLOWED_HOSTS: [&str; 4] = [ECS_HOST, "169.254.170.23", "fd00:ec2::23", "localhost"];
const TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 3;
const PAUSE: Duration = Duration::from_secs(1);
const MAX_AUTH_TOKEN: u64 = 16 * 1024;

impl super::Provider for Container<'_> {
    fn identity(&self) -> String {
        // The URI names the credentials; the authorization token is a secret.
        format!("container:{}", endpoint(&env_var).unwrap_or_default())
    }

    fn credentials(&self) -> Result<Credentials> {
        let fail = |why: String| no_credentials(self.profile, "EcsContainer", why);
        outside_the_hook(
            self.profile,
            "EcsContainer",
            "container credentials endpoint",
        )?;
        let url = endpoint(&env_var).map_err(&fail)?;
        fetch(&url).map_err(fail)
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        "[container]".into()
    }

    fn describe(&self) -> String {
        describe(self.profile)
    }
}

/// `explain`'s line: the endpoint's host (its path may be a secret) and the token's source.
pub fn describe(profile: &str) -> String {
    let place = match endpoint(&env_var) {
        Ok(url) => {
            let host = url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.authority().map(|a| a.to_string()))
                .unwrap_or_default();
            let auth = if env_var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").is_some() {
                ", authorized by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
            } else if env_var("AWS_CONTAINER_AUTHORIZATION_TOKEN").is_some() {
                ", authorized by AWS_CONTAINER_AUTHORIZATION_TOKEN"
            } else {
                ""
            };
            format!("at {host}{auth}")
        }
        Err(why) => format!("nowhere: {why}"),
    };
    format!("the container credentials endpoint {place} (credential_source = EcsContainer in '{profile}')")
}

fn env_var(name: &str) -> Option<String> {
    crate::sys::settings::var(name).ok()
}

/// The URI to ask, checked as botocore checks it. RELATIVE_URI wins over FULL_URI.
fn endpoint(env: &dyn Fn(&str) -> Option<String>) -> std::result::Result<String, String> {
    if let Some(relative) = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        return Ok(format!("http://{ECS_HOST}{relative}"));
    }
    let Some(full) = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
        return Err(
            "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set; outside a container, use another credential_source".into(),
        );
    };
    let uri: http::Uri = full
        .parse()
        .map_err(|_| format!("AWS_CONTAINER_CREDENTIALS_FULL_URI {full:?} is not a URL"))?;
    if uri.scheme_str() == Some("https") {
        return Ok(full);
    }
    let host = uri.host().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if uri.scheme_str() != Some("http") || !(loopback || ALLOWED_HOSTS.contains(&bare)) {
        return Err(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI names {host:?}; over plain HTTP only a loopback address or one of {} may serve credentials",
            ALLOWED_HOSTS.join(", ")
        ));
    }
    Ok(full)
}

/// The header's value: the token file (re-read each time) wins over the variable.
fn authorization(
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Option<String>, String> {
    let token = if let Some(path) = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        let mut text = String::new();
        std::fs::metadata(&path)
            .and_then(|m| {
                if m.is_file() {
                    Ok(())
                } else {
                    Err(std::io::Error::other("not a regular file"))
                }
            })
            .and_then(|_| std::fs::File::open(&path))
            .and_then(|f| f.take(MAX_AUTH_TOKEN).read_to_string(&mut text))
            .map_err(|e| {
                format!("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path} cannot be read: {e}")
            })?;
        Some(text)
    } else {
        env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    };
    match token {
        Some(t) if t.contains(['\r', '\n']) => Err(
            "the container authorization token holds a line break, which no HTTP header may carry"
                .into(),
        ),
        other => Ok(other),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    access_key_id: String,
    secret_access_key: String,
    token: String,
    expiration: String,
}

fn fetch(url: &str) -> std::result::Result<Credentials, String> {
    let auth = authorization(&env_var)?;
    let client = Client::new(TIMEOUT).map_err(|e| e.to_string())?;
    let mut headers = vec![("Accept", "application/json")];
    if let Some(auth) = auth.as_deref() {
        headers.push(("Authorization", auth));
    }
    // The URL may carry a secret path (awsrole's own endpoint does): errors name the host.
    let shown = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(PAUSE);
        }
        match client.send(http::Method::GET, url, &headers) {
            Ok(a) if a.status == 200 => {
                let doc: Document = serde_json::from_slice(&a.body).map_err(|_| {
                    format!("the container endpoint at {shown} answered with something that is not a credentials document")
                })?;
                return convert(doc, &shown);
            }
            Ok(a) => {
                last = format!("HTTP {}{}", a.status, refusal(&a.body));
                // A refused token stays refused: asking twice more only delays the error.
                if matches!(a.status, 401 | 403) {
                    break;
                }
            }
            Err(failure) => last = failure.to_string(),
        }
    }
    Err(format!(
        "the container endpoint at {shown} did not give credentials ({last})"
    ))
}

/// The `Message` of an error document, as the services write them.
fn refusal(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        #[serde(alias = "message", rename = "Message")]
        message: Option<String>,
    }
    serde_json::from_slice::<Refusal>(body)
        .ok()
        .and_then(|r| r.message)
        .map(|m| format!(": {}", m.chars().take(160).collect::<String>()))
        .unwrap_or_default()
}

fn convert(doc: Document, shown: &str) -> std::result::Result<Credentials, String> {
    let expiration = DateTime::parse_from_rfc3339(&doc.expiration)
        .map_err(|_| {
            format!("the container endpoint at {shown} gave an Expiration that is not RFC 3339")
        })?
        .with_timezone(&Utc);
    if expiration <= Utc::now() {
        return Err(format!(
            "the container endpoint at {shown} gave credentials that had already expired"
        ));
    }
    Ok(Credentials {
        access_key_id: doc.access_key_id,
        secret_access_key: doc.secret_access_key,
        session_token: Some(doc.token).filter(|t| !t.is_empty()),
        expiration: Some(expiration),
        issued: Some(Utc::now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(
        pairs: &'a [(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn uris_follow_botocore_address_rules() {
        let ok = |pairs: &[(&'static str, &'static str)]| endpoint(&lookup(pairs));
        assert_eq!(
            ok(&[
                ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds"),
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/x")
            ])
            .unwrap(),
            "http://169.254.170.2/v2/creds"
        );
        for allowed in [
            "http://127.0.0.1:8080/c",
            "http://127.9.9.9/c",
            "http://[::1]:80/c",
            "http://localhost:1/c",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "https://creds.example.com/c",
        ] {
            assert_eq!(
                ok(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed)]).unwrap(),
                allowed
            );
        }
        for refused in [
            "http://10.0.0.1/c",
            "http://example.com/c",
            "ftp://127.0.0.1/c",
            "http://169.254.169.254/c",
        ] {
            let why = ok(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused)]).unwrap_err();
            assert!(why.contains("loopback"), "{refused}: {why}");
        }
        assert!(ok(&[]).unwrap_err().contains("neither"));
    }

    #[test]
    fn the_token_file_wins_and_line_breaks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file").unwrap();
        let path: &'static str = Box::leak(file.to_str().unwrap().to_string().into_boxed_str());
        let pairs = [
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-var"),
        ];
        assert_eq!(
            authorization(&lookup(&pairs)).unwrap().as_deref(),
            Some("from-file")
        );
        assert_eq!(
            authorization(&lookup(&[(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                "from-var"
            )]))
            .unwrap()
            .as_deref(),
            Some("from-var")
        );
        assert!(authorization(&lookup(&[(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "a\r\nX-Evil: 1"
        )]))
        .is_err());
        assert_eq!(authorization(&lookup(&[])).unwrap(), None);
    }
}
