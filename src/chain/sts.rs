//! The STS calls, made from explicit credentials. Built only when a hop misses the
//! cache: the client reads the system CA store (~4 ms) and needs an async runtime.

use std::time::Duration;

use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{
    BehaviorVersion, ConfigBag, Credentials as SdkCredentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::body::SdkBody;
use chrono::{DateTime, Utc};

use crate::chain::credentials::Credentials;

/// Why a call failed, in the terms the resolver turns into advice.
#[derive(Debug)]
pub enum StsFailure {
    Denied(String),
    BadMfa(String),
    BadCredentials {
        code: String,
        message: String,
    },
    Unreachable(String),
    /// An answer that is not a usable STS document.
    Malformed(String),
    Other {
        code: String,
        message: String,
    },
}

/// One client per command: its HTTP client (TLS roots loaded once, connections kept
/// alive) serves every hop; each call brings its own credentials.
pub struct Sts {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_sts::Client,
    region: String,
    endpoint: Option<String>,
}

/// Bounded: a dead endpoint fails within seconds, with at most one retry. Under the
/// hook's budget (`budget::within`) every limit shrinks to what is left, with no retry.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(11);

/// An STS answer is a few KiB. A larger body is not STS, and an endless one must not
/// grow in memory until the timeout.
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug)]
struct CapBody;

impl Intercept for CapBody {
    fn name(&self) -> &'static str {
        "awsrole::CapBody"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = std::mem::replace(context.response_mut().body_mut(), SdkBody::taken());
        *context.response_mut().body_mut() =
            SdkBody::from_body_1_x(http_body_util::Limited::new(body, MAX_BODY));
        Ok(())
    }
}

impl Sts {
    pub fn new(region: Option<&str>, endpoint: Option<&str>) -> std::io::Result<Self> {
        // STS answers in every region; with none configured, the global one.
        let region = region.unwrap_or("us-east-1").to_string();
        let within = crate::sys::budget::within;
        let attempts = if crate::sys::budget::is_limited() {
            1
        } else {
            2
        };
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(within(CONNECT_TIMEOUT))
                    .operation_attempt_timeout(within(ATTEMPT_TIMEOUT))
                    .operation_timeout(within(OPERATION_TIMEOUT))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(attempts))
            .interceptor(CapBody);
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

    /// `mfa`: the device's serial and a code, when the session is to carry MFA.
    pub fn get_session_token(
        &self,
        creds: &Credentials,
        duration: u32,
        mfa: Option<(&str, &str)>,
    ) -> Result<Credentials, StsFailure> {
        let call = self
            .client
            .get_session_token()
            .duration_seconds(duration as i32)
            .set_serial_number(mfa.map(|(serial, _)| serial.to_string()))
            .set_token_code(mfa.map(|(_, code)| code.to_string()))
            .customize()
            .config_override(Self::signed_by(creds));
        let out = self.runtime.block_on(call.send()).map_err(classify)?;
        convert(out.credentials())
    }

    /// A federation session from long-term keys (console sign-in for an IAM user). The
    /// session policy allows everything, so the user's own policies alone decide.
    pub fn get_federation_token(
        &self,
        creds: &Credentials,
        name: &str,
        duration: u32,
    ) -> Result<Credentials, StsFailure> {
        const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let call = self
            .client
            .get_federation_token()
            .name(name)
            .policy(ALLOW_ALL)
            .duration_seconds(duration as i32)
            .customize()
            .config_override(Self::signed_by(creds));
        let out = self.runtime.block_on(call.send()).map_err(classify)?;
        convert(out.credentials())
    }

    /// AssumeRoleWithWebIdentity: authorised by the token alone, so sent unsigned (the
    /// client has no credentials of its own, and this call needs none).
    pub fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        session_name: &str,
        token: &str,
    ) -> Result<Credentials, StsFailure> {
        let call = self
            .client
            .assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .web_identity_token(token);
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

/// STS's answer, checked: a truncated or empty document, or credentials that have
/// already expired, are an error, never exported or cached.
fn convert(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsFailure> {
    let malformed = |what: &str| StsFailure::Malformed(format!("the answer {what}"));
    let c = c.ok_or_else(|| malformed("held no Credentials"))?;
    let field = |value: &str, name: &str| match value.trim() {
        "" => Err(malformed(&format!("had no {name}"))),
        v => Ok(v.to_string()),
    };
    let access_key_id = field(c.access_key_id(), "AccessKeyId")?;
    let secret_access_key = field(c.secret_access_key(), "SecretAccessKey")?;
    let session_token = field(c.session_token(), "SessionToken")?;
    let now = Utc::now();
    let expiration = DateTime::<Utc>::from_timestamp(c.expiration().secs(), 0)
        .filter(|e| *e > now)
        .ok_or_else(|| malformed("held credentials that had already expired (or no Expiration)"))?;
    Ok(Credentials {
        access_key_id,
        secret_access_key,
        session_token: Some(session_token),
        expiration: Some(expiration),
        issued: Some(now),
    })
}

/// What came back, for an answer that could not be read: status, content type and the
/// first bytes, with anything after a secret-bearing tag cut off.
fn describe_response(response: &HttpResponse) -> String {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap_or("no content type")
        .to_string();
    let body = response.body().bytes().unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
    let cut = ["<SecretAccessKey", "<SessionToken", "<Credentials"]
        .iter()
        .filter_map(|tag| text.find(tag))
        .min()
        .unwrap_or(text.len());
    let shown: String = text[..cut].chars().take(120).collect();
    let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    if shown.is_empty() {
        format!("HTTP {status}, {content_type}, {} bytes", body.len())
    } else {
        format!("HTTP {status}, {content_type}, starting {shown:?}")
    }
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
            let Some(code) = code else {
                // Not an AWS error document (a proxy's page, a truncated body…).
                return StsFailure::Malformed(match err.raw_response() {
                    Some(r) => format!("the answer could not be read ({})", describe_response(r)),
                    None => "the answer could not be read".into(),
                });
            };
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
        SdkError::ResponseError(r) => StsFailure::Malformed(format!(
            "the answer could not be read ({})",
            describe_response(r.raw())
        )),
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
