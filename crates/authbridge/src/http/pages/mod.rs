//! The provider's pages, for a browser: `/login`, `/consent`, `/logout`, the error page, and the
//! two OpenID Connect endpoints a browser navigates to (`/oauth2/authorize`, `/oauth2/logout`,
//! in `http::oidc`), with their stylesheet. Server-rendered (askama, `templates/`), no script.
//!
//! Every answer here gets the pages' headers (`page_headers`): a CSP that allows our stylesheet
//! and images only and no framing, `no-store`, no referrer; and a `PageError` is re-rendered in
//! the branded layout. Served only when the provider is enabled.

pub mod consent;
pub mod context;
pub mod csrf;
pub mod login;
pub mod logout;
pub mod next;
pub mod session;
pub mod style;
pub mod view;

use axum::extract::Extension;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use crate::http::error::{PageError, ShownError};
use crate::http::oidc::{authorize, end_session};
use crate::http::AppState;
use crate::model::Client;
use crate::oidc::paths;
use context::PageContext;
use view::{Brand, ErrorPage};

/// The pages and the browser-facing OpenID Connect endpoints.
pub fn routes(state: &AppState) -> Router<AppState> {
    let ctx = Arc::new(PageContext::new(&state.settings, &*state.random));
    Router::new()
        // The one page that hashes a password takes the token API login's body cap.
        .route(
            login::PATH,
            get(login::show)
                .post(login::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    state.settings.login.max_body_bytes,
                )),
        )
        .route(consent::PATH, get(consent::show).post(consent::submit))
        .route(logout::PATH, get(logout::show).post(logout::submit))
        .route(
            paths::AUTHORIZE,
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(
            paths::END_SESSION,
            get(end_session::end_session_get).post(end_session::end_session_post),
        )
        .route(style::PATH, get(style::serve))
        .layer(axum::middleware::map_response_with_state(
            ctx.clone(),
            page_headers,
        ))
        .layer(Extension(ctx))
}

/// The CSP has no `form-action`: browsers apply it to the redirects that follow a form post, and
/// a login or consent ends in a redirect to the client's own origin.
fn csp(ctx: &PageContext) -> String {
    format!(
        "default-src 'none'; style-src 'self'; img-src {}; base-uri 'none'; frame-ancestors 'none'",
        ctx.img_src
    )
}

async fn page_headers(
    axum::extract::State(ctx): axum::extract::State<Arc<PageContext>>,
    response: Response,
) -> Response {
    let mut response = match response.extensions().get::<ShownError>().cloned() {
        Some(shown) => branded_error(&ctx, response, &shown),
        None => response,
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp(&ctx)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The error page in the pages' layout, keeping the status, headers and extensions (the cause
/// of a 500 travels on to the edge's log line).
fn branded_error(ctx: &PageContext, response: Response, shown: &ShownError) -> Response {
    let page = ErrorPage {
        title: &shown.title,
        brand: Brand::from(ctx),
        message: &shown.message,
    };
    let Ok(html) = askama::Template::render(&page) else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(html))
}

/// A form body (`application/x-www-form-urlencoded`); anything unreadable is a 400 page.
pub fn parse_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form could not be read. Go back, reload the page and try again.",
        )
    })
}

/// `response` with these `Set-Cookie`s added.
pub fn with_cookies<'a>(
    mut response: Response,
    cookies: impl Iterator<Item = &'a String>,
) -> Response {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The client by client_id (the config file's first, then the database's).
pub async fn client(state: &AppState, client_id: &str) -> Result<Option<Client>, PageError> {
    match &state.oidc {
        Some(oidc) => oidc.client(client_id).await.map_err(PageError::internal),
        None => Ok(None),
    }
}
