//! The local credential endpoint (`exec --server`): the container-credentials protocol
//! every SDK speaks, served from memory on 127.0.0.1, kept fresh in the background.
//!
//! - `GET <path>` with `Authorization: <token>` and `Host: 127.0.0.1:<port>` answers
//!   200 `{"AccessKeyId","SecretAccessKey","Token","Expiration"}`.
//! - A wrong or missing token, or another Host (DNS rebinding), is 403; another path
//!   404; another method 405. No CORS headers; no token or secret is ever logged.
//! - What it serves always has more than the margin left (20 min; botocore and the Java
//!   SDK refetch 15 min before expiry, JS and Go 5): a background thread renews through
//!   the normal cache. When renewing needs a person (an MFA code, a sign-in), it says so
//!   once on stderr, goes on serving what it has while that is valid, and tries the cache
//!   again every few seconds, so the remedy it names (entering the code in any terminal)
//!   takes effect at once. Only once nothing valid is left does it answer 503
//!   (`LoginRequired` when a person must act); it never serves expired keys and never
//!   prompts from a request.
//! - Other local users can connect to it: each connection gets one deadline for its
//!   whole request, at most `MAX_CONNECTIONS` are held (the oldest is dropped for a new
//!   one), and running out of descriptors or threads slows the accept loop down instead
//!   of spinning or aborting, so the token holder is still answered.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

/// How long before expiry the endpoint renews, unless `AWSROLE_REFRESH_MARGIN` says.
pub const DEFAULT_MARGIN: i64 = 20 * 60;

/// Connections held at once; a new one beyond this drops the oldest. Each holds two
/// descriptors, so renewals keep most of the usual 1,024.
const MAX_CONNECTIONS: usize = 128;

/// The whole request head must arrive within this, however it trickles in.
const REQUEST_DEADLINE: Duration = Duration::from_millis(1500);

/// How often a renewal that needs a person is tried again from the cache.
const PERSON_RETRY: Duration = Duration::from_secs(3);

/// What the endpoint has to serve, and why it could not renew (if it could not).
#[derive(Clone, Default)]
struct Served {
    current: Option<Credentials>,
    problem: Option<Problem>,
}

#[derive(Clone, PartialEq)]
enum Problem {
    /// Only a person can go on (MFA code, sign-in).
    Person(String),
    /// Anything else (network, STS): it may pass.
    Fault(String),
}

impl Served {
    /// The answer to a request with the right token: the credentials while they are
    /// valid, else why there are none.
    fn reply(&self, now: chrono::DateTime<chrono::Utc>) -> (u16, String) {
        if let Some(c) = &self.current {
            if c.seconds_left(now).is_none_or(|left| left > 0) {
                return (200, document(c));
            }
        }
        match &self.problem {
            Some(Problem::Person(message)) => (503, error("LoginRequired", message)),
            Some(Problem::Fault(message)) => (
                503,
                error(
                    "CredentialsUnavailable",
                    &format!("the credentials expired and could not be renewed: {message}"),
                ),
            ),
            None => (
                503,
                error("CredentialsUnavailable", "the credentials expired"),
            ),
        }
    }
}

pub struct Endpoint {
    pub url: String,
    pub token: String,
}

/// 32 random bytes as hex: no CR or LF, safe in a header.
fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::io("no randomness for the endpoint token", e))?;
    Ok(crate::env::envdiff::to_hex(&buf))
}

/// What a connection is answered against.
struct Site {
    path: String,
    token: String,
    host: String,
    served: Arc<Mutex<Served>>,
}

/// Starts serving `initial`; `renew` gives fresh credentials (never asking anyone).
pub fn start<F>(initial: Credentials, margin: i64, renew: F) -> Result<Endpoint>
where
    F: Fn() -> Result<Credentials> + Send + 'static,
{
    let (listener, port) = crate::sys::http::loopback("the credential endpoint")?;
    let site = Arc::new(Site {
        path: format!("/awsrole/{}", random_hex(16)?),
        token: random_hex(32)?,
        host: format!("127.0.0.1:{port}"),
        served: Arc::new(Mutex::new(Served {
            current: Some(initial),
            problem: None,
        })),
    });
    let endpoint = Endpoint {
        url: format!("http://127.0.0.1:{port}{}", site.path),
        token: site.token.clone(),
    };
    {
        let site = Arc::clone(&site);
        std::thread::spawn(move || accept_loop(listener, site));
    }
    let served = Arc::clone(&site.served);
    std::thread::spawn(move || keep_fresh(&served, margin, renew));
    Ok(endpoint)
}

