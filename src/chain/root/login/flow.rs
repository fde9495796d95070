//! `awsrole login`: a new sign-in for local development, the flow of `aws login` —
//! the authorization code with PKCE, a new P-256 key per session bound to its refresh
//! token. On this machine the browser comes back to a listener on 127.0.0.1 (a random
//! port, a random `state`); with `--remote` the person opens the address anywhere and
//! pastes back what the page shows. The session goes to the OS keyring, and to the AWS
//! CLI's cache file only when asked (`--share-with-aws-cli`).

use std::io::IsTerminal;

use base64::Engine;
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::client::{self, Failure, Grant};
use super::document::{self, AccessToken, Document};
use super::dpop::{uuid4, Key};
use crate::chain::cache::Backend;
use crate::error::{Error, Result};
use crate::sys::output::notice;

pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    pub remote: bool,
    pub share_with_aws_cli: bool,
}

/// Signs in; returns the session's ARN (the idToken's `sub`) once its document is kept.
pub fn login(
    profile: &str,
    region: Option<&str>,
    backend: Backend,
    options: Options,
) -> Result<String> {
    // With no keyring, the AWS CLI's file is the only place, and only when asked for.
    let store = crate::chain::root::sso::token_store(backend);
    if store.is_none() && !options.share_with_aws_cli {
        return Err(Error::SignIn(format!(
            "there is no keyring to keep the login session in (AWSROLE_KEYRING={}); set AWSROLE_KEYRING to keyutils or secret-service, or add --share-with-aws-cli to keep it in the AWS CLI's cache file instead",
            crate::sys::settings::var("AWSROLE_KEYRING").unwrap_or_default()
        )));
    }
    if let Some(store) = &store {
        crate::chain::root::sso::login::check_store(store.as_ref(), "the login session")?;
    }
    let endpoint = client::endpoint(region)
        .map_err(|why| Error::SignIn(format!("profile '{profile}': {why}")))?;
    let key = Key::generate().map_err(Error::System)?;
    let verifier = crate::chain::root::sso::login::random_text(48)?;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let state = uuid4().map_err(Error::System)?;
    let authorize = |client_id: &str, redirect_uri: &str| {
        format!(
            "{endpoint}/v1/authorize?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("state", &state)
                .append_pair("code_challenge_method", "SHA-256")
                .append_pair("scope", "openid")
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_challenge", &challenge)
                .finish()
        )
    };
    let (client_id, redirect_uri, code) = if options.remote {
        let redirect_uri = format!("{endpoint}/v1/sessions/confirmation");
        notice(&format!(
            "open this address in a browser on any device, sign in, and paste the code it shows:\n  {}",
            authorize(CROSS_DEVICE, &redirect_uri)
        ));
        let code = pasted_code(&state)?;
        (CROSS_DEVICE, redirect_uri, code)
    } else {
        let (listener, port) = crate::sys::http::loopback("the sign-in")?;
        let redirect_uri = format!(
            "http://127.0.0.1:{port}{}",
            crate::chain::root::sso::login::CALLBACK_PATH
        );
        let url = authorize(SAME_DEVICE, &redirect_uri);
        // Never on a command line (see browser::open_secret_detached); where no browser
        // can be shown, on stderr for this user alone.
        let opened = match crate::sys::browser::headless() {
            Some(why) => Err(format!("no browser can be shown here ({why})")),
            None => crate::sys::browser::open_secret_detached(&url),
        };
        match opened {
            Ok(()) => notice("a browser was opened to sign in; waiting for it (Ctrl-C to stop)"),
            Err(why) => notice(&format!(
                "{why}; open this address in a browser on this machine (or use --remote):\n  {url}"
            )),
        }
        let code = crate::chain::root::sso::login::wait_for_code(
            &listener,
            &state,
            &format!(
                "run 'awsrole login {}' again (or add --remote)",
                shell_words::quote(profile)
            ),
        )?;
        (SAME_DEVICE, redirect_uri, code)
    };
    let out = client::create_token(
        &endpoint,
        client_id,
        Grant::AuthorizationCode {
            code: &code,
            verifier: &verifier,
            redirect_uri: &redirect_uri,
        },
        &key,
    )
    .map_err(|f| exchange_error(&f, &endpoint))?;
    let arn = out
        .id_token
        .as_deref()
        .and_then(subject)
        .ok_or_else(|| Error::SignIn(format!("the sign-in service at {endpoint} answered without an idToken naming the user; nothing was kept")))?;
    let expires = Utc::now() + chrono::Duration::seconds(out.expires_in.clamp(0, 12 * 3600));
    let mut other = serde_json::Map::new();
    other.insert("tokenType".into(), "aws_sigv4".into());
    other.insert(
        "idToken".into(),
        out.id_token.clone().unwrap_or_default().into(),
    );
    let doc = Document {
        access_token: AccessToken {
            access_key_id: out.access_token.access_key_id,
            secret_access_key: out.access_token.secret_access_key,
            session_token: out.access_token.session_token,
            account_id: arn.split(':').nth(4).map(str::to_string),
            expires_at: expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            other: Default::default(),
        },
        client_id: client_id.to_string(),
        refresh_token: out.refresh_token,
        dpop_key: key.to_sec1_pem().map_err(Error::System)?,
        other,
    };
    if let Some(store) = &store {
        document::write_keyring(store.as_ref(), &arn, &doc)?;
    }
    if options.share_with_aws_cli {
        // Two copies of one session, one single-use refresh token: the file is the one
        // refreshed from (the AWS CLI may have rotated it), and a refresh goes back to
        // both (see `Session::refresh_a_copy`).
        let path = document::cli_file(&arn)?;
        document::write_file(&path, &document::for_cli(&doc))?;
        notice(&format!(
            "the session is also in the AWS CLI's cache: {}",
            path.display()
        ));
    }
    Ok(arn)
}

