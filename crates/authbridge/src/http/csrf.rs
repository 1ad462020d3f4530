//! CSRF protection for cookie-authenticated state-changing requests, by Fetch Metadata and Origin
//! (no token to manage): browsers send `Sec-Fetch-Site` and `Origin` on cross-site POSTs, so a
//! request is refused when either says it comes from another site that is not trusted. A request
//! with neither header is not from a browser (e.g. a Next.js server calling us) and cannot carry a
//! victim's cookies by accident.
//!
//! Shared by the Auth.js session exchange and cookie mode (`cookie_mode`), which also trusts the
//! origins CORS lets send credentials.

use axum::http::HeaderMap;

use crate::http::ApiError;

pub fn check(headers: &HeaderMap, trusted_origins: &[String]) -> Result<(), ApiError> {
    check_with(headers, |o| trusted_origins.iter().any(|t| t == o))
}

/// `check` with any notion of a trusted origin (authbridge's own origin is always trusted).
pub fn check_with(headers: &HeaderMap, is_trusted: impl Fn(&str) -> bool) -> Result<(), ApiError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // `Origin: null` (sandboxed frames, cross-origin redirects) is an untrusted origin, as in
    // Django's CSRF check, not an absent one.
    let origin = get("origin");
    let own_origin = get("host").map(|host| {
        let scheme = get("x-forwarded-proto").unwrap_or("http");
        format!("{scheme}://{host}")
    });
    let origin_ok = |o: &str| own_origin.as_deref() == Some(o) || is_trusted(o);
    let refuse = |o: &str| {
        Err(ApiError::Forbidden(format!(
            "CSRF Failed: Origin checking failed - {o} does not match any trusted origins."
        )))
    };
    match get("sec-fetch-site") {
        Some("same-origin") | Some("none") => return Ok(()),
        Some(_) => {
            return match origin {
                Some(o) if origin_ok(o) => Ok(()),
                Some(o) => refuse(o),
                None => Err(ApiError::Forbidden(
                    "CSRF Failed: Origin header missing on a cross-site request.".into(),
                )),
            }
        }
        None => {}
    }
    match origin {
        Some(o) if !origin_ok(o) => refuse(o),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn fetch_metadata_and_origin() {
        let trusted = vec!["https://app.example".to_string()];
        assert!(check(&headers(&[]), &trusted).is_ok());
        assert!(check(&headers(&[("sec-fetch-site", "same-origin")]), &trusted).is_ok());
        assert!(check(
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example")
            ]),
            &trusted
        )
        .is_err());
        assert!(check(&headers(&[("sec-fetch-site", "cross-site")]), &trusted).is_err());
        assert!(check(&headers(&[("origin", "null")]), &trusted).is_err());
        assert!(check(
            &headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://app.example")
            ]),
            &trusted
        )
        .is_ok());
        assert!(check(
            &headers(&[("origin", "https://evil.example"), ("host", "auth.example")]),
            &trusted
        )
        .is_err());
        assert!(check(
            &headers(&[("origin", "http://auth.example"), ("host", "auth.example")]),
            &trusted
        )
        .is_ok());
    }
}
