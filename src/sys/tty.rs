//! Questions asked on the terminal, never through stdout: MFA codes, secret keys.
//!
//! On Unix the question goes to `/dev/tty` with echo off for secrets, and the terminal
//! is put back on every way out: the answer, end of input, an error, and a signal
//! (Ctrl-C, Ctrl-\, a hang-up, kill). The signal handler only restores the saved
//! settings (tcsetattr is async-signal-safe) and notes the signal; the interrupted read
//! returns, `ask` reports "cancelled", and the process then dies by that same signal,
//! so a shell's `out="$(awsrole use …)" || return` switches nothing, whichever question
//! (MFA code, passphrase, key, yes/no, pasted code) was being asked.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// No terminal to ask on (a pipe, cron, CI).
    NoTerminal,
    /// The input was closed (Ctrl-D) before an answer.
    Closed,
    /// A signal (Ctrl-C …) interrupted the question; its number (Unix: Windows
    /// ends the process on Ctrl-C).
    #[cfg_attr(not(unix), allow(dead_code))]
    Cancelled(i32),
    Io(String),
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::NoTerminal => write!(f, "there is no terminal to ask on"),
            AskError::Closed => write!(f, "the input was closed (Ctrl-D) before an answer"),
            AskError::Cancelled(_) => write!(f, "cancelled"),
            AskError::Io(e) => write!(f, "cannot use the terminal: {e}"),
        }
    }
}

impl std::error::Error for AskError {}

/// Longest answer taken: a code or a key is far shorter.
#[cfg(unix)]
const MAX_ANSWER: usize = 4096;

/// Asks `question` on the terminal and returns the line typed (without its newline).
///
/// A signal (Ctrl-C …) never comes back to the caller: whatever was asked, the person
/// meant to stop the command, not to have it go on without the answer (a passphrase
/// prompt once fell back to the credentials file, and a yes/no question took Ctrl-C for
/// "no" and carried on). So the terminal is restored, "cancelled" said, and the process
/// ends here by that signal.
pub fn ask(question: &str, hidden: bool) -> Result<String, AskError> {
    match imp::ask(&crate::sys::protect::shown(question), hidden) {
        Err(AskError::Cancelled(signal)) => die_cancelled(signal),
        other => other,
    }
}

/// Whether a person could be asked here: a controlling terminal that opens.
pub fn available() -> bool {
    #[cfg(unix)]
    {
        std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal()
    }
}

/// After `Cancelled`: say so and end the process by the same signal, as an
/// interrupted program should (bash then stops the function that ran us).
fn die_cancelled(signal: i32) -> ! {
    crate::sys::output::line("awsrole: cancelled; nothing was changed");
    imp::die_by(signal)
}

#[cfg(unix)]
mod imp {
    use std::ffi::CStr;
    use std::mem::MaybeUninit;
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

    use super::{AskError, MAX_ANSWER};

