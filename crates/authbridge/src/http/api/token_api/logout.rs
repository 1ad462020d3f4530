//! Ending logins at authbridge. simplejwt's blacklist ends one refresh token; these end more:
//!
//! - `POST /api/token/logout/` `{"refresh": ...}`: this login, i.e. the refresh token and every
//!   token of its family (its rotations, and the pairs `/api/authjs/token` issued for the same
//!   Auth.js session). The Auth.js example calls it from `events.signOut`. 200 `{}`.
//! - `POST /api/token/logout-all/` with `Authorization: Bearer <access>`: every login of the
//!   authenticated user ("log out everywhere"). 200 `{}`.
//!
//! The rules are `crate::flows::logout`'s.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::extract::JwtUser;
use crate::http::{AppState, DrfError};

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
    state.flows().logout(&raw, client.0).await?;
    cookie_mode::respond_logout(&state, &headers, json!({}))
}

/// `POST /api/token/logout-all/`: authenticated like any simplejwt view (Bearer access token).
pub async fn logout_all(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    auth: JwtUser,
) -> Result<Response, DrfError> {
    state.flows().logout_all(&auth.user, client.0).await?;
    cookie_mode::respond_logout(&state, &headers, json!({}))
}
