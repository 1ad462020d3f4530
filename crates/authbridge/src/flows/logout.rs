//! Ending logins. simplejwt's blacklist ends one refresh token; logout ends its login (the token
//! and every token of its family: its rotations, and the pairs issued for the same Auth.js
//! session); logout-all ends every login of a user. And the check shared by refresh and the
//! Auth.js session: a user whose password changed (in Django or in authbridge) or who logged out
//! everywhere since a token was issued.

use chrono::{DateTime, Utc};
use std::net::IpAddr;

use super::{FlowError, Flows};
use crate::audit::{self, Event, Subject};
use crate::model::{PasswordCheck, User};
use crate::storage::password_fingerprint;
use crate::tokens::{TokenError, TokenType, UserIdClaim};

/// Why a user's tokens no longer count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The password changed since authbridge last saw it (the user's tokens were just revoked).
    PasswordChanged,
    /// "Log out everywhere" (or a password change) after the token was issued.
    LoggedOutEverywhere,
}

impl Revoked {
    pub fn reason(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::LoggedOutEverywhere => "logged_out_everywhere",
        }
    }
}

impl Flows<'_> {
    /// simplejwt's `TokenBlacklistSerializer`: the token is read as refresh reads it (a
    /// blacklisted one is refused), then blacklisted.
    pub async fn blacklist(&self, raw: &str, client: IpAddr) -> Result<(), FlowError> {
        let now = self.clock.now();
        let token = self.read_refresh(raw, now.timestamp()).await?;
        // `blacklist()` links the row to the user if it still exists (a deleted user's token
        // gets NULL).
        let user_id = match token.user_id(&self.tokens.rules) {
            UserIdClaim::Id(id) => self.store.user_by_id(id).await?.map(|u| u.id),
            _ => None,
        };
        self.store
            .blacklist(&self.outstanding(&token, raw, user_id, now), now)
            .await?;
        audit::record(
            Event::Blacklist,
            Subject {
                user_id,
                client: Some(client),
                ..Subject::default()
            },
        );
        Ok(())
    }

    /// End the login of a refresh token. A token that is already blacklisted (rotated away, or
    /// logged out) is accepted: signing out with a stale cookie still ends the login.
    pub async fn logout(&self, raw: &str, client: IpAddr) -> Result<(), FlowError> {
        let now = self.clock.now();
        let token = self.tokens.decode(raw, now.timestamp())?;
        let jti = token
            .jti(&self.tokens.rules)
            .ok_or(TokenError::NoId)?
            .to_string();
        self.tokens
            .rules
            .verify(&token, Some(TokenType::Refresh), now.timestamp())?;
        let user_id = match token.user_id(&self.tokens.rules) {
            UserIdClaim::Id(id) => self.store.user_by_id(id).await?.map(|u| u.id),
            _ => None,
        };
        let revoked = self
            .store
            .revoke_family(&self.outstanding(&token, raw, user_id, now), now)
            .await?;
        tracing::debug!(jti, revoked, "login ended");
        audit::record(
            Event::Logout,
            Subject {
                user_id,
                client: Some(client),
                ..Subject::default()
            },
        );
        Ok(())
    }

    /// Log `user` out everywhere: every refresh token of the user is blacklisted.
    pub async fn logout_all(&self, user: &User, client: IpAddr) -> Result<(), FlowError> {
        let now = self.clock.now();
        let revoked = self.store.revoke_user(user.id, now).await?;
        tracing::debug!(user_id = user.id, revoked, "logged out everywhere");
        audit::record(
            Event::LogoutEverywhere,
            Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                client: Some(client),
                reason: Some("endpoint"),
            },
        );
        Ok(())
    }

    /// Has `user` logged out everywhere, or changed password, since a token issued at
    /// `issued_at` (`iat`)? A password change seen here for the first time revokes the user's
    /// refresh tokens.
    pub async fn revoked_since(
        &self,
        user: &User,
        issued_at: Option<i64>,
        client: Option<IpAddr>,
    ) -> Result<Option<Revoked>, FlowError> {
        let now = self.clock.now();
        let fingerprint = password_fingerprint(&user.password);
        match self
            .store
            .check_password(user.id, &fingerprint, now)
            .await?
        {
            PasswordCheck::Changed { revoked } => {
                tracing::debug!(
                    user_id = user.id,
                    revoked,
                    "password changed: tokens revoked"
                );
                audit::record(
                    Event::PasswordChanged,
                    Subject {
                        username: Some(&user.username),
                        user_id: Some(user.id),
                        client,
                        reason: Some("tokens_revoked"),
                    },
                );
                Ok(Some(Revoked::PasswordChanged))
            }
            PasswordCheck::Unchanged {
                revoked_at: Some(at),
            } if issued_at.is_some_and(|iat| iat < at.timestamp()) => {
                Ok(Some(Revoked::LoggedOutEverywhere))
            }
            PasswordCheck::Unchanged { .. } => Ok(None),
        }
    }

    /// Before issuing a new pair: record the user's password, and if it changed since last seen,
    /// revoke the older tokens (the new pair is issued after, so it stays valid).
    pub async fn note_password(&self, user: &User, now: DateTime<Utc>) -> Result<(), FlowError> {
        let fingerprint = password_fingerprint(&user.password);
        if let PasswordCheck::Changed { revoked } = self
            .store
            .check_password(user.id, &fingerprint, now)
            .await?
        {
            tracing::debug!(
                user_id = user.id,
                revoked,
                "password changed: older tokens revoked"
            );
            audit::record(
                Event::PasswordChanged,
                Subject {
                    username: Some(&user.username),
                    user_id: Some(user.id),
                    reason: Some("tokens_revoked"),
                    ..Subject::default()
                },
            );
        }
        Ok(())
    }
}
