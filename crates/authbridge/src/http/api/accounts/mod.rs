//! dj-rest-auth's account API (7.2.0 with django-allauth 65 and simplejwt, `USE_JWT`) under
//! `/api/auth/`, answering as the anchor does: status codes, bodies, key order and messages, bad
//! input included (see docs/compatibility.md for what differs and why).
//!
//! One file per endpoint group; `serializers` holds what DRF and dj-rest-auth check in the body;
//! the rules are `crate::flows::account`'s. Mounted only when `AUTHBRIDGE_ACCOUNTS` is on.
//!
//! Paths: dj-rest-auth's `re_path`s take the trailing slash or not (`login/?$`); sign-up is a
//! `path('')`, so `/api/auth/registration` gets Django's `APPEND_SLASH` 301.
//!
//! Like any DRF view without its own `authentication_classes`, every view but the two token
//! views runs `JWTAuthentication` first: a request carrying a bad `Authorization: Bearer` header
//! is refused with simplejwt's 401 even where no login is needed.

mod login;
mod logout;
mod metadata;
mod password;
mod registration;
pub mod serializers;
mod token;
mod user;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use serde_json::{json, Value};
use std::future::Future;
use std::net::IpAddr;

use crate::flows::account::{AccountError, AccountFlows};
use crate::http::drf::body::DrfData;
use crate::http::drf::{drf_view_authenticated, json_response, view};
use crate::http::extract::{ClientIp, JwtUser};
use crate::http::{AppState, DrfError};
use crate::model::User;

pub const PREFIX: &str = "/api/auth/";

/// The routes, each under both spellings where dj-rest-auth's pattern has `/?$`.
pub fn routes(settings: &crate::config::Settings) -> Router<AppState> {
    // The views that hash a password take bodies up to the login cap, as `/api/token/` does.
    let capped = |m: MethodRouter<AppState>| {
        m.layer(axum::extract::DefaultBodyLimit::max(
            settings.login.max_body_bytes,
        ))
    };
    let mut router = Router::new()
        .route(
            "/api/auth/registration/",
            capped(allow_any(
                post(registration::register),
                "POST, OPTIONS",
                metadata::register,
            )),
        )
        .route("/api/auth/registration", any(append_slash));
    let both = |router: Router<AppState>, path: &str, methods: MethodRouter<AppState>| {
        let bare = path.trim_end_matches('/').to_string();
        router.route(path, methods.clone()).route(&bare, methods)
    };
    router = both(
        router,
        "/api/auth/registration/verify-email/",
        allow_any(
            post(registration::verify_email).get(registration::verify_email_get),
            "POST, OPTIONS, HEAD",
            metadata::verify_email,
        ),
    );
    router = both(
        router,
        "/api/auth/registration/resend-email/",
        allow_any(
            post(registration::resend_email),
            "POST, OPTIONS",
            metadata::resend_email,
        ),
    );
    router = both(
        router,
        "/api/auth/login/",
        capped(allow_any(
            post(login::login),
            "POST, OPTIONS",
            metadata::login,
        )),
    );
    router = both(
        router,
        "/api/auth/logout/",
        allow_any(
            post(logout::logout).get(logout::logout_get),
            "GET, POST, HEAD, OPTIONS",
            metadata::logout,
        ),
    );
    router = both(
        router,
        "/api/auth/user/",
        drf_view_authenticated(
            get(user::get_user)
                .put(user::put_user)
                .patch(user::patch_user),
            "GET, PUT, PATCH, HEAD, OPTIONS",
            metadata::user,
        ),
    );
    router = both(
        router,
        "/api/auth/password/change/",
        capped(drf_view_authenticated(
            post(password::change),
            "POST, OPTIONS",
            metadata::password_change,
        )),
    );
    router = both(
        router,
        "/api/auth/password/reset/",
        allow_any(
            post(password::reset),
            "POST, OPTIONS",
            metadata::password_reset,
        ),
    );
    router = both(
        router,
        "/api/auth/password/reset/confirm/",
        capped(allow_any(
            post(password::reset_confirm),
            "POST, OPTIONS",
            metadata::password_reset_confirm,
        )),
    );
    // simplejwt's views set `authentication_classes = ()`: no guard.
    router = both(
        router,
        "/api/auth/token/verify/",
        crate::http::drf::drf_view(
            post(crate::http::api::token_api::verify::verify),
            "POST, OPTIONS",
            crate::http::api::token_api::verify::metadata,
        ),
    );
    both(
        router,
        "/api/auth/token/refresh/",
        crate::http::drf::drf_view(post(token::refresh), "POST, OPTIONS", metadata::refresh),
    )
}

