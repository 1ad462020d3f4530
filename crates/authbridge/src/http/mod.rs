//! HTTP: the router assembled from one module per capability, the shared state, and the
//! middleware stack (built in `router`, where its order is explained).

pub mod auth;
mod authjs;
pub mod body;
pub mod client_ip;
pub mod cookie_mode;
pub mod cors;
pub mod csrf;
pub mod edge;
pub mod error;
mod flow;
#[cfg(test)]
mod fuzz;
mod health;
mod me;
pub mod ops;
mod pyjson;
pub mod token_api;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;

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

/// DRF's `JSONRenderer`: compact, unescaped unicode, `application/json` without charset.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
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
];

/// The whole application. Layers run outside-in in the order listed below the routes:
/// 1. the edge middleware (`edge::edge`) first, so every request (even one refused later, by the
///    host check included) gets its client address, request id, request line and metrics, and
///    `X-Forwarded-*` from untrusted peers are gone before anything reads them;
/// 2. security headers Django's middleware adds, applied to every response including errors;
/// 3. CORS (`cors::CorsLayer`, only when an origin is allowed), outside everything that can answer
///    (the host check, handlers, the fallback, DRF's 405s, extractor errors) so every one of those
///    responses gets its CORS headers and `Vary`, while a preflight is answered before any handler
///    runs (django-cors-headers sits before `CommonMiddleware` the same way);
/// 4. the host check (`edge::host_check`, Django's `ALLOWED_HOSTS`, run by `CommonMiddleware`):
///    a request for another host gets Django's 400 before any handler;
/// 5. the body limit, so an oversized body is refused before any handler buffers it.
///
/// `/metrics` is not here: it is served on the operations listener only (`ops_router`).
pub fn router(state: AppState) -> Router {
    let cors = cors::CorsLayer::from_settings(&state.settings.cors);
    Router::new()
        .merge(health::routes())
        .merge(token_api::routes(&state.settings))
        .merge(me::routes())
        .merge(authjs::routes())
        .fallback(fallback)
        .with_state(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(body::MAX_BODY_BYTES))
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

/// The operations listener (`AUTHBRIDGE_OPS_BIND`): `/healthz`, `/readyz` and `/metrics`, with
/// the edge middleware (request lines at `debug`) and no host check.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(ops::routes())
        .fallback(|| async { ApiError::NotFound })
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
    ApiError::NotFound.into_response()
}

/// A DRF `APIView` with the given methods: content negotiation first (406 for an `Accept` no
/// renderer satisfies), `Allow` and `Vary: Accept` on every response, OPTIONS answered with DRF's
/// metadata (built per request: it can depend on settings such as `USERNAME_FIELD`), other
/// methods refused with DRF's 405.
pub fn drf_view(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState> {
    drf_headers(
        methods
            .options(
                move |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    json_response(StatusCode::OK, &metadata(&state))
                },
            )
            .fallback(|method: Method| async move { ApiError::MethodNotAllowed(method) }),
        allow,
    )
}

/// `drf_view` for a view with `IsAuthenticated`: DRF authenticates and checks permissions in
/// `initial()`, before it looks for the method's handler, so OPTIONS and a method the view lacks
/// get the authentication error (401) first, and only an authenticated caller sees 200 or 405.
pub fn drf_view_authenticated(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState> {
    drf_headers(
        methods
            .options(
                move |_: auth::JwtUser,
                      axum::extract::State(state): axum::extract::State<AppState>| async move {
                    json_response(StatusCode::OK, &metadata(&state))
                },
            )
            .fallback(|_: auth::JwtUser, method: Method| async move {
                ApiError::MethodNotAllowed(method)
            }),
        allow,
    )
}

fn drf_headers(methods: MethodRouter<AppState>, allow: &'static str) -> MethodRouter<AppState> {
    let allow_value = HeaderValue::from_static(allow);
    methods
        .layer(axum::middleware::from_fn(negotiate))
        .layer(axum::middleware::map_response(move |mut res: Response| {
            let allow_value = allow_value.clone();
            async move {
                let headers = res.headers_mut();
                headers.insert(header::ALLOW, allow_value);
                headers.insert(header::VARY, HeaderValue::from_static("Accept"));
                res
            }
        }))
}

/// DRF's renderers are JSON and the browsable API (`text/html`, answered with JSON here); an
/// `Accept` header that neither satisfies gets 406 before anything else runs.
async fn negotiate(req: Request, next: axum::middleware::Next) -> Response {
    let acceptable = match req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(accept) if accept.trim().is_empty() => true,
        Some(accept) => accept.split(',').any(|range| {
            let media = range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(
                media.as_str(),
                "*/*" | "*" | "application/*" | "application/json" | "text/*" | "text/html"
            )
        }),
    };
    if acceptable {
        next.run(req).await
    } else {
        ApiError::NotAcceptable.into_response()
    }
}

/// DRF's label for a field: its name with underscores as spaces, first letter capitalised.
pub fn field_label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
