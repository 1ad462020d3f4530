//! Django REST framework's surface: how a DRF view parses its request (`body`, with CPython's JSON
//! messages in `pyjson`), renders its answer (`json_response`), negotiates content, answers
//! OPTIONS with its metadata and refuses a method it lacks.

pub mod body;
pub mod pyjson;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::Value;

use super::error::DrfError;
use super::extract::JwtUser;
use super::AppState;

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

/// A DRF `APIView` with the given methods: content negotiation first (406 for an `Accept` no
/// renderer satisfies), `Allow` and `Vary: Accept` on every response, OPTIONS answered with DRF's
/// metadata (built per request: it can depend on settings such as `USERNAME_FIELD`), other
/// methods refused with DRF's 405.
pub fn drf_view(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState> {
    view::<()>(methods, allow, metadata)
}

/// `drf_view` for a view with `IsAuthenticated`: DRF authenticates and checks permissions in
/// `initial()`, before it looks for the method's handler, so OPTIONS and a method the view lacks
/// get the authentication error (401) first, and only an authenticated caller sees 200 or 405.
pub fn drf_view_authenticated(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState> {
    view::<JwtUser>(methods, allow, metadata)
}

/// A view whose OPTIONS and 405 first pass `Guard` (`()` for none, `JwtUser` for
/// `IsAuthenticated`, an optional authentication for an `AllowAny` view that still runs
/// `DEFAULT_AUTHENTICATION_CLASSES`).
pub fn view<Guard>(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState>
where
    Guard: FromRequestParts<AppState> + Send + 'static,
{
    drf_headers(
        methods
            .options(move |_: Guard, State(state): State<AppState>| async move {
                json_response(StatusCode::OK, &metadata(&state))
            })
            .fallback(|_: Guard, method: Method| async move { DrfError::MethodNotAllowed(method) }),
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
                // A view that touched the session (dj-rest-auth's login) says `Accept, Cookie`.
                if !headers.contains_key(header::VARY) {
                    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
                }
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
            let media = media_type(range);
            matches!(
                media.as_str(),
                "*/*" | "*" | "application/*" | "application/json" | "text/*" | "text/html"
            )
        }),
    };
    if acceptable {
        next.run(req).await
    } else {
        DrfError::NotAcceptable.into_response()
    }
}

/// A media type without its parameters, lowercased (`Application/JSON; charset=utf-8` is
/// `application/json`), for `Content-Type` and each range of `Accept`.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
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
