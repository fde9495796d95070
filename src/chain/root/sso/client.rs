//! The IAM Identity Center calls, through the AWS SDK's own clients: OIDC (RegisterClient,
//! StartDeviceAuthorization, CreateToken) and the portal (GetRoleCredentials, Logout,
//! and the listing `sso sync` makes: ListAccounts, ListAccountRoles).
//! None of them is signed; the bearer token or client secret travels in the request.

use std::time::Duration;

use aws_sdk_sso::config::retry::RetryConfig;
use aws_sdk_sso::config::timeout::TimeoutConfig;
use aws_sdk_sso::config::{BehaviorVersion, Region};
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::chain::credentials::Credentials;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(11);

/// Why a call failed.
#[derive(Debug)]
pub enum Failure {
    /// HTTP status, error code and message of an answer.
    Service {
        status: u16,
        code: String,
        message: String,
    },
    Unreachable(String),
}

impl Failure {
    pub fn code(&self) -> &str {
        match self {
            Failure::Service { code, .. } => code,
            Failure::Unreachable(_) => "",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Failure::Service { status, .. } => *status,
            Failure::Unreachable(_) => 0,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Service { code, message, .. } if message.is_empty() => write!(f, "{code}"),
            Failure::Service { code, message, .. } => write!(f, "{code}: {message}"),
            Failure::Unreachable(detail) => write!(f, "{detail}"),
        }
    }
}

fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
    e: SdkError<E, aws_sdk_sso::config::http::HttpResponse>,
) -> Failure {
    match e {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let err = service.err();
            Failure::Service {
                status,
                code: err.code().unwrap_or("UnknownError").to_string(),
                message: err.message().unwrap_or_default().to_string(),
            }
        }
        SdkError::TimeoutError(_) => Failure::Unreachable("timed out".into()),
        SdkError::DispatchFailure(d) => Failure::Unreachable(if d.is_timeout() {
            "timed out".into()
        } else {
            "connection failed".into()
        }),
        SdkError::ResponseError(r) => Failure::Unreachable(format!(
            "unreadable answer (HTTP {})",
            r.raw().status().as_u16()
        )),
        other => Failure::Unreachable(
            std::error::Error::source(&other)
                .map(|s| s.to_string())
                .unwrap_or_else(|| other.to_string()),
        ),
    }
}

/// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, as every AWS SDK reads them.
fn endpoint_override(service_var: &str) -> Option<String> {
    let var = |k: &str| {
        crate::sys::settings::var(k)
            .ok()
            .filter(|v| !v.trim().is_empty())
    };
    var(service_var).or_else(|| var("AWS_ENDPOINT_URL"))
}

/// A client registration: what CreateToken and the refresh need.
#[derive(Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: DateTime<Utc>,
}

pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: i64,
    pub interval: i64,
}