/// What the confirmation page shows: base64 of `state=…&code=…`, pasted on the
/// terminal (or given on stdin when it is not one).
fn pasted_code(state: &str) -> Result<String> {
    let line = if std::io::stdin().is_terminal() {
        crate::sys::tty::ask("code: ", false)
            .map_err(|e| Error::SignIn(format!("no code was pasted ({e})")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::SignIn(format!("no code was pasted ({e})")))?;
        line
    };
    parse_pasted(line.trim(), state)
}

fn parse_pasted(text: &str, state: &str) -> Result<String> {
    let bad = || {
        Error::SignIn(
            "that is not the code the sign-in page shows; run 'awsrole login --remote' again"
                .into(),
        )
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| bad())?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&decoded).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("state").as_deref() != Some(state) {
        return Err(Error::SignIn(
            "the pasted code belongs to another sign-in (its state differs); run 'awsrole login --remote' again".into(),
        ));
    }
    get("code").filter(|c| !c.is_empty()).ok_or_else(bad)
}

/// The `sub` claim of the idToken (its signature is the service's business: the
/// token came straight from it over TLS).
fn subject(id_token: &str) -> Option<String> {
    let claims = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value["sub"]
        .as_str()
        .filter(|s| s.starts_with("arn:"))
        .map(str::to_string)
}

fn exchange_error(f: &Failure, endpoint: &str) -> Error {
    match f {
        Failure::Service { code, .. } if code == "AUTHCODE_EXPIRED" => Error::SignIn(format!(
            "the sign-in took too long and its code expired ({f}); run the login again"
        )),
        Failure::Service { code, .. } if code == "INSUFFICIENT_PERMISSIONS" => Error::SignIn(format!(
            "the user may not sign in for local development ({f}); it needs signin:AuthorizeOAuth2Access and signin:CreateOAuth2Token (the AWS managed policy SignInLocalDevelopmentAccess)"
        )),
        Failure::Unreachable(why) => Error::SignIn(format!(
            "cannot reach the sign-in service at {endpoint} ({why}); check the region, the network, or AWS_ENDPOINT_URL_SIGNIN"
        )),
        other => Error::SignIn(format!("the sign-in at {endpoint} failed ({other})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_code_must_carry_this_sign_ins_state() {
        let paste = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            parse_pasted(&paste("state=abc&code=XYZ"), "abc").unwrap(),
            "XYZ"
        );
        assert!(parse_pasted(&paste("state=other&code=XYZ"), "abc")
            .unwrap_err()
            .to_string()
            .contains("another sign-in"));
        assert!(parse_pasted("not base64!", "abc").is_err());
        assert!(parse_pasted(&paste("state=abc"), "abc").is_err());
    }

    #[test]
    fn the_session_is_named_by_the_id_tokens_subject() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"arn:aws:iam::123456789012:user/alice"}"#);
        assert_eq!(
            subject(&format!("e30.{claims}.")).as_deref(),
            Some("arn:aws:iam::123456789012:user/alice")
        );
        assert_eq!(subject("e30.e30."), None);
        assert_eq!(subject("garbage"), None);
    }
}
