//! `credential_source = Ec2InstanceMetadata`: the instance role's credentials from the
//! instance metadata service, as botocore's `InstanceMetadataFetcher` gets them —
//! IMDSv2 (`PUT latest/api/token`, then the role name and its credentials with the
//! token), its endpoint, endpoint mode, timeout and attempts settings, and its IMDSv1
//! fallback where botocore falls back (the token PUT answered 403/404/405 or timed out),
//! never when `AWS_EC2_METADATA_V1_DISABLED` / `ec2_metadata_v1_disabled` is on.
//!
//! One deliberate difference: when nothing accepts the connection at all (a laptop, a
//! machine outside EC2), botocore tries IMDSv1 at the same address and waits a second
//! time; awsrole stops after the first attempt, so such a machine fails in about a
//! second. The per-prompt hook never calls the service (cached credentials only).

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use http::Method;
use serde::Deserialize;

use super::metadata_http::{no_credentials, outside_the_hook, Client, Failure};
use crate::chain::credentials::Credentials;
use crate::chain::plan::ImdsSettings;
use crate::error::Result;

pub struct InstanceMetadata<'a> {
    pub profile: &'a str,
    pub imds: &'a ImdsSettings,
}

const BASE_IPV4: &str = "http://169.254.169.254/";
const BASE_IPV6: &str = "http://[fd00:ec2::254]/";
const TOKEN_PATH: &str = "latest/api/token";
const ROLE_PATH: &str = "latest/meta-data/iam/security-credentials/";
/// botocore asks for six hours; the token is used for two GETs.
const TOKEN_TTL: &str = "21600";

impl super::Provider for InstanceMetadata<'_> {
    fn identity(&self) -> String {
        match Settings::read(&env_var, self.imds) {
            Ok(s) => format!("imds:{}", s.base_url),
            Err(_) => "imds:".into(),
        }
    }

    fn credentials(&self) -> Result<Credentials> {
        let fail = |why: String| no_credentials(self.profile, "Ec2InstanceMetadata", why);
        outside_the_hook(
            self.profile,
            "Ec2InstanceMetadata",
            "instance metadata service",
        )?;
        let settings = Settings::read(&env_var, self.imds).map_err(&fail)?;
        if settings.disabled {
            return Err(fail(
                "AWS_EC2_METADATA_DISABLED=true turns the instance metadata service off".into(),
            ));
        }
        fetch(&settings).map_err(fail)
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        "[instance metadata]".into()
    }

    fn describe(&self) -> String {
        describe(self.profile, self.imds)
    }
}

/// `explain`'s line: the service's address and the switches that matter.
pub fn describe(profile: &str, imds: &ImdsSettings) -> String {
    let place = match Settings::read(&env_var, imds) {
        Ok(s) if s.disabled => format!("{} (turned off by AWS_EC2_METADATA_DISABLED)", s.base_url),
        Ok(s) => format!(
            "{} (IMDSv2{}, {}s timeout, {} attempt{})",
            s.base_url,
            if s.v1_disabled {
                " only"
            } else {
                ", IMDSv1 where botocore falls back"
            },
            s.timeout.as_secs(),
            s.attempts,
            if s.attempts == 1 { "" } else { "s" }
        ),
        Err(why) => format!("nowhere: {why}"),
    };
    format!("the instance role from the instance metadata service at {place} (credential_source = Ec2InstanceMetadata in '{profile}')")
}

fn env_var(name: &str) -> Option<String> {
    crate::sys::settings::var(name).ok()
}

/// What botocore's config provider makes of the variables and the profile's keys.
#[derive(Debug, PartialEq)]
struct Settings {
    base_url: String,
    timeout: Duration,
    attempts: u32,
    v1_disabled: bool,
    disabled: bool,
}

