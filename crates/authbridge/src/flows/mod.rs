//! The rules that span storage and tokens, written once for every surface that needs them (the
//! simplejwt views, the Auth.js bridge, later the OIDC token endpoint and the gateway):
//! - `token_pair`: issue a pair, refresh with rotation (grace window, reuse detection);
//! - `logout`: blacklist one token, end one login, end every login, password-change revocation;
//! - `account`: dj-rest-auth + allauth's sign-up, email confirmation, login, password change
//!   and reset, on Django's and allauth's tables;
//! - `accounts`: sync an external sign-in into Django's users;
//! - `session`: the login an Auth.js session's refresh token belongs to;
//! - `login`: a password login (throttle, Django's password check, hash upgrade).
//!
//! A flow gets everything injected ([`Flows`]: store, keys, settings, clock, randomness), knows
//! nothing of HTTP, records its security events (`crate::audit`) and answers with a
//! [`FlowError`] that each surface renders in its own format.

pub mod account;
pub mod accounts;
mod error;
pub mod login;
pub mod logout;
pub mod oidc;
pub mod session;
#[cfg(test)]
mod tests;
pub mod token_pair;

pub use error::{FlowError, SessionRefusal};
pub use logout::Revoked;
pub use token_pair::{Refreshed, TokenPair};

use crate::clock::Clock;
use crate::config::SimpleJwt;
use crate::model::OutstandingToken;
use crate::random::Random;
use crate::storage::Store;
use crate::tokens::{epoch_to_datetime, Token, TokenService};

/// What the flows need, borrowed from whoever holds it (the HTTP state, a test).
#[derive(Clone, Copy)]
pub struct Flows<'a> {
    pub store: &'a dyn Store,
    pub tokens: &'a TokenService,
    pub jwt: &'a SimpleJwt,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
}

impl Flows<'_> {
    /// The outstanding-token row simplejwt writes for a refresh token.
    fn outstanding(
        &self,
        token: &Token,
        raw: &str,
        user_id: Option<i64>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> OutstandingToken {
        OutstandingToken {
            user_id,
            jti: token
                .jti(&self.tokens.rules)
                .unwrap_or_default()
                .to_string(),
            token: raw.to_string(),
            created_at: Some(now),
            expires_at: epoch_to_datetime(token.exp().unwrap_or_default()),
        }
    }
}
