//! The one small HTTP exchange the instance metadata service and the container
//! credentials endpoint need: a PUT or GET with a few headers, a connect timeout of
//! its own (so an address nobody answers at fails in about a second), a deadline for
//! the whole answer and a cap on its size. Plain HTTP for the link-local and loopback
//! addresses; TLS (the system's roots) only for an `https` container URI.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};

use crate::error::Error;

/// A credentials document is a few hundred bytes; anything past this is not one.
const MAX_BODY: usize = 64 * 1024;

/// The error of a metadata root: `credential_source = SOURCE` of the profile found
/// nothing, and why.
pub fn no_credentials(profile: &str, source: &str, why: String) -> Error {
    Error::NoCredentials(format!(
        "profile '{profile}': credential_source = {source} found no credentials: {why}"
    ))
}

/// The prompt hook never waits on a metadata service (off EC2 one may never answer):
/// it uses what `awsrole use` cached, and otherwise says to run it.
pub fn outside_the_hook(profile: &str, source: &str, service: &str) -> Result<(), Error> {
    if crate::sys::budget::is_limited() {
        return Err(no_credentials(
            profile,
            source,
            format!(
                "the prompt hook never calls the {service}; run 'awsrole use {profile}' (later prompts use what it cached)"
            ),
        ));
    }
    Ok(())
}

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no answer came: nobody accepted the connection (no metadata service here), or
/// the answer did not come in time, or something else went wrong on the way.
#[derive(Debug)]
pub enum Failure {
    Connect(String),
    Timeout,
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(why) => write!(f, "could not connect: {why}"),
            Failure::Timeout => write!(f, "no answer in time"),
            Failure::Other(why) => write!(f, "{why}"),
        }
    }
}

/// One client per fetch: its runtime, reused for every request of the fetch.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

impl Client {
    pub fn new(timeout: Duration) -> Result<Self, Failure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Other(format!("cannot start the network runtime: {e}")))?;
        Ok(Client { runtime, timeout })
    }

    /// `timeout` bounds the connection and, again, the answer (botocore's urllib3
    /// timeout is per connect and per read, 1 s for IMDS, 2 s for containers).
    pub fn send(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| Failure::Other(format!("{url} is not a valid URL")))?;
        let mut request = http::Request::builder().method(method).uri(uri.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Empty::<bytes::Bytes>::new())
            .map_err(|_| Failure::Other("a header value is not allowed in HTTP".into()))?;
        let timeout = self.timeout;
        self.runtime.block_on(async move {
            let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
            http.set_connect_timeout(Some(timeout));
            http.enforce_http(false);
            let response = if uri.scheme_str() == Some("https") {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| Failure::Other(format!("no TLS roots: {e}")))?
                    .https_only()
                    .enable_http1()
                    .wrap_connector(http);
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build(https);
                exchange(client.request(request), timeout).await?
            } else {
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build(http);
                exchange(client.request(request), timeout).await?
            };
            Ok(response)
        })
    }
}

async fn exchange(
    call: hyper_util::client::legacy::ResponseFuture,
    timeout: Duration,
) -> Result<Answer, Failure> {
    // The connect timeout sits inside; this one bounds connect plus answer.
    let response = tokio::time::timeout(timeout * 2, call)
        .await
        .map_err(|_| Failure::Timeout)?
        .map_err(|e| {
            if e.is_connect() {
                // The text names the kind (refused, unreachable, timed out), not a secret.
                match source_text(&e) {
                    t if t.contains("deadline has elapsed") => {
                        Failure::Connect(format!("no connection within {}s", timeout.as_secs_f32()))
                    }
                    t => Failure::Connect(t),
                }
            } else {
                Failure::Other("the connection broke before an answer".into())
            }
        })?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(
        timeout,
        Limited::new(response.into_body(), MAX_BODY).collect(),
    )
    .await
    .map_err(|_| Failure::Timeout)?
    .map_err(|_| Failure::Other("the answer was too large or cut off".into()))?
    .to_bytes()
    .to_vec();
    Ok(Answer { status, body })
}

fn source_text(err: &dyn std::error::Error) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}
