//! Keeps the secrets this process holds out of core dumps and other processes' reach.
//!
//! A crash, or Ctrl-\ at the MFA prompt, would otherwise write a core file holding the
//! long-term secret. On Linux `PR_SET_DUMPABLE = 0` also stops other processes of the
//! same user from reading our memory or `/proc/<pid>/environ`; it is reset by `execve`,
//! so children are unaffected. `RLIMIT_CORE` is inherited, so `exec` puts the user's
//! own limit back just before it runs their command.

#[cfg(unix)]
static ORIGINAL: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Called first thing in main.
pub fn no_core_dumps() {
    #[cfg(unix)]
    // SAFETY: plain syscalls on this process with valid arguments.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
            let _ = ORIGINAL.set(limit);
        }
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: limit.rlim_max,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    // Windows writes no core file; Windows Error Reporting dumps only when configured.
}

/// Before `exec` replaces us with the user's command: their own core limit again.
pub fn restore_core_limit() {
    #[cfg(unix)]
    if let Some(limit) = ORIGINAL.get() {
        // SAFETY: restoring a limit read from this process.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, limit) };
    }
}

/// Text for a terminal: control characters (ESC, OSC, BEL, C1 …) and the invisible
/// marks that reorder text (bidi overrides, isolates, LRM/RLM) written as escapes, so a
/// directory or profile name or an STS message can neither drive the terminal nor make
/// `evil\u{202e}txt.exe` read as `evilexe.txt`.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() || reorders(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Unicode's bidirectional formatting characters (UAX #9).
fn reorders(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(shown("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
        assert_eq!(shown("dir\u{9b}31m\nnext"), "dir\\u{9b}31m\nnext");
        assert_eq!(shown("plain ünïcode"), "plain ünïcode");
        assert_eq!(shown("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(shown("a\u{2067}b\u{200f}"), "a\\u{2067}b\\u{200f}");
    }
}
