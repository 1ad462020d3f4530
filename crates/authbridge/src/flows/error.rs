//! What a flow refuses, in the flow's words; each surface maps these to its own answer.

use crate::storage::StorageError;
use crate::tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// simplejwt's `InvalidToken` (decode, claims, type, blacklist).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Refresh: the token's user is unparseable, deleted or inactive (simplejwt's serializer).
    #[error("No active account found for the given token.")]
    NoActiveAccount,
    /// Sync: a user has this email and the provider did not verify it.
    #[error("email not verified by the provider")]
    EmailNotVerified,
    /// Sync: a user has this email and linking by email is not allowed.
    #[error("linking by email refused")]
    EmailLinkingRefused,
    /// Sync: the account's user is inactive.
    #[error("user is inactive")]
    UserInactive,
    /// An Auth.js session whose refresh token names no live login of an active user.
    #[error("session refused: {0:?}")]
    Session(SessionRefusal),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A token could not be signed (a key that the signing library refuses).
    #[error("{0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Why an Auth.js session is not a login (see `flows::session`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// The session carries no refresh token we could read (or it is not ours, or expired).
    Invalid,
    /// The session carries no refresh token, or one without a user.
    NotLinked,
    /// The refresh token's login was signed out, or the user's tokens were revoked since.
    Revoked,
    UserNotFound,
    UserInactive,
}
