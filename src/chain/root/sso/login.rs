//! Signing in to IAM Identity Center: the authorization-code flow with PKCE (the AWS
//! CLI's default since 2.22 for `sso_session` profiles) through a listener on
//! 127.0.0.1 only, or the device-code flow (legacy profiles, `--use-device-code`, and
//! wherever no browser can be shown). The token, its refresh token and the client
//! registration go to the OS keyring, never to a file.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::client::{Clients, Failure, Grant, NewToken, Registration};
use super::token::{self, Token};
use super::{token_store, SignIn};
use crate::chain::cache::{name_prefix, Backend, SecretStore};
use crate::error::{Error, Result};
use crate::sys::output::notice;

/// What the sign-in page may take: the AWS CLI waits as long.
const LOGIN_LIMIT: Duration = Duration::from_secs(600);
/// Scopes asked for when the session names none: with them, a refresh token is issued.
pub const DEFAULT_SCOPES: [&str; 1] = ["sso:account:access"];
pub(crate) const CALLBACK_PATH: &str = "/oauth/callback";

#[derive(Debug, Default, Clone)]
pub struct Options {
    pub device_code: bool,
    pub no_browser: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Pkce,
    Device,
}

/// What one sign-in works with, settled before anyone is asked anything.
struct Attempt<'a> {
    sign_in: &'a SignIn,
    store: Box<dyn SecretStore>,
    clients: Clients,
    scopes: Vec<String>,
    show_browser: bool,
}

impl Attempt<'_> {
    fn fail(&self, e: Failure) -> Error {
        oidc_error(&e, &self.clients.oidc_endpoint, self.sign_in)
    }
}

/// Signs in and keeps the token in the keyring; returns it. The phases: a keyring that
/// will take the token, the flow (PKCE, or a device code where no browser can be
/// shown), the person's approval, and the token kept.
pub fn login(sign_in: &SignIn, backend: Backend, options: &Options) -> Result<Token> {
    let store = token_home(backend)?;
    let headless = crate::sys::browser::headless();
    let flow = choose_flow(sign_in, options, headless);
    let scopes: Vec<String> = if sign_in.scopes.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        sign_in.scopes.clone()
    };
    let clients = Clients::new(&sign_in.region).map_err(|e| oidc_error(&e, "", sign_in))?;
    let attempt = Attempt {
        sign_in,
        store,
        clients,
        scopes,
        show_browser: !options.no_browser && headless.is_none(),
    };
    let (registration, new) = match flow {
        Flow::Pkce => by_pkce(&attempt)?,
        Flow::Device => by_device_code(&attempt)?,
    };
    keep(&attempt, registration, new)
}

/// The keyring the token will go to, checked to take a write before anyone approves
/// anything.
fn token_home(backend: Backend) -> Result<Box<dyn SecretStore>> {
    let store = token_store(backend).ok_or_else(|| {
        Error::Sso(format!(
            "there is no keyring to keep the IAM Identity Center token in (AWSROLE_KEYRING={}); awsrole keeps tokens only there. Set AWSROLE_KEYRING to keyutils or secret-service, or sign in with 'aws sso login', whose token awsrole reads",
            crate::sys::settings::get().keyring().unwrap_or_default()
        ))
    })?;
    if backend == Backend::Auto && crate::chain::cache::secret_service_missing() {
        notice("no Secret Service on this session's D-Bus: the sign-in token goes to the kernel keyring (kept until it expires or the machine restarts)");
    }
    check_store(store.as_ref(), "the IAM Identity Center token")?;
    Ok(store)
}

/// PKCE where a browser can be shown and the profile names an sso-session; else a
/// device code (legacy profiles, `--use-device-code`, SSH, CI, containers).
fn choose_flow(sign_in: &SignIn, options: &Options, headless: Option<&str>) -> Flow {
    if options.device_code || sign_in.session.is_none() {
        Flow::Device
    } else if let Some(why) = headless {
        notice(&format!(
            "no browser can be shown here ({why}); signing in with a device code (set BROWSER to use one)"
        ));
        Flow::Device
    } else {
        Flow::Pkce
    }
}

