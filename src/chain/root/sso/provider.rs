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

    fn label(&self) -> String {
        // The account's name from `sso sync`: people know accounts by it, and the
        // picker filters on this line.
        let named = self
            .sso
            .account_name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!(
            "[sso: {} {}{named}/{}]",
            self.sso.token_key(),
            self.sso.account_id,
            self.sso.role_name
        )
    }

    fn describe(&self) -> String {
        let sso = self.sso;
        format!(
            "IAM Identity Center role {} in account {}{} (profile '{}', {}); {}",
            sso.role_name,
            sso.account_id,
            sso.account_name
                .as_ref()
                .map(|n| format!(" '{n}'"))
                .unwrap_or_default(),
            self.profile,
            match &sso.session {
                Some(s) => format!("sso-session '{s}' at {}", sso.start_url),
                None => format!("start URL {}", sso.start_url),
            },
            super::token_state(sso, self.profile, self.backend)
        )
    }
}
