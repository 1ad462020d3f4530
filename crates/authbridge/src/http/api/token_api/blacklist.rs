//! `POST /api/token/blacklist/` (simplejwt `TokenBlacklistView`): logout.

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
        "Token Blacklist",
        "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
        &["refresh"],
        &[],
    )
}

pub async fn blacklist(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let raw = cookie_mode::refresh_token(&state, &headers, &data)?;

    state.flows().blacklist(&raw, client.0).await?;
    cookie_mode::respond_logout(&state, &headers, json!({}))
}
