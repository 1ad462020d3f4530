//! Cookie mode for single-page apps (dj-rest-auth's `JWT_AUTH_*` settings, see
//! `config::cookies`): obtain and refresh put the refresh token in an HttpOnly cookie instead of
//! the body; refresh and blacklist read it from there when the body has none; logout clears it.
//! Without cookie mode every function here answers exactly as simplejwt does.
//!
//! CSRF: a cookie is ambient authority, so in cookie mode
//! - refresh and blacklist requests (before the token is touched), and obtain before its answer
//!   sets the cookies, pass the Origin / Sec-Fetch-Site check (`http::browser::csrf`): browsers label
//!   cross-site requests, and only authbridge's own origin (`AUTHBRIDGE_PUBLIC_URL` when set),
//!   `AUTHBRIDGE_TRUSTED_ORIGINS` and the origins CORS allows with credentials are accepted, never
//!   `null` (a request with neither header is not from a browser and carries no victim's cookie);
//! - with `JWT_AUTH_COOKIE_USE_CSRF`, a request that reads the refresh cookie must also echo the
//!   `csrftoken` cookie in an `X-CSRFToken` header (Django's double-submit token, in Django's own
//!   format, so a Django on the same host and authbridge accept each other's). The token is set as
//!   a cookie by obtain and refresh and also sent in the `X-CSRFToken` response header, for apps
//!   on another host that cannot read authbridge's cookies (list it in `CORS_EXPOSE_HEADERS`).

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::csrf;
use crate::config::cookies::SameSite;
use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::extract::cookie_value;
use crate::http::{AppState, DrfError};

/// Django's `CSRF_COOKIE_NAME`, `CSRF_HEADER_NAME` and `CSRF_COOKIE_AGE`.
pub const CSRF_COOKIE: &str = "csrftoken";
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrftoken");
const CSRF_COOKIE_AGE: i64 = 31_449_600;
/// Django's CSRF alphabet and lengths (`CSRF_SECRET_LENGTH`, `CSRF_TOKEN_LENGTH`).
const CSRF_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const CSRF_SECRET_LENGTH: usize = 32;

/// The refresh token for refresh and blacklist: the body's `refresh` field; in cookie mode the
/// refresh cookie when the body has none (absent, null or blank). In cookie mode the Origin /
/// Sec-Fetch-Site check comes first, and a token read from the cookie also needs the double-submit
/// token when `JWT_AUTH_COOKIE_USE_CSRF`. With neither body nor cookie, simplejwt's own field
/// errors (`{"refresh":["This field is required."]}`).
pub fn refresh_token(
    state: &AppState,
    headers: &HeaderMap,
    data: &DrfData,
) -> Result<String, DrfError> {
    let browser = &state.settings.cookies;
    if browser.cookie_mode() {
        // The answer will write or clear cookies: refuse an untrusted browser origin before the
        // token is rotated or blacklisted, wherever the token comes from.
        origin_check(state, headers)?;
    }
    if let Some(name) = browser.refresh_cookie_name() {
        let body_has_token = match data.0.get("refresh") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        };
        if !body_has_token {
            if let Some(raw) = cookie_value(headers, &name) {
                if browser.jwt_auth_cookie_use_csrf {
                    double_submit_check(headers)?;
                }
                return Ok(raw);
            }
        }
    }
    let mut fields = Fields::new(data);
    let raw = fields.char_field("refresh");
    fields.finish()?;
    Ok(raw)
}

