//! The OpenID Connect provider's endpoints (`oidc::paths`), one file each, thin. The browser
//! side, `authorize` and `end_session`, is mounted with the pages (`http::pages`); the
//! back-channel endpoints here parse (`form`), authenticate the client (`client`), call
//! `flows::oidc` and answer in RFC 6749's format (`OAuthError`) with `Cache-Control: no-store`.
//! Everything is mounted only when `AUTHBRIDGE_OIDC_ENABLED` (otherwise these paths are the usual
//! 404).

pub mod authorize;
mod client;
mod discovery;
pub mod end_session;
mod form;
mod introspect;
mod jwks;
mod revoke;
mod token;
mod userinfo;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::app::OidcRuntime;
use crate::flows::oidc::GrantError;
use crate::http::drf::json_response;
use crate::http::error::OAuthError;
use crate::http::AppState;
use crate::oidc::{paths, ErrorCode};
use std::sync::Arc;

/// Back-channel requests are a handful of short parameters (a code, a verifier, a refresh token
/// of a few hundred bytes): 16 KiB is generous, and an oversized body is refused before parsing.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

pub fn routes(settings: &crate::config::Settings) -> Router<AppState> {
    if !settings.oidc.enabled {
        return Router::new();
    }
    Router::new()
        .route(paths::DISCOVERY, get(discovery::discovery))
        .route(paths::JWKS, get(jwks::jwks))
        .route(paths::TOKEN, post(token::token))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(paths::REVOKE, post(revoke::revoke))
        .route(paths::INTROSPECT, post(introspect::introspect))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// The provider's runtime (issuer, keys, clients). The routes exist only when it does; `None`
/// here is a disabled provider all the same.
fn runtime(state: &AppState) -> Result<&Arc<OidcRuntime>, OAuthError> {
    state
        .oidc
        .as_ref()
        .ok_or_else(|| OAuthError::new(StatusCode::NOT_FOUND, "invalid_request", None))
}

/// A refusal with its RFC 6749 §5.2 status: 401 for `invalid_client`, else 400.
fn refused(code: ErrorCode, description: &str) -> OAuthError {
    let status = match code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    OAuthError::new(status, code.as_str(), Some(description.to_string()))
}

impl From<GrantError> for OAuthError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::Refused { code, description } => refused(code, description),
            other => OAuthError::internal(other),
        }
    }
}

/// A JSON answer about credentials: never cached (RFC 6749 §5.1).
fn no_store(body: &Value) -> Response {
    let mut res = json_response(StatusCode::OK, body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}
