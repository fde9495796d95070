//! One module per shell: its quoting, its syntax for setting and unsetting variables,
//! its init script, its completion extras and its name. Adding a shell is one module
//! and one line in `Shell::syntax`; the compiler points at everything else, since no
//! `match` over shells has a catch-all arm.
//!
//! Output formats (`--format sh|fish|json|env|nu`) are a separate idea: `render` maps
//! the shell-like ones onto these modules.

mod fish;
mod nu;
mod posix;

pub use fish::fish_quote;
pub use posix::sh_quote;

/// The shells awsrole integrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Nu,
}

impl Shell {
    /// Every shell, from the same derive as clap's list (no list to keep in step).
    pub fn all() -> &'static [Shell] {
        <Shell as clap::ValueEnum>::value_variants()
    }

    /// The registry: one line per shell.
    pub fn syntax(self) -> &'static dyn Syntax {
        match self {
            Shell::Bash => &posix::BASH,
            Shell::Zsh => &posix::ZSH,
            Shell::Fish => &fish::Fish,
            Shell::Nu => &nu::Nu,
        }
    }
}

impl std::str::FromStr for Shell {
    type Err = String;

    /// One parser for clap and for the hook's fast path, which runs before clap.
    fn from_str(text: &str) -> Result<Shell, String> {
        <Shell as clap::ValueEnum>::from_str(text, false)
    }
}

/// One change to a shell's variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Set and export.
    Export(String, String),
    Unset(String),
    /// A shell variable for the prompt (exported where the shell cannot help it).
    Local(String, String),
    /// A variable no child process may see (the diff of earlier values).
    Private(String, String),
    UnsetPrivate(String),
}

/// What each shell provides.
pub trait Syntax: Sync {
    fn name(&self) -> &'static str;
    /// Code (for nu: a JSON document its integration loads) making these changes.
    fn render(&self, ops: &[Op]) -> String;
    /// What `awsrole init SHELL` prints before the completions.
    fn init_script(&self) -> String;
    /// Where the init goes, as a user would be told.
    fn rc_line(&self) -> &'static str;
    /// Credentials into this one shell without the integration.
    fn one_shell_line(&self) -> &'static str;
    /// The completions: clap's (from the same definitions as `--help`) where clap
    /// has a generator for this shell, plus profile names and paths.
    fn completions(&self, cli: &mut clap::Command) -> String;
}

/// clap's completion script for `generator`.
fn clap_completions(generator: clap_complete::Shell, cli: &mut clap::Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(generator, cli, "awsrole", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_parses_by_its_own_name() {
        for &shell in Shell::all() {
            assert_eq!(shell.syntax().name().parse::<Shell>(), Ok(shell));
        }
        assert!("powershell".parse::<Shell>().is_err());
    }

    #[test]
    fn all_is_every_shell() {
        assert_eq!(
            Shell::all(),
            [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Nu]
        );
    }

    #[test]
    fn every_shell_tells_its_own_lines() {
        for &shell in Shell::all() {
            let syntax = shell.syntax();
            let name = syntax.name();
            let rc = syntax.rc_line();
            assert!(rc.contains(&format!("awsrole init {name}")), "{rc}");
            let one = syntax.one_shell_line();
            assert!(one.contains("awsrole export PROFILE"), "{one}");
            if shell != Shell::Bash && shell != Shell::Zsh {
                assert!(one.contains(&format!("--format {name}")), "{one}");
            }
        }
    }

    #[test]
    fn every_init_script_calls_the_hook_for_its_own_shell() {
        for &shell in Shell::all() {
            let script = shell.syntax().init_script();
            let name = shell.syntax().name();
            assert!(script.contains(&format!(" hook {name}")), "{name}");
            assert!(!script.contains("__SHELL__") && !script.contains("__RC__"));
        }
        let bash = Shell::Bash.syntax().init_script();
        assert!(bash.contains("# awsrole shell integration for bash. Add to ~/.bashrc:"));
        assert!(bash.contains("PROMPT_COMMAND") && !bash.contains("add-zsh-hook"));
        let zsh = Shell::Zsh.syntax().init_script();
        assert!(zsh.contains("add-zsh-hook precmd __awsrole_hook") && zsh.contains("~/.zshrc"));
        assert!(Shell::Fish
            .syntax()
            .init_script()
            .contains("function __awsrole_hook --on-event fish_prompt"));
        assert!(Shell::Nu
            .syntax()
            .init_script()
            .contains("def --env __awsrole_hook"));
    }

    #[test]
    fn every_shell_renders_every_op() {
        let ops = [
            Op::Export("A".into(), "it's".into()),
            Op::Unset("B".into()),
            Op::Local("C".into(), "c".into()),
            Op::Private("D".into(), "d".into()),
            Op::UnsetPrivate("E".into()),
        ];
        for &shell in Shell::all() {
            let out = shell.syntax().render(&ops);
            for name in ["A", "B", "C", "D", "E"] {
                assert!(out.contains(name), "{shell:?} lost {name}: {out}");
            }
        }
    }
}
