//! Where an MFA code comes from: `--mfa-code`, `mfa_process`, or the terminal.

use std::collections::HashMap;

use crate::chain::plan::Mfa;
use crate::error::{Error, Result};

/// How codes may be obtained in this run.
#[derive(Debug, Clone)]
pub enum MfaPolicy {
    /// Ask on /dev/tty (hidden input) when no code was given.
    Interactive { given: Option<String> },
    /// From the per-prompt hook: never ask; a needed code is an error the hook explains.
    NeverAsk,
}

pub struct MfaCodes {
    policy: MfaPolicy,
    /// One code serves every hop naming the same serial within a run.
    known: HashMap<String, String>,
}

impl MfaCodes {
    pub fn new(policy: MfaPolicy) -> Self {
        MfaCodes {
            policy,
            known: HashMap::new(),
        }
    }

    /// Whether this device's code is typed at the terminal (so a refused one can be
    /// asked again), rather than given or printed by `mfa_process`.
    pub fn typed(&self, mfa: &Mfa) -> bool {
        matches!(self.policy, MfaPolicy::Interactive { given: None }) && mfa.process.is_none()
    }

    /// Drops a code STS refused, so the next `code_for` asks again.
    pub fn forget(&mut self, mfa: &Mfa) {
        self.known.remove(&mfa.serial);
    }

    pub fn code_for(&mut self, mfa: &Mfa, profile: &str) -> Result<String> {
        if let Some(code) = self.known.get(&mfa.serial) {
            return Ok(code.clone());
        }
        let code = match &self.policy {
            MfaPolicy::NeverAsk => {
                return Err(Error::Mfa(format!(
                    "{profile} needs an MFA code for {}, which cannot be asked for here",
                    mfa.serial
                )))
            }
            MfaPolicy::Interactive { given: Some(code) } => code.clone(),
            MfaPolicy::Interactive { given: None } => match &mfa.process {
                Some(command) => run_mfa_process(command, profile)?,
                None => ask_terminal(&mfa.serial)?,
            },
        };
        let code = check_code(&code, &mfa.serial)?;
        self.known.insert(mfa.serial.clone(), code.clone());
        Ok(code)
    }
}

/// Six digits, checked before anything is sent to STS. Spaces are dropped first:
/// authenticator apps show `123 456`, and that is what gets pasted.
pub fn check_code(code: &str, serial: &str) -> Result<String> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(Error::Mfa(format!(
            "the MFA code for {serial} must be six digits; nothing was sent to AWS"
        )))
    }
}

/// Asked on the terminal with hidden input; a code that is not six digits is asked
/// again, up to three times. Ctrl-C restores the terminal and ends the process.
fn ask_terminal(serial: &str) -> Result<String> {
    use crate::sys::tty::{ask, AskError};
    let mut last = String::new();
    for _ in 0..3 {
        match ask(&format!("Enter MFA code for {serial}: "), true) {
            Ok(code) => match check_code(&code, serial) {
                Ok(code) => return Ok(code),
                Err(e) => {
                    last = e.to_string();
                    crate::sys::output::notice(&last);
                }
            },
            Err(AskError::NoTerminal) => return Err(Error::Mfa(format!(
                "an MFA code for {serial} is needed and there is no terminal to ask on; pass --mfa-code CODE, or set mfa_process in the profile"
            ))),
            Err(e @ AskError::Closed) => {
                return Err(Error::Mfa(format!(
                    "no MFA code for {serial}: {e}; nothing was sent to AWS"
                )))
            }
            Err(e) => return Err(Error::Mfa(format!("MFA code for {serial}: {e}"))),
        }
    }
    Err(Error::Mfa(format!("{last} (three tries)")))
}

fn run_mfa_process(command: &str, profile: &str) -> Result<String> {
    let words = shell_words::split(command).map_err(|e| {
        Error::Mfa(format!(
            "mfa_process of profile '{profile}' cannot be parsed: {e}"
        ))
    })?;
    let (program, args) = words
        .split_first()
        .ok_or_else(|| Error::Mfa(format!("mfa_process of profile '{profile}' is empty")))?;
    let mut command = std::process::Command::new(program);
    command.args(args);
    let output = crate::sys::process::run(command, crate::sys::process::MFA_PROCESS_DEADLINE).map_err(
        |e| match e {
            crate::sys::process::RunError::Start(e) => Error::Mfa(format!(
                "mfa_process of profile '{profile}' ({program}) did not start: {e}"
            )),
            crate::sys::process::RunError::TimedOut(after) => Error::Mfa(format!(
                "mfa_process of profile '{profile}' ({program}) gave no code within {}s and was stopped",
                after.as_secs_f32().round()
            )),
        },
    )?;
    if !output.status.success() {
        return Err(Error::Mfa(format!(
            "mfa_process of profile '{profile}' failed ({}); its messages are above",
            output.status
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_must_be_six_digits() {
        assert_eq!(check_code(" 123456\n", "s").unwrap(), "123456");
        assert_eq!(
            check_code("123 456", "s").unwrap(),
            "123456",
            "as apps show it"
        );
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６", "123 4567"] {
            let err = check_code(bad, "arn:mfa").unwrap_err().to_string();
            assert!(
                err.contains("six digits") && err.contains("arn:mfa"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_hook_never_asks() {
        let mut codes = MfaCodes::new(MfaPolicy::NeverAsk);
        let mfa = Mfa {
            serial: "arn:aws:iam::1:mfa/u".into(),
            process: None,
        };
        let err = codes.code_for(&mfa, "role-a").unwrap_err();
        assert!(err.needs_person(), "{err}");
        // No command here: the caller names the one that fits (the hook's target role,
        // not the hop that owns the device, which `use` would switch to).
        let text = err.to_string();
        assert!(
            text.contains("arn:aws:iam::1:mfa/u") && !text.contains("awsrole use"),
            "{text}"
        );
    }

    /// An `mfa_process` that prints 111111 the first time and 222222 after: a second
    /// run for the same serial would show. Unix only (sh).
    #[cfg(unix)]
    #[test]
    fn one_code_per_serial_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        let process = format!(
            "sh -c 'if [ -e {0} ]; then echo 222222; else touch {0}; echo 111111; fi'",
            ran.display()
        );
        let mut codes = MfaCodes::new(MfaPolicy::Interactive { given: None });
        let mfa = Mfa {
            serial: "s".into(),
            process: Some(process),
        };
        assert_eq!(codes.code_for(&mfa, "a").unwrap(), "111111");
        assert_eq!(
            codes.code_for(&mfa, "b").unwrap(),
            "111111",
            "one code per serial"
        );
        let other = Mfa {
            serial: "s2".into(),
            ..mfa
        };
        assert_eq!(
            codes.code_for(&other, "c").unwrap(),
            "222222",
            "another serial gets its own code"
        );
    }

    /// `echo` and `false` are programs on Unix only (cmd builtins on Windows).
    #[cfg(unix)]
    #[test]
    fn mfa_process_output_is_the_code() {
        let mut codes = MfaCodes::new(MfaPolicy::Interactive { given: None });
        let mfa = Mfa {
            serial: "s".into(),
            process: Some("echo 654321".into()),
        };
        assert_eq!(codes.code_for(&mfa, "a").unwrap(), "654321");
        let mfa = Mfa {
            serial: "s2".into(),
            process: Some("false".into()),
        };
        assert!(codes
            .code_for(&mfa, "a")
            .unwrap_err()
            .to_string()
            .contains("mfa_process"));
    }
}
