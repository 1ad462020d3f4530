//! `POST login/` (dj-rest-auth's `LoginView` in JWT mode): 200 `{"access","refresh","user"}`;
//! refusals are 400 `non_field_errors` (not simplejwt's 401).
//!
//! Cookie mode (dj-rest-auth's `set_jwt_cookies`): the refresh token goes into its cookie and,
//! with `JWT_AUTH_HTTPONLY`, the body's `refresh` is `""` (dj-rest-auth keeps the key).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{client_of, flows, user_body, vary_cookie, MaybeUser};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::drf::json_response;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};

pub async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let flows = flows(&state)?;
    let browser = &state.settings.cookies;
    // The answer sets cookies: an untrusted browser origin is refused before anything.
    cookie_mode::origin_check_in_cookie_mode(&state, &headers)?;
    let credentials = super::serializers::login(&data.0)?;
    let logged_in = flows.login(credentials, client_of(client)).await?;
    let tokens = logged_in.tokens;
    let refresh_in_body = if browser.cookie_mode() && browser.jwt_auth_httponly {
        String::new()
    } else {
        tokens.refresh.clone()
    };
    let body = json!({
        "access": tokens.access,
        "refresh": refresh_in_body,
        "user": user_body(&logged_in.user),
    });
    let mut res = json_response(StatusCode::OK, &body);
    cookie_mode::set_token_cookies(
        &state,
        &headers,
        &mut res,
        Some(&tokens.access),
        Some(&tokens.refresh),
        true,
    );
    Ok(vary_cookie(res))
}
