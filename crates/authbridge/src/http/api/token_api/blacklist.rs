//! `POST /api/token/blacklist/` (simplejwt `TokenBlacklistView`): logout.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::{outstanding, read_refresh};
use crate::audit::{self, Event, Subject};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};
use crate::tokens::UserIdClaim;

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

    let now = state.clock.now();
    let (token, _) = read_refresh(&state, &raw, now.timestamp(), true).await?;
    // `blacklist()` links the row to the user if it still exists (a deleted user's token gets NULL).
    let user_id = match token.user_id(&state.tokens.rules) {
        UserIdClaim::Id(id) => state.store.user_by_id(id).await?.map(|u| u.id),
        _ => None,
    };
    state
        .store
        .blacklist(&outstanding(&state, &token, &raw, user_id, now), now)
        .await?;
    audit::record(
        Event::Blacklist,
        Subject {
            user_id,
            client: Some(client.0),
            ..Subject::default()
        },
    );
    cookie_mode::respond_logout(&state, &headers, json!({}))
}
