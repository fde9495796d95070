//! One small HTTPS client for the few plain HTTP calls awsrole makes outside the AWS SDK
//! (the federation sign-in endpoint, IAM's Query API): TLS with the system's roots, or
//! plain HTTP for a local endpoint in tests; the answer capped at 64 KiB; errors that
//! never quote the URL (it may carry a session).

use http_body_util::{BodyExt, Full, Limited};

/// A listener on 127.0.0.1 (never another address) at a port the system picks, and that
/// port; `what` is named in the error ("the sign-in", "the credential endpoint").
pub fn loopback(what: &str) -> crate::error::Result<(std::net::TcpListener, u16)> {
    use crate::error::Error;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::io(format!("cannot listen on 127.0.0.1 for {what}"), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io(format!("cannot tell the port of {what}"), e))?
        .port();
    Ok((listener, port))
}

/// `method` `url` with `headers` and `body`; the status and the body.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        // hyper sets Host from the URL.
        if !name.eq_ignore_ascii_case("host") {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    let request = request
        .body(Full::new(bytes::Bytes::from(body)))
        .map_err(|_| "not a valid request".to_string())?;
    let response = client.request(request).await.map_err(|e| {
        // The error's text may quote the URL: keep only its kind.
        if e.is_connect() {
            "connection failed".to_string()
        } else {
            "request failed".to_string()
        }
    })?;
    let status = response.status().as_u16();
    let body = Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|_| "the answer was too large or cut off".to_string())?
        .to_bytes()
        .to_vec();
    Ok((status, body))
}
