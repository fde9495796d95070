//! awsrole: AWS role and role-chain credentials in the shell.
//!
//! The folders are the pipeline (ARCHITECTURE.md has the table and the rules):
//! `chain` (the AWS files → a plan → credentials: roots, hops, STS, MFA, the cache) →
//! `env` (the shell's environment: render for a shell, the diff, the hook, `.awsrole`
//! trust) → `cli` (the commands). `serve` hands credentials to other programs (the
//! credential endpoint, the console). `sys` is the platform underneath all of them.
//! Lower folders never import higher ones (`tests/architecture.rs` checks it).

pub mod chain;
pub mod cli;
pub mod env;
pub mod error;
pub mod serve;
pub mod sys;
