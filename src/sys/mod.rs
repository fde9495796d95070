//! The platform under everything else: the process's settings read once (`settings`),
//! the one output channel (`output`), directories (`dirs`), terminals (`tty`), helper
//! programs (`process`, `browser`), HTTPS (`http`), the hook's time budget (`budget`),
//! and hardening (`protect`). Nothing here imports another folder of awsrole.

pub mod browser;
pub mod budget;
pub mod dirs;
pub mod duration;
pub mod envdiff;
pub mod http;
pub mod output;
pub mod process;
pub mod protect;
pub mod settings;
#[cfg(test)]
pub(crate) mod test_child;
pub mod tty;
