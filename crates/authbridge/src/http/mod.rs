//! HTTP: the router assembled from one module per capability, the shared state, and the
//! middleware stack (built in `router`, where its order is explained).

pub mod api;
pub mod browser;
pub mod drf;
pub mod edge;
pub mod error;
pub mod extract;
mod flow;
#[cfg(test)]
mod fuzz;
pub mod oidc;
pub mod ops;
pub mod pages;
#[cfg(test)]
mod test_support;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::DrfError;

use crate::clock::DynClock;
use crate::config::Settings;
use crate::passwords::PasswordService;
use crate::random::DynRandom;
use crate::storage::DynStore;
use crate::tokens::TokenService;

/// Everything handlers need, injected (no globals): storage, clock, randomness, keys, hashers.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub settings: Settings,
    pub store: DynStore,
    pub tokens: TokenService,
    pub passwords: PasswordService,
    pub clock: DynClock,
    /// Randomness (`crate::random`): jtis, salts, unusable passwords, CSRF secrets.
    pub random: DynRandom,
    pub authjs: Option<authjs_jwe::SessionDecoder>,
    /// Failed-login throttling and lockout (`crate::limits`).
    pub limiter: crate::limits::LoginLimiter,
    /// The OpenID Connect provider's keys and client lookup (`crate::app::OidcRuntime`); `None`
    /// unless `OIDC.ENABLED`, when every OIDC route answers 404.
    pub oidc: Option<Arc<crate::app::OidcRuntime>>,
    /// The account flows' services (`crate::flows::account`); `None` unless
    /// `AUTHBRIDGE_ACCOUNTS`, when every `/api/auth/` route answers 404.
    pub accounts: Option<Arc<crate::flows::account::AccountServices>>,
    /// Account emails (`crate::mail`): rendered and queued in the durable outbox.
    pub mail: Arc<crate::mail::Mail>,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Paths that exist with a trailing slash; the same path without it gets Django's `APPEND_SLASH`
/// redirect.
const SLASH_ROUTES: &[&str] = &[
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
    "/api/token/jwks/",
    "/api/me/",
    api::schema::PATH,
];

/// The whole application. Layers run outside-in in the order listed below the routes:
/// 1. the edge middleware (`edge::edge`) first, so every request (even one refused later, by the
///    host check included) gets its client address, request id, request line and metrics, and
///    `X-Forwarded-*` from untrusted peers are gone before anything reads them;
/// 2. security headers Django's middleware adds, applied to every response including errors;
/// 3. CORS (`browser::cors::CorsLayer`, only when an origin is allowed), outside everything that can answer
///    (the host check, handlers, the fallback, DRF's 405s, extractor errors) so every one of those
///    responses gets its CORS headers and `Vary`, while a preflight is answered before any handler
///    runs (django-cors-headers sits before `CommonMiddleware` the same way);
/// 4. the host check (`edge::host_check`, Django's `ALLOWED_HOSTS`, run by `CommonMiddleware`):
///    a request for another host gets Django's 400 before any handler;
/// 5. the body limit, so an oversized body is refused before any handler buffers it.
///
/// `/metrics` is not here: it is served on the operations listener only (`ops_router`).
pub fn router(state: AppState) -> Router {
    let cors = browser::cors::CorsLayer::from_settings(&state.settings.cors);
    let challenge = challenge(&state.settings.simple_jwt.auth_header_types);
    let mut routes = Router::new()
        .merge(api::health::routes())
        .merge(api::token_api::routes(&state.settings))
        .merge(api::me::routes())
        .merge(api::authjs::routes())
        .merge(api::schema::routes(&state.settings))
        .merge(oidc::routes(&state.settings));
    // The provider's pages exist only when it is enabled (404 otherwise, as any unknown path).
    if state.settings.oidc.enabled {
        routes = routes.merge(pages::routes(&state));
    }
    // dj-rest-auth's account API exists only when switched on (404 otherwise).
    if state.settings.accounts.enabled {
        routes = routes.merge(api::accounts::routes(&state.settings));
    }
    routes
        .fallback(fallback)
        .with_state(state.clone())
        // Only when AUTH_HEADER_TYPES does not start with Bearer: no layer (and no per-request
        // future) for the common case.
        .layer(tower::util::option_layer(challenge.map(|challenge| {
            axum::middleware::map_response(move |res: Response| {
                let challenge = challenge.clone();
                async move { with_challenge(res, Some(challenge)) }
            })
        })))
        .layer(axum::extract::DefaultBodyLimit::max(
            drf::body::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            edge::host_check,
        ))
        .layer(tower::util::option_layer(cors))
        .layer(axum::middleware::map_response(frame_options))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            (state, edge::Listener::Public),
            edge::edge,
        ))
}

/// simplejwt's `authenticate_header`: `<AUTH_HEADER_TYPES[0]> realm="api"` on every 401 (DRF asks
/// the first authentication class). `None` when that is the errors' own `Bearer realm="api"`.
fn challenge(types: &[String]) -> Option<HeaderValue> {
    let first = types.first().filter(|t| t.as_str() != "Bearer")?;
    HeaderValue::from_str(&format!("{first} realm=\"api\"")).ok()
}

fn with_challenge(mut res: Response, challenge: Option<HeaderValue>) -> Response {
    if let Some(value) = challenge {
        if let Some(current) = res.headers_mut().get_mut(header::WWW_AUTHENTICATE) {
            if current.as_bytes() == b"Bearer realm=\"api\"" {
                *current = value;
            }
        }
    }
    res
}

/// The operations listener (`AUTHBRIDGE_OPS_BIND`): `/healthz`, `/readyz` and `/metrics`, with
/// the edge middleware (request lines at `debug`) and no host check.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .merge(api::health::routes())
        .merge(ops::routes())
        .fallback(|| async { DrfError::NotFound })
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            (state, edge::Listener::Ops),
            edge::edge,
        ))
}

/// Django's `XFrameOptionsMiddleware` runs after `CommonMiddleware`, so the `APPEND_SLASH`
/// redirect (answered by `CommonMiddleware`) goes out without `X-Frame-Options`; every other
/// response carries `DENY`.
async fn frame_options(mut res: Response) -> Response {
    let is_slash_redirect = res.status() == StatusCode::MOVED_PERMANENTLY
        && res.headers().contains_key(header::LOCATION);
    if !is_slash_redirect && !res.headers().contains_key(header::X_FRAME_OPTIONS) {
        res.headers_mut()
            .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if !path.ends_with('/') {
        let with_slash = format!("{path}/");
        if SLASH_ROUTES.contains(&with_slash.as_str()) {
            let location = match req.uri().query() {
                Some(q) => format!("{with_slash}?{q}"),
                None => with_slash,
            };
            return Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, location)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::empty())
                .unwrap_or_else(|_| StatusCode::MOVED_PERMANENTLY.into_response());
        }
    }
    DrfError::NotFound.into_response()
}