impl Settings {
    fn read(
        env: &dyn Fn(&str) -> Option<String>,
        config: &ImdsSettings,
    ) -> std::result::Result<Self, String> {
        // botocore: the variable when set (even empty), else the profile's key.
        let pick = |var: &str, key: &Option<String>| env(var).or_else(|| key.clone());
        let truthy = |v: Option<String>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mode = match pick("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", &config.endpoint_mode) {
            Some(mode) => match mode.to_ascii_lowercase().as_str() {
                m @ ("ipv4" | "ipv6") => m.to_string(),
                _ => {
                    return Err(format!(
                        "the endpoint mode {mode:?} (AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE / ec2_metadata_service_endpoint_mode) is neither ipv4 nor ipv6"
                    ))
                }
            },
            None if truthy(pick("AWS_IMDS_USE_IPV6", &config.use_ipv6)) => "ipv6".into(),
            None => "ipv4".into(),
        };
        let base_url = match pick("AWS_EC2_METADATA_SERVICE_ENDPOINT", &config.endpoint) {
            Some(url) => {
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.parse::<http::Uri>().is_err()
                {
                    return Err(format!(
                        "the endpoint {url:?} (AWS_EC2_METADATA_SERVICE_ENDPOINT / ec2_metadata_service_endpoint) is not an http:// URL"
                    ));
                }
                url
            }
            None if mode == "ipv6" => BASE_IPV6.into(),
            None => BASE_IPV4.into(),
        };
        let number =
            |var: &str, key: &Option<String>, default: u64, what: &str| match pick(var, key) {
                None => Ok(default),
                Some(text) => match text.trim().parse::<u64>() {
                    Ok(n) if (1..=60).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "{what} {text:?} ({var}) is not a whole number from 1 to 60"
                    )),
                },
            };
        Ok(Settings {
            base_url,
            timeout: Duration::from_secs(number(
                "AWS_METADATA_SERVICE_TIMEOUT",
                &config.timeout,
                1,
                "the timeout",
            )?),
            attempts: number(
                "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
                &config.attempts,
                1,
                "the number of attempts",
            )? as u32,
            v1_disabled: truthy(pick("AWS_EC2_METADATA_V1_DISABLED", &config.v1_disabled)),
            // botocore reads only the variable here, not a profile key.
            disabled: truthy(env("AWS_EC2_METADATA_DISABLED")),
        })
    }

    fn url(&self, path: &str) -> String {
        if self.base_url.ends_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }
}

/// The instance role's document (IMDS adds Code, LastUpdated and Type).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    token: Option<String>,
    expiration: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

fn fetch(settings: &Settings) -> std::result::Result<Credentials, String> {
    let client = Client::new(settings.timeout).map_err(|e| e.to_string())?;
    let at = &settings.base_url;
    let token = metadata_token(&client, settings)?;
    if token.is_none() && settings.v1_disabled {
        return Err(format!(
            "{at} gave no IMDSv2 token and IMDSv1 is turned off (AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled)"
        ));
    }
    let headers: Vec<(&str, &str)> = token
        .as_deref()
        .map(|t| vec![("x-aws-ec2-metadata-token", t)])
        .unwrap_or_default();
    let role = get(&client, settings, ROLE_PATH, &headers, |_| true)?;
    let role = String::from_utf8_lossy(&role)
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    if role.is_empty() || role.contains('/') {
        return Err(format!(
            "{at} names no instance role: is an instance profile attached to this instance?"
        ));
    }
    let body = get(
        &client,
        settings,
        &format!("{ROLE_PATH}{role}"),
        &headers,
        |b| serde_json::from_slice::<serde_json::Value>(b).is_ok(),
    )?;
    let doc: RoleCredentials = serde_json::from_slice(&body).map_err(|_| {
        format!("{at} answered for role {role} with something that is not a credentials document")
    })?;
    let (Some(access_key_id), Some(secret_access_key), Some(token), Some(expiration)) = (
        doc.access_key_id,
        doc.secret_access_key,
        doc.token,
        doc.expiration,
    ) else {
        // A 200 with {"Code","Message"}: EC2 could not assume the role (its trust policy).
        return Err(format!(
            "{at} could not give credentials for role {role}: {} {}",
            doc.code.unwrap_or_default(),
            doc.message.unwrap_or_default()
        ));
    };
    let expiration = NaiveDateTime::parse_from_str(&expiration, "%Y-%m-%dT%H:%M:%SZ")
        .map(|t| t.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(&expiration).map(|t| t.with_timezone(&Utc)))
        .map_err(|_| format!("{at} gave an Expiration that is not a time: {expiration:?}"))?;
    if expiration <= Utc::now() {
        return Err(format!(
            "{at} gave credentials for role {role} that expired at {expiration}; the service is not renewing them"
        ));
    }
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: Some(token),
        expiration: Some(expiration),
        issued: Some(Utc::now()),
    })
}

