//! dj-rest-auth + django-allauth's account flows on Django's own tables: sign-up
//! (`registration`), email confirmation and resend (`email_verification`), dj-rest-auth's login
//! (`login`), password change (`password_change`), password reset request, check and confirm
//! (`password_reset`), and the user's own details (`user`).
//!
//! Field validation (DRF's required/blank/format errors, Django's username and password
//! validators, the two-password mismatch) is the HTTP surface's; the flows take validated input,
//! apply allauth's rules and answer with an [`AccountError`] whose variants are the anchor's
//! messages. Everything is injected ([`AccountFlows`]); the work a reset or resend does for a
//! known address runs off the request path ([`Background`]), so every address gets the same
//! answer after the same work.

pub mod background;
mod email_verification;
mod login;
pub mod mail;
mod password_change;
mod password_reset;
mod registration;
#[cfg(test)]
mod tests;
mod user;

use std::net::IpAddr;
use std::sync::Arc;

pub use background::{Background, TokioBackground};
pub use login::{Credentials, LoggedIn};
pub use mail::{AccountEmail, AccountEmailContext, AccountMailer, MailError};
pub use registration::{NewAccount, Registered, SignupChecks};
pub use user::UserChange;

use super::{FlowError, Flows};
use crate::account_tokens::SecretKeys;
use crate::audit::{self, Event, Subject};
use crate::clock::DynClock;
use crate::config::AccountSettings;
use crate::limits::{AccountAction, ActionLimiter, LoginLimiter};
use crate::passwords::{PasswordError, PasswordService};
use crate::storage::{DynStore, StorageError};

/// What the account flows own, built once at start (`app.rs`) when `AUTHBRIDGE_ACCOUNTS` is on.
/// The store and clock are held here too, as owned handles, for the work done off the request
/// path.
pub struct AccountServices {
    pub settings: AccountSettings,
    /// `SECRET_KEY` and `SECRET_KEY_FALLBACKS`.
    pub keys: SecretKeys,
    /// Per-address and per-client rate limits, and the confirmation cooldown.
    pub limits: ActionLimiter,
    pub mail: Arc<dyn AccountMailer>,
    pub background: Arc<dyn Background>,
    pub store: DynStore,
    pub clock: DynClock,
}

/// The account flows, borrowed from whoever holds their parts (the HTTP state, a test).
#[derive(Clone, Copy)]
pub struct AccountFlows<'a> {
    /// The token flows (issue a pair, blacklist, revoke after a password change).
    pub flows: Flows<'a>,
    pub passwords: &'a PasswordService,
    /// The login throttle of `/api/token/`, shared by dj-rest-auth's login.
    pub login_limiter: &'a LoginLimiter,
    pub services: &'a Arc<AccountServices>,
}

/// Which fields dj-rest-auth's login asks for, by `ACCOUNT_LOGIN_METHODS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingCredentials {
    /// `{"email"}`: `Must include "email" and "password".`
    Email,
    /// `{"username"}`: `Must include "username" and "password".`
    Username,
    /// both: `Must include either "username" or "email" and "password".`
    UsernameOrEmail,
}

/// What an account flow refuses. Each variant is one answer of the anchor; `message()` gives its
/// exact text, the HTTP surface its status and field.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Rate limited (per address or per client), or the login throttle: retry in `wait` s.
    /// 429 `Request was throttled. Expected available in N seconds.`
    #[error("throttled for {wait} s")]
    Throttled { wait: i64 },
    /// Every password worker is busy, or the limiter's store is unreachable: 503.
    #[error("busy")]
    Busy,
    /// `{"username":["A user with that username already exists."]}`
    #[error("A user with that username already exists.")]
    UsernameTaken,
    /// `{"email":["User is already registered with this e-mail address."]}`
    #[error("User is already registered with this e-mail address.")]
    EmailRegistered,
    /// A confirmation key that is bad, expired, used or for a missing row: 404 `Not found.`
    #[error("Not found.")]
    NotFound,
    /// Login without the credentials the login methods need: 400 `non_field_errors`.
    #[error("{}", missing_message(*.0))]
    MissingCredentials(MissingCredentials),
    /// Unknown user, wrong password, inactive user: 400
    /// `{"non_field_errors":["Unable to log in with provided credentials."]}`
    #[error("Unable to log in with provided credentials.")]
    InvalidCredentials,
    /// Mandatory verification and no verified row for the user's email: 400 `non_field_errors`.
    #[error("E-mail is not verified.")]
    EmailNotVerified,
    /// Reset confirm: `{"uid":["Invalid value"]}`
    #[error("Invalid value")]
    InvalidUid,
    /// Reset confirm: `{"token":["Invalid value"]}`
    #[error("Invalid value")]
    InvalidToken,
    /// Token issue or revocation failed (signing, storage).
    #[error(transparent)]
    Flow(#[from] FlowError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("password hashing failed")]
    Password(#[source] PasswordError),
}

fn missing_message(m: MissingCredentials) -> &'static str {
    match m {
        MissingCredentials::Email => "Must include \"email\" and \"password\".",
        MissingCredentials::Username => "Must include \"username\" and \"password\".",
        MissingCredentials::UsernameOrEmail => {
            "Must include either \"username\" or \"email\" and \"password\"."
        }
    }
}

impl AccountError {
    /// The anchor's text for this refusal (the `detail`, field or `non_field_errors` string).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl From<PasswordError> for AccountError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::QueueFull => Self::Busy,
            other => Self::Password(other),
        }
    }
}

impl AccountFlows<'_> {
    fn settings(&self) -> &AccountSettings {
        &self.services.settings
    }

    /// Count one `action` for the email address and the client; `Throttled` over a rate, `Busy`
    /// when the counters cannot be reached (never let through uncounted).
    async fn admit(
        &self,
        action: AccountAction,
        address: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let now = self.flows.clock.now();
        match self
            .services
            .limits
            .admit(action, address, client, now)
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => {
                audit::record(
                    Event::AccountThrottled,
                    Subject {
                        client,
                        reason: Some(action.as_str()),
                        ..Subject::default()
                    },
                );
                Err(AccountError::Throttled { wait })
            }
            Err(e) => {
                tracing::error!(error = %e, "account rate limiter unavailable; request refused");
                Err(AccountError::Busy)
            }
        }
    }
}

/// The default link origin when no template is set: the request's scheme and host (Django's
/// `build_absolute_uri`), without a trailing slash.
fn origin(origin: &str) -> &str {
    origin.trim_end_matches('/')
}
