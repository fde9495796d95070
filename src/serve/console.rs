//! Console sign-in: session credentials → a federation sign-in token → a login URL.
//!
//! The URL is a bearer credential: it goes to the browser, or to stdout with `--print`,
//! and nowhere else — never into an error message, a log line or stderr.

use std::time::Duration;

use crate::chain::credentials::Credentials;
use crate::error::{Error, Result};

/// What `awsrole` calls itself as the Issuer of the sign-in.
pub const ISSUER: &str = "awsrole";
/// The longest console session AWS grants for a non-chained session (12 h).
pub const MAX_SESSION_SECONDS: u32 = 43_200;

/// The sign-in and console hosts of one AWS partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub signin: String,
    pub console: String,
    /// Where the sign-out endpoint lives.
    pub logout: String,
}

/// The partition of a region: `aws`, `aws-cn` (cn-*), `aws-us-gov` (us-gov-*).
pub fn partition(region: &str) -> Partition {
    if region.starts_with("cn-") {
        Partition {
            signin: "signin.amazonaws.cn".into(),
            console: "console.amazonaws.cn".into(),
            logout: "signin.amazonaws.cn".into(),
        }
    } else if region.starts_with("us-gov-") {
        Partition {
            signin: "signin.amazonaws-us-gov.com".into(),
            console: "console.amazonaws-us-gov.com".into(),
            logout: "signin.amazonaws-us-gov.com".into(),
        }
    } else if region == "us-east-1" {
        Partition {
            signin: "signin.aws.amazon.com".into(),
            console: "us-east-1.console.aws.amazon.com".into(),
            logout: "us-east-1.signin.aws.amazon.com".into(),
        }
    } else {
        Partition {
            signin: format!("{region}.signin.aws.amazon.com"),
            console: format!("{region}.console.aws.amazon.com"),
            logout: "us-east-1.signin.aws.amazon.com".into(),
        }
    }
}

/// Where the console opens: an explicit URL, a service's page, or the console home,
/// in the region.
pub fn destination(region: &str, service: Option<&str>, url: Option<&str>) -> String {
    if let Some(url) = url {
        return url.to_string();
    }
    let host = partition(region).console;
    let page = service.map(|s| s.trim_matches('/')).unwrap_or("console");
    format!("https://{host}/{page}/home?region={region}")
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The getSigninToken request's URL. `SessionDuration` only where AWS accepts it.
pub fn signin_token_url(base: &str, creds: &Credentials, duration: Option<u32>) -> String {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key,
        "sessionToken": creds.session_token.clone().unwrap_or_default(),
    });
    let mut url = format!(
        "{}/federation?Action=getSigninToken",
        base.trim_end_matches('/')
    );
    if let Some(d) = duration {
        url.push_str(&format!("&SessionDuration={d}"));
    }
    url.push_str(&format!("&Session={}", encode(&session.to_string())));
    url
}

/// The login URL the browser opens.
pub fn login_url(partition: &Partition, destination: &str, token: &str) -> String {
    format!(
        "https://{}/federation?Action=login&Issuer={}&Destination={}&SigninToken={}",
        partition.signin,
        encode(ISSUER),
        encode(destination),
        encode(token)
    )
}

/// Through the sign-out page first, so an earlier console session does not win.
pub fn logout_first(partition: &Partition, login: &str) -> String {
    format!(
        "https://{}/oauth?Action=logout&redirect_uri={}",
        partition.logout,
        encode(login)
    )
}

/// Calls getSigninToken; the answer's `SigninToken`. Errors never hold the URL or
/// the session.
pub fn fetch_signin_token(url: &str, endpoint_shown: &str) -> Result<String> {
    let fail = |why: String| {
        Error::Sts(format!(
            "the federation sign-in endpoint {endpoint_shown} {why}"
        ))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("could not be called: {e}")))?;
    let (status, body) = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(15), get(url)).await })
        .map_err(|_| fail("did not answer within 15s".into()))?
        .map_err(|e| fail(format!("could not be reached ({e})")))?;
    if status != 200 {
        return Err(fail(format!(
            "refused the session (HTTP {status}: {}); a chained role session cannot ask for a console session length, and only role or federation sessions can sign in",
            excerpt(&body)
        )));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    let answer: Answer =
        serde_json::from_slice(&body).map_err(|_| fail("answered without a SigninToken".into()))?;
    Ok(answer.signin_token)
}

