//! The one way awsrole writes a line for a person (notices, warnings, errors): to
//! stderr, control characters escaped, and never fatal. `eprintln!` panics when stderr
//! cannot be written (closed, a full disk, a pipe nobody reads): a diagnostic that
//! cannot be shown must not cost the hook its output or a command its exit status.

use std::io::Write;

/// Writes `text` and a newline to stderr, escaped (`protect::shown`); errors ignored.
pub fn line(text: &str) {
    let shown = crate::sys::protect::shown(text);
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