/// Accepts for ever: one short-lived thread per connection, at most `MAX_CONNECTIONS`
/// held (the oldest is shut down for a newcomer); out of descriptors or threads, it
/// drops what it holds longest and waits a little instead of spinning.
fn accept_loop(listener: TcpListener, site: Arc<Site>) {
    let held: Arc<Mutex<VecDeque<(u64, TcpStream)>>> = Arc::default();
    let mut next_id = 0u64;
    let mut pause = Duration::from_millis(10);
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                // EMFILE, ENFILE, ENOBUFS…: free the oldest connection, then wait.
                drop_oldest(&held);
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
                continue;
            }
        };
        pause = Duration::from_millis(10);
        let Ok(handle) = stream.try_clone() else {
            continue; // out of descriptors: this one is closed on drop
        };
        let id = next_id;
        next_id += 1;
        {
            let Ok(mut held) = held.lock() else { return };
            while held.len() >= MAX_CONNECTIONS {
                if let Some((_, oldest)) = held.pop_front() {
                    let _ = oldest.shutdown(Shutdown::Both);
                }
            }
            held.push_back((id, handle));
        }
        let (site, held_by_thread) = (Arc::clone(&site), Arc::clone(&held));
        let spawned = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let _ = answer(stream, &site);
                if let Ok(mut held) = held_by_thread.lock() {
                    held.retain(|(i, _)| *i != id);
                }
            });
        if spawned.is_err() {
            // No thread to be had (a low `ulimit -u`): this connection is closed.
            if let Ok(mut held) = held.lock() {
                held.retain(|(i, _)| *i != id);
            }
            std::thread::sleep(pause);
        }
    }
}

fn drop_oldest(held: &Mutex<VecDeque<(u64, TcpStream)>>) {
    if let Ok(mut held) = held.lock() {
        if let Some((_, oldest)) = held.pop_front() {
            let _ = oldest.shutdown(Shutdown::Both);
        }
    }
}

/// When to renew credentials that have `left` seconds: `margin` before expiry, or at
/// half their life when they last less than the margin (so a long margin does not
/// renew in a loop).
fn renew_in(left: Option<i64>, margin: i64) -> Option<Duration> {
    let left = left?;
    let wait = if left > margin {
        left - margin
    } else {
        left / 2
    };
    Some(Duration::from_secs(wait.max(1) as u64))
}

/// Renews whenever what is served comes within the margin. A renewal that needs a
/// person is tried again from the cache every few seconds (a person entering the code
/// anywhere fills it); other failures back off up to a minute. Each kind of trouble is
/// told once, and so is the recovery.
fn keep_fresh<F: Fn() -> Result<Credentials>>(served: &Mutex<Served>, margin: i64, renew: F) {
    let mut due = served
        .lock()
        .ok()
        .and_then(|s| {
            s.current
                .as_ref()
                .map(|c| c.seconds_left(chrono::Utc::now()))
        })
        .map(|left| renew_in(left, margin));
    let mut fault_pause = Duration::from_secs(5);
    let mut told: Option<Problem> = None;
    loop {
        let wait = match due {
            Some(Some(wait)) => wait,
            // Credentials that never expire: nothing to renew.
            Some(None) => return,
            None => Duration::ZERO,
        };
        let until = Instant::now() + wait;
        while Instant::now() < until {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(500)));
        }
        match renew() {
            Ok(fresh) => {
                if told.take().is_some() {
                    crate::sys::output::notice("the credential endpoint renewed its credentials");
                }
                fault_pause = Duration::from_secs(5);
                let left = fresh.seconds_left(chrono::Utc::now());
                due = Some(renew_in(left, margin));
                if let Ok(mut s) = served.lock() {
                    *s = Served {
                        current: Some(fresh),
                        problem: None,
                    };
                }
            }
            Err(e) => {
                let (problem, retry) = if e.needs_person() {
                    (Problem::Person(e.to_string()), PERSON_RETRY)
                } else {
                    let retry = fault_pause;
                    fault_pause = (fault_pause * 2).min(Duration::from_secs(60));
                    (Problem::Fault(e.to_string()), retry)
                };
                if told.as_ref() != Some(&problem) {
                    let message = match &problem {
                        Problem::Person(m) => format!(
                            "the credential endpoint cannot renew without you: {m}; it serves what it has until that expires, and picks up new credentials as soon as they are there"
                        ),
                        Problem::Fault(m) => {
                            format!("the credential endpoint could not renew yet: {m}")
                        }
                    };
                    crate::sys::output::notice(&message);
                    told = Some(problem.clone());
                }
                if let Ok(mut s) = served.lock() {
                    s.problem = Some(problem);
                }
                due = Some(Some(retry));
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

fn answer(mut stream: TcpStream, site: &Site) -> std::io::Result<()> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    stream.set_write_timeout(Some(REQUEST_DEADLINE))?;
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        // One deadline for the whole head: a byte a second does not keep it open.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
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
    let (status, body) = if header("host").as_deref() != Some(site.host.as_str()) {
        (
            403,
            error(
                "Forbidden",
                "the Host header must be 127.0.0.1 and this port",
            ),
        )
    } else if target != site.path {
        (404, error("NotFound", "no such path"))
    } else if method != "GET" {
        (405, error("MethodNotAllowed", "only GET"))
    } else if !same(
        header("authorization").unwrap_or_default().as_bytes(),
        site.token.as_bytes(),
    ) {
        (
            403,
            error("Forbidden", "wrong or missing authorization token"),
        )
    } else {
        match site.served.lock() {
            Ok(served) => served.reply(chrono::Utc::now()),
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