/// The authorization-code flow with PKCE through a listener on 127.0.0.1.
fn by_pkce(a: &Attempt) -> Result<(Registration, NewToken)> {
    let (listener, port) = crate::sys::http::loopback("the sign-in")?;
    let registration = registered(a.store.as_ref(), a.sign_in, Flow::Pkce, &a.scopes, || {
        a.clients.register_client(
            &client_name(a.sign_in),
            &a.scopes,
            &["authorization_code", "refresh_token"],
            Some(&format!("http://127.0.0.1{CALLBACK_PATH}")),
            &a.sign_in.start_url,
        )
    })
    .map_err(|e| a.fail(e))?;
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
    let verifier = random_text(64)?;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let state = random_text(24)?;
    let url = format!(
        "{}/authorize?{}",
        a.clients.oidc_endpoint,
        form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &registration.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scopes", &a.scopes.join(" "))
            .append_pair("code_challenge", &challenge)
            .finish()
    );
    tell_or_open(&url, None, a.show_browser);
    let code = wait_for_code(
        &listener,
        &state,
        "run the sign-in again (or add --use-device-code)",
    )?;
    let new = a
        .clients
        .create_token(
            &registration,
            Grant::AuthorizationCode {
                code: &code,
                verifier: &verifier,
                redirect_uri: &redirect_uri,
            },
        )
        .map_err(|e| a.fail(e))?;
    Ok((registration, new))
}

/// The device-code flow: a code the person checks on the verification page.
fn by_device_code(a: &Attempt) -> Result<(Registration, NewToken)> {
    let registration = registered(a.store.as_ref(), a.sign_in, Flow::Device, &a.scopes, || {
        a.clients.register_client(
            &client_name(a.sign_in),
            &a.scopes,
            &[
                "urn:ietf:params:oauth:grant-type:device_code",
                "refresh_token",
            ],
            None,
            &a.sign_in.start_url,
        )
    })
    .map_err(|e| a.fail(e))?;
    let device = a
        .clients
        .start_device_authorization(&registration, &a.sign_in.start_url)
        .map_err(|e| a.fail(e))?;
    let url = verification_url(&device, a.sign_in)?;
    notice(&format!(
        "to sign in to {}, open {} and check that it shows the code {}",
        a.sign_in.name(),
        device.verification_uri,
        device.user_code
    ));
    tell_or_open(&url, Some(&device.user_code), a.show_browser);
    let new = poll_device(&a.clients, &registration, &device).map_err(|e| match e {
        PollEnd::Failed(f) => a.fail(f),
        PollEnd::Expired => Error::Sso(format!(
            "the sign-in code expired before it was approved; run '{}' again",
            a.sign_in.login_command
        )),
    })?;
    Ok((registration, new))
}

/// The new token, with its client registration, into the keyring; said once.
fn keep(a: &Attempt, registration: Registration, new: NewToken) -> Result<Token> {
    let token = Token {
        access_token: new.access_token,
        expires_at: Utc::now() + chrono::Duration::seconds(new.expires_in),
        refresh_token: new.refresh_token,
        client_id: Some(registration.client_id),
        client_secret: Some(registration.client_secret),
        registration_expires_at: Some(registration.expires_at),
        region: Some(a.sign_in.region.clone()),
        start_url: Some(a.sign_in.start_url.clone()),
        other: Default::default(),
    };
    token::write_keyring(a.store.as_ref(), a.sign_in.key(), &token)?;
    notice(&format!(
        "signed in to {} until {}{}",
        a.sign_in.name(),
        token.expires_at.format("%Y-%m-%d %H:%M UTC"),
        if token.refresh_token.is_some() {
            " (renewed without a browser while the session allows)"
        } else {
            ""
        }
    ));
    Ok(token)
}

/// The token (or login session) must have somewhere to go before anyone is asked to
/// approve the sign-in: a keyring that refuses a write (no Secret Service, a locked
/// collection) fails here, not after the person clicked "Allow".
pub(crate) fn check_store(store: &dyn SecretStore, what: &str) -> Result<()> {
    let name = format!("{}sign-in-check-{}", name_prefix("sso"), std::process::id());
    let expires = Utc::now() + chrono::Duration::seconds(60);
    store.put(&name, b"{}", Some(expires)).map_err(|e| {
        Error::Keyring(format!(
            "cannot keep {what} in the keyring ({e}); nothing was asked of you. Set AWSROLE_KEYRING=keyutils (the kernel keyring), or start a Secret Service"
        ))
    })?;
    let _ = store.delete(&name);
    Ok(())
}

/// The address of the device-code page to open: `verificationUriComplete` when it is fit
/// for a browser, else `verificationUri`, else an error. They come from the network, and
/// an opener takes a value starting with `-` as an option and opens any scheme it knows.
fn verification_url(
    device: &super::client::DeviceAuthorization,
    sign_in: &SignIn,
) -> Result<String> {
    if let Some(complete) = device
        .verification_uri_complete
        .as_deref()
        .filter(|u| fit_for_browser(u))
    {
        return Ok(complete.to_string());
    }
    if fit_for_browser(&device.verification_uri) {
        return Ok(device.verification_uri.clone());
    }
    let shown: String = device.verification_uri.chars().take(60).collect();
    Err(Error::Sso(format!(
        "IAM Identity Center's sign-in service for {} gave a verification address that is not https ({shown:?}); awsrole opens only https addresses. Check sso_region and AWS_ENDPOINT_URL_SSO_OIDC",
        sign_in.name()
    )))
}

