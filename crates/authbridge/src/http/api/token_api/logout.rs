//! Ending logins at authbridge. simplejwt's blacklist ends one refresh token; these end more:
//!
//! - `POST /api/token/logout/` `{"refresh": ...}`: this login, i.e. the refresh token and every
//!   token of its family (its rotations, and the pairs `/api/authjs/token` issued for the same
//!   Auth.js session). The Auth.js example calls it from `events.signOut`. 200 `{}`.
//! - `POST /api/token/logout-all/` with `Authorization: Bearer <access>`: every login of the
//!   authenticated user ("log out everywhere"). 200 `{}`.
//!
//! And the check shared by refresh and the Auth.js session: a user whose password changed (in
//! Django or in authbridge) or who logged out everywhere since a token was issued.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::outstanding;
use crate::audit::{self, Event, Subject};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::extract::JwtUser;
use crate::http::{AppState, DrfError};
use crate::storage::{password_fingerprint, PasswordCheck, User};
use crate::tokens::{TokenError, TokenType, UserIdClaim};

pub fn logout_metadata(_: &AppState) -> Value {
    super::view_metadata(
        "Token Logout",
        "Takes a refresh type JSON web token and ends its login: the token and every token\nrotated from it are blacklisted.",
        &["refresh"],
        &[],
    )
}

pub fn logout_all_metadata(_: &AppState) -> Value {
    json!({
        "name": "Token Logout All",
        "description": "Blacklists every refresh token of the authenticated user.",
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    })
}

/// `POST /api/token/logout/`. A token that is already blacklisted (rotated away, or logged out)
/// is accepted: signing out with a stale cookie still ends the login.
pub async fn logout(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let raw = cookie_mode::refresh_token(&state, &headers, &data)?;
    let now = state.clock.now();
    let token = state.tokens.decode(&raw, now.timestamp())?;
    let jti = token.jti(&state.tokens.rules).ok_or(TokenError::NoId)?;
    let jti = jti.to_string();
    state
        .tokens
        .rules
        .verify(&token, Some(TokenType::Refresh), now.timestamp())?;
    let user_id = match token.user_id(&state.tokens.rules) {
        UserIdClaim::Id(id) => state.store.user_by_id(id).await?.map(|u| u.id),
        _ => None,
    };
    let revoked = state
        .store
        .revoke_family(&outstanding(&state, &token, &raw, user_id, now), now)
        .await?;
    tracing::debug!(jti, revoked, "login ended");
    audit::record(
        Event::Logout,
        Subject {
            user_id,
            client: Some(client.0),
            ..Subject::default()
        },
    );
    cookie_mode::respond_logout(&state, &headers, json!({}))
}

/// `POST /api/token/logout-all/`: authenticated like any simplejwt view (Bearer access token).
pub async fn logout_all(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    auth: JwtUser,
) -> Result<Response, DrfError> {
    let now = state.clock.now();
    let revoked = state.store.revoke_user(auth.user.id, now).await?;
    tracing::debug!(user_id = auth.user.id, revoked, "logged out everywhere");
    audit::record(
        Event::LogoutEverywhere,
        Subject {
            username: Some(&auth.user.username),
            user_id: Some(auth.user.id),
            client: Some(client.0),
            reason: Some("endpoint"),
        },
    );
    cookie_mode::respond_logout(&state, &headers, json!({}))
}

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

/// Has `user` logged out everywhere, or changed password, since a token issued at `issued_at`
/// (`iat`)? A password change seen here for the first time revokes the user's refresh tokens.
pub async fn revoked_since(
    state: &AppState,
    user: &User,
    issued_at: Option<i64>,
    client: ClientIp,
) -> Result<Option<Revoked>, DrfError> {
    let now = state.clock.now();
    let fingerprint = password_fingerprint(&user.password);
    match state
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
                    client: Some(client.0),
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
pub async fn note_password(
    state: &AppState,
    user: &User,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DrfError> {
    let fingerprint = password_fingerprint(&user.password);
    if let PasswordCheck::Changed { revoked } = state
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
