//! The OpenID Connect provider's repositories: signing keys, clients, authorization codes, login
//! sessions and consents (issue 9), all in authbridge's own `authbridge_oidc_*` and
//! `authbridge_login_session` tables (migration `0004_oidc`).
//!
//! Method names carry their noun (`insert_key`, `insert_client`, …) because `Store` gathers every
//! repository into one trait object.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Client, CodeHash, CodeRecord, Consent, KeyRecord, KeyRotation, LoginSession, RedeemedCode,
    Result, SessionHash, User,
};

/// ID-token signing keys (`authbridge_oidc_key`), private halves sealed by `oidc::keys::KeySealer`.
/// At most one key per algorithm is active (no `retire_at`); the database enforces it, so two
/// instances generating a missing key at once store one of them.
#[async_trait]
pub trait OidcKeyRepository: Send + Sync {
    /// Every stored key, retired ones included, oldest first.
    async fn list_keys(&self) -> Result<Vec<KeyRecord>>;
    /// Store a new key. `StorageError::Conflict` when the kid exists or when its algorithm already
    /// has an active key (another instance won the race: reload and use that one).
    async fn insert_key(&self, key: &KeyRecord) -> Result<()>;
    /// Retire the old keys and add the new ones in one transaction (`authbridge keys rotate`).
    /// `StorageError::Conflict` when a concurrent rotation got there first (nothing is written).
    async fn rotate_keys(&self, rotation: &KeyRotation) -> Result<()>;
    /// Delete the keys whose `retire_at` is at or before `now` (no longer published). Returns how
    /// many.
    async fn delete_retired_keys(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Clients registered with `authbridge client add` (`authbridge_oidc_client`). Clients declared in
/// the config file are not here: `OidcRuntime::client` looks there first.
#[async_trait]
pub trait OidcClientRepository: Send + Sync {
    async fn client(&self, client_id: &str) -> Result<Option<Client>>;
    /// Every stored client, by client_id.
    async fn list_clients(&self) -> Result<Vec<Client>>;
    /// `StorageError::Conflict` when the client_id is taken.
    async fn insert_client(&self, client: &Client, now: DateTime<Utc>) -> Result<()>;
    /// `false` when there was no such client.
    async fn delete_client(&self, client_id: &str) -> Result<bool>;
}

/// Authorization codes (`authbridge_oidc_code`), keyed by the code's SHA-256.
#[async_trait]
pub trait AuthCodeRepository: Send + Sync {
    /// `StorageError::Conflict` when the hash exists (a 256-bit collision: never in practice).
    async fn insert_code(&self, code: &CodeRecord) -> Result<()>;
    /// Mark the code used at `now` and return it as it was before, in one statement: of two
    /// concurrent redemptions (on any instances) exactly one sees `used_at: None`. `None` when
    /// no such code exists. The checks (expiry, client, redirect_uri, PKCE) are
    /// `oidc::code::redeem`'s, on the returned record.
    async fn redeem_code(&self, hash: CodeHash, now: DateTime<Utc>)
        -> Result<Option<RedeemedCode>>;
    /// Record the jti of the refresh token issued from the code, so a later reuse of the code can
    /// revoke that token's family.
    async fn set_code_refresh_jti(&self, hash: CodeHash, jti: &str) -> Result<()>;
    /// Delete the codes that expired before `now`. Returns how many.
    async fn delete_expired_codes(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Browser logins at the provider (`authbridge_login_session`), keyed by the SHA-256 of the
/// session cookie's value.
#[async_trait]
pub trait LoginSessionRepository: Send + Sync {
    async fn create_login_session(&self, session: &LoginSession) -> Result<()>;
    /// The live session and its user: `None` when unknown, revoked, expired at `now`, created
    /// before the user was logged out everywhere (`authbridge_user_state.revoked_at`, set by
    /// logout-everywhere and by a password change authbridge has seen), or when the user no
    /// longer exists. The rest is the caller's to check, as flows do: whether the user is active,
    /// and whether the password changed in Django since (`TokenRepository::check_password`).
    async fn login_session(
        &self,
        hash: SessionHash,
        now: DateTime<Utc>,
    ) -> Result<Option<(LoginSession, User)>>;
    /// Revoke one session (`/logout`). `false` when there was none.
    async fn revoke_login_session(&self, hash: SessionHash) -> Result<bool>;
    /// Revoke every session of the user. Returns how many.
    async fn revoke_user_login_sessions(&self, user_id: i64) -> Result<u64>;
    /// Delete the sessions that expired before `now`. Returns how many.
    async fn delete_expired_login_sessions(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// What users consented to (`authbridge_oidc_consent`), per user and client.
#[async_trait]
pub trait ConsentRepository: Send + Sync {
    async fn consent(&self, user_id: i64, client_id: &str) -> Result<Option<Consent>>;
    /// Insert or replace the user's consent to the client (scope and `created_at` replaced: the
    /// caller passes the union it wants kept).
    async fn upsert_consent(&self, consent: &Consent) -> Result<()>;
}