/// https, or http to a loopback host (a local test endpoint); printable ASCII only (no
/// spaces, controls or bidi marks: a real address is percent-encoded), no user part.
fn fit_for_browser(url: &str) -> bool {
    if !url.chars().all(|c| c.is_ascii_graphic()) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => {
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => authority.split(':').next().unwrap_or(""),
            };
            matches!(host, "127.0.0.1" | "localhost" | "::1")
        }
        _ => false,
    }
}

fn client_name(sign_in: &SignIn) -> String {
    let who: String = sign_in
        .key()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(40)
        .collect();
    format!("awsrole-{who}")
}

fn oidc_error(e: &Failure, endpoint: &str, sign_in: &SignIn) -> Error {
    match e {
        Failure::Unreachable(detail) => Error::Sso(format!(
            "cannot reach IAM Identity Center's sign-in service at {endpoint} ({detail}); check sso_region ({}), the network, or AWS_ENDPOINT_URL_SSO_OIDC",
            sign_in.region
        )),
        Failure::Service { code, .. } if code == "AccessDeniedException" => Error::Sso(format!(
            "the sign-in to {} was denied ({e})",
            sign_in.name()
        )),
        other => Error::Sso(format!("signing in to {} failed: {other}", sign_in.name())),
    }
}

/// A stored client registration.
#[derive(Serialize, Deserialize)]
struct StoredRegistration {
    id: String,
    secret: String,
    expires: i64,
}

/// The client registration of this sign-in and flow: reused until a day before it
/// expires (AWS gives 90 days), else made and kept.
fn registered(
    store: &dyn SecretStore,
    sign_in: &SignIn,
    flow: Flow,
    scopes: &[String],
    register: impl FnOnce() -> std::result::Result<Registration, Failure>,
) -> std::result::Result<Registration, Failure> {
    let name = format!(
        "{}{}",
        name_prefix("sso-client"),
        token::sha1_hex(&format!(
            "{}|{}|{:?}|{}",
            sign_in.key(),
            sign_in.region,
            flow,
            scopes.join(",")
        ))
    );
    let reusable = store
        .get(&name)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<StoredRegistration>(&b).ok())
        .and_then(|r| {
            let expires = chrono::DateTime::from_timestamp(r.expires, 0)?;
            (expires - Utc::now() > chrono::Duration::days(1)).then_some(Registration {
                client_id: r.id,
                client_secret: r.secret,
                expires_at: expires,
            })
        });
    if let Some(r) = reusable {
        return Ok(r);
    }
    let r = register()?;
    let stored = StoredRegistration {
        id: r.client_id.clone(),
        secret: r.client_secret.clone(),
        expires: r.expires_at.timestamp(),
    };
    if let Ok(bytes) = serde_json::to_vec(&stored) {
        if let Err(e) = store.put(&name, &bytes, Some(r.expires_at)) {
            crate::chain::cache::warn(&format!("could not keep the client registration ({e})"));
        }
    }
    Ok(r)
}

/// Opens the browser, or says on stderr what to open. The URL of the PKCE flow holds no
/// secret (the challenge is a hash), so it may be shown.
fn tell_or_open(url: &str, user_code: Option<&str>, show_browser: bool) {
    if show_browser {
        match crate::sys::browser::open(url, false) {
            Ok(()) => {
                notice("a browser was opened to sign in; waiting for it (Ctrl-C to stop)");
                return;
            }
            Err(why) => notice(&format!("{why}; open the address below yourself")),
        }
    }
    match user_code {
        Some(code) => notice(&format!(
            "open this address in a browser (code {code}):\n  {url}"
        )),
        None => notice(&format!(
            "open this address in a browser on this machine:\n  {url}"
        )),
    }
}

/// A failing random source is an error like any other, never a panic.
pub(crate) fn random_text(bytes: usize) -> Result<String> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| Error::io("no randomness for the sign-in", e))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Waits for the browser's redirect to the listener: the first request to the callback
/// path with the right `state` ends it; anything else is answered and ignored. Nothing
/// outlives [`LOGIN_LIMIT`]: not a slow request, nor a stream of them.
/// `again` says what to do when no answer came in time.
pub(crate) fn wait_for_code(listener: &TcpListener, state: &str, again: &str) -> Result<String> {
    wait_for_code_until(listener, state, Instant::now() + LOGIN_LIMIT, again)
}

