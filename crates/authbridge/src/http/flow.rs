//! The HTTP side of `crate::flows`: the flows over the state's store, keys, settings, clock and
//! randomness, and their refusals in DRF/simplejwt's words (the same bodies and status codes the
//! views answered with before the rules moved out of them).

use super::{DrfError, Inner};
use crate::flows::account::AccountFlows;
use crate::flows::login::PasswordLogin;
use crate::flows::{FlowError, Flows, SessionRefusal};

impl Inner {
    pub fn flows(&self) -> Flows<'_> {
        Flows {
            store: &*self.store,
            tokens: &self.tokens,
            jwt: &self.settings.simple_jwt,
            clock: &*self.clock,
            random: &*self.random,
        }
    }

    /// The account flows (dj-rest-auth's API); `None` unless `AUTHBRIDGE_ACCOUNTS`.
    pub fn account_flows(&self) -> Option<AccountFlows<'_>> {
        Some(AccountFlows {
            flows: self.flows(),
            passwords: &self.passwords,
            login_limiter: &self.limiter,
            services: self.accounts.as_ref()?,
        })
    }

    /// The password login shared by `/api/token/` and the provider's `/login` page.
    pub fn password_login(&self) -> PasswordLogin<'_> {
        PasswordLogin {
            store: &*self.store,
            passwords: &self.passwords,
            limiter: &self.limiter,
            clock: &*self.clock,
        }
    }
}

fn authentication_failed(detail: &str, code: Option<&'static str>) -> DrfError {
    DrfError::AuthenticationFailed {
        detail: detail.into(),
        code,
    }
}

fn not_linked(detail: &str) -> DrfError {
    DrfError::Conflict {
        detail: detail.into(),
        code: "OAuthAccountNotLinked",
    }
}

impl From<FlowError> for DrfError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Token(e) => Self::Token(e),
            FlowError::NoActiveAccount => {
                authentication_failed("No active account found for the given token.", None)
            }
            FlowError::EmailNotVerified => not_linked(
                "A user with this email already exists, and the provider did not verify the email. \
                 Sign in the way you did before to link this account.",
            ),
            FlowError::EmailLinkingRefused => not_linked(
                "A user with this email already exists, and this provider may not link to it by \
                 email. Sign in the way you did before to link this account.",
            ),
            FlowError::UserInactive | FlowError::Session(SessionRefusal::UserInactive) => {
                Self::user_inactive()
            }
            FlowError::Session(SessionRefusal::Invalid) => authentication_failed(
                "Auth.js session is invalid or expired",
                Some("session_not_valid"),
            ),
            FlowError::Session(SessionRefusal::NotLinked) => authentication_failed(
                "Auth.js session is not linked to a Django user",
                Some("user_not_linked"),
            ),
            FlowError::Session(SessionRefusal::Revoked) => authentication_failed(
                "Auth.js session has been signed out",
                Some("session_revoked"),
            ),
            FlowError::Session(SessionRefusal::UserNotFound) => Self::user_not_found(),
            FlowError::Storage(e) => e.into(),
            FlowError::Signing(e) => Self::internal(e),
        }
    }
}
