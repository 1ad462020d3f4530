//! allauth's `EmailAwarePasswordResetTokenGenerator` (what dj-rest-auth uses when allauth is
//! installed): Django's `PasswordResetTokenGenerator` whose hash value ends with the user's email
//! addresses. Token = `base36(ts) "-" salted_hmac(KEY_SALT, value).hexdigest()[::2]`, where `ts` is
//! whole seconds since 2001-01-01 00:00 (Django's naive `datetime.now()`: UTC when Django's
//! `TIME_ZONE` is UTC) and `value` = `pk password last_login(seconds, naive) ts email` +
//! `"|".join(sorted({lower(user.email)} ∪ addresses))`.
//!
//! A token dies when the password changes, when the user logs in (`last_login`), when the user's
//! addresses change, and `PASSWORD_RESET_TIMEOUT` seconds after it was made.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;

use super::{base36, salted_hmac, same, SecretKeys};

/// Django's `PasswordResetTokenGenerator.key_salt`.
pub const KEY_SALT: &str = "django.contrib.auth.tokens.PasswordResetTokenGenerator";

/// Tokens longer than this are refused before any work (a token is ~40 characters).
const MAX_TOKEN_LEN: usize = 256;

/// What the hash covers, as allauth reads it from the user and its `account_emailaddress` rows.
#[derive(Debug, Clone)]
pub struct ResetTokenUser<'a> {
    pub id: i64,
    /// The encoded password.
    pub password: &'a str,
    pub last_login: Option<DateTime<Utc>>,
    /// The user table's email (`""` when none).
    pub email: &'a str,
    /// The emails of the user's `account_emailaddress` rows.
    pub addresses: &'a [String],
}

/// The generator: secrets and `PASSWORD_RESET_TIMEOUT`.
#[derive(Debug, Clone)]
pub struct ResetTokens<'a> {
    pub keys: &'a SecretKeys,
    /// `PASSWORD_RESET_TIMEOUT`, seconds.
    pub timeout: i64,
}

/// Seconds since 2001-01-01 00:00 (Django's `_num_seconds(datetime.now())`).
pub fn num_seconds(now: DateTime<Utc>) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(2001, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or_default();
    (now - epoch).num_seconds()
}

impl ResetTokenUser<'_> {
    /// `_make_hash_value(user, timestamp)`.
    fn hash_value(&self, timestamp: u128) -> String {
        let login = self
            .last_login
            .map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let mut emails: BTreeSet<&str> = self.addresses.iter().map(String::as_str).collect();
        let lower = self.email.to_lowercase();
        if !lower.is_empty() {
            emails.insert(&lower);
        }
        // Python sorts by code point; BTreeSet<&str> orders by UTF-8 bytes, the same order.
        let joined = emails.into_iter().collect::<Vec<_>>().join("|");
        format!(
            "{}{}{login}{timestamp}{}{joined}",
            self.id, self.password, self.email
        )
    }
}

impl ResetTokens<'_> {
    fn token_at(&self, user: &ResetTokenUser<'_>, timestamp: u128, secret: &[u8]) -> String {
        let digest = salted_hmac(KEY_SALT, user.hash_value(timestamp).as_bytes(), secret);
        let hex: String = hex::encode(digest).chars().step_by(2).collect();
        format!("{}-{hex}", base36::encode(timestamp))
    }

    /// `make_token(user)` at `now`.
    pub fn make(&self, user: &ResetTokenUser<'_>, now: DateTime<Utc>) -> String {
        let ts = u128::try_from(num_seconds(now)).unwrap_or(0);
        self.token_at(user, ts, self.keys.current())
    }

    /// `check_token(user, token)` at `now`: ours (any key), for this user's current state, and no
    /// older than the timeout.
    pub fn check(&self, user: &ResetTokenUser<'_>, token: &str, now: DateTime<Utc>) -> bool {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return false;
        }
        let mut parts = token.split('-');
        let (Some(ts), Some(_), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        // Any other spelling of the number than `int_to_base36`'s (case, sign, whitespace) fails
        // the comparison below, as in Django; a negative one cannot get past the split.
        let Some(ts) = base36::decode(ts).and_then(|t| u128::try_from(t).ok()) else {
            return false;
        };
        if !self
            .keys
            .all()
            .any(|secret| same(self.token_at(user, ts, secret).as_bytes(), token.as_bytes()))
        {
            return false;
        }
        i128::from(num_seconds(now)) - (ts as i128) <= i128::from(self.timeout)
    }
}
