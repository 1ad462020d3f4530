//! CSRF protection for cookie-authenticated state-changing requests, by Fetch Metadata and Origin
//! (no token to manage): browsers send `Sec-Fetch-Site` and `Origin` on cross-site POSTs, so a
//! request is refused when either says it comes from another site that is not trusted. A request
//! with neither header is not from a browser (e.g. a Next.js server calling us) and cannot carry a
//! victim's cookies by accident.
//!
//! Shared by the Auth.js session exchange and cookie mode (`cookie_mode`), which also trusts the
//! origins CORS lets send credentials.

//!
//! The server's own origin (always trusted) is `AUTHBRIDGE_PUBLIC_URL` when configured; otherwise
//! it is rebuilt from the request: `Host` (already checked against `AUTHBRIDGE_ALLOWED_HOSTS`) and
//! `X-Forwarded-Host` / `X-Forwarded-Proto`, which only reach this point when the TCP peer is a
//! trusted proxy (the edge middleware, `http::edge`, removes them otherwise). `Origin: null` is
//! never trusted, whatever the configuration says.

use axum::http::HeaderMap;

use crate::config::{EdgeSettings, Settings};
use crate::http::DrfError;

/// The check with `AUTHBRIDGE_TRUSTED_ORIGINS` as the trusted origins.
pub fn check(settings: &Settings, headers: &HeaderMap) -> Result<(), DrfError> {
    check_with(settings, headers, |o| {
        settings.trusted_origins.iter().any(|t| t == o)
    })
}

/// The first value of a (possibly comma-separated, possibly repeated) header.
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The server's own origin: the configured public URL, or the request's scheme and host.
pub fn own_origin(edge: &EdgeSettings, headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = &edge.public_origin {
        return Some(origin.clone());
    }
    let host = first_value(headers, "x-forwarded-host").or_else(|| first_value(headers, "host"))?;
    let scheme = match first_value(headers, "x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// `check` with any notion of a trusted origin (authbridge's own origin is always trusted,
/// `null` never is).
pub fn check_with(
    settings: &Settings,
    headers: &HeaderMap,
    is_trusted: impl Fn(&str) -> bool,
) -> Result<(), DrfError> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // `Origin: null` (sandboxed frames, cross-origin redirects) is an untrusted origin, as in
    // Django's CSRF check, not an absent one.
    let origin = get("origin");
    let own_origin = own_origin(&settings.edge, headers);
    let origin_ok = |o: &str| o != "null" && (own_origin.as_deref() == Some(o) || is_trusted(o));
    let refuse = |o: &str| {
        Err(DrfError::Forbidden(format!(
            "CSRF Failed: Origin checking failed - {o} does not match any trusted origins."
        )))
    };
    match get("sec-fetch-site") {
        Some("same-origin") | Some("none") => return Ok(()),
        Some(_) => {
            return match origin {
                Some(o) if origin_ok(o) => Ok(()),
                Some(o) => refuse(o),
                None => Err(DrfError::Forbidden(
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

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(None, env).expect("settings")
    }

    #[test]
    fn fetch_metadata_and_origin() {
        let s = settings(&[("AUTHBRIDGE_TRUSTED_ORIGINS", "https://app.example")]);
        let check = |pairs: &[(&'static str, &'static str)]| check(&s, &headers(pairs));
        assert!(check(&[]).is_ok());
        assert!(check(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(check(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example")
        ])
        .is_err());
        assert!(check(&[("sec-fetch-site", "cross-site")]).is_err());
        assert!(check(&[("origin", "null")]).is_err());
        assert!(check(&[("origin", "null"), ("host", "null")]).is_err());
        assert!(check(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://app.example")
        ])
        .is_ok());
        assert!(check(&[("origin", "https://evil.example"), ("host", "auth.example")]).is_err());
        assert!(check(&[("origin", "http://auth.example"), ("host", "auth.example")]).is_ok());
        assert!(check(&[
            ("origin", "https://auth.example"),
            ("host", "auth.example"),
            ("x-forwarded-proto", "https, http")
        ])
        .is_ok());
    }

    #[test]
    fn public_url_is_the_own_origin() {
        let s = settings(&[("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com")]);
        let check = |pairs: &[(&'static str, &'static str)]| check(&s, &headers(pairs));
        assert!(check(&[
            ("origin", "https://auth.example.com"),
            ("host", "10.0.0.5:8080")
        ])
        .is_ok());
        // Host and X-Forwarded-* no longer make an origin "own".
        assert!(check(&[("origin", "http://evil.example"), ("host", "evil.example")]).is_err());
        assert!(check(&[
            ("origin", "https://evil.example"),
            ("host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example")
        ])
        .is_err());
    }
}