    const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP];

    static TTY_FD: AtomicI32 = AtomicI32::new(-1);
    static ARMED: AtomicBool = AtomicBool::new(false);
    static CAUGHT: AtomicI32 = AtomicI32::new(0);
    /// Written before ARMED is set and read only while it is.
    static mut SAVED: MaybeUninit<libc::termios> = MaybeUninit::uninit();

    extern "C" fn on_signal(signal: libc::c_int) {
        if ARMED.load(Ordering::SeqCst) {
            let fd = TTY_FD.load(Ordering::SeqCst);
            // SAFETY: SAVED was initialised before ARMED became true; tcsetattr and
            // write are async-signal-safe.
            unsafe {
                libc::tcsetattr(fd, libc::TCSANOW, (&raw const SAVED).cast());
                libc::write(fd, b"\n".as_ptr().cast(), 1);
            }
        }
        CAUGHT.store(signal, Ordering::SeqCst);
    }

    struct Terminal {
        fd: libc::c_int,
        old_actions: Vec<(libc::c_int, libc::sigaction)>,
        changed: bool,
    }

    impl Terminal {
        fn open() -> Result<Terminal, AskError> {
            let path: &CStr = c"/dev/tty";
            // SAFETY: a plain open of a NUL-terminated path.
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
                )
            };
            if fd < 0 {
                return Err(AskError::NoTerminal);
            }
            Ok(Terminal {
                fd,
                old_actions: Vec::new(),
                changed: false,
            })
        }

        /// Catches the signals that would otherwise kill us with echo off.
        fn arm(&mut self, hidden: bool) -> Result<(), AskError> {
            let mut settings = MaybeUninit::<libc::termios>::uninit();
            // SAFETY: fd is open; tcgetattr fills the struct on success.
            if unsafe { libc::tcgetattr(self.fd, settings.as_mut_ptr()) } != 0 {
                return Err(AskError::NoTerminal);
            }
            // SAFETY: initialised by the successful tcgetattr above.
            let saved = unsafe { settings.assume_init() };
            // SAFETY: no handler is armed yet, so nothing reads SAVED concurrently.
            unsafe { (&raw mut SAVED).write(MaybeUninit::new(saved)) };
            TTY_FD.store(self.fd, Ordering::SeqCst);
            CAUGHT.store(0, Ordering::SeqCst);
            for signal in SIGNALS {
                // SAFETY: installing a handler that only calls async-signal-safe code;
                // no SA_RESTART, so the blocked read returns EINTR.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(signal, &action, &mut old) == 0 {
                        self.old_actions.push((signal, old));
                    }
                }
            }
            ARMED.store(true, Ordering::SeqCst);
            if hidden {
                let mut quiet = saved;
                quiet.c_lflag &= !libc::ECHO;
                quiet.c_lflag |= libc::ECHONL;
                // SAFETY: fd is open and `quiet` is a valid termios.
                if unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &quiet) } != 0 {
                    return Err(AskError::Io(std::io::Error::last_os_error().to_string()));
                }
                self.changed = true;
            }
            Ok(())
        }

        fn write(&self, text: &str) {
            // SAFETY: writing a live buffer to an open descriptor.
            unsafe { libc::write(self.fd, text.as_ptr().cast(), text.len()) };
        }

        /// Reads one line. A signal can land between two reads, where no read is
        /// there to be interrupted, so the wait is a short poll that looks at the caught
        /// signal every time round.
        fn read_line(&self) -> Result<String, AskError> {
            let mut line = Vec::new();
            loop {
                let caught = CAUGHT.load(Ordering::SeqCst);
                if caught != 0 {
                    return Err(AskError::Cancelled(caught));
                }
                let mut ready = libc::pollfd {
                    fd: self.fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: polling one live descriptor.
                if unsafe { libc::poll(&mut ready, 1, 100) } <= 0 {
                    continue;
                }
                let mut byte = 0u8;
                // SAFETY: reading one byte into a live buffer.
                let n = unsafe { libc::read(self.fd, (&raw mut byte).cast(), 1) };
                match n {
                    1 if byte == b'\n' => break,
                    1 if line.len() < MAX_ANSWER => line.push(byte),
                    1 => {}
                    0 if line.is_empty() => return Err(AskError::Closed),
                    0 => break,
                    _ => {
                        let err = std::io::Error::last_os_error();
                        if err.kind() != std::io::ErrorKind::Interrupted {
                            return Err(AskError::Io(err.to_string()));
                        }
                    }
                }
            }
            String::from_utf8(line).map_err(|_| AskError::Io("the answer is not UTF-8".into()))
        }
    }

    impl Drop for Terminal {
        fn drop(&mut self) {
            // SAFETY: SAVED was written in arm() before any change; restoring the saved
            // settings and the previous signal actions, then closing our descriptor.
            unsafe {
                if self.changed {
                    libc::tcsetattr(self.fd, libc::TCSANOW, (&raw const SAVED).cast());
                }
                ARMED.store(false, Ordering::SeqCst);
                for (signal, old) in self.old_actions.drain(..) {
                    libc::sigaction(signal, &old, std::ptr::null_mut());
                }
                libc::close(self.fd);
            }
        }
    }

    pub fn ask(question: &str, hidden: bool) -> Result<String, AskError> {
        let mut terminal = Terminal::open()?;
        terminal.arm(hidden)?;
        terminal.write(question);
        let answer = terminal.read_line();
        if matches!(answer, Err(AskError::Closed)) {
            terminal.write("\n");
        }
        answer
    }

    pub fn die_by(signal: i32) -> ! {
        // SAFETY: back to the default action for this signal, then raise it; exit in
        // case it is ignored or blocked.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        std::process::exit(128 + signal)
    }
}

#[cfg(not(unix))]
mod imp {
    use std::io::{BufRead, IsTerminal};

    use super::AskError;

    /// The console: rpassword reads it without echo on Windows.
    pub fn ask(question: &str, hidden: bool) -> Result<String, AskError> {
        if !std::io::stdin().is_terminal() {
            return Err(AskError::NoTerminal);
        }
        if hidden {
            return rpassword::prompt_password(question).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => AskError::Closed,
                _ => AskError::Io(e.to_string()),
            });
        }
        crate::sys::output::raw(question);
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => Err(AskError::Closed),
            Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
            Err(e) => Err(AskError::Io(e.to_string())),
        }
    }

    pub fn die_by(signal: i32) -> ! {
        std::process::exit(128 + signal)
    }
}

/// While a full-screen prompt (the picker) runs: Ctrl-C, which the prompt library turns
/// back into SIGINT after restoring the terminal modes, also shows the cursor again and
/// says it was cancelled before the process ends by that signal. Dropped, the previous
/// handler is back.
pub struct InterruptGuard {
    #[cfg(unix)]
    old: libc::sigaction,
}

#[cfg(unix)]
extern "C" fn picker_interrupted(signal: libc::c_int) {
    const TEXT: &[u8] = b"\x1b[?25h\r\nawsrole: cancelled; nothing was changed\r\n";
    // SAFETY: write, signal and raise are async-signal-safe.
    unsafe {
        libc::write(2, TEXT.as_ptr().cast(), TEXT.len());
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

impl InterruptGuard {
    pub fn new() -> InterruptGuard {
        #[cfg(unix)]
        // SAFETY: installing a handler that only calls async-signal-safe functions.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = picker_interrupted as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, &action, &mut old);
            InterruptGuard { old }
        }
        #[cfg(not(unix))]
        InterruptGuard {}
    }
}

impl Default for InterruptGuard {
    fn default() -> Self {
        InterruptGuard::new()
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: putting back the action read in new().
        unsafe {
            libc::sigaction(libc::SIGINT, &self.old, std::ptr::null_mut());
        }
    }
}