/// How long one request may take to arrive whole. A browser on loopback sends it at
/// once; a local user trickling bytes holds the listener no longer than this.
const REQUEST_LIMIT: Duration = Duration::from_secs(2);

fn wait_for_code_until(
    listener: &TcpListener,
    state: &str,
    deadline: Instant,
    again: &str,
) -> Result<String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("cannot set up the sign-in listener", e))?;
    loop {
        if Instant::now() >= deadline {
            return Err(Error::Sso(format!(
                "no answer from the browser within 10 minutes; {again}"
            )));
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let until = deadline.min(Instant::now() + REQUEST_LIMIT);
                if let Some(result) = callback(stream, state, until) {
                    return result;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            // Out of descriptors, a connection reset before it was taken: wait, go on.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The request head, read until `until` at the latest; `None` when it did not come
/// whole in time.
fn read_head(stream: &mut TcpStream, until: Instant) -> Option<Vec<u8>> {
    let _ = stream.set_nonblocking(false);
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = until.checked_duration_since(Instant::now())?;
        if left.is_zero() || request.len() >= 16 * 1024 {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    Some(request)
}

/// One request to the listener: `Some` once the sign-in has ended, either way.
fn callback(mut stream: TcpStream, state: &str, until: Instant) -> Option<Result<String>> {
    let Some(request) = read_head(&mut stream, until) else {
        reply(
            &mut stream,
            "408 Request Timeout",
            "The request did not arrive in time.",
        );
        return None;
    };
    let text = String::from_utf8_lossy(&request);
    let target = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        reply(&mut stream, "404 Not Found", "Not found.");
        return None;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    // One of each: a callback naming two states or two codes is not one answer.
    let once = |name: &str| {
        let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        match (values.next(), values.next()) {
            (Some(v), None) => Some(v.as_str()),
            _ => None,
        }
    };
    if once("state") != Some(state) {
        // Not the answer to our request (another page, or a forged one): ignored.
        reply(
            &mut stream,
            "400 Bad Request",
            "This sign-in request is not awsrole's current one.",
        );
        return None;
    }
    if let Some(error) = once("error") {
        reply(
            &mut stream,
            "200 OK",
            "The sign-in failed; see the terminal.",
        );
        let detail = once("error_description")
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Some(Err(Error::Sso(format!(
            "the sign-in was not completed ({error}{detail})"
        ))));
    }
    if pairs.iter().filter(|(k, _)| k == "code").count() > 1 {
        reply(
            &mut stream,
            "400 Bad Request",
            "The answer has more than one code.",
        );
        return None;
    }
    match once("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            reply(
                &mut stream,
                "200 OK",
                "Signed in to awsrole. You can close this tab and go back to the terminal.",
            );
            Some(Ok(code.to_string()))
        }
        None => {
            reply(&mut stream, "400 Bad Request", "The answer has no code.");
            Some(Err(Error::Sso("the sign-in answer had no code".into())))
        }
    }
}

fn reply(stream: &mut TcpStream, status: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>awsrole</title></head><body><p>{text}</p></body></html>"
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

enum PollEnd {
    Failed(Failure),
    Expired,
}

/// CreateToken with the device code until it is approved: `AuthorizationPending` waits
/// one interval, `SlowDown` adds 5 s to it (RFC 8628), `ExpiredToken` ends it.
fn poll_device(
    clients: &Clients,
    registration: &Registration,
    device: &super::client::DeviceAuthorization,
) -> std::result::Result<super::client::NewToken, PollEnd> {
    let mut interval = device.interval.max(1) as u64;
    let deadline = Instant::now() + Duration::from_secs(device.expires_in.clamp(1, 3600) as u64);
    loop {
        std::thread::sleep(Duration::from_secs(interval));
        match clients.create_token(registration, Grant::DeviceCode(&device.device_code)) {
            Ok(token) => return Ok(token),
            Err(f) if f.code() == "AuthorizationPendingException" => {}
            Err(f) if f.code() == "SlowDownException" => interval += 5,
            Err(f) if f.code() == "ExpiredTokenException" => return Err(PollEnd::Expired),
            Err(f) => return Err(PollEnd::Failed(f)),
        }
        if Instant::now() >= deadline {
            return Err(PollEnd::Expired);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    /// The listener ignores what is not the answer to its own request (another path, a
    /// forged or stale `state`) and ends on the right one.
    #[test]
    fn the_callback_checks_path_and_state() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let browser = std::thread::spawn(move || {
            let a = get(port, "/favicon.ico");
            let b = get(port, "/oauth/callback?code=evil&state=forged");
            let c = get(port, "/oauth/callback?code=good&state=s%2B1");
            (a, b, c)
        });
        let code = wait_for_code(&listener, "s+1", "").unwrap();
        let (a, b, c) = browser.join().unwrap();
        assert_eq!(code, "good");
        assert!(a.starts_with("HTTP/1.1 404"), "{a}");
        assert!(b.starts_with("HTTP/1.1 400"), "{b}");
        assert!(
            c.starts_with("HTTP/1.1 200") && c.contains("You can close this tab"),
            "{c}"
        );
    }

    /// A local user trickling a byte at a time holds the listener for one request's
    /// limit, not for ever: the browser's answer still gets through, and a listener
    /// that only ever sees tricklers ends at its own deadline.
    #[test]
    fn a_trickled_request_neither_blocks_the_callback_nor_outlives_the_deadline() {
        let trickle = |port: u16, stop: std::sync::Arc<std::sync::atomic::AtomicBool>| {
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                for b in b"GET /oauth/callback?code=slow&state=s HTTP/1.1\r\nX: "
                    .iter()
                    .cycle()
                {
                    if stop.load(std::sync::atomic::Ordering::Relaxed)
                        || s.write_all(&[*b]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let slow = trickle(port, stop.clone());
        std::thread::sleep(Duration::from_millis(200));
        let browser = std::thread::spawn(move || get(port, "/oauth/callback?code=good&state=s"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(wait_for_code_until(
                &listener,
                "s",
                Instant::now() + LOGIN_LIMIT,
                "",
            ));
        });
        let code = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the callback got through");
        assert_eq!(code.unwrap(), "good");
        assert!(browser.join().unwrap().starts_with("HTTP/1.1 200"));
        // Only tricklers, one after another: the sign-in ends at its deadline.
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(wait_for_code_until(
                &listener,
                "s",
                Instant::now() + Duration::from_secs(3),
                "",
            ));
        });
        let mut tricklers = vec![slow];
        let ended = loop {
            if let Ok(result) = rx.try_recv() {
                break result;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the listener outlived its deadline"
            );
            tricklers.push(trickle(port, stop.clone()));
            std::thread::sleep(Duration::from_millis(300));
        };
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(ended
            .unwrap_err()
            .to_string()
            .contains("no answer from the browser"));
        for t in tricklers {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_callback_with_two_states_or_codes_is_not_an_answer() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let browser = std::thread::spawn(move || {
            let a = get(port, "/oauth/callback?code=evil&state=forged&state=s");
            let b = get(port, "/oauth/callback?code=evil&code=good&state=s");
            let c = get(port, "/oauth/callback?code=good&state=s");
            (a, b, c)
        });
        let code = wait_for_code(&listener, "s", "").unwrap();
        let (a, b, _) = browser.join().unwrap();
        assert_eq!(code, "good");
        assert!(a.starts_with("HTTP/1.1 400"), "{a}");
        assert!(b.starts_with("HTTP/1.1 400"), "{b}");
    }

    #[test]
    fn an_error_answer_ends_the_sign_in_with_its_reason() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let browser = std::thread::spawn(move || {
            get(
                port,
                "/oauth/callback?error=access_denied&error_description=no&state=s",
            )
        });
        let err = wait_for_code(&listener, "s", "").unwrap_err().to_string();
        browser.join().unwrap();
        assert!(err.contains("access_denied: no"), "{err}");
    }

    #[test]
    fn only_https_or_loopback_http_addresses_go_to_a_browser() {
        for fit in [
            "https://device.sso.eu-west-1.amazonaws.com/?user_code=AB-CD",
            "HTTPS://x.example",
            "http://127.0.0.1:8080/device?user_code=X",
            "http://localhost/device",
            "http://[::1]:9/device",
        ] {
            assert!(fit_for_browser(fit), "{fit}");
        }
        for unfit in [
            "-e/tmp/pwn",
            "--new-window=https://x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://evil.example/device",
            "http://127.0.0.1.evil.example/",
            "https://user@evil.example/",
            "https://x.example/a b",
            "https://x.example/\u{202e}",
            "https://",
            "",
        ] {
            assert!(!fit_for_browser(unfit), "{unfit}");
        }
    }

    #[test]
    fn pkce_verifier_and_state_are_random_and_url_safe() {
        let (a, b) = (random_text(64).unwrap(), random_text(64).unwrap());
        assert_ne!(a, b);
        // RFC 7636: 43 to 128 characters of the unreserved set.
        assert!((43..=128).contains(&a.len()), "{}", a.len());
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
