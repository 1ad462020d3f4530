//! `GET /api/authjs/session` (who is this Auth.js session?) and `POST /api/authjs/token` (give me
//! simplejwt tokens for it).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::AuthJsSession;
use crate::http::csrf;
use crate::http::token_api::issue_pair;
use crate::http::{json_response, ApiError, AppState};
use crate::storage::User;

pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    })
}

/// Claims never echoed back: a refresh token kept inside the encrypted (HttpOnly) cookie must
/// not become readable by page scripts through this endpoint.
fn is_secret_claim(name: &str) -> bool {
    name.to_ascii_lowercase().contains("refresh")
}

pub async fn session(session: AuthJsSession) -> Response {
    let mut claims = session.claims;
    claims.retain(|name, _| !is_secret_claim(name));
    json_response(
        StatusCode::OK,
        &json!({"session": claims, "user": user_json(&session.user)}),
    )
}

pub async fn exchange(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: AuthJsSession,
) -> Result<Response, ApiError> {
    if session.from_cookie {
        csrf::check(&state.settings, &headers)?;
    }
    let pair = issue_pair(&state, &session.user).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"refresh": pair.refresh, "access": pair.access, "user_id": session.user.id}),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn refresh_tokens_are_not_echoed() {
        for name in ["refreshToken", "refresh_token", "REFRESH", "djangoRefresh"] {
            assert!(super::is_secret_claim(name), "{name}");
        }
        for name in ["accessToken", "sub", "email", "exp"] {
            assert!(!super::is_secret_claim(name), "{name}");
        }
    }
}
