//! The pages' templates (`templates/*.html`, compiled in by askama, every value escaped) and
//! how one becomes a response.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::context::PageContext;
use crate::http::error::PageError;

/// What the base layout shows on every page.
pub struct Brand<'a> {
    pub product_name: &'a str,
    pub logo_url: Option<&'a str>,
    pub stylesheet_url: &'a str,
}

impl<'a> From<&'a PageContext> for Brand<'a> {
    fn from(ctx: &'a PageContext) -> Self {
        Self {
            product_name: &ctx.product_name,
            logo_url: ctx.logo_url.as_deref(),
            stylesheet_url: &ctx.stylesheet_url,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub title: &'a str,
    pub brand: Brand<'a>,
    pub client_name: Option<&'a str>,
    pub error: Option<&'a str>,
    pub csrf_token: &'a str,
    pub next: Option<&'a str>,
    pub username_label: &'a str,
    pub username: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    pub title: &'a str,
    pub brand: Brand<'a>,
    pub client_name: &'a str,
    pub username: &'a str,
    pub scopes: Vec<&'static str>,
    pub csrf_token: &'a str,
    pub request: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub title: &'a str,
    pub brand: Brand<'a>,
    pub signed_in: bool,
    pub username: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub action: &'a str,
    pub csrf_token: &'a str,
    pub hidden: Vec<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub brand: Brand<'a>,
    pub message: &'a str,
}

/// A rendered page with `status`; a template that fails to render is an internal error.
pub fn render(status: StatusCode, page: &impl Template) -> Result<Response, PageError> {
    let html = page.render().map_err(PageError::internal)?;
    Ok((
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response())
}

/// What a user reads for a scope on the consent screen.
pub fn describe_scope(scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some("Know who you are (your account's identifier)"),
        "profile" => Some("See your name and username"),
        "email" => Some("See your email address"),
        "offline_access" => Some("Stay signed in when you are away"),
        _ => None,
    }
}
