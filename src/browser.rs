//! Opening a URL for a person: `$BROWSER` when set (a command; `%s` stands for the URL,
//! else it is appended), else the platform's opener. Errors name the program, never the
//! URL (a sign-in URL is a bearer secret).

use std::process::{Command, Stdio};

/// `wait`: wait for the opener and report its failure. A sign-in that listens for the
/// browser's redirect must not wait (the opener may be the browser itself); the
/// opener is then reaped by a thread of its own.
pub fn open(url: &str, wait: bool) -> Result<(), String> {
    let (program, args): (String, Vec<String>) = match std::env::var("BROWSER") {
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
    let var = |k: &str| std::env::var(k).ok();
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
