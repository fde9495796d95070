//! `login_session`: the credentials of an `aws login` / `awsrole login` session, kept
//! fresh by `crate::chain::root::login` (signed in for at a terminal where the command allows it, as
//! for IAM Identity Center); cached per hop by the `Cached` wrapper like any expiring root.

use crate::chain::cache::Backend;
use crate::chain::credentials::Credentials;
use crate::error::Result;

pub struct Login<'a> {
    pub profile: &'a str,
    pub session: &'a str,
    pub region: Option<&'a str>,
    pub backend: Backend,
    pub interaction: crate::chain::root::sso::Interaction,
}

impl crate::chain::root::Provider for Login<'_> {
    fn identity(&self) -> String {
        format!("login:{}", self.session)
    }

    fn credentials(&self) -> Result<Credentials> {
        crate::chain::root::login::Session {
            profile: self.profile,
            arn: self.session,
            region: self.region,
            backend: self.backend,
            lock_wait: crate::sys::budget::within(std::time::Duration::from_secs(30)),
            interaction: self.interaction,
        }
        .credentials()
    }

    fn profile(&self) -> &str {
        self.profile
    }

    fn label(&self) -> String {
        format!("[login: {}]", self.session)
    }

    fn describe(&self) -> String {
        format!(
            "login session {} (profile '{}', sign-in service in {}); {}",
            self.session,
            self.profile,
            self.region.unwrap_or("no region"),
            super::state(self.session, self.backend)
        )
    }
}