/// An `AllowAny` view that still authenticates (DRF's `initial()`): a bad Bearer header is a 401
/// before the method is even looked at.
fn allow_any(
    methods: MethodRouter<AppState>,
    allow: &'static str,
    metadata: fn(&AppState) -> Value,
) -> MethodRouter<AppState> {
    view::<MaybeUser>(methods, allow, metadata)
}

/// `JWTAuthentication` when there is an `Authorization` header of a configured type; nobody
/// otherwise (an anonymous request is fine for an `AllowAny` view).
pub struct MaybeUser(#[allow(dead_code)] pub Option<JwtUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = DrfError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, DrfError> {
        match JwtUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self(Some(user))),
            Err(DrfError::NotAuthenticated) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

/// Django's `APPEND_SLASH` answer for `registration` (a `path('')`, so no slash is a 301).
async fn append_slash(req: Request) -> Response {
    let location = match req.uri().query() {
        Some(q) => format!("/api/auth/registration/?{q}"),
        None => "/api/auth/registration/".into(),
    };
    let mut res = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// The account flows, present whenever these routes are mounted.
fn flows(state: &AppState) -> Result<AccountFlows<'_>, DrfError> {
    state.account_flows().ok_or(DrfError::NotFound)
}

/// The client's address for the rate limits (`None` when the edge could not tell).
fn client_of(client: ClientIp) -> Option<IpAddr> {
    (client != ClientIp::UNKNOWN).then_some(client.0)
}

/// Where links in emails point by default: authbridge's public URL, or the request's scheme and
/// host (checked against `AUTHBRIDGE_ALLOWED_HOSTS` before any handler runs).
fn link_origin(state: &AppState, headers: &HeaderMap) -> String {
    crate::http::browser::csrf::own_origin(&state.settings.edge, headers).unwrap_or_default()
}

/// `password/reset/` and `registration/resend-email/`: the body's `email`, then `send` with the
/// links' origin; 200 `{"detail": done}` whatever the address.
async fn mail_link<'s, F, Fut>(
    state: &'s AppState,
    client: ClientIp,
    headers: &HeaderMap,
    data: &DrfData,
    done: &str,
    send: F,
) -> Result<Response, DrfError>
where
    F: FnOnce(AccountFlows<'s>, String, String, Option<IpAddr>) -> Fut,
    Fut: Future<Output = Result<(), AccountError>>,
{
    let flows = flows(state)?;
    let email = serializers::email(&data.0)?;
    let origin = link_origin(state, headers);
    send(flows, email, origin, client_of(client)).await?;
    Ok(detail(StatusCode::OK, done))
}

/// `UserDetailsSerializer`'s body: `pk`, `username`, `email`, `first_name`, `last_name`.
fn user_body(user: &User) -> Value {
    json!({
        "pk": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "first_name": user.first_name.clone().unwrap_or_default(),
        "last_name": user.last_name.clone().unwrap_or_default(),
    })
}

/// `{"detail": ..}` with `status`.
fn detail(status: StatusCode, text: &str) -> Response {
    json_response(status, &json!({ "detail": text }))
}

/// A view that touched Django's session (login, logout, sign-up, password change) varies on
/// the cookie too.
fn vary_cookie(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept, Cookie"));
    res
}

impl From<AccountError> for DrfError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Throttled { wait } => Self::Throttled { wait },
            AccountError::Busy => Self::Unavailable,
            AccountError::UsernameTaken => Self::field("username", &e.message()),
            AccountError::EmailRegistered => Self::field("email", &e.message()),
            AccountError::NotFound => Self::NotFound,
            AccountError::MissingCredentials(_)
            | AccountError::InvalidCredentials
            | AccountError::EmailNotVerified => Self::NonField(e.message()),
            AccountError::InvalidUid => serializers::invalid_uid(),
            AccountError::InvalidToken => serializers::invalid_token(),
            AccountError::Flow(e) => e.into(),
            AccountError::Storage(e) => e.into(),
            AccountError::Password(e) => Self::internal(e),
        }
    }
}
