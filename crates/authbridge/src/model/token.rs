//! Refresh tokens as simplejwt's blacklist app records them, and authbridge's facts about their
//! logins (families, rotations, revocations).

use chrono::{DateTime, Utc};

/// A `token_blacklist_outstandingtoken` row as simplejwt writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingToken {
    pub user_id: Option<i64>,
    pub jti: String,
    /// The whole refresh JWT.
    pub token: String,
    pub created_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// One refresh rotation, written in one transaction.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The presented refresh token (its outstanding row is created if Django never stored it).
    pub old: OutstandingToken,
    /// The successor refresh token.
    pub new: OutstandingToken,
    /// The access token issued with `new`; replayed to concurrent callers within the grace window.
    pub new_access: String,
    /// Blacklist `old` (simplejwt's `BLACKLIST_AFTER_ROTATION`).
    pub blacklist_old: bool,
    pub now: DateTime<Utc>,
    /// `REFRESH_TOKEN_GRACE_PERIOD`: how long an already-rotated token still yields its successor.
    pub grace: chrono::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// `new` is stored, `old` blacklisted (if asked) and linked to `new` in the same family.
    Rotated,
    /// `old` was rotated less than `grace` ago: here is the successor pair it got then.
    Replayed { refresh: String, access: String },
    /// `old` was rotated more than `grace` ago: reuse. Every token of its family is now blacklisted.
    ReuseDetected,
    /// `old` was blacklisted by logout or by Django (not by a rotation we recorded).
    Blacklisted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    Blacklisted,
    AlreadyBlacklisted,
}

/// Where the login (refresh family) of a refresh token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyState {
    /// At least one token of the family is neither blacklisted nor expired. `family` names it (the
    /// jti of the login's first refresh token, or the token's own jti when authbridge never saw
    /// its family).
    Live { family: String },
    /// Every token of the family is blacklisted or expired: logged out, revoked after reuse, or
    /// blacklisted by Django.
    Revoked,
}

/// What `check_password` found about a user's password since authbridge last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Same password as last time (or first sight, now recorded).
    Unchanged {
        /// When the user's tokens were last revoked ("log out everywhere", password change).
        revoked_at: Option<DateTime<Utc>>,
    },
    /// The password changed since authbridge last saw it: every refresh token of the user was
    /// blacklisted in the same transaction (`revoked` rows) and `revoked_at` set to `now`.
    Changed { revoked: u64 },
}
