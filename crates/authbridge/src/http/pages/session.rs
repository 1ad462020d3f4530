//! The browser's login session (OIDC.md): a random 256-bit id in the `authbridge_session`
//! cookie (`__Host-` on https), HttpOnly, SameSite=Lax; the database keeps only its SHA-256, the
//! user and when the password was entered. Ended by `/logout` and `/oauth2/logout`, by
//! logout-everywhere (the repository's lookup) and by a password change (`current`).

use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;

use super::context::PageContext;
use crate::http::error::PageError;
use crate::http::extract::cookie_value;
use crate::http::AppState;
use crate::model::{LoginSession, SessionHash, User};

pub const COOKIE: &str = "authbridge_session";

/// How long a login session lasts (OIDC.md: 14 days).
pub const LIFETIME_SECS: i64 = 14 * 86_400;

/// The signed-in user and their session, if the browser has a live one.
pub struct Current {
    pub session: LoginSession,
    pub user: User,
}

/// Start a login session for `user`; returns the `Set-Cookie`.
pub async fn start(state: &AppState, ctx: &PageContext, user: &User) -> Result<String, PageError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    state.random.fill_bytes(bytes.as_mut());
    let id = URL_SAFE_NO_PAD.encode(bytes.as_ref());
    let now = state.clock.now();
    // As before issuing a pair: the password as of now, so a later change (in Django too) is
    // seen by `current` and ends this session.
    state
        .flows()
        .note_password(user, now)
        .await
        .map_err(PageError::internal)?;
    let session = LoginSession {
        hash: SessionHash::of(&id),
        user_id: user.id,
        auth_time: now,
        created_at: now,
        expires_at: now + Duration::seconds(LIFETIME_SECS),
    };
    state
        .store
        .create_login_session(&session)
        .await
        .map_err(PageError::internal)?;
    Ok(ctx.set_cookie(COOKIE, &id, Some(LIFETIME_SECS)))
}

fn presented(ctx: &PageContext, headers: &HeaderMap) -> Option<SessionHash> {
    cookie_value(headers, &ctx.cookie_name(COOKIE))
        .filter(|id| id.len() <= 128)
        .map(|id| SessionHash::of(&id))
}

/// The browser's live session of an active user.
pub async fn current(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
) -> Result<Option<Current>, PageError> {
    let Some(hash) = presented(ctx, headers) else {
        return Ok(None);
    };
    let found = state
        .store
        .login_session(hash, state.clock.now())
        .await
        .map_err(PageError::internal)?;
    let Some((session, user)) = found.filter(|(_, user)| user.is_active) else {
        return Ok(None);
    };
    // A password changed since the login (in Django or here) ends it, as it ends the user's
    // tokens; the repository has already refused sessions older than a logout-everywhere.
    let revoked = state
        .flows()
        .revoked_since(&user, Some(session.created_at.timestamp()), None)
        .await
        .map_err(PageError::internal)?;
    if revoked.is_some() {
        state
            .store
            .revoke_login_session(hash)
            .await
            .map_err(PageError::internal)?;
        return Ok(None);
    }
    Ok(Some(Current { session, user }))
}

/// End the browser's session (if any); returns the `Set-Cookie` that clears the cookie.
pub async fn end(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
) -> Result<String, PageError> {
    if let Some(hash) = presented(ctx, headers) {
        state
            .store
            .revoke_login_session(hash)
            .await
            .map_err(PageError::internal)?;
    }
    Ok(ctx.clear_cookie(COOKIE))
}
