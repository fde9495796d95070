//! The local credential endpoint (`exec --server`): the container-credentials protocol
//! every SDK speaks, served from memory on 127.0.0.1, kept fresh in the background.
//!
//! - `GET <path>` with `Authorization: <token>` and `Host: 127.0.0.1:<port>` answers
//!   200 `{"AccessKeyId","SecretAccessKey","Token","Expiration"}`.
//! - A wrong or missing token, or another Host (DNS rebinding), is 403; another path
//!   404; another method 405. No CORS headers; no token or secret is ever logged.
//! - What it serves always has more than the margin left (20 min; botocore and the Java
//!   SDK refetch 15 min before expiry, JS and Go 5): a background thread renews through
//!   the normal cache. When renewing needs a person (an MFA code), it answers 503
//!   `LoginRequired` and says so once on stderr; it never prompts from a request.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

/// How long before expiry the endpoint renews, unless `AWSROLE_REFRESH_MARGIN` says.
pub const DEFAULT_MARGIN: i64 = 20 * 60;

/// What the endpoint serves.
#[derive(Clone)]
enum Served {
    Ready(Credentials),
    LoginRequired(String),
}

pub struct Endpoint {
    pub url: String,
    pub token: String,
}

/// 32 random bytes as hex: no CR or LF, safe in a header.
fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::Io(format!("no randomness for the endpoint token: {e}")))?;
    Ok(crate::envdiff::to_hex(&buf))
}

/// Starts serving `initial`; `renew` gives fresh credentials (never asking anyone).
pub fn start<F>(initial: Credentials, margin: i64, renew: F) -> Result<Endpoint>
where
    F: Fn() -> Result<Credentials> + Send + 'static,
{
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::Io(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Io(e.to_string()))?
        .port();
    let path = format!("/awsrole/{}", random_hex(16)?);
    let token = random_hex(32)?;
    let served = Arc::new(Mutex::new(Served::Ready(initial)));

    let host = format!("127.0.0.1:{port}");
    {
        let served = Arc::clone(&served);
        let (path, token) = (path.clone(), token.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = Arc::clone(&served);
                let (path, token, host) = (path.clone(), token.clone(), host.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, &path, &token, &host, &served);
                });
            }
        });
    }
    {
        let served = Arc::clone(&served);
        std::thread::spawn(move || keep_fresh(&served, margin, renew));
    }
    Ok(Endpoint {
        url: format!("http://127.0.0.1:{port}{path}"),
        token,
    })
}

/// Renews whenever what is served comes within the margin.
fn keep_fresh<F: Fn() -> Result<Credentials>>(served: &Mutex<Served>, margin: i64, renew: F) {
    let mut told = false;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let due = match served.lock().map(|s| s.clone()) {
            Ok(Served::Ready(c)) => c
                .seconds_left(chrono::Utc::now())
                .is_some_and(|left| left <= margin),
            _ => false,
        };
        if !due {
            continue;
        }
        match renew() {
            Ok(fresh) => {
                if let Ok(mut s) = served.lock() {
                    *s = Served::Ready(fresh);
                }
            }
            Err(Error::Mfa(message)) => {
                crate::cli::notice(&format!(
                    "the credential endpoint needs a person to go on ({message}); it now answers LoginRequired"
                ));
                if let Ok(mut s) = served.lock() {
                    *s = Served::LoginRequired(message);
                }
            }
            Err(e) => {
                // A passing fault: keep serving what is still valid, try again shortly.
                if !told {
                    crate::cli::notice(&format!(
                        "the credential endpoint could not renew yet: {e}"
                    ));
                    told = true;
                }
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    }
}

/// Constant time, so the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answer(
    mut stream: TcpStream,
    path: &str,
    token: &str,
    host: &str,
    served: &Mutex<Served>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk)?;
        if n == 0 || request.len() > 16 * 1024 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&request);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let header = |name: &str| {
        text.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let (status, body) = if header("host").as_deref() != Some(host) {
        (
            403,
            error(
                "Forbidden",
                "the Host header must be 127.0.0.1 and this port",
            ),
        )
    } else if target != path {
        (404, error("NotFound", "no such path"))
    } else if method != "GET" {
        (405, error("MethodNotAllowed", "only GET"))
    } else if !same(
        header("authorization").unwrap_or_default().as_bytes(),
        token.as_bytes(),
    ) {
        (
            403,
            error("Forbidden", "wrong or missing authorization token"),
        )
    } else {
        match served.lock().map(|s| s.clone()) {
            Ok(Served::Ready(c)) => (200, document(&c)),
            Ok(Served::LoginRequired(message)) => (503, error("LoginRequired", &message)),
            Err(_) => (
                500,
                error("InternalError", "the endpoint's state is unusable"),
            ),
        }
    };
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

fn error(code: &str, message: &str) -> String {
    serde_json::json!({ "Code": code, "Message": message }).to_string()
}

fn document(c: &Credentials) -> String {
    serde_json::json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "Token": c.session_token.clone().unwrap_or_default(),
        "Expiration": c.expiration_text().unwrap_or_default(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        let token = random_hex(32).unwrap();
        assert_eq!(token.len(), 64);
        assert!(!token.contains(['\r', '\n']));
    }
}