/// botocore's `_fetch_metadata_token`: `Ok(None)` where it falls back to IMDSv1.
fn metadata_token(
    client: &Client,
    settings: &Settings,
) -> std::result::Result<Option<String>, String> {
    let url = settings.url(TOKEN_PATH);
    let mut unreachable = None;
    for _ in 0..settings.attempts {
        match client.send(
            Method::PUT,
            &url,
            &[("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL)],
        ) {
            Ok(answer) => match answer.status {
                200 => {
                    let token = String::from_utf8_lossy(&answer.body).trim().to_string();
                    return Ok(Some(token).filter(|t| !t.is_empty() && !t.contains(['\r', '\n'])));
                }
                403..=405 => return Ok(None),
                400 => {
                    return Err(format!(
                        "{} refused the token request (HTTP 400)",
                        settings.base_url
                    ))
                }
                _ => unreachable = None,
            },
            // Reachable but silent (a container behind a hop limit of 1): IMDSv1 next.
            Err(Failure::Timeout) => return Ok(None),
            Err(Failure::Connect(why)) => unreachable = Some(why),
            Err(Failure::Other(_)) => unreachable = None,
        }
    }
    match unreachable {
        // Nothing listens there: IMDSv1 at the same address would not answer either.
        Some(why) => Err(format!(
            "the instance metadata service at {} could not be reached ({why}); this does not look like an EC2 instance (set AWS_EC2_METADATA_SERVICE_ENDPOINT if the service is elsewhere)",
            settings.base_url
        )),
        None => Ok(None),
    }
}

/// botocore's `_get_request`: retried (up to the attempts) on a failure, a non-200, an
/// empty body or a body `usable` rejects.
fn get(
    client: &Client,
    settings: &Settings,
    path: &str,
    headers: &[(&str, &str)],
    usable: impl Fn(&[u8]) -> bool,
) -> std::result::Result<Vec<u8>, String> {
    let url = settings.url(path);
    let mut last = String::new();
    for _ in 0..settings.attempts {
        match client.send(Method::GET, &url, headers) {
            Ok(a) if a.status == 200 && !a.body.is_empty() && usable(&a.body) => return Ok(a.body),
            Ok(a) if a.status == 200 => last = "an empty or unreadable answer".into(),
            Ok(a) if a.status == 401 => {
                last = "HTTP 401: the IMDSv2 token was refused".into();
            }
            Ok(a) if a.status == 404 && path == ROLE_PATH => {
                last = "HTTP 404: no instance profile is attached to this instance".into();
            }
            Ok(a) => last = format!("HTTP {}", a.status),
            Err(failure) => last = failure.to_string(),
        }
    }
    Err(format!(
        "{} did not answer GET /{path}: {last}",
        settings.base_url
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        env: &[(&str, &str)],
        config: ImdsSettings,
    ) -> std::result::Result<Settings, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        Settings::read(&lookup, &config)
    }

    #[test]
    fn the_endpoint_follows_botocore_variable_then_key_then_mode() {
        let base =
            |env: &[(&str, &str)], config: ImdsSettings| settings(env, config).unwrap().base_url;
        assert_eq!(base(&[], ImdsSettings::default()), BASE_IPV4);
        assert_eq!(
            base(
                &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")],
                ImdsSettings::default()
            ),
            BASE_IPV6
        );
        assert_eq!(
            base(&[("AWS_IMDS_USE_IPV6", "true")], ImdsSettings::default()),
            BASE_IPV6
        );
        let config = ImdsSettings {
            endpoint: Some("http://10.0.0.1:1338/".into()),
            endpoint_mode: Some("ipv6".into()),
            ..Default::default()
        };
        // A custom endpoint wins over the mode, as in botocore.
        assert_eq!(base(&[], config.clone()), "http://10.0.0.1:1338/");
        assert_eq!(
            base(
                &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/")],
                config
            ),
            "http://127.0.0.1:9/"
        );
        assert!(settings(
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv5")],
            ImdsSettings::default()
        )
        .unwrap_err()
        .contains("neither ipv4 nor ipv6"));
        assert!(settings(
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254")],
            ImdsSettings::default()
        )
        .is_err());
    }

    #[test]
    fn timeouts_attempts_and_switches_have_botocore_defaults() {
        let s = settings(&[], ImdsSettings::default()).unwrap();
        assert_eq!(
            (s.timeout, s.attempts, s.v1_disabled, s.disabled),
            (Duration::from_secs(1), 1, false, false)
        );
        let s = settings(
            &[
                ("AWS_METADATA_SERVICE_TIMEOUT", "3"),
                ("AWS_EC2_METADATA_DISABLED", "TRUE"),
            ],
            ImdsSettings {
                attempts: Some("2".into()),
                v1_disabled: Some("true".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            (s.timeout, s.attempts, s.v1_disabled, s.disabled),
            (Duration::from_secs(3), 2, true, true)
        );
        assert!(settings(
            &[("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "0")],
            ImdsSettings::default()
        )
        .is_err());
        assert_eq!(
            settings(&[], ImdsSettings::default())
                .unwrap()
                .url(TOKEN_PATH),
            "http://169.254.169.254/latest/api/token"
        );
        let custom = settings(
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")],
            ImdsSettings::default(),
        )
        .unwrap();
        assert_eq!(
            custom.url(TOKEN_PATH),
            "http://127.0.0.1:9/latest/api/token"
        );
    }
}
