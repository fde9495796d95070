//! Opening a URL for a person: `$BROWSER` when set (a command; `%s` stands for the URL,
//! else it is appended), else the platform's opener. Errors name the program, never the
//! URL (a sign-in URL is a bearer secret).
//!
//! A URL that is itself a credential never goes on a command line, where every local
//! user reads it (`ps`, `/proc/PID/cmdline`) and a browser started by the opener keeps
//! it in its own: the opener gets a page of this user's alone that sends the browser on.

use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long the redirect page stays: long enough for a browser that has to start first,
/// short enough that no bearer URL lingers on disk. (Unix: Windows opens no page.)
#[cfg_attr(not(unix), allow(dead_code))]
pub const PAGE_LIFETIME: Duration = Duration::from_secs(30);

/// Opens `url`, a bearer credential, without putting it in any process's arguments: on
/// Unix the opener is given `file://…` of a page (mode 0600, in the private runtime
/// directory) that redirects to it, removed after [`PAGE_LIFETIME`] by a detached
/// `sh` whose arguments hold only the page's path. Waits for the opener.
#[cfg(unix)]
pub fn open_secret(url: &str) -> Result<(), String> {
    open_page(url, true)
}

/// `open_secret` without waiting for the opener, for a sign-in whose browser comes
/// back to a listener of this process (the opener may be the browser itself, and
/// would wait for an answer the listener gives only once we stop waiting).
#[cfg(unix)]
pub fn open_secret_detached(url: &str) -> Result<(), String> {
    open_page(url, false)
}

#[cfg(unix)]
fn open_page(url: &str, wait: bool) -> Result<(), String> {
    let page = write_redirect_page(url)?;
    let opened = open(&file_url(&page), wait);
    if opened.is_err() {
        let _ = std::fs::remove_file(&page);
        return opened;
    }
    remove_later(&page);
    Ok(())
}

#[cfg(not(unix))]
pub fn open_secret(url: &str) -> Result<(), String> {
    open(url, true)
}

#[cfg(not(unix))]
pub fn open_secret_detached(url: &str) -> Result<(), String> {
    open(url, false)
}

#[cfg(unix)]
fn write_redirect_page(url: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    let dir = crate::sys::dirs::runtime_dir().map_err(|e| e.to_string())?;
    crate::sys::dirs::private_dir(&dir).map_err(|e| e.to_string())?;
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| format!("no randomness for the sign-in page: {e}"))?;
    let page = dir.join(format!(
        "console-{}.html",
        crate::sys::envdiff::to_hex(&raw)
    ));
    let mut file = crate::sys::dirs::create_new_private(&page)
        .map_err(|e| format!("cannot write the sign-in page {} ({e})", page.display()))?;
    file.write_all(redirect_page(url).as_bytes())
        .map_err(|e| format!("cannot write the sign-in page {} ({e})", page.display()))?;
    Ok(page)
}

/// A page that replaces itself with `url` (so Back does not return to it) and sends no
/// referrer; a link for a browser without scripts or refresh.
#[cfg_attr(not(unix), allow(dead_code))]
fn redirect_page(url: &str) -> String {
    let attr = url
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let script = serde_json::to_string(url)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
         <meta http-equiv=\"refresh\" content=\"0;url={attr}\"><title>awsrole: signing in</title></head>\
         <body><script>location.replace({script});</script><p><a href=\"{attr}\">Continue to AWS</a></p></body></html>\n"
    )
}

