//! The STS calls, made from explicit credentials. Built only when a hop misses the
//! cache: the client reads the system CA store (~4 ms) and needs an async runtime.

use std::time::Duration;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials as SdkCredentials, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::credentials::Credentials;

/// Why a call failed, in the terms the resolver turns into advice.
#[derive(Debug)]
pub enum StsFailure {
    Denied(String),
    BadMfa(String),
    BadCredentials { code: String, message: String },
    Unreachable(String),
    Other { code: String, message: String },
}

/// One client per command: its HTTP client (TLS roots loaded once, connections kept
/// alive) serves every hop; each call brings its own credentials.
pub struct Sts {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sts::Client,
    region: String,
    endpoint: Option<String>,
}

/// Bounded: a dead endpoint fails within seconds, with at most one retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(11);

impl Sts {
    pub fn new(region: Option<&str>, endpoint: Option<&str>) -> std::io::Result<Self> {
        // STS answers in every region; with none configured, the global one.
        let region = region.unwrap_or("us-east-1").to_string();
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(2));
        if let Some(endpoint) = endpoint {
            config = config.endpoint_url(endpoint);
        }
        Ok(Sts {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            client: aws_sdk_sts::Client::from_conf(config.build()),
            region,
            endpoint: endpoint.map(str::to_string),
        })
    }

    pub fn endpoint_text(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("sts.{}.amazonaws.com", self.region))
    }

    /// The credentials one call is signed with.
    fn signed_by(creds: &Credentials) -> aws_sdk_sts::config::Builder {
        aws_sdk_sts::Config::builder().credentials_provider(SdkCredentials::new(
            creds.access_key_id.clone(),
            creds.secret_access_key.clone(),
            creds.session_token.clone(),
            None,
            "awsrole",
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn assume_role(
        &self,
        creds: &Credentials,
        role_arn: &str,
        session_name: &str,
        external_id: Option<&str>,
        duration: Option<u32>,
        mfa: Option<(&str, &str)>,
    ) -> Result<Credentials, StsFailure> {
        let call = self
            .client
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .set_external_id(external_id.map(str::to_string))
            .set_duration_seconds(duration.map(|d| d as i32))
            .set_serial_number(mfa.map(|(s, _)| s.to_string()))
            .set_token_code(mfa.map(|(_, c)| c.to_string()))
            .customize()
            .config_override(Self::signed_by(creds));
        let out = self.runtime.block_on(call.send()).map_err(classify)?;
        convert(out.credentials())
    }

    pub fn get_session_token(
        &self,
        creds: &Credentials,
        duration: u32,
        serial: &str,
        code: &str,
    ) -> Result<Credentials, StsFailure> {
        let call = self
            .client
            .get_session_token()
            .duration_seconds(duration as i32)
            .serial_number(serial)
            .token_code(code)
            .customize()
            .config_override(Self::signed_by(creds));
        let out = self.runtime.block_on(call.send()).map_err(classify)?;
        convert(out.credentials())
    }

    /// The caller's ARN: checks that keys work (`awsrole add`).
    pub fn caller_arn(&self, creds: &Credentials) -> Result<String, StsFailure> {
        let out = self
            .runtime
            .block_on(
                self.client
                    .get_caller_identity()
                    .customize()
                    .config_override(Self::signed_by(creds))
                    .send(),
            )
            .map_err(classify)?;
        Ok(out.arn().unwrap_or_default().to_string())
    }
}

fn convert(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsFailure> {
    let c = c.ok_or_else(|| StsFailure::Other {
        code: "NoCredentials".into(),
        message: "STS answered without credentials".into(),
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: c.secret_access_key().to_string(),
        session_token: Some(c.session_token().to_string()),
        expiration: DateTime::<Utc>::from_timestamp(c.expiration().secs(), 0),
    })
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    err: SdkError<E, HttpResponse>,
) -> StsFailure {
    match &err {
        SdkError::TimeoutError(_) => StsFailure::Unreachable("timed out".into()),
        SdkError::DispatchFailure(d) => StsFailure::Unreachable(if d.is_timeout() {
            "timed out".into()
        } else {
            source_chain(&err)
        }),
        SdkError::ServiceError(_) => {
            // Some STS-compatible endpoints (moto's IAM checks among them) wrap the
            // error as <Errors><Error>, which the SDK does not read: fall back to the body.
            let body = err
                .raw_response()
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let code = err
                .code()
                .map(str::to_string)
                .or_else(|| xml_field(&body, "Code"));
            let code = code.unwrap_or_else(|| "Unknown".into());
            let message = err
                .message()
                .map(str::to_string)
                .or_else(|| xml_field(&body, "Message"));
            let message = message.unwrap_or_default();
            match code.as_str() {
                "AccessDenied" if message.contains("MultiFactorAuthentication") => {
                    StsFailure::BadMfa(message)
                }
                "AccessDenied" => StsFailure::Denied(message),
                "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "UnrecognizedClientException"
                | "ExpiredToken"
                | "InvalidAccessKeyId" => StsFailure::BadCredentials { code, message },
                _ => StsFailure::Other { code, message },
            }
        }
        _ => StsFailure::Other {
            code: "Error".into(),
            message: source_chain(&err),
        },
    }
}

fn xml_field(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].trim().to_string())
}

fn source_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}
