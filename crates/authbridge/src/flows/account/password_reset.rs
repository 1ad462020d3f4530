//! Password reset: dj-rest-auth's `PasswordResetView` (allauth's form and token generator) and
//! `PasswordResetConfirmView`.

use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows};
use crate::model::User;

impl AccountFlows<'_> {
    /// `POST password/reset/ {email}`: always `Ok` unless throttled; each active user matching
    /// the address gets an email, off the request path.
    pub async fn request_password_reset(
        &self,
        email: &str,
        origin: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let _ = (email, origin, client);
        todo!()
    }

    /// The confirm's first checks, in dj-rest-auth's order: the uid (`InvalidUid`), then the
    /// token (`InvalidToken`). The user is what the password validators then need.
    pub async fn check_reset(&self, uid: &str, token: &str) -> Result<User, AccountError> {
        let _ = (uid, token);
        todo!()
    }

    /// Set the new password (validated) if the token still holds; the token dies with it. The
    /// user's older refresh tokens are refused from then on.
    pub async fn reset_password(
        &self,
        uid: &str,
        token: &str,
        new_password: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Result<User, AccountError> {
        let _ = (uid, token, new_password, client);
        todo!()
    }
}
