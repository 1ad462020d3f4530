//! simplejwt's four views (obtain, refresh, verify, blacklist) plus the JWKS for asymmetric keys.
//! One file per endpoint; the rules they share live in `crate::flows`.

pub(crate) mod blacklist;
mod jwks;
pub(crate) mod logout;
pub(crate) mod obtain;
pub(crate) mod refresh;
pub(crate) mod verify;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::http::drf::drf_view;
use crate::http::AppState;

/// The login endpoint (the only one that hashes a password) takes bodies of at most
/// `AUTHBRIDGE_LOGIN_MAX_BODY_BYTES` (64 KiB by default, where Django allows 2.5 MB): a login
/// flood cannot make the server hold megabytes per request. The limit is a route layer, inside
/// the global one, so it wins; an oversized body gets the usual 413 before any parsing.
pub fn routes(settings: &crate::config::Settings) -> Router<AppState> {
    Router::new()
        .route(
            "/api/token/",
            drf_view(post(obtain::obtain), "POST, OPTIONS", obtain::metadata).layer(
                axum::extract::DefaultBodyLimit::max(settings.login.max_body_bytes),
            ),
        )
        .route(
            "/api/token/refresh/",
            drf_view(post(refresh::refresh), "POST, OPTIONS", refresh::metadata),
        )
        .route(
            "/api/token/verify/",
            drf_view(post(verify::verify), "POST, OPTIONS", verify::metadata),
        )
        .route(
            "/api/token/blacklist/",
            drf_view(
                post(blacklist::blacklist),
                "POST, OPTIONS",
                blacklist::metadata,
            ),
        )
        .route(
            "/api/token/logout/",
            drf_view(
                post(logout::logout),
                "POST, OPTIONS",
                logout::logout_metadata,
            ),
        )
        .route(
            "/api/token/logout-all/",
            drf_view(
                post(logout::logout_all),
                "POST, OPTIONS",
                logout::logout_all_metadata,
            ),
        )
        .route("/api/token/jwks/", get(jwks::jwks))
}

/// DRF's OPTIONS metadata for a token view: its writable fields, then its read-only ones.
fn view_metadata(name: &str, description: &str, fields: &[&str], read_only: &[&str]) -> Value {
    let mut post = serde_json::Map::new();
    for field in fields {
        post.insert(
            (*field).into(),
            json!({"type": "string", "required": true, "read_only": false, "label": crate::http::drf::field_label(field)}),
        );
    }
    for field in read_only {
        post.insert(
            (*field).into(),
            json!({"type": "string", "required": false, "read_only": true, "label": crate::http::drf::field_label(field)}),
        );
    }
    json!({
        "name": name,
        "description": description,
        "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        "actions": {"POST": post},
    })
}
