//! CSRF protection of the pages' forms: a random secret in a cookie of its own, set before any
//! login (so the login form is protected too), and in each form an HMAC of that secret under a
//! server key. A site that can plant cookies (a sibling subdomain on plain http) still cannot
//! make a token that matches, and a cross-site form post carries no token at all. Compared in
//! constant time.

use axum::http::{HeaderMap, StatusCode};

use super::context::PageContext;
use crate::http::error::PageError;
use crate::http::extract::cookie_value;
use crate::random::Random;

pub const COOKIE: &str = "authbridge_csrf";
/// The form field holding the token.
pub const FIELD: &str = "csrf_token";

/// The browser's CSRF secret, and the `Set-Cookie` when it is new.
pub struct Csrf {
    secret: String,
    pub set_cookie: Option<String>,
}

fn well_formed(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Csrf {
    /// The secret the browser has, or a new one.
    pub fn for_form(ctx: &PageContext, headers: &HeaderMap, random: &dyn Random) -> Self {
        if let Some(secret) =
            cookie_value(headers, &ctx.cookie_name(COOKIE)).filter(|s| well_formed(s))
        {
            return Self {
                secret,
                set_cookie: None,
            };
        }
        let mut bytes = [0u8; 32];
        random.fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        Self {
            set_cookie: Some(ctx.set_cookie(COOKIE, &secret, None)),
            secret,
        }
    }

    /// The token to put in a form.
    pub fn token(&self, ctx: &PageContext) -> String {
        ctx.csrf_token(&self.secret)
    }
}

/// Refuse a form post whose token does not match the browser's secret.
pub fn check(ctx: &PageContext, headers: &HeaderMap, token: Option<&str>) -> Result<(), PageError> {
    let secret = cookie_value(headers, &ctx.cookie_name(COOKIE)).filter(|s| well_formed(s));
    match (secret, token) {
        (Some(secret), Some(token)) if ctx.csrf_valid(&secret, token) => Ok(()),
        _ => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "For your security the form could not be accepted. Go back, reload the page and try again.",
        )),
    }
}
