//! The sign-in service's one call awsrole makes: CreateOAuth2Token (`POST /v1/token`),
//! unsigned, a JSON body, a DPoP proof in its header. Written by hand over `crate::sys::http`:
//! the SDK's signin client comes only with aws-config.

use std::time::Duration;

use serde::Deserialize;

use super::dpop::{uuid4, Key};

/// The whole call, connection included: a sign-in service that does not answer must
/// not hold a shell.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// Where the sign-in service is: `AWS_ENDPOINT_URL_SIGNIN`, then `AWS_ENDPOINT_URL`,
/// then the region's (there is no global endpoint).
pub fn endpoint(region: Option<&str>) -> Result<String, String> {
    endpoint_in(&|k| crate::sys::settings::var(k).ok(), region)
}

fn endpoint_in(
    var: &dyn Fn(&str) -> Option<String>,
    region: Option<&str>,
) -> Result<String, String> {
    for name in ["AWS_ENDPOINT_URL_SIGNIN", "AWS_ENDPOINT_URL"] {
        if let Some(url) = var(name) {
            if !url.trim().is_empty() {
                return Ok(url.trim().trim_end_matches('/').to_string());
            }
        }
    }
    let region = region.ok_or(
        "no region is known for the sign-in service; set region in the profile (or AWS_REGION)",
    )?;
    let suffix = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else {
        "signin.aws.amazon.com"
    };
    Ok(format!("https://{region}.{suffix}"))
}

/// What the service answered to a good request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOutput {
    pub access_token: NewCredentials,
    pub expires_in: i64,
    pub refresh_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// How a call failed; never holds a secret.
#[derive(Debug)]
pub enum Failure {
    Unreachable(String),
    /// The service's refusal: HTTP status, the body's `error` code (TOKEN_EXPIRED …)
    /// and message.
    Service {
        status: u16,
        code: String,
        message: String,
    },
    BadAnswer(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(why) => write!(f, "unreachable: {why}"),
            Failure::Service {
                status,
                code,
                message,
            } => {
                let shown: String = message.chars().take(200).collect();
                write!(f, "HTTP {status} {code}: {shown}")
            }
            Failure::BadAnswer(why) => write!(f, "an answer awsrole cannot read ({why})"),
        }
    }
}

/// A grant of CreateOAuth2Token.
pub enum Grant<'a> {
    Refresh(&'a str),
    AuthorizationCode {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
}

pub fn create_token(
    endpoint: &str,
    client_id: &str,
    grant: Grant<'_>,
    key: &Key,
) -> Result<TokenOutput, Failure> {
    let url = format!("{endpoint}/v1/token");
    let body = match grant {
        Grant::Refresh(refresh) => serde_json::json!({
            "clientId": client_id,
            "refreshToken": refresh,
            "grantType": "refresh_token",
        }),
        Grant::AuthorizationCode {
            code,
            verifier,
            redirect_uri,
        } => serde_json::json!({
            "clientId": client_id,
            "grantType": "authorization_code",
            "code": code,
            "codeVerifier": verifier,
            "redirectUri": redirect_uri,
        }),
    };
    let jti = uuid4().map_err(Failure::Unreachable)?;
    let proof = key.proof(&url, chrono::Utc::now().timestamp(), &jti);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    // Within the hook's budget too, where a role is renewed on a prompt.
    let limit = crate::sys::budget::within(CALL_LIMIT);
    let (status, bytes) = runtime
        .block_on(async {
            let headers = [
                ("content-type".to_string(), "application/json".to_string()),
                ("accept".to_string(), "application/json".to_string()),
                ("dpop".to_string(), proof),
            ];
            tokio::time::timeout(
                limit,
                crate::sys::http::send("POST", &url, &headers, body.to_string().into_bytes()),
            )
            .await
        })
        .map_err(|_| Failure::Unreachable(format!("no answer within {:.1}s", limit.as_secs_f64())))?
        .map_err(Failure::Unreachable)?;
    if status == 200 {
        return serde_json::from_slice(&bytes).map_err(|e| Failure::BadAnswer(e.to_string()));
    }
    #[derive(Deserialize, Default)]
    struct Refusal {
        #[serde(default)]
        error: String,
        #[serde(default)]
        message: String,
    }
    let refusal: Refusal = serde_json::from_slice(&bytes).unwrap_or_default();
    Err(Failure::Service {
        status,
        code: refusal.error,
        message: refusal.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_partition_has_its_regional_endpoint_and_the_variables_win() {
        let none = |_: &str| None;
        assert_eq!(
            endpoint_in(&none, Some("eu-west-1")).unwrap(),
            "https://eu-west-1.signin.aws.amazon.com"
        );
        assert_eq!(
            endpoint_in(&none, Some("cn-north-1")).unwrap(),
            "https://cn-north-1.signin.amazonaws.cn"
        );
        assert_eq!(
            endpoint_in(&none, Some("us-gov-west-1")).unwrap(),
            "https://us-gov-west-1.signin.amazonaws-us-gov.com"
        );
        assert!(endpoint_in(&none, None).unwrap_err().contains("region"));
        let both = |k: &str| match k {
            "AWS_ENDPOINT_URL_SIGNIN" => Some("http://127.0.0.1:1/".to_string()),
            _ => Some("http://general".to_string()),
        };
        assert_eq!(endpoint_in(&both, None).unwrap(), "http://127.0.0.1:1");
        let general = |k: &str| (k == "AWS_ENDPOINT_URL").then(|| "http://general".to_string());
        assert_eq!(
            endpoint_in(&general, Some("eu-west-1")).unwrap(),
            "http://general"
        );
    }
}
