//! The platform under everything else: the process's settings read once (`settings`),
//! the one output channel (`output`), directories (`dirs`), terminals (`tty`), helper
//! programs (`process`, `browser`), HTTPS (`http`), the hook's time budget (`budget`),
//! and hardening (`protect`). Nothing here imports another folder of awsrole.

pub(crate) mod browser;
pub(crate) mod budget;
pub(crate) mod dirs;
pub(crate) mod duration;
pub(crate) mod envdiff;
pub(crate) mod http;
pub mod output;
pub(crate) mod process;
pub mod protect;
pub mod settings;
#[cfg(test)]
pub(crate) mod test_child;
pub(crate) mod tty;
