//! A password login, written once for `/api/token/` and the provider's `/login` page: the login
//! limiter counts the attempt first (a locked or throttled one is refused without touching the
//! database or a hasher), then Django's `ModelBackend` (look the user up, check the password,
//! hashing anyway for an unknown user, upgrade an outdated hash, refuse an inactive user). An
//! unknown user, a wrong password and an inactive user are one outcome, so no surface can tell
//! them apart; the reason goes to the audit log only. Every outcome is an audit event.

use std::net::IpAddr;
use zeroize::Zeroizing;

use crate::audit::{self, Event, Subject};
use crate::clock::Clock;
use crate::limits::{Decision, LoginLimiter};
use crate::model::User;
use crate::passwords::{PasswordError, PasswordService};
use crate::storage::{StorageError, Store};

/// What a password login needs, borrowed from whoever holds it.
#[derive(Clone, Copy)]
pub struct PasswordLogin<'a> {
    pub store: &'a dyn Store,
    pub passwords: &'a PasswordService,
    pub limiter: &'a LoginLimiter,
    pub clock: &'a dyn Clock,
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// The password is right and the user active; the limiter's counters are settled.
    Authenticated(User),
    /// Unknown user, wrong password or inactive user: one answer for all three.
    Refused,
    /// Too many failures: retry in `wait` seconds (at least 1). `lockout`: the account (from this
    /// address) is locked, rather than the address throttled.
    Throttled { lockout: bool, wait: i64 },
    /// Every password worker is busy and the queue is full: nothing was hashed or counted.
    Busy,
    /// The limiter's store (Redis, the database) is unreachable: refused without hashing, never
    /// let through unthrottled.
    LimiterUnavailable,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

enum Verdict {
    Authenticated(User),
    Refused(&'static str),
    Busy,
}

impl PasswordLogin<'_> {
    /// Log `username` in with `password`; `client` is the caller's address when known.
    pub async fn login(
        &self,
        username: &str,
        password: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Result<LoginOutcome, LoginError> {
        let subject = Subject {
            username: Some(username),
            client,
            ..Subject::default()
        };
        let admission = match self.limiter.admit(username, client, self.clock.now()).await {
            Err(e) => {
                tracing::error!(error = %e, "login limiter unavailable; login refused");
                return Ok(LoginOutcome::LimiterUnavailable);
            }
            Ok(Decision::Admitted(admission)) => admission,
            Ok(Decision::Refused { scope, wait }) => {
                let lockout = scope.is_lockout();
                let event = if lockout {
                    Event::LoginLocked
                } else {
                    Event::LoginThrottled
                };
                audit::record(event, subject);
                return Ok(LoginOutcome::Throttled { lockout, wait });
            }
        };

        let verdict = match self.authenticate(username, password).await {
            Ok(verdict) => verdict,
            Err(e) => {
                if let Err(undo) = self.limiter.abandoned(admission).await {
                    tracing::warn!("login counter not settled: {undo}");
                }
                return Err(e);
            }
        };
        match verdict {
            Verdict::Authenticated(user) => {
                // The password was right: a counter that cannot be cleared now (Redis
                // restarting) must not turn a good login into an error.
                if let Err(e) = self.limiter.succeeded(admission).await {
                    tracing::warn!("login counter not cleared: {e}");
                }
                audit::record(
                    Event::LoginOk,
                    Subject {
                        user_id: Some(user.id),
                        ..subject
                    },
                );
                Ok(LoginOutcome::Authenticated(user))
            }
            Verdict::Refused(reason) => {
                audit::record(
                    Event::LoginFailed,
                    Subject {
                        reason: Some(reason),
                        ..subject
                    },
                );
                Ok(LoginOutcome::Refused)
            }
            Verdict::Busy => {
                if let Err(e) = self.limiter.abandoned(admission).await {
                    tracing::warn!("login counter not settled: {e}");
                }
                audit::record(Event::LoginQueueFull, subject);
                Ok(LoginOutcome::Busy)
            }
        }
    }

    /// Django's ModelBackend: look the user up, check the password (hashing anyway for an unknown
    /// user), upgrade an outdated hash, then refuse inactive users.
    async fn authenticate(
        &self,
        username: &str,
        password: Zeroizing<String>,
    ) -> Result<Verdict, LoginError> {
        let user = self.store.user_by_username(username).await?;
        let verdict = match self
            .passwords
            .check(password.clone(), user.as_ref().map(|u| u.password.clone()))
            .await
        {
            Ok(verdict) => verdict,
            Err(PasswordError::QueueFull) => return Ok(Verdict::Busy),
            Err(e) => return Err(e.into()),
        };
        let Some(mut user) = user else {
            return Ok(Verdict::Refused("unknown_user"));
        };
        if !verdict.valid {
            return Ok(Verdict::Refused("bad_password"));
        }
        if verdict.must_update {
            // The upgrade is Django's housekeeping, not part of the answer: when the queue is
            // full it waits for the next login.
            match self.passwords.make(password).await {
                Ok(encoded) => {
                    // Same password, new hash: not a password change (the user stays logged in
                    // elsewhere), and what is issued now carries the new hash's revoke claim.
                    self.store
                        .upgrade_password(user.id, &user.password, &encoded)
                        .await?;
                    user.password = encoded;
                }
                Err(PasswordError::QueueFull) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if !user.is_active {
            return Ok(Verdict::Refused("inactive"));
        }
        Ok(Verdict::Authenticated(user))
    }
}
