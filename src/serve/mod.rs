//! Credentials handed to other programs: the credential endpoint (`endpoint`, what
//! `use --server` and `exec --server` run) and the console sign-in URL (`console`).

pub(crate) mod console;
pub(crate) mod endpoint;
