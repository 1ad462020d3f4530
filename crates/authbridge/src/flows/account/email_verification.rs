//! Email confirmation: dj-rest-auth's `VerifyEmailView` (allauth's HMAC key) and
//! `ResendEmailVerificationView`.

use std::net::IpAddr;

use super::{AccountError, AccountFlows};

impl AccountFlows<'_> {
    /// `POST registration/verify-email/ {key}`: `Ok` is `{"detail":"ok"}`; any key that is not
    /// ours, expired, for a missing or already verified row is `NotFound`.
    pub async fn verify_email(
        &self,
        key: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let _ = (key, client);
        todo!()
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
        let _ = (email, origin, client);
        todo!()
    }
}
