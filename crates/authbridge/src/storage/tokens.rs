//! The token repository: simplejwt's outstanding/blacklisted rows, and authbridge's refresh
//! families, rotations and per-user token state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    BlacklistOutcome, FamilyState, OutstandingToken, PasswordCheck, Result, RotateOutcome, Rotation,
};

#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// simplejwt's `outstand()`: get-or-create the outstanding row by jti. `family` links the token
    /// to its login for reuse detection (`None` starts a new family named by this jti).
    async fn outstand(&self, token: &OutstandingToken, family: Option<&str>) -> Result<()>;
    /// simplejwt's `check_blacklist()`: is there a blacklisted row for this jti?
    async fn is_blacklisted(&self, jti: &str) -> Result<bool>;
    /// simplejwt's `blacklist()`: get-or-create the outstanding row, then the blacklisted row.
    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: DateTime<Utc>,
    ) -> Result<BlacklistOutcome>;
    /// Refresh rotation in one transaction, with replay within the grace window and reuse detection.
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome>;
    /// Delete authbridge's own rows about tokens that expired before `now` (Django's
    /// `flushexpiredtokens` deletes the outstanding/blacklisted rows; this cleans our side).
    async fn flush_expired(&self, now: DateTime<Utc>) -> Result<u64>;
    /// The state of `jti`'s login: live while any token of its family is neither blacklisted nor
    /// expired at `now`. A token authbridge has no family row for is its own family.
    async fn family_state(&self, jti: &str, now: DateTime<Utc>) -> Result<FamilyState>;
    /// Logout of one login: blacklist `token` and every token of its family (one transaction,
    /// serialized with rotations of that family). Returns how many tokens were newly blacklisted.
    async fn revoke_family(&self, token: &OutstandingToken, now: DateTime<Utc>) -> Result<u64>;
    /// Log out everywhere: blacklist every unexpired refresh token of the user and record `now` as
    /// the user's `revoked_at`. Returns how many tokens were newly blacklisted.
    async fn revoke_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64>;
    /// Compare the user's password fingerprint with the one recorded (recording it on first
    /// sight); on a change, revoke the user's tokens as `revoke_user` does, in one transaction.
    async fn check_password(
        &self,
        user_id: i64,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<PasswordCheck>;
    /// A password-hash upgrade on login (same password, new hash): sets the password only if it
    /// is still `old` and carries the user's password fingerprint over, so that the upgrade is not
    /// taken for a password change (which would log the user out everywhere).
    /// (A token-state method: it keeps `check_password`'s record consistent.)
    async fn upgrade_password(&self, id: i64, old: &str, new: &str) -> Result<()>;
}
