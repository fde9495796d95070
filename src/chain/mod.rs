//! From the AWS files to credentials: `config` (the files, botocore's rules) → `plan`
//! (pure: profile → root, MFA session, hops) → `resolve` (the walk: each step is a
//! `root` provider or an STS hop (`sts`, `mfa`), behind the keyring `cache` and its
//! per-step `lock`).

pub mod cache;
pub mod config;
pub mod credentials;
pub mod iam;
pub mod lock;
pub mod mfa;
pub mod plan;
pub mod resolve;
pub mod root;
pub mod sts;