/// `file://` and the path, percent-encoded but for `/` and the unreserved characters.
#[cfg_attr(not(unix), allow(dead_code))]
fn file_url(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(b) {
            out.push(*b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Removes the page after its lifetime, in a process of its own that outlives awsrole
/// and the terminal's hangup (its own process group).
#[cfg(unix)]
fn remove_later(page: &Path) {
    use std::os::unix::process::CommandExt;
    let spawned = Command::new("/bin/sh")
        .args(["-c", "sleep \"$0\"; rm -f -- \"$1\""])
        .arg(PAGE_LIFETIME.as_secs().to_string())
        .arg(page)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    if spawned.is_err() {
        // Better a browser that finds no page than a bearer URL left on disk.
        std::thread::sleep(Duration::from_secs(5));
        let _ = std::fs::remove_file(page);
    }
}

/// `wait`: wait for the opener and report its failure. A sign-in that listens for the
/// browser's redirect must not wait (the opener may be the browser itself); the
/// opener is then reaped by a thread of its own.
pub fn open(url: &str, wait: bool) -> Result<(), String> {
    let (program, args): (String, Vec<String>) = match crate::sys::settings::var("BROWSER") {
        Ok(b) if !b.trim().is_empty() => {
            let mut words =
                shell_words::split(&b).map_err(|e| format!("BROWSER cannot be parsed ({e})"))?;
            if words.iter().any(|w| w.contains("%s")) {
                words = words.iter().map(|w| w.replace("%s", url)).collect();
            } else {
                words.push(url.to_string());
            }
            let program = words.remove(0);
            (program, words)
        }
        _ => platform_opener(url),
    };
    let mut child = Command::new(&program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {program} ({e})"))?;
    if !wait {
        std::thread::spawn(move || child.wait());
        return Ok(());
    }
    let status = child
        .wait()
        .map_err(|e| format!("{program} did not finish ({e})"))?;
    if !status.success() {
        return Err(format!("{program} failed ({status})"));
    }
    Ok(())
}

fn platform_opener(url: &str) -> (String, Vec<String>) {
    if cfg!(target_os = "macos") {
        ("open".into(), vec![url.into()])
    } else if cfg!(windows) {
        // `start` would read `&` in the URL as a command separator.
        (
            "rundll32".into(),
            vec!["url.dll,FileProtocolHandler".into(), url.into()],
        )
    } else {
        ("xdg-open".into(), vec![url.into()])
    }
}

/// Why no browser can be shown here — an SSH session, CI, a cloud shell, a container,
/// no display (the hints granted uses) — or `None` where one can. An explicit `BROWSER`
/// says one can.
pub fn headless() -> Option<&'static str> {
    let var = |k: &str| crate::sys::settings::var(k).ok();
    headless_in(
        &var,
        std::path::Path::new("/.dockerenv").exists(),
        cfg!(target_os = "linux"),
    )
}

/// `headless` over a given environment, container marker and platform.
fn headless_in(
    var: &dyn Fn(&str) -> Option<String>,
    in_container: bool,
    linux: bool,
) -> Option<&'static str> {
    let set = |k: &str| var(k).is_some_and(|v| !v.trim().is_empty());
    if set("BROWSER") {
        return None;
    }
    const HINTS: [(&str, &str); 6] = [
        ("SSH_CLIENT", "an SSH session"),
        ("SSH_TTY", "an SSH session"),
        ("SSH_CONNECTION", "an SSH session"),
        ("CI", "a CI job"),
        ("CODESPACES", "a Codespace"),
        ("CLOUD_SHELL", "a cloud shell"),
    ];
    if let Some((_, why)) = HINTS.iter().find(|(k, _)| set(k)) {
        return Some(why);
    }
    if in_container {
        return Some("a container");
    }
    (linux && !set("DISPLAY") && !set("WAYLAND_DISPLAY")).then_some("no display")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_page_carries_the_url_only_inside_and_escaped() {
        let url = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=T%2FK";
        let page = redirect_page(url);
        assert!(page.contains("content=\"0;url=https://signin.aws.amazon.com/federation?Action=login&amp;SigninToken=T%2FK\""), "{page}");
        assert!(page.contains(&format!(
            "location.replace({});",
            serde_json::to_string(url).unwrap()
        )));
        let hostile = redirect_page("https://x/\"></script><script>alert(1)</script>");
        assert!(!hostile.contains("</script><script>alert"), "{hostile}");
        assert_eq!(
            file_url(Path::new("/run/user/1000/awsrole/a b%.html")),
            "file:///run/user/1000/awsrole/a%20b%25.html"
        );
    }

    fn with<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_hint_names_its_reason_and_browser_overrides_them() {
        let display = ("DISPLAY", ":0");
        let ssh = ("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22");
        // A forwarded display does not make an SSH session able to show a browser.
        assert_eq!(
            headless_in(&with(&[display, ssh]), false, true),
            Some("an SSH session")
        );
        assert_eq!(
            headless_in(&with(&[display, ("CI", "true")]), false, true),
            Some("a CI job")
        );
        assert_eq!(
            headless_in(&with(&[display]), true, true),
            Some("a container")
        );
        assert_eq!(headless_in(&with(&[]), false, true), Some("no display"));
        assert_eq!(
            headless_in(&with(&[("WAYLAND_DISPLAY", "w")]), false, true),
            None
        );
        assert_eq!(headless_in(&with(&[display]), false, true), None);
        assert_eq!(
            headless_in(&with(&[]), false, false),
            None,
            "no DISPLAY off Linux"
        );
        assert_eq!(
            headless_in(&with(&[ssh, ("BROWSER", "firefox")]), true, true),
            None
        );
        assert_eq!(
            headless_in(&with(&[("CI", " ")]), false, false),
            None,
            "blank is unset"
        );
    }
}
