//! bash and zsh: one POSIX template (shell/posix.sh) and one quoter; each adds its own
//! way of installing the hook and its own completion extras.

use super::{clap_completions, Op, Syntax};

pub struct Posix {
    name: &'static str,
    rc_file: &'static str,
    rc_line: &'static str,
    install: &'static str,
    extras: &'static str,
    generator: clap_complete::Shell,
}

pub const BASH: Posix = Posix {
    name: "bash",
    rc_file: "~/.bashrc",
    rc_line: "eval \"$(awsrole init bash)\" in ~/.bashrc",
    install: include_str!("../../../shell/install.bash"),
    extras: include_str!("../../../shell/complete-profiles.bash"),
    generator: clap_complete::Shell::Bash,
};

pub const ZSH: Posix = Posix {
    name: "zsh",
    rc_file: "~/.zshrc",
    rc_line: "eval \"$(awsrole init zsh)\" in ~/.zshrc",
    install: include_str!("../../../shell/install.zsh"),
    extras: include_str!("../../../shell/complete-profiles.zsh"),
    generator: clap_complete::Shell::Zsh,
};

const TEMPLATE: &str = include_str!("../../../shell/posix.sh");

impl Syntax for Posix {
    fn name(&self) -> &'static str {
        self.name
    }

    fn render(&self, ops: &[Op]) -> String {
        let mut out = String::new();
        for op in ops {
            out.push_str(&match op {
                Op::Export(name, value) => format!("export {name}={}\n", sh_quote(value)),
                Op::Unset(name) | Op::UnsetPrivate(name) => format!("unset {name}\n"),
                Op::Local(name, value) => format!("{name}={}\n", sh_quote(value)),
                // Unexported even under `set -a`, or when it was exported before.
                Op::Private(name, value) => format!(
                    "typeset -g +x {name}={}; typeset -g +x {name}\n",
                    sh_quote(value)
                ),
            });
        }
        out
    }

    fn init_script(&self) -> String {
        let mut text = TEMPLATE
            .replace("__SHELL__", self.name)
            .replace("__RC__", self.rc_file);
        text.push_str(self.install);
        text
    }

    fn rc_line(&self) -> &'static str {
        self.rc_line
    }

    fn one_shell_line(&self) -> &'static str {
        "eval \"$(awsrole export PROFILE)\""
    }

    fn completions(&self, cli: &mut clap::Command) -> String {
        let mut text = clap_completions(self.generator, cli);
        if self.name == "zsh" {
            // Without compinit (loaded before the rc line) there is no compdef: say
            // nothing rather than an error at every shell start.
            text = text.replace(
                "    compdef _awsrole awsrole",
                "    (( $+functions[compdef] )) && compdef _awsrole awsrole",
            );
        }
        text.push_str(self.extras);
        text
    }
}

/// bash, zsh and dash: bare only when every character is plainly inert in all three;
/// otherwise single quotes, with `'` written as `'\''`. shell-words' `quote` leaves a
/// lone `}` bare, which zsh rejects (found by the property test in tests/quoting.rs).
pub fn sh_quote(value: &str) -> String {
    let inert = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,=".contains(c);
    if !value.is_empty() && value.chars().all(inert) {
        return value.to_string();
    }
    format!("'{}'", value.replace('\'', "'\\''"))
}
