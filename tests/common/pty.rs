//! Real interactive bash, zsh and fish under a pseudo-terminal.

use std::process::Command;
use std::time::Duration;

use expectrl::{Expect, Regex, Session};

use super::{Sandbox, BIN};

pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

pub struct Shell {
    pub name: &'static str,
    pub session: expectrl::session::OsSession,
    counter: usize,
}

impl Shell {
    pub fn start(name: &'static str, s: &Sandbox) -> Shell {
        let bin_dir = std::path::Path::new(BIN)
            .parent()
            .unwrap()
            .display()
            .to_string();
        let mut cmd = Command::new(name);
        match name {
            "bash" => cmd.args(["--norc", "--noprofile", "-i"]),
            "zsh" => cmd.args(["-f", "-i"]),
            _ => cmd.args(["--no-config", "-i"]),
        };
        cmd.env_clear().envs(s.envs()).current_dir(s.home());
        cmd.env(
            "PATH",
            format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default()),
        );
        cmd.env("TERM", "dumb");
        // The hook's real STS calls right after `allow` meet a loaded 2-core machine
        // here; its 2.5 s budget is for people, and its own tests keep it.
        cmd.env("AWSROLE_HOOK_BUDGET", "15s");
        Shell::start_with(name, cmd)
    }

    /// A shell started from `cmd` (its environment already set).
    pub fn start_with(name: &'static str, cmd: Command) -> Shell {
        let mut session = Session::spawn(cmd).expect("spawn shell");
        session.set_expect_timeout(Some(Duration::from_secs(20)));
        let mut shell = Shell {
            name,
            session,
            counter: 0,
        };
        match name {
            "bash" => shell.line("PS1='$ '; PROMPT_COMMAND='__user_prompt_ran=yes'"),
            "zsh" => shell.line("PROMPT='$ '; unsetopt zle"),
            _ => shell.line("function fish_prompt; echo -n '$ '; end"),
        }
        shell.ready();
        shell
    }

    /// Waits until the shell reads what is typed: a line typed while zsh still sets up
    /// its line editor can be dropped, so the marker is typed again until it answers.
    fn ready(&mut self) {
        self.session
            .set_expect_timeout(Some(Duration::from_secs(2)));
        for attempt in 0..10 {
            self.line(&format!("printf '%s%s\\n' '@@' 'ready{attempt}'"));
            if self.session.expect(format!("@@ready{attempt}")).is_ok() {
                break;
            }
        }
        self.session
            .set_expect_timeout(Some(Duration::from_secs(20)));
    }

    pub fn line(&mut self, text: &str) {
        self.session.send_line(text).unwrap();
    }

    /// The value of a shell expression, read back through a marker the typed command
    /// itself does not contain.
    pub fn value(&mut self, expr: &str) -> String {
        self.counter += 1;
        let tag = format!("R{}x", self.counter);
        self.line(&format!("printf '%s%s\\n' '@@' \"{tag} {expr}\""));
        let found = self
            .session
            .expect(Regex(&format!("@@{tag} ([^\r\n]*)")))
            .unwrap_or_else(|e| {
                let mut rest = vec![0u8; 65536];
                let n = self.session.try_read(&mut rest).unwrap_or(0);
                panic!(
                    "{}: no answer for {expr}: {e}; the terminal shows: {:?}",
                    self.name,
                    String::from_utf8_lossy(&rest[..n])
                );
            });
        String::from_utf8_lossy(found.get(1).unwrap())
            .trim()
            .to_string()
    }

    pub fn var(&mut self, name: &str) -> String {
        self.value(&format!("${name}"))
    }

    pub fn expect(&mut self, text: &str) {
        if let Err(e) = self.session.expect(text) {
            panic!("{}: did not see {text:?}: {e}", self.name);
        }
    }

    /// Waits for `text`; what the terminal showed before it (since the last match).
    #[allow(dead_code)]
    pub fn shown_until(&mut self, text: &str) -> String {
        match self.session.expect(text) {
            Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
            Err(e) => panic!("{}: did not see {text:?}: {e}", self.name),
        }
    }

    /// The rc line of this shell.
    pub fn init(&mut self) {
        let line = match self.name {
            "fish" => "awsrole init fish | source".to_string(),
            other => format!("eval \"$(awsrole init {other})\""),
        };
        self.line(&line);
    }

    /// Exports a variable in this shell's syntax.
    pub fn export(&mut self, name: &str, value: &str) {
        let line = match self.name {
            "fish" => format!("set -gx {name} '{value}'"),
            _ => format!("export {name}='{value}'"),
        };
        self.line(&line);
    }

    /// The terminal's settings, as `stty -g` gives them, to compare after a prompt.
    pub fn terminal_settings(&mut self) -> String {
        self.value("$(stty -g)")
    }

    /// Asserts the terminal is as `before` (from `terminal_settings`) and still turns
    /// Ctrl-C into a signal and reads lines (isig, icanon): what an interrupted prompt
    /// must leave behind.
    pub fn assert_terminal_as(&mut self, before: &str) {
        let after = self.terminal_settings();
        assert_eq!(before, after, "{}: terminal settings changed", self.name);
        let modes = self.value("$(stty -a | tr '\\n' ' ')");
        for mode in [" isig", " icanon"] {
            assert!(modes.contains(mode), "{}: {mode} lost: {modes}", self.name);
        }
    }

    /// Types raw bytes (Ctrl-C is "\x03").
    pub fn keys(&mut self, bytes: &str) {
        self.session.send(bytes).unwrap();
    }
}
