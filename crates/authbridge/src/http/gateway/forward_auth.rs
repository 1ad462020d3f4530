//! `GET /auth/check`: forward authentication for a proxy that stays in front (nginx
//! `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`). Any method is answered alike:
//! nginx's subrequest keeps the original request's method (a `POST` asks with `POST`), Traefik
//! and Caddy ask with `GET`. The proxy asks with the
//! client's headers (cookies, `Authorization`); the answer is `200` with the identity headers
//! (or, in `bearer` mode, `Authorization: Bearer <minted token>`) for the proxy to copy onto the
//! request it forwards, or simplejwt's `401` / DRF's `403`; a check carrying a client-sent
//! identity header (any spelling) is `403`.
//!
//! The policy is that of the original request's path, from `X-Original-URI` (nginx) or
//! `X-Forwarded-Uri` (Traefik, Caddy), believed only from `AUTHBRIDGE_TRUSTED_PROXIES`; without
//! one a signed-in user is required. A login redirect is never answered here: nginx passes only
//! `2xx`, `401` and `403` on (send the browser to the login page from the proxy's `401` handler).

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

use super::policy::{normalize, Decision};
use super::{Gateway, Surface};
use crate::config::edge::canonical;
use crate::config::gateway::Policy;
use crate::http::error::GatewayError;
use crate::http::AppState;

pub const PATH: &str = "/auth/check";

const ORIGINAL_URI: [HeaderName; 2] = [
    HeaderName::from_static("x-original-uri"),
    HeaderName::from_static("x-forwarded-uri"),
];

pub fn routes(gateway: Arc<Gateway>) -> Router<AppState> {
    Router::new().route(
        PATH,
        any(move |State(state): State<AppState>, parts: Parts| {
            let gateway = gateway.clone();
            async move { check(&gateway, &state, parts).await }
        }),
    )
}

/// The original request's path, when a trusted proxy tells it: `Err` when the copies of
/// `X-Original-URI` and `X-Forwarded-Uri` disagree (Traefik and Caddy pass the client's headers
/// on and set only `X-Forwarded-Uri`, so a client-sent `X-Original-URI` must not choose).
fn original_path(state: &AppState, parts: &Parts) -> Result<Option<String>, GatewayError> {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| canonical(c.0.ip()))
    else {
        return Ok(None);
    };
    if !state.settings.edge.is_trusted_proxy(peer) {
        return Ok(None);
    }
    let mut found: Option<&str> = None;
    for value in ORIGINAL_URI
        .iter()
        .flat_map(|name| parts.headers.get_all(name))
    {
        let path = value
            .to_str()
            .map(path_of)
            .map_err(|_| GatewayError::BadPath)?;
        match found {
            Some(seen) if seen != path => return Err(GatewayError::BadPath),
            _ => found = Some(path),
        }
    }
    Ok(found.map(str::to_string))
}

/// The path of `/path?query` (nginx's `$request_uri`) or of an absolute URL.
fn path_of(uri: &str) -> &str {
    let path = match uri.find("://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => uri,
    };
    path.split(['?', '#']).next().unwrap_or("/")
}

async fn check(gateway: &Gateway, state: &AppState, mut parts: Parts) -> Response {
    // The check carries the client's headers; an identity header among them is forged, and the
    // proxy may pass spellings of it it does not replace (`X_Remote_User`) on to Django.
    if gateway.identity.carries_identity(&parts.headers) {
        return GatewayError::IdentityHeader.into_response();
    }
    let original = match original_path(state, &parts) {
        Ok(original) => original,
        Err(e) => return e.into_response(),
    };
    let decision = match original {
        Some(raw) => match normalize(&raw) {
            Some(path) => gateway.policy.decide(&path),
            None => return GatewayError::BadPath.into_response(),
        },
        None => Decision {
            policy: Policy::Authenticated,
            redirect: false,
        },
    };
    let found = gateway.identity.authenticate(state, &mut parts).await;
    let user = match gateway.access(decision, found, &parts, Surface::ForwardAuth) {
        Ok(user) => user,
        Err(refusal) => return refusal.into_response(),
    };
    let mut res = StatusCode::OK.into_response();
    if let Some(user) = user {
        match gateway.identity.identity_headers(state, &user) {
            Ok(headers) => res.headers_mut().extend(headers),
            Err(e) => return e.into_response(),
        }
    }
    res
}
