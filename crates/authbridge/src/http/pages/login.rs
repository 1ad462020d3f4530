//! `GET /login` (the form) and `POST /login` (the password login of `flows::login`, then a login
//! session and a redirect to `next`). Unknown user, wrong password and inactive user read the
//! same; a throttled or locked attempt says when to come back.

use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::context::PageContext;
use super::csrf::{self, Csrf};
use super::next::safe_next;
use super::view::{self, Brand, ErrorPage, LoginPage};
use super::{parse_form, session, with_cookies};
use crate::flows::login::{LoginError, LoginOutcome};
use crate::http::error::PageError;
use crate::http::extract::ClientIp;
use crate::http::AppState;
use crate::oidc::paths;

pub const PATH: &str = "/login";

const REFUSED: &str = "Your username or password is incorrect.";
const BUSY: &str = "Signing in is temporarily unavailable. Try again in a moment.";

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    csrf_token: Option<String>,
    next: Option<String>,
}

impl From<LoginError> for PageError {
    fn from(e: LoginError) -> Self {
        PageError::internal(e)
    }
}

/// The client an authorization request in `next` is for, to name it on the page.
fn authorizing_client(next: &str) -> Option<String> {
    let query = next.strip_prefix(paths::AUTHORIZE)?.strip_prefix('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v.into_owned())
}

/// The form, with what went wrong (if anything) announced and tied to both inputs.
async fn form(
    state: &AppState,
    ctx: &PageContext,
    csrf: &Csrf,
    status: StatusCode,
    error: Option<&str>,
    next: Option<&str>,
    username: &str,
) -> Result<Response, PageError> {
    let label = crate::http::drf::field_label(&state.settings.username_field);
    let client_name = match next.and_then(authorizing_client) {
        Some(id) => super::client(state, &id).await?.map(|c| c.name),
        None => None,
    };
    let response = view::render(
        status,
        &LoginPage {
            title: "Sign in",
            brand: Brand::from(ctx),
            client_name: client_name.as_deref(),
            error,
            csrf_token: &csrf.token(ctx),
            next,
            username_label: &label,
            username,
        },
    )?;
    Ok(with_cookies(response, csrf.set_cookie.iter()))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let csrf = Csrf::for_form(&ctx, &headers, &*state.random);
    let next = safe_next(query.next.as_deref());
    form(&state, &ctx, &csrf, StatusCode::OK, None, next, "").await
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    client: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form_data: LoginForm = parse_form(&body)?;
    csrf::check(&ctx, &headers, form_data.csrf_token.as_deref())?;
    let csrf = Csrf::for_form(&ctx, &headers, &*state.random);
    let next = safe_next(form_data.next.as_deref());
    let username = form_data.username;

    let client = (client != ClientIp::UNKNOWN).then_some(client.0);
    // No username holds a NUL (Django's forms refuse one) and PostgreSQL cannot take one in a
    // text parameter: the ordinary refusal, not a database error.
    let outcome = if username.contains('\0') {
        LoginOutcome::Refused
    } else {
        state
            .password_login()
            .login(&username, Zeroizing::new(form_data.password), client)
            .await?
    };
    let user = match outcome {
        LoginOutcome::Authenticated(user) => user,
        LoginOutcome::Refused => {
            return form(
                &state,
                &ctx,
                &csrf,
                StatusCode::OK,
                Some(REFUSED),
                next,
                &username,
            )
            .await
        }
        LoginOutcome::Throttled { wait, .. } => {
            let unit = if wait == 1 { "second" } else { "seconds" };
            let message = format!("Too many failed attempts. Try again in {wait} {unit}.");
            let status = StatusCode::TOO_MANY_REQUESTS;
            let mut response =
                form(&state, &ctx, &csrf, status, Some(&message), next, &username).await?;
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        LoginOutcome::Busy | LoginOutcome::LimiterUnavailable => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            let mut response =
                form(&state, &ctx, &csrf, status, Some(BUSY), next, &username).await?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Ok(response);
        }
    };

    // A new login replaces the browser's previous session rather than leaving it alive.
    session::end(&state, &ctx, &headers).await?;
    let cookie = session::start(&state, &ctx, &user).await?;
    let response = match next {
        // 303: the browser follows with a GET, never re-posting the password.
        Some(next) => Redirect::to(next).into_response(),
        None => view::render(
            StatusCode::OK,
            &ErrorPage {
                title: "You are signed in",
                brand: Brand::from(&*ctx),
                message: "You can close this window or go back to the application.",
            },
        )?,
    };
    Ok(with_cookies(response, [cookie].iter()))
}
