//! fish: `set -gx` / `set -e`, its own quoter, its own init script.

use super::{clap_completions, Op, Syntax};

pub struct Fish;

impl Syntax for Fish {
    fn name(&self) -> &'static str {
        "fish"
    }

    fn render(&self, ops: &[Op]) -> String {
        let mut out = String::new();
        for op in ops {
            out.push_str(&match op {
                Op::Export(name, value) => format!("set -gx {name} {}\n", fish_quote(value)),
                // `set` keeps the previous status, so an unset of a missing variable
                // (status 4) would leak through `| source; and …`.
                Op::Unset(name) | Op::UnsetPrivate(name) => format!("set -e {name}; or true\n"),
                Op::Local(name, value) => format!("set -g {name} {}\n", fish_quote(value)),
                Op::Private(name, value) => format!("set -gu {name} {}\n", fish_quote(value)),
            });
        }
        out
    }

    fn init_script(&self) -> String {
        include_str!("../../../shell/awsrole.fish").to_string()
    }

    fn rc_line(&self) -> &'static str {
        "awsrole init fish | source in ~/.config/fish/config.fish"
    }

    fn one_shell_line(&self) -> &'static str {
        "awsrole export PROFILE --format fish | source"
    }

    fn completions(&self, cli: &mut clap::Command) -> String {
        let mut text = clap_completions(clap_complete::Shell::Fish, cli);
        text.push_str(include_str!("../../../shell/complete-profiles.fish"));
        text
    }
}

/// fish reads `\\` and `\'` as escapes even inside single quotes, which POSIX quoting
/// does not expect; so fish gets a quoter of its own.
pub fn fish_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}
