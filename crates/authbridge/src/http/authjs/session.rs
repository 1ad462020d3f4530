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

pub async fn session(session: AuthJsSession) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"session": session.claims, "user": user_json(&session.user)}),
    )
}

pub async fn exchange(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: AuthJsSession,
) -> Result<Response, ApiError> {
    if session.from_cookie {
        csrf::check(&headers, &state.settings.trusted_origins)?;
    }
    let pair = issue_pair(&state, &session.user).await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"refresh": pair.refresh, "access": pair.access, "user_id": session.user.id}),
    ))
}
