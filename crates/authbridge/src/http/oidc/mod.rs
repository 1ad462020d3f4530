//! The OpenID Connect provider's back-channel endpoints (issue 9), one file each, thin: parse
//! (`form`), authenticate the client (`client`), call `flows::oidc`, answer in RFC 6749's format
//! (`OAuthError`) with `Cache-Control: no-store`. Mounted only when `AUTHBRIDGE_OIDC_ENABLED`
//! (otherwise these paths are the usual 404). The browser-facing endpoints (authorize, end
//! session, the pages) are elsewhere.

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

use crate::flows::oidc::GrantError;
use crate::http::drf::json_response;
use crate::http::error::OAuthError;
use crate::http::{AppState, Inner};
use crate::oidc::{paths, ErrorCode};

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

impl Inner {
    /// The issuer, byte for byte as configured (`[oidc] ISSUER`, else `AUTHBRIDGE_PUBLIC_URL`).
    /// The settings refuse an enabled provider without one, so `None` means not enabled.
    pub fn oidc_issuer(&self) -> Option<&str> {
        self.settings
            .oidc
            .issuer(self.settings.edge.public_origin.as_deref())
    }
}

fn issuer(state: &AppState) -> Result<&str, OAuthError> {
    state
        .oidc_issuer()
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

/// The ID-token keys. Until the key runtime lands this is an empty set (no keys published).
impl Inner {
    pub fn oidc_keys(&self) -> std::sync::Arc<crate::oidc::keys::KeySet> {
        std::sync::Arc::new(crate::oidc::keys::KeySet::default())
    }
}

/// A client by client_id: declared in `[[oidc.clients]]` (which wins), else registered by the
/// CLI. Until the client repository lands, declared clients only.
async fn find_client(
    state: &AppState,
    client_id: &str,
) -> Result<Option<crate::oidc::client::Client>, crate::storage::StorageError> {
    Ok(state
        .settings
        .oidc
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .map(|c| c.to_client()))
}
