//! IAM Identity Center: GetRoleCredentials with the session's token. The token is
//! refreshed or signed in for by `crate::chain::root::sso`; the role credentials are cached by the
//! `Cached` wrapper like any expiring root.

use crate::chain::cache::Backend;
use crate::chain::credentials::Credentials;
use crate::chain::plan::SsoRoot;
use crate::chain::root::sso::{role_credentials, Interaction, SignIn, Tokens};
use crate::error::Result;

pub struct Sso<'a> {
    pub profile: &'a str,
    pub sso: &'a SsoRoot,
    pub backend: Backend,
    pub interaction: Interaction,
}

impl crate::chain::root::Provider for Sso<'_> {
    fn identity(&self) -> String {
        format!(
            "sso:{}:{}:{}:{}",
            self.sso.token_key(),
            self.sso.start_url,
            self.sso.account_id,
            self.sso.role_name
        )
    }

    fn credentials(&self) -> Result<Credentials> {
        let sign_in = SignIn::of_root(self.sso, self.profile);
        let token = Tokens {
            sign_in: &sign_in,
            backend: self.backend,
            interaction: self.interaction,
            lock_wait: crate::sys::budget::within(std::time::Duration::from_secs(120)),
        }
        .access_token()?;
        role_credentials(&sign_in, self.sso, self.profile, &token, self.backend)
    }

    fn profile(&self) -> &str {
        self.profile
    }
}
