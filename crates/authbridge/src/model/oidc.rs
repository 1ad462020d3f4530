//! The OpenID Connect provider's stored nouns. Codes, keys and clients are the domain's own types
//! (`oidc::code::CodeRecord`, `oidc::keys::KeyRecord`, `oidc::client::Client`), re-exported here;
//! what only storage and the pages share (login sessions, consents, a redeemed code, a key
//! rotation) is declared here.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

pub use crate::oidc::client::Client;
pub use crate::oidc::code::{CodeHash, CodeRecord};
pub use crate::oidc::keys::KeyRecord;
use crate::oidc::Scope;

/// SHA-256 of a login session's id (the `authbridge_session` cookie value): the storage key, so a
/// database leak yields no usable cookie. The id is 256 random bits, so a fast hash suffices.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHash(pub [u8; 32]);

impl std::fmt::Debug for SessionHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionHash(..)")
    }
}

impl SessionHash {
    /// The hash of the cookie value, as presented.
    pub fn of(session_id: &str) -> Self {
        Self(Sha256::digest(session_id.as_bytes()).into())
    }

    /// Lower-case hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A browser's login at the provider (`authbridge_login_session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    pub hash: SessionHash,
    pub user_id: i64,
    /// When the user entered their password (the ID token's `auth_time`, `max_age` checks).
    pub auth_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a redemption found: the code as it was *before* this redemption (`record.used_at` is
/// `Some` when an earlier redemption already used it), and the jti of the refresh token issued
/// from it, which a reuse revokes (with its family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemedCode {
    pub record: CodeRecord,
    pub refresh_jti: Option<String>,
}

impl RedeemedCode {
    /// An earlier redemption won: this one is a reuse (RFC 6749 §4.1.2).
    pub fn already_used(&self) -> bool {
        self.record.used_at.is_some()
    }
}

/// A user's consent to a client (`authbridge_oidc_consent`): the scope granted so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub user_id: i64,
    pub client_id: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
}

/// `authbridge keys rotate`, written in one transaction: the old keys' retirement dates
/// (`oidc::keys::retirements`) and the new keys, so no instance ever sees an algorithm without
/// an active key, nor two.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRotation {
    /// `(kid, retire_at)` of the keys that stop signing.
    pub retire: Vec<(String, DateTime<Utc>)>,
    /// The keys that sign from now on (sealed).
    pub add: Vec<KeyRecord>,
}
