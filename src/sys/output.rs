//! The one way awsrole writes a line for a person (notices, warnings, errors): to
//! stderr, control characters escaped, and never fatal. `eprintln!` panics when stderr
//! cannot be written (closed, a full disk, a pipe nobody reads): a diagnostic that
//! cannot be shown must not cost the hook its output or a command its exit status.
//! Stdout gets what callers eval or parse, written once (`emit`).
//!
//! Everything awsrole says goes through here, so unit tests capture it (`capture`).

use std::io::Write;

use crate::error::{Error, Result};

/// A notice for a person: `awsrole: text` on stderr.
pub fn notice(text: &str) {
    line(&format!("awsrole: {text}"));
}

/// What callers eval or parse, on stdout, in one write. A reader that went away
/// (`| head`) is no error.
pub fn emit(text: &str) -> Result<()> {
    #[cfg(test)]
    if capture::take_stdout(text) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("cannot write to stdout", e)),
    }
}

/// Human-readable output (list, explain, status): control characters escaped.
pub fn emit_shown(text: &str) -> Result<()> {
    emit(&crate::sys::protect::shown(text))
}

/// Writes `text` and a newline to stderr, escaped (`protect::shown`); errors ignored.
pub fn line(text: &str) {
    let shown = crate::sys::protect::shown(text);
    #[cfg(test)]
    if capture::take_stderr(&shown) {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(shown.as_bytes())
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush());
}

/// Writes `text` as it is (a question, a usage text already escaped); errors ignored.
pub fn raw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Unit tests' view of what this thread said: `capture(|| …)` runs the closure and
/// returns its stdout and its stderr lines instead of writing them.
#[cfg(test)]
pub mod capture {
    use std::cell::RefCell;

    #[derive(Default)]
    struct Said {
        stdout: String,
        stderr: Vec<String>,
    }

    thread_local! {
        static SAID: RefCell<Option<Said>> = const { RefCell::new(None) };
    }

    pub(super) fn take_stdout(text: &str) -> bool {
        SAID.with(|s| match s.borrow_mut().as_mut() {
            Some(said) => {
                said.stdout.push_str(text);
                true
            }
            None => false,
        })
    }

    pub(super) fn take_stderr(line: &str) -> bool {
        SAID.with(|s| match s.borrow_mut().as_mut() {
            Some(said) => {
                said.stderr.push(line.to_string());
                true
            }
            None => false,
        })
    }

    pub fn capture(run: impl FnOnce()) -> (String, Vec<String>) {
        SAID.with(|s| *s.borrow_mut() = Some(Said::default()));
        run();
        let said = SAID.with(|s| s.borrow_mut().take()).unwrap_or_default();
        (said.stdout, said.stderr)
    }

    #[test]
    fn notices_and_output_are_captured_escaped() {
        let (out, err) = capture(|| {
            super::notice("renewed \x1b[31m");
            super::notice("bell\u{7}");
            super::emit("export A=1\n").unwrap();
        });
        assert_eq!(out, "export A=1\n");
        assert_eq!(err.len(), 2);
        assert!(err[0].starts_with("awsrole: renewed"), "{err:?}");
        assert!(
            !err.iter()
                .any(|l| l.contains('\u{1b}') || l.contains('\u{7}')),
            "{err:?}"
        );
    }
}
