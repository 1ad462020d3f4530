//! Email confirmation: dj-rest-auth's `VerifyEmailView` (allauth's HMAC key: the address row's id,
//! signed) and `ResendEmailVerificationView`.

use std::net::IpAddr;
use std::sync::Arc;

use super::registration::send_confirmation;
use super::{AccountError, AccountFlows, AccountServices};
use crate::account_tokens::read_confirmation_key;
use crate::audit::{self, Event, Subject};
use crate::limits::AccountAction;
use crate::model::VerifyOutcome;

impl AccountFlows<'_> {
    /// `POST registration/verify-email/ {key}`: `Ok` is `{"detail":"ok"}`; any key that is not
    /// ours, expired, for a missing or already verified row is `NotFound`.
    pub async fn verify_email(
        &self,
        key: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let now = self.flows.clock.now();
        let seconds = now.timestamp_micros() as f64 / 1e6;
        let services = self.services;
        let id = read_confirmation_key(
            key,
            &services.keys,
            services.settings.confirmation_max_age(),
            seconds,
        )
        .map_err(|_| AccountError::NotFound)?;
        match self.flows.store.verify_email_address(id).await? {
            VerifyOutcome::Verified { address, .. } => {
                audit::record(
                    Event::EmailVerified,
                    Subject {
                        user_id: Some(address.user_id),
                        client,
                        ..Subject::default()
                    },
                );
                Ok(())
            }
            VerifyOutcome::NotFound => Err(AccountError::NotFound),
            // Another account verified this address first: allauth leaves the row unverified
            // and dj-rest-auth still answers "ok".
            VerifyOutcome::Conflict => {
                tracing::info!(address_id = id, "address verified by another user already");
                Ok(())
            }
        }
    }

    /// `POST registration/resend-email/ {email}`: always `Ok` (`{"detail":"ok"}`) unless
    /// throttled; the lookup (exact case) and the email to an unverified row happen off the
    /// request path.
    pub async fn resend_verification(
        &self,
        email: &str,
        origin: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        self.admit(AccountAction::Resend, Some(email), client)
            .await?;
        let services = self.services.clone();
        let (email, origin) = (email.to_string(), origin.to_string());
        self.services.background.spawn(Box::pin(async move {
            if let Err(e) = resend(&services, &email, &origin).await {
                tracing::error!(error = %e, "confirmation resend failed");
            }
        }));
        Ok(())
    }
}

/// `EmailAddress.objects.filter(email=<as typed>).first()`, and a confirmation if unverified and
/// its user is active.
async fn resend(
    services: &Arc<AccountServices>,
    email: &str,
    origin: &str,
) -> Result<(), AccountError> {
    let Some(address) = services.store.first_email_address(email).await? else {
        return Ok(());
    };
    if address.verified {
        return Ok(());
    }
    let Some(user) = services.store.user_by_id(address.user_id).await? else {
        return Ok(());
    };
    // Issue 10: nothing to an inactive user (dj-rest-auth's view sends; a difference on
    // purpose, docs/compatibility.md).
    if !user.is_active {
        tracing::debug!(
            user_id = user.id,
            "no confirmation resent to an inactive user"
        );
        return Ok(());
    }
    send_confirmation(services, &user, &address, origin, false).await;
    Ok(())
}
