//! `GET /logout` (a confirm page: a link alone must not sign anyone out) and `POST /logout`
//! (ends the login session, with CSRF protection).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;

use super::context::PageContext;
use super::csrf::{self, Csrf};
use super::view::{self, Brand, LogoutPage};
use super::{parse_form, session, with_cookies};
use crate::http::error::PageError;
use crate::http::AppState;

pub const PATH: &str = "/logout";

#[derive(Deserialize)]
struct LogoutForm {
    csrf_token: Option<String>,
}

/// The confirm page (`action`: where its form posts, with `hidden` fields) or, when nobody is
/// signed in, the signed-out page.
pub fn page(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
    username: Option<&str>,
    client_name: Option<&str>,
    action: &str,
    hidden: Vec<(&str, &str)>,
) -> Result<Response, PageError> {
    let csrf = Csrf::for_form(ctx, headers, &*state.random);
    let signed_in = username.is_some();
    let response = view::render(
        StatusCode::OK,
        &LogoutPage {
            title: if signed_in { "Sign out" } else { "Signed out" },
            brand: Brand::from(ctx),
            signed_in,
            username,
            client_name,
            action,
            csrf_token: &csrf.token(ctx),
            hidden,
        },
    )?;
    Ok(with_cookies(response, csrf.set_cookie.iter()))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let current = session::current(&state, &ctx, &headers).await?;
    let username = current.as_ref().map(|c| c.user.username.as_str());
    page(&state, &ctx, &headers, username, None, PATH, Vec::new())
}

pub async fn submit(
    State(state): State<AppState>,
    Extension(ctx): Extension<Arc<PageContext>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let form: LogoutForm = parse_form(&body)?;
    csrf::check(&ctx, &headers, form.csrf_token.as_deref())?;
    let cleared = session::end(&state, &ctx, &headers).await?;
    let response = page(&state, &ctx, &headers, None, None, PATH, Vec::new())?;
    Ok(with_cookies(response, [cleared].iter()))
}
