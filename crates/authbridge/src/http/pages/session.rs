//! The browser's login session (OIDC.md): a random 256-bit id in the `authbridge_session`
//! cookie (`__Host-` on https), HttpOnly, SameSite=Lax; the database keeps only its SHA-256.

use crate::http::error::PageError;
use crate::http::AppState;
use crate::model::User;

use super::context::PageContext;

pub const COOKIE: &str = "authbridge_session";

/// Start a login session for `user`; returns the `Set-Cookie`.
pub async fn start(
    _state: &AppState,
    _ctx: &PageContext,
    _user: &User,
) -> Result<String, PageError> {
    // Wired to the login-session repository when oidc-store's traits land.
    Err(PageError::internal("login sessions are not wired yet"))
}
