//! dj-rest-auth's `PasswordChangeView` (`OLD_PASSWORD_FIELD_ENABLED` off, as its default): the
//! new password is set, and — beyond the anchor — the user's refresh tokens issued before it are
//! refused from then on (simplejwt 5.5.1 keeps them valid: a stolen session would survive).

use chrono::{DateTime, Utc};
use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows};
use crate::audit::{self, Event, Subject};
use crate::model::User;

impl AccountFlows<'_> {
    /// Set `user`'s password (already validated against Django's validators with the user).
    pub async fn change_password(
        &self,
        user: &User,
        new_password: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let encoded = self.passwords.make(new_password).await?;
        self.flows.store.set_password(user.id, &encoded).await?;
        let now = self.flows.clock.now();
        self.revoke_after_password(user, encoded, now, client, "password_change")
            .await
    }

    /// Every refresh token of the user issued before `now` is blacklisted and refused, and the
    /// new password is recorded, so the change is not taken for another one later (which would
    /// revoke the tokens issued after it).
    pub(super) async fn revoke_after_password(
        &self,
        user: &User,
        encoded: String,
        now: DateTime<Utc>,
        client: Option<IpAddr>,
        reason: &'static str,
    ) -> Result<(), AccountError> {
        let revoked = self.flows.store.revoke_user(user.id, now).await?;
        let updated = User {
            password: encoded,
            ..user.clone()
        };
        self.flows.note_password(&updated, now).await?;
        tracing::debug!(
            user_id = user.id,
            revoked,
            "password set: older tokens revoked"
        );
        audit::record(
            Event::PasswordChanged,
            Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                client,
                reason: Some(reason),
            },
        );
        Ok(())
    }
}
