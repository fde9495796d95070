//! A real interactive nushell under a pseudo-terminal, through tests/support/nu_pty.py
//! (which answers nushell's cursor-position queries).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use super::{support, Sandbox, BIN};

/// nushell's official release, from the npm registry (tests/node, see .ci/install).
pub fn nu_binary() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules/@nushell");
    let found = std::fs::read_dir(&dir)
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.path().join("bin/nu"))
        .filter(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("nushell is missing: (cd tests/node && npm install), as .ci/install does")
    })
}

pub struct NuShell {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl NuShell {
    pub fn start(s: &Sandbox) -> NuShell {
        let bin_dir = Path::new(BIN).parent().unwrap().display().to_string();
        let mut child = Command::new("python3")
            .arg(support("nu_pty.py"))
            .arg(nu_binary())
            .env_clear()
            .envs(s.envs())
            .env(
                "PATH",
                format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default()),
            )
            .env("TERM", "dumb")
            // As for the other shells (common::pty): room for a real STS call in the hook.
            .env("AWSROLE_HOOK_BUDGET", "15s")
            .current_dir(s.home())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 and tests/support/nu_pty.py");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut nu = NuShell {
            child,
            input,
            output,
        };
        nu.line("$env.PROMPT_COMMAND = {|| '' }; $env.PROMPT_COMMAND_RIGHT = {|| '' }; $env.PROMPT_INDICATOR = {|| '$ ' }");
        nu
    }

    fn request(&mut self, text: &str) -> String {
        writeln!(self.input, "{text}").unwrap();
        self.input.flush().unwrap();
        let mut answer = String::new();
        self.output.read_line(&mut answer).unwrap();
        answer.trim_end().to_string()
    }

    pub fn line(&mut self, text: &str) {
        assert_eq!(self.request(&format!("LINE {text}")), "OK");
    }

    /// Answers a program's question (no prompt to wait for).
    pub fn answer(&mut self, text: &str) {
        assert_eq!(self.request(&format!("ANSWER {text}")), "OK");
    }

    pub fn expect(&mut self, text: &str) {
        let answer = self.request(&format!("EXPECT {text}"));
        assert_eq!(answer, "OK", "nu: did not see {text:?}");
    }

    pub fn value(&mut self, expr: &str) -> String {
        let answer = self.request(&format!("VALUE {expr}"));
        if answer == "VALUE" {
            return String::new();
        }
        match answer.strip_prefix("VALUE ") {
            Some(v) => v.trim().to_string(),
            None => panic!("nu: no answer for {expr}: {answer}"),
        }
    }

    pub fn var(&mut self, name: &str) -> String {
        self.value(&format!("($env.{name}? | default '')"))
    }
}

impl Drop for NuShell {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
