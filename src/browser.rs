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

/// No browser can be shown here: an SSH session, a container, CI, a cloud shell
/// (the hints granted uses). An explicit `BROWSER` says otherwise.
pub fn headless() -> bool {
    if std::env::var("BROWSER").is_ok_and(|b| !b.trim().is_empty()) {
        return false;
    }
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    [
        "SSH_CLIENT",
        "SSH_TTY",
        "SSH_CONNECTION",
        "CI",
        "CODESPACES",
        "CLOUD_SHELL",
    ]
    .iter()
    .any(|k| set(k))
        || std::path::Path::new("/.dockerenv").exists()
        || (cfg!(target_os = "linux") && !set("DISPLAY") && !set("WAYLAND_DISPLAY"))
}
