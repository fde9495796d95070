//! nushell: it has no `eval`, so awsrole hands it data — one JSON document of what to
//! set and what to hide — and the integration (shell/awsrole.nu) loads it with
//! `load-env` and `hide-env`. A variable no child may see is stored as a record
//! (`{private: …}`): nushell passes only string-convertible variables to external
//! commands, so the diff of earlier values never reaches a child.

use serde_json::{json, Map, Value};

use super::{Op, Syntax};

pub struct Nu;

impl Syntax for Nu {
    fn name(&self) -> &'static str {
        "nu"
    }

    fn render(&self, ops: &[Op]) -> String {
        // Later ops win, as they would in a shell running them in order.
        let mut last: Vec<(&str, Option<Value>)> = Vec::new();
        for op in ops {
            let (name, value) = match op {
                Op::Export(n, v) | Op::Local(n, v) => (n, Some(json!(v))),
                Op::Private(n, v) => (n, Some(json!({ "private": v }))),
                Op::Unset(n) | Op::UnsetPrivate(n) => (n, None),
            };
            last.retain(|(k, _)| *k != name.as_str());
            last.push((name, value));
        }
        let mut set = Map::new();
        let mut unset = Vec::new();
        for (name, value) in last {
            match value {
                Some(v) => {
                    set.insert(name.to_string(), v);
                }
                None => unset.push(json!(name)),
            }
        }
        let mut text = json!({ "set": set, "unset": unset }).to_string();
        text.push('\n');
        text
    }

    fn init_script(&self) -> String {
        include_str!("../../../shell/awsrole.nu").to_string()
    }

    fn rc_line(&self) -> &'static str {
        "awsrole init nu | save -f ~/.config/awsrole/init.nu, then source ~/.config/awsrole/init.nu in config.nu"
    }

    fn one_shell_line(&self) -> &'static str {
        "awsrole export PROFILE --format nu | from json | get set | load-env"
    }

    /// clap has no nushell generator: the externs with their completers are part of
    /// shell/awsrole.nu itself.
    fn completions(&self, _cli: &mut clap::Command) -> String {
        String::new()
    }
}