/// A token from CreateToken.
pub struct NewToken {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

pub struct Clients {
    runtime: tokio::runtime::Runtime,
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
    /// The portal without the SDK's retries: `sso sync` backs off on TooManyRequests
    /// itself, across all its concurrent calls (the SDK's retry bucket, shared by
    /// hundreds of throttled calls, runs dry and gives up: granted switches the Go SDK's
    /// rate limiter off and allows 50 attempts for that reason).
    lister: aws_sdk_sso::Client,
    pub oidc_endpoint: String,
    pub portal_endpoint: String,
}

impl Clients {
    pub fn new(region: &str) -> Result<Self, Failure> {
        let within = crate::sys::budget::within;
        let attempts = if crate::sys::budget::is_limited() {
            1
        } else {
            2
        };
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(within(CONNECT_TIMEOUT))
            .operation_attempt_timeout(within(ATTEMPT_TIMEOUT))
            .operation_timeout(within(OPERATION_TIMEOUT))
            .build();
        let oidc_override = endpoint_override("AWS_ENDPOINT_URL_SSO_OIDC");
        let portal_override = endpoint_override("AWS_ENDPOINT_URL_SSO");
        let mut oidc = aws_sdk_ssooidc::Config::builder()
            .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
            .region(aws_sdk_ssooidc::config::Region::new(region.to_string()))
            .timeout_config(timeouts.clone())
            .retry_config(
                aws_sdk_ssooidc::config::retry::RetryConfig::standard().with_max_attempts(attempts),
            );
        if let Some(url) = &oidc_override {
            oidc = oidc.endpoint_url(url);
        }
        let mut portal = aws_sdk_sso::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(attempts));
        if let Some(url) = &portal_override {
            portal = portal.endpoint_url(url);
        }
        let lister = portal.clone().retry_config(RetryConfig::disabled()).build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Unreachable(format!("cannot start the network runtime: {e}")))?;
        Ok(Clients {
            runtime,
            oidc: aws_sdk_ssooidc::Client::from_conf(oidc.build()),
            portal: aws_sdk_sso::Client::from_conf(portal.build()),
            lister: aws_sdk_sso::Client::from_conf(lister),
            oidc_endpoint: oidc_override
                .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"))
                .trim_end_matches('/')
                .to_string(),
            portal_endpoint: portal_override
                .unwrap_or_else(|| format!("https://portal.sso.{region}.amazonaws.com"))
                .trim_end_matches('/')
                .to_string(),
        })
    }

    pub fn get_role_credentials(
        &self,
        token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, Failure> {
        let out = self
            .runtime
            .block_on(
                self.portal
                    .get_role_credentials()
                    .access_token(token)
                    .account_id(account_id)
                    .role_name(role_name)
                    .send(),
            )
            .map_err(failure)?;
        let malformed = |what: &str| Failure::Service {
            status: 200,
            code: "MalformedAnswer".into(),
            message: format!("the answer has no {what}"),
        };
        let creds = out
            .role_credentials()
            .ok_or_else(|| malformed("roleCredentials"))?;
        let text = |v: Option<&str>, what: &str| {
            v.filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| malformed(what))
        };
        let expiration = DateTime::<Utc>::from_timestamp_millis(creds.expiration())
            .filter(|e| *e > Utc::now())
            .ok_or_else(|| malformed("expiration in the future"))?;
        Ok(Credentials {
            access_key_id: text(creds.access_key_id(), "accessKeyId")?,
            secret_access_key: text(creds.secret_access_key(), "secretAccessKey")?,
            session_token: Some(text(creds.session_token(), "sessionToken")?),
            expiration: Some(expiration),
            issued: Some(Utc::now()),
        })
    }

    pub fn logout(&self, token: &str) -> Result<(), Failure> {
        self.runtime
            .block_on(self.portal.logout().access_token(token).send())
            .map_err(failure)?;
        Ok(())
    }

    pub fn register_client(
        &self,
        name: &str,
        scopes: &[String],
        grant_types: &[&str],
        redirect_uri: Option<&str>,
        issuer_url: &str,
    ) -> Result<Registration, Failure> {
        let mut call = self
            .oidc
            .register_client()
            .client_name(name)
            .client_type("public")
            .set_scopes(Some(scopes.to_vec()))
            .set_grant_types(Some(grant_types.iter().map(|g| g.to_string()).collect()));
        if let Some(uri) = redirect_uri {
            call = call.redirect_uris(uri).issuer_url(issuer_url);
        }
        let out = self.runtime.block_on(call.send()).map_err(failure)?;
        Ok(Registration {
            client_id: out.client_id().unwrap_or_default().to_string(),
            client_secret: out.client_secret().unwrap_or_default().to_string(),
            expires_at: DateTime::from_timestamp(out.client_secret_expires_at(), 0)
                .unwrap_or_else(Utc::now),
        })
    }

    pub fn start_device_authorization(
        &self,
        client: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, Failure> {
        let out = self
            .runtime
            .block_on(
                self.oidc
                    .start_device_authorization()
                    .client_id(&client.client_id)
                    .client_secret(&client.client_secret)
                    .start_url(start_url)
                    .send(),
            )
            .map_err(failure)?;
        Ok(DeviceAuthorization {
            device_code: out.device_code().unwrap_or_default().to_string(),
            user_code: out.user_code().unwrap_or_default().to_string(),
            verification_uri: out.verification_uri().unwrap_or_default().to_string(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_string),
            expires_in: i64::from(out.expires_in()),
            interval: i64::from(out.interval()),
        })
    }

    /// CreateToken with one of the three grants.
    pub fn create_token(
        &self,
        client: &Registration,
        grant: Grant<'_>,
    ) -> Result<NewToken, Failure> {
        let call = self
            .oidc
            .create_token()
            .client_id(&client.client_id)
            .client_secret(&client.client_secret);
        let call = match grant {
            Grant::DeviceCode(code) => call
                .grant_type("urn:ietf:params:oauth:grant-type:device_code")
                .device_code(code),
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => call
                .grant_type("authorization_code")
                .code(code)
                .code_verifier(verifier)
                .redirect_uri(redirect_uri),
            Grant::Refresh(token) => call.grant_type("refresh_token").refresh_token(token),
        };
        let out = self.runtime.block_on(call.send()).map_err(failure)?;
        let access_token = out
            .access_token()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Service {
                status: 200,
                code: "MalformedAnswer".into(),
                message: "CreateToken answered without an accessToken".into(),
            })?
            .to_string();
        Ok(NewToken {
            access_token,
            expires_in: i64::from(out.expires_in()),
            refresh_token: out
                .refresh_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }
}

/// An account the signed-in user has a role in (ListAccounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// One page of a listing, and the token of the next one.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The portal's listing calls, one page each, with no retry of their own; cheap to
/// clone into the tasks that run them concurrently.
#[derive(Clone)]
pub struct Lister {
    portal: aws_sdk_sso::Client,
}

impl Clients {
    pub fn lister(&self) -> Lister {
        Lister {
            portal: self.lister.clone(),
        }
    }

    /// Runs the listing's futures on this client's runtime.
    pub fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }
}

impl Lister {
    pub async fn accounts(
        &self,
        token: &str,
        next: Option<&str>,
        page_size: i32,
    ) -> Result<Page<Account>, Failure> {
        let out = self
            .portal
            .list_accounts()
            .access_token(token)
            .max_results(page_size)
            .set_next_token(next.map(str::to_string))
            .send()
            .await
            .map_err(failure)?;
        Ok(Page {
            items: out
                .account_list()
                .iter()
                .filter_map(|a| {
                    Some(Account {
                        id: a.account_id()?.to_string(),
                        name: a.account_name().unwrap_or_default().to_string(),
                    })
                })
                .collect(),
            next: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }

    /// The names of the roles (permission sets) the user has in `account`.
    pub async fn account_roles(
        &self,
        token: &str,
        account: &str,
        next: Option<&str>,
        page_size: i32,
    ) -> Result<Page<String>, Failure> {
        let out = self
            .portal
            .list_account_roles()
            .access_token(token)
            .account_id(account)
            .max_results(page_size)
            .set_next_token(next.map(str::to_string))
            .send()
            .await
            .map_err(failure)?;
        Ok(Page {
            items: out
                .role_list()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string))
                .collect(),
            next: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }
}

pub enum Grant<'a> {
    DeviceCode(&'a str),
    AuthorizationCode {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
    Refresh(&'a str),
}
