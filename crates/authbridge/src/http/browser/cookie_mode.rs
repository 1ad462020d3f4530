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

use axum::http::header::{HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::csrf;
use super::csrf_token::{
    csrf_secret, double_submit_check, new_csrf_secret, CSRF_COOKIE, CSRF_COOKIE_AGE, CSRF_HEADER,
};
use super::set_cookie::{append, delete_cookie, set_cookie, Attrs};
use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::extract::cookie_value;
use crate::http::{AppState, DrfError};

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

/// The refresh cookie, when cookie mode names one and the request carries it; reading it needs
/// the double-submit token when `JWT_AUTH_COOKIE_USE_CSRF`.
pub fn refresh_cookie(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, DrfError> {
    let browser = &state.settings.cookies;
    let Some(raw) = browser
        .refresh_cookie_name()
        .and_then(|name| cookie_value(headers, &name))
    else {
        return Ok(None);
    };
    if browser.jwt_auth_cookie_use_csrf {
        double_submit_check(headers)?;
    }
    Ok(Some(raw))
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
    clear_token_cookies(state, &mut res);
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
    let refresh = map
        .get("refresh")
        .and_then(Value::as_str)
        .map(str::to_string);
    let access = map
        .get("access")
        .and_then(Value::as_str)
        .map(str::to_string);
    if refresh.is_some() && browser.refresh_cookie_name().is_some() && browser.jwt_auth_httponly {
        // Rebuilt rather than `remove`d so the other keys keep their order.
        map = map.into_iter().filter(|(k, _)| k != "refresh").collect();
    }
    let mut res = json_response(StatusCode::OK, &Value::Object(map));
    set_token_cookies(
        state,
        headers,
        &mut res,
        access.as_deref(),
        refresh.as_deref(),
        login,
    );
    Ok(res)
}

/// dj-rest-auth's `set_jwt_cookies` in cookie mode: the refresh token into its cookie, the access
/// token into `JWT_AUTH_COOKIE` when set, and the CSRF token when `JWT_AUTH_COOKIE_USE_CSRF` (a
/// fresh one at `login`, else the one the browser has). Nothing outside cookie mode. The caller
/// has passed `origin_check` and shaped the body.
pub fn set_token_cookies(
    state: &AppState,
    headers: &HeaderMap,
    res: &mut Response,
    access: Option<&str>,
    refresh: Option<&str>,
    login: bool,
) {
    let browser = &state.settings.cookies;
    if !browser.cookie_mode() {
        return;
    }
    let jwt = &state.settings.simple_jwt;
    let attrs = Attrs::from_settings(state);
    let now = state.clock.now().timestamp();
    let mut cookies = Vec::new();
    if let (Some(name), Some(refresh)) = (browser.refresh_cookie_name(), refresh) {
        cookies.push(set_cookie(
            &name,
            refresh,
            jwt.refresh_token_lifetime,
            now,
            browser.jwt_auth_refresh_cookie_path.as_str(),
            browser.jwt_auth_httponly,
            attrs,
        ));
    }
    if let (Some(name), Some(access)) = (browser.access_cookie_name(), access) {
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
    let csrf_token = browser.jwt_auth_cookie_use_csrf.then(|| {
        let existing = if login {
            None
        } else {
            cookie_value(headers, CSRF_COOKIE).filter(|c| csrf_secret(c).is_some())
        };
        existing.unwrap_or_else(|| new_csrf_secret(&*state.random))
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
    for cookie in cookies {
        append(res, cookie);
    }
    if let Some(v) = csrf_token.and_then(|t| HeaderValue::from_str(&t).ok()) {
        res.headers_mut().insert(CSRF_HEADER, v);
    }
}

/// dj-rest-auth's `unset_jwt_cookies`: the auth cookies cleared (nothing outside cookie mode).
pub fn clear_token_cookies(state: &AppState, res: &mut Response) {
    let browser = &state.settings.cookies;
    let attrs = Attrs::from_settings(state);
    if let Some(name) = browser.refresh_cookie_name() {
        append(
            res,
            delete_cookie(&name, &browser.jwt_auth_refresh_cookie_path, attrs),
        );
    }
    if let Some(name) = browser.access_cookie_name() {
        append(res, delete_cookie(&name, "/", attrs));
    }
}

/// `origin_check` when cookie mode is on (the answer sets or clears cookies); nothing otherwise.
pub fn origin_check_in_cookie_mode(state: &AppState, headers: &HeaderMap) -> Result<(), DrfError> {
    if state.settings.cookies.cookie_mode() {
        origin_check(state, headers)?;
    }
    Ok(())
}

/// The Origin / Sec-Fetch-Site check with cookie mode's trusted origins.
pub fn origin_check(state: &AppState, headers: &HeaderMap) -> Result<(), DrfError> {
    let settings = &state.settings;
    csrf::check_with(settings, headers, |origin| {
        settings.trusted_origins.iter().any(|t| t == origin)
            || settings.cors.cors_credentialed_origin(origin)
    })
}
