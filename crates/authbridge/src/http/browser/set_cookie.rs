//! `Set-Cookie` as Django writes it: `set_cookie(max_age=...)` and `delete_cookie`, with the
//! attributes in Django's order, so browsers and Django's own tests see the same headers.

use axum::http::header::{self, HeaderValue};
use axum::response::Response;

use crate::config::cookies::SameSite;
use crate::http::AppState;

#[derive(Clone, Copy)]
pub(super) struct Attrs {
    secure: bool,
    same_site: SameSite,
}

impl Attrs {
    pub(super) fn from_settings(state: &AppState) -> Self {
        let b = &state.settings.cookies;
        Self {
            secure: b.jwt_auth_secure,
            same_site: b.jwt_auth_samesite,
        }
    }
}

/// `Set-Cookie` as Django's `set_cookie(max_age=...)` writes it (attributes in Django's order).
pub(super) fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    now: i64,
    path: &str,
    http_only: bool,
    attrs: Attrs,
) -> String {
    let expires = chrono::DateTime::from_timestamp(now.saturating_add(max_age), 0)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 GMT".into());
    let mut cookie = format!("{name}={value}; expires={expires}");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    cookie.push_str(&format!(
        "; Max-Age={max_age}; Path={path}; SameSite={}",
        attrs.same_site.as_str()
    ));
    if attrs.secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Django's `delete_cookie`: the same name and path, expired.
pub(super) fn delete_cookie(name: &str, path: &str, attrs: Attrs) -> String {
    let mut cookie = format!(
        "{name}=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path={path}; SameSite={}",
        attrs.same_site.as_str()
    );
    if attrs.secure {
        cookie.push_str("; Secure");
    }
    cookie
}

pub(super) fn append(res: &mut Response, cookie: String) {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_attributes() {
        let attrs = Attrs {
            secure: true,
            same_site: SameSite::Strict,
        };
        assert_eq!(
            set_cookie("__Secure-refresh", "t", 86400, 0, "/api/token/", true, attrs),
            "__Secure-refresh=t; expires=Fri, 02 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=86400; Path=/api/token/; SameSite=Strict; Secure"
        );
        let attrs = Attrs {
            secure: false,
            same_site: SameSite::Lax,
        };
        assert_eq!(
            delete_cookie("refresh", "/api/token/", attrs),
            "refresh=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/api/token/; SameSite=Lax"
        );
    }
}
