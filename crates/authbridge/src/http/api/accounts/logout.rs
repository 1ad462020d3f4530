//! `POST logout/` (dj-rest-auth's `LogoutView`, blacklist app installed): blacklists the given
//! refresh token. `AllowAny`: the refresh token alone is enough. Its refusals are 401
//! `{"detail": ..}` *without* `WWW-Authenticate` (dj-rest-auth sets the status on a plain
//! response), and in cookie mode every answer clears the auth cookies, as `unset_jwt_cookies`
//! runs before the token is looked at.
//!
//! Where the token comes from: the body's `refresh`, as given (not trimmed: no serializer); in
//! cookie mode with `JWT_AUTH_HTTPONLY`, the refresh cookie only.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{detail, vary_cookie, MaybeUser};
use crate::flows::FlowError;
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};

const LOGGED_OUT: &str = "Successfully logged out.";

pub async fn logout(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let browser = &state.settings.cookies;
    cookie_mode::origin_check_in_cookie_mode(&state, &headers)?;
    let outcome = blacklist(&state, client, &headers, &data).await?;
    let mut res = match outcome {
        Ok(()) => detail(StatusCode::OK, LOGGED_OUT),
        Err(message) => detail(StatusCode::UNAUTHORIZED, &message),
    };
    if browser.cookie_mode() {
        cookie_mode::clear_token_cookies(&state, &mut res);
    }
    Ok(vary_cookie(res))
}

/// `Ok(Err(message))`: dj-rest-auth's 401 detail; `Err`: a failure of ours (500).
async fn blacklist(
    state: &AppState,
    client: ClientIp,
    headers: &HeaderMap,
    data: &DrfData,
) -> Result<Result<(), String>, DrfError> {
    let browser = &state.settings.cookies;
    let raw = if browser.cookie_mode() && browser.jwt_auth_httponly {
        match cookie_mode::refresh_cookie(state, headers)? {
            Some(raw) => raw,
            None => return Ok(Err("Refresh token was not included in cookie data.".into())),
        }
    } else {
        match data.0.get("refresh") {
            None => return Ok(Err("Refresh token was not included in request data.".into())),
            // `RefreshToken(None)` makes a new token (for nobody) and blacklists that: the
            // anchor answers 200 having ended nothing. Nothing to write here.
            Some(Value::Null) => return Ok(Ok(())),
            Some(Value::String(s)) => s.clone(),
            // PyJWT refuses anything but text.
            Some(_) => return Ok(Err(crate::tokens::TokenError::Invalid.to_string())),
        }
    };
    match state.flows().blacklist(&raw, client.0).await {
        Ok(()) => Ok(Ok(())),
        Err(FlowError::Token(e)) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// `GET logout/`: 405 (`ACCOUNT_LOGOUT_ON_GET` is off), for GET and HEAD alike.
pub async fn logout_get(_auth: MaybeUser, method: Method) -> Response {
    DrfError::MethodNotAllowed(method).into_response()
}
