//! Rate limits of sign-up, resend and reset, per email address and per client address, and the
//! sign-up confirmation cooldown (allauth's `confirm_email` rate: one email per lower-cased
//! address per `ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN`). Counted on the login limiter's store
//! (memory, the database or Redis), each under a SHA-256 key that holds no address.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::{AccountSettings, Rate};
use crate::storage::{AttemptRule, LoginAttemptRepository, StorageError};

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Signup,
    Resend,
    PasswordReset,
}

impl AccountAction {
    /// The name in audit lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::Resend => "resend",
            Self::PasswordReset => "password_reset",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::Resend => "resend",
            Self::PasswordReset => "reset",
        }
    }
}

pub struct ActionLimiter {
    backend: Arc<dyn LoginAttemptRepository>,
    rules: Vec<(AccountAction, Option<Rate>, Option<Rate>)>,
    cooldown: i64,
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn rule(rate: Rate) -> AttemptRule {
    AttemptRule {
        limit: rate.limit,
        period: chrono::Duration::seconds(rate.period),
    }
}

impl ActionLimiter {
    pub fn new(backend: Arc<dyn LoginAttemptRepository>, settings: &AccountSettings) -> Self {
        Self {
            backend,
            rules: vec![
                (
                    AccountAction::Signup,
                    settings.signup_address_rate,
                    settings.signup_client_rate,
                ),
                (
                    AccountAction::Resend,
                    settings.resend_address_rate,
                    settings.resend_client_rate,
                ),
                (
                    AccountAction::PasswordReset,
                    settings.reset_address_rate,
                    settings.reset_client_rate,
                ),
            ],
            cooldown: settings.confirmation_cooldown,
        }
    }

    /// Count one `action` for `address` (lower-cased here; none when absent) and `client`; `Err`
    /// with the wait in seconds when either is over its rate.
    pub async fn admit(
        &self,
        action: AccountAction,
        address: Option<&str>,
        client: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), i64>, StorageError> {
        let Some(&(_, by_address, by_client)) = self.rules.iter().find(|(a, ..)| *a == action)
        else {
            return Ok(Ok(()));
        };
        let lower = address.map(str::to_lowercase);
        let client = client.map(|c| crate::config::edge::canonical(c).to_string());
        let mut keys = Vec::new();
        if let (Some(rate), Some(a)) = (by_address, lower.as_deref()) {
            keys.push((digest(&["acct", action.tag(), "address", a]), rate));
        }
        if let (Some(rate), Some(c)) = (by_client, client.as_deref()) {
            keys.push((digest(&["acct", action.tag(), "client", c]), rate));
        }
        let mut wait = None;
        for (key, rate) in keys {
            let count = self.backend.count_attempt(&key, rule(rate), now).await?;
            if count.attempts > rate.limit {
                let ms = (count.reset_at - now).num_milliseconds().max(0);
                let w = ((ms + 999) / 1000).max(1);
                wait = Some(wait.map_or(w, |v: i64| v.max(w)));
            }
        }
        Ok(match wait {
            Some(w) => Err(w),
            None => Ok(()),
        })
    }

    /// allauth's `confirm_email` rate: `true` when a sign-up confirmation may go to `email` now
    /// (and the cooldown starts), `false` inside the cooldown.
    pub async fn confirmation_may_send(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        if self.cooldown <= 0 {
            return Ok(true);
        }
        let key = digest(&["acct", "confirm_email", &email.to_lowercase()]);
        let rule = AttemptRule {
            limit: 1,
            period: chrono::Duration::seconds(self.cooldown),
        };
        Ok(self.backend.count_attempt(&key, rule, now).await?.attempts <= 1)
    }
}
