//! From the AWS files to credentials: `config` (the files, botocore's rules) → `plan`
//! (pure: profile → root, MFA session, hops) → `resolve` (the walk: each step is a
//! `root` provider or an STS hop (`sts`, `mfa`), behind the keyring `cache` and its
//! per-step `lock`).

pub(crate) mod cache;
pub mod config;
pub(crate) mod credentials;
pub(crate) mod iam;
pub(crate) mod lock;
pub(crate) mod mfa;
pub mod plan;
pub(crate) mod resolve;
pub(crate) mod root;
pub(crate) mod sts;
