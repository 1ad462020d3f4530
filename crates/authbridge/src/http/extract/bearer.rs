//! A Bearer credential as RFC 6750 sends it (`Authorization: Bearer <token>`), for the callers
//! that are not simplejwt's `JWTAuthentication` (whose header name and schemes are configurable,
//! see `jwt.rs`): the Auth.js session in a header and the service token.

use axum::http::{header, HeaderMap};

/// The token after `Bearer `, trimmed; `None` without an `Authorization` header of that scheme.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bearer_scheme_as_written() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().expect("test value"));
            h
        };
        assert_eq!(bearer_token(&with("Bearer abc ")), Some("abc"));
        assert_eq!(bearer_token(&with("bearer abc")), None);
        assert_eq!(bearer_token(&with("Basic abc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
