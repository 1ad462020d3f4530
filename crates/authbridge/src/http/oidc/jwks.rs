//! `GET /oauth2/jwks`: the published ID-token keys (active and retiring). Cached for five
//! minutes: a rotated key signs at once but a retiring one stays published for the overlap
//! (`KEY_OVERLAP`, days), so a relying party's cached copy always holds the keys it meets.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::drf::json_response;
use crate::http::error::OAuthError;
use crate::http::AppState;

pub async fn jwks(State(state): State<AppState>) -> Result<Response, OAuthError> {
    let doc = super::runtime(&state)?.keys().jwks(state.clock.now());
    let mut res = json_response(StatusCode::OK, &doc).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