/// What an error may quote of a refusal: its text without markup, with every long run
/// of key-like characters cut out, at most 120 characters. The request carried the
/// session's secret key and token, and an echoing proxy or a misconfigured endpoint
/// answers with them.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => plain.push(' '),
            c => plain.push(c),
        }
    }
    let key_like = |c: char| c.is_ascii_alphanumeric() || "+/=%_-.~:\\".contains(c);
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 16 {
            out.push_str("[…]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in plain.chars() {
        if key_like(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    let words: Vec<&str> = out.split_whitespace().collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &joined[..at]),
        None => joined,
    }
}

/// A GET through the one small HTTPS client.
async fn get(url: &str) -> std::result::Result<(u16, Vec<u8>), String> {
    crate::sys::http::send("GET", url, &[], Vec::new()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_pick_their_hosts() {
        assert_eq!(partition("us-east-1").signin, "signin.aws.amazon.com");
        assert_eq!(
            partition("eu-west-1").signin,
            "eu-west-1.signin.aws.amazon.com"
        );
        assert_eq!(partition("cn-north-1").console, "console.amazonaws.cn");
        assert_eq!(
            partition("us-gov-west-1").signin,
            "signin.amazonaws-us-gov.com"
        );
        assert_eq!(
            destination("ap-northeast-1", Some("s3"), None),
            "https://ap-northeast-1.console.aws.amazon.com/s3/home?region=ap-northeast-1"
        );
        assert_eq!(
            destination("cn-north-1", None, None),
            "https://console.amazonaws.cn/console/home?region=cn-north-1"
        );
    }

    #[test]
    fn a_refusal_is_quoted_without_markup_or_anything_key_like() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let echoed = format!(
            "<html><body><h1>Bad Request</h1>\n/federation?Action=getSigninToken&Session=%7B%22sessionKey%22%3A%22{}%22",
            encode(secret)
        );
        let shown = excerpt(echoed.as_bytes());
        assert!(shown.starts_with("Bad Request"), "{shown}");
        for i in 0..secret.len() - 6 {
            assert!(!shown.contains(&secret[i..i + 6]), "{shown}");
        }
        assert_eq!(
            excerpt(b"{\"message\":\"Invalid credentials parameter\"}"),
            "{\"message\":\"Invalid credentials parameter\"}"
        );
        assert!(excerpt(&[b'a', b' '].repeat(500)).chars().count() <= 121);
    }

    #[test]
    fn urls_are_encoded_and_carry_what_aws_needs() {
        let creds = Credentials {
            access_key_id: "ASIAX".into(),
            secret_access_key: "s/e+c=".into(),
            session_token: Some("t&k".into()),
            expiration: None,
            issued: None,
        };
        let url = signin_token_url("http://127.0.0.1:9/", &creds, None);
        assert!(url.starts_with("http://127.0.0.1:9/federation?Action=getSigninToken&Session=%7B"));
        assert!(!url.contains("SessionDuration"));
        assert!(
            url.contains("s%2Fe%2Bc%3D") && url.contains("t%26k"),
            "{url}"
        );
        assert!(signin_token_url("b", &creds, Some(3600)).contains("&SessionDuration=3600&"));
        let login = login_url(&partition("eu-west-1"), "https://x/?a=b&c", "T/K");
        assert_eq!(
            login,
            "https://eu-west-1.signin.aws.amazon.com/federation?Action=login&Issuer=awsrole&Destination=https%3A%2F%2Fx%2F%3Fa%3Db%26c&SigninToken=T%2FK"
        );
        assert!(logout_first(&partition("eu-west-1"), &login)
            .starts_with("https://us-east-1.signin.aws.amazon.com/oauth?Action=logout&redirect_uri=https%3A%2F%2Feu-west-1"));
    }
}
