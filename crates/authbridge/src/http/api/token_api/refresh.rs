//! `POST /api/token/refresh/` (simplejwt `TokenRefreshView`); the rotation, its grace window and
//! reuse detection are `crate::flows::token_pair`'s.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};

pub fn metadata(_: &AppState) -> Value {
    super::view_metadata(
        "Token Refresh",
        "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
        &["refresh"],
        &["access"],
    )
}

pub async fn refresh(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let raw = cookie_mode::refresh_token(&state, &headers, &data)?;
    let refreshed = state.flows().refresh(&raw, client.0).await?;
    let body = match refreshed.refresh {
        Some(refresh) => json!({"access": refreshed.access, "refresh": refresh}),
        None => json!({"access": refreshed.access}),
    };
    cookie_mode::respond_with_refreshed(&state, &headers, body)
}
