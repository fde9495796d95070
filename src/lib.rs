//! awsrole: AWS role and role-chain credentials in the shell.
//!
//! Data flows one way: `config` (the AWS files) → `plan` (pure: profile → hops) →
//! `resolve` (cache, else STS) → `render` (one syntax per shell/format) → `cli`.
//! `hook` (per prompt) and `trust` (`.awsrole` allow list) sit beside `cli`.

pub mod browser;
pub mod budget;
pub mod cache;
pub mod cli;
pub mod config;
pub mod console;
pub mod credentials;
pub mod dirs;
pub mod duration;
pub mod envdiff;
pub mod error;
pub mod hook;
pub mod http;
pub mod iam;
pub mod login;
pub mod output;
pub mod plan;
pub mod process;
pub mod protect;
pub mod render;
pub mod resolve;
pub mod server;
pub mod settings;
pub mod shell;
pub mod sso;
#[cfg(test)]
mod test_child;
pub mod trust;
pub mod tty;