/// Obtain's 200: in cookie mode the refresh token moves into its cookie (and out of the body when
/// `JWT_AUTH_HTTPONLY`), the access token also into `JWT_AUTH_COOKIE` when set, and a fresh CSRF
/// token is issued when `JWT_AUTH_COOKIE_USE_CSRF`.
pub fn respond_with_pair(
    state: &AppState,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response, DrfError> {
    respond_with_tokens(state, headers, body, true)
}

/// Refresh's 200: as `respond_with_pair`, keeping the CSRF token the browser already has (other
/// tabs hold it too). Without rotation the body has no refresh token and its cookie is left as is.
pub fn respond_with_refreshed(
    state: &AppState,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response, DrfError> {
    respond_with_tokens(state, headers, body, false)
}

/// Blacklist's 200: in cookie mode the auth cookies are cleared.
pub fn respond_logout(
    state: &AppState,
    headers: &HeaderMap,
    body: Value,
) -> Result<Response, DrfError> {
    let browser = &state.settings.cookies;
    if !browser.cookie_mode() {
        return Ok(json_response(StatusCode::OK, &body));
    }
    origin_check(state, headers)?;
    let mut res = json_response(StatusCode::OK, &body);
    let attrs = Attrs::from_settings(state);
    if let Some(name) = browser.refresh_cookie_name() {
        append(
            &mut res,
            delete_cookie(&name, &browser.jwt_auth_refresh_cookie_path, attrs),
        );
    }
    if let Some(name) = browser.access_cookie_name() {
        append(&mut res, delete_cookie(&name, "/", attrs));
    }
    Ok(res)
}

fn respond_with_tokens(
    state: &AppState,
    headers: &HeaderMap,
    body: Value,
    login: bool,
) -> Result<Response, DrfError> {
    let browser = &state.settings.cookies;
    if !browser.cookie_mode() {
        return Ok(json_response(StatusCode::OK, &body));
    }
    origin_check(state, headers)?;
    let Value::Object(mut map) = body else {
        return Ok(json_response(StatusCode::OK, &body));
    };
    let jwt = &state.settings.simple_jwt;
    let attrs = Attrs::from_settings(state);
    let now = state.clock.now().timestamp();
    let mut cookies = Vec::new();
    if let Some(name) = browser.refresh_cookie_name() {
        if let Some(Value::String(refresh)) = map.get("refresh") {
            let path = browser.jwt_auth_refresh_cookie_path.as_str();
            cookies.push(set_cookie(
                &name,
                refresh,
                jwt.refresh_token_lifetime,
                now,
                path,
                browser.jwt_auth_httponly,
                attrs,
            ));
            if browser.jwt_auth_httponly {
                // Rebuilt rather than `remove`d so the other keys keep their order.
                map = map.into_iter().filter(|(k, _)| k != "refresh").collect();
            }
        }
    }
    if let Some(name) = browser.access_cookie_name() {
        if let Some(Value::String(access)) = map.get("access") {
            cookies.push(set_cookie(
                &name,
                access,
                jwt.access_token_lifetime,
                now,
                "/",
                browser.jwt_auth_httponly,
                attrs,
            ));
        }
    }
    let csrf_token = browser.jwt_auth_cookie_use_csrf.then(|| {
        let existing = if login {
            None
        } else {
            cookie_value(headers, CSRF_COOKIE).filter(|c| csrf_secret(c).is_some())
        };
        existing.unwrap_or_else(new_csrf_secret)
    });
    if let Some(token) = &csrf_token {
        cookies.push(set_cookie(
            CSRF_COOKIE,
            token,
            CSRF_COOKIE_AGE,
            now,
            "/",
            false,
            attrs,
        ));
    }
    let mut res = json_response(StatusCode::OK, &Value::Object(map));
    for cookie in cookies {
        append(&mut res, cookie);
    }
    if let Some(v) = csrf_token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        res.headers_mut().insert(CSRF_HEADER, v);
    }
    Ok(res)
}

/// The Origin / Sec-Fetch-Site check with cookie mode's trusted origins.
fn origin_check(state: &AppState, headers: &HeaderMap) -> Result<(), DrfError> {
    let settings = &state.settings;
    csrf::check_with(settings, headers, |origin| {
        settings.trusted_origins.iter().any(|t| t == origin)
            || settings.cors.cors_credentialed_origin(origin)
    })
}

fn forbidden(reason: &str) -> DrfError {
    DrfError::Forbidden(format!("CSRF Failed: {reason}"))
}

/// Django's `CsrfViewMiddleware` check for a header-submitted token, with its messages.
fn double_submit_check(headers: &HeaderMap) -> Result<(), DrfError> {
    let cookie =
        cookie_value(headers, CSRF_COOKIE).ok_or_else(|| forbidden("CSRF cookie not set."))?;
    let secret = csrf_secret(&cookie).ok_or_else(|| forbidden("CSRF cookie not set."))?;
    let header = headers
        .get(&CSRF_HEADER)
        .ok_or_else(|| forbidden("CSRF token missing."))?;
    let token = header
        .to_str()
        .map_err(|_| forbidden("CSRF token missing."))?;
    let from = "CSRF token from the 'X-Csrftoken' HTTP header";
    if token.len() != CSRF_SECRET_LENGTH && token.len() != 2 * CSRF_SECRET_LENGTH {
        return Err(forbidden(&format!("{from} has incorrect length.")));
    }
    let presented =
        csrf_secret(token).ok_or_else(|| forbidden(&format!("{from} has invalid characters.")))?;
    if bool::from(presented.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(forbidden(&format!("{from} incorrect.")))
    }
}

/// Django's `_get_new_csrf_string`.
fn new_csrf_secret() -> String {
    let mut rng = rand::rng();
    (0..CSRF_SECRET_LENGTH)
        .map(|_| CSRF_CHARS[rng.random_range(0..CSRF_CHARS.len())] as char)
        .collect()
}

/// The secret behind a Django CSRF token: a 32-character secret as is, a 64-character masked
/// token unmasked (`_unmask_cipher_token`); anything else is not a token.
fn csrf_secret(token: &str) -> Option<String> {
    let index = |c: u8| CSRF_CHARS.iter().position(|&x| x == c);
    let bytes = token.as_bytes();
    if !bytes.iter().all(|&b| index(b).is_some()) {
        return None;
    }
    match bytes.len() {
        CSRF_SECRET_LENGTH => Some(token.to_string()),
        n if n == 2 * CSRF_SECRET_LENGTH => {
            let (mask, cipher) = bytes.split_at(CSRF_SECRET_LENGTH);
            cipher
                .iter()
                .zip(mask)
                .map(|(&c, &m)| {
                    let (c, m) = (index(c)?, index(m)?);
                    Some(CSRF_CHARS[(c + CSRF_CHARS.len() - m) % CSRF_CHARS.len()] as char)
                })
                .collect()
        }
        _ => None,
    }
}

#[derive(Clone, Copy)]
struct Attrs {
    secure: bool,
    same_site: SameSite,
}

impl Attrs {
    fn from_settings(state: &AppState) -> Self {
        let b = &state.settings.cookies;
        Self {
            secure: b.jwt_auth_secure,
            same_site: b.jwt_auth_samesite,
        }
    }
}

/// `Set-Cookie` as Django's `set_cookie(max_age=...)` writes it (attributes in Django's order).
fn set_cookie(
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
fn delete_cookie(name: &str, path: &str, attrs: Attrs) -> String {
    let mut cookie = format!(
        "{name}=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path={path}; SameSite={}",
        attrs.same_site.as_str()
    );
    if attrs.secure {
        cookie.push_str("; Secure");
    }
    cookie
}

fn append(res: &mut Response, cookie: String) {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::headers;

    /// Django's `_mask_cipher_secret`, to produce a masked token for the check.
    fn mask(secret: &str, mask: &str) -> String {
        let index = |c: u8| CSRF_CHARS.iter().position(|&x| x == c).expect("test value");
        let cipher: String = secret
            .bytes()
            .zip(mask.bytes())
            .map(|(s, m)| CSRF_CHARS[(index(s) + index(m)) % CSRF_CHARS.len()] as char)
            .collect();
        format!("{mask}{cipher}")
    }

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

    #[test]
    fn csrf_tokens_are_djangos() {
        let secret = new_csrf_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(csrf_secret(&secret).as_deref(), Some(secret.as_str()));
        let masked = mask(&secret, "ZZZZaaaa0000bbbb1111cccc2222dddd");
        assert_eq!(masked.len(), 64);
        assert_eq!(csrf_secret(&masked).as_deref(), Some(secret.as_str()));
        assert_eq!(csrf_secret("short"), None);
        assert_eq!(csrf_secret(&"!".repeat(32)), None);

        let cookie = format!("csrftoken={secret}");
        let ok = headers(&[("cookie", &cookie), ("x-csrftoken", &masked)]);
        assert!(double_submit_check(&ok).is_ok());
        let ok = headers(&[("cookie", &cookie), ("x-csrftoken", &secret)]);
        assert!(double_submit_check(&ok).is_ok());
        let detail = |h: &HeaderMap| match double_submit_check(h) {
            Err(DrfError::Forbidden(d)) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            detail(&headers(&[("x-csrftoken", &secret)])),
            "CSRF Failed: CSRF cookie not set."
        );
        assert_eq!(
            detail(&headers(&[("cookie", &cookie)])),
            "CSRF Failed: CSRF token missing."
        );
        let other = new_csrf_secret();
        assert_eq!(
            detail(&headers(&[("cookie", &cookie), ("x-csrftoken", &other)])),
            "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."
        );
        assert_eq!(
            detail(&headers(&[("cookie", &cookie), ("x-csrftoken", "abc")])),
            "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
        );
    }
}
