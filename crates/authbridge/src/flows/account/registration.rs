//! Sign-up: dj-rest-auth's `RegisterView` with allauth's `RegisterSerializer.save` and
//! `complete_signup`.

use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows};
use crate::flows::TokenPair;
use crate::model::User;

/// The database checks among the sign-up's field errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignupChecks {
    /// `{"username":["A user with that username already exists."]}` (iexact).
    pub username_taken: bool,
    /// `{"email":["User is already registered with this e-mail address."]}` (a verified row,
    /// iexact).
    pub email_registered: bool,
}

/// A sign-up whose fields passed every validator (including the similarity check).
pub struct NewAccount {
    /// As typed (allauth preserves the case).
    pub username: String,
    /// As typed; stored lower-cased.
    pub email: String,
    pub password: Zeroizing<String>,
}

/// What sign-up answers.
#[derive(Debug)]
pub enum Registered {
    /// Mandatory verification: 201 `{"detail":"Verification e-mail sent."}`.
    VerificationSent { user: User },
    /// Optional or none: 201 `{"access","refresh","user"}`.
    LoggedIn { user: User, tokens: TokenPair },
}

impl AccountFlows<'_> {
    /// Count a sign-up attempt (per email address and per client) and answer the field checks
    /// that need the database. Call once the body is parsed, before reporting field errors:
    /// `Throttled` first, as DRF's throttles run before validation.
    pub async fn signup_checks(
        &self,
        username: Option<&str>,
        email: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<SignupChecks, AccountError> {
        let _ = (username, email, client);
        todo!()
    }

    /// Create the user and its address row in one transaction (re-checking both uniqueness
    /// rules), send the confirmation email (cooldown per lower-cased address) unless
    /// verification is `none`, and in optional/none mode issue a pair and log the user in.
    /// `origin` is the request's scheme and host, for the default link.
    pub async fn register(
        &self,
        account: NewAccount,
        origin: &str,
        client: Option<IpAddr>,
    ) -> Result<Registered, AccountError> {
        let _ = (account, origin, client);
        todo!()
    }
}
