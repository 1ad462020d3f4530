//! `POST token/refresh/`: dj-rest-auth's `get_refresh_view()` (simplejwt's `TokenRefreshView`
//! with `CookieTokenRefreshSerializer`), whose 200 adds `access_expiration` and, when a refresh
//! token is in the body, `refresh_expiration` (now plus the lifetimes, ISO 8601 with `Z`).
//! The rotation is `crate::flows::token_pair`'s, as at `/api/token/refresh/`.
//!
//! The token: the body's `refresh` when given and not `""` (validated as a `CharField`, then used
//! as sent), else the refresh cookie in cookie mode, else 401 `No valid refresh token found.`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::serializers::{CharField, Errors};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::drf::json_response;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};

pub async fn refresh(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let browser = &state.settings.cookies;
    cookie_mode::origin_check_in_cookie_mode(&state, &headers)?;
    let raw = refresh_token(&state, &headers, &data)?;
    let refreshed = state.flows().refresh(&raw, client.0).await?;
    let now = state.clock.now();
    let jwt = &state.settings.simple_jwt;
    let httponly = browser.cookie_mode() && browser.jwt_auth_httponly;
    let mut body = Map::new();
    body.insert("access".into(), Value::from(refreshed.access.clone()));
    if let (Some(refresh), false) = (&refreshed.refresh, httponly) {
        body.insert("refresh".into(), Value::from(refresh.clone()));
    }
    body.insert(
        "access_expiration".into(),
        Value::from(drf_datetime(
            now + Duration::seconds(jwt.access_token_lifetime),
        )),
    );
    if refreshed.refresh.is_some() && !httponly {
        body.insert(
            "refresh_expiration".into(),
            Value::from(drf_datetime(
                now + Duration::seconds(jwt.refresh_token_lifetime),
            )),
        );
    }
    let mut res = json_response(StatusCode::OK, &Value::Object(body));
    cookie_mode::set_token_cookies(
        &state,
        &headers,
        &mut res,
        Some(&refreshed.access),
        refreshed.refresh.as_deref(),
        false,
    );
    Ok(res)
}

/// `CookieTokenRefreshSerializer`: `refresh = CharField(required=False)`, then
/// `extract_refresh_token`.
fn refresh_token(
    state: &AppState,
    headers: &HeaderMap,
    data: &DrfData,
) -> Result<String, DrfError> {
    let given = data.0.get("refresh");
    // A form's blank value for a field that is not required is "not given" (DRF's
    // `get_value` for HTML input); a JSON `""` is a blank field.
    let form_blank = is_html_input(headers) && given == Some(&Value::String(String::new()));
    if !form_blank && given.is_some() {
        let mut errors = Errors::new(&["refresh"]);
        errors.clean(&data.0, "refresh", CharField::required(), false);
        errors.finish()?;
    }
    match given {
        Some(Value::String(s)) if !s.is_empty() => return Ok(s.clone()),
        // A number passed the field; simplejwt then fails to decode it.
        Some(Value::Number(n)) => return Ok(n.to_string()),
        _ => {}
    }
    if let Some(raw) = cookie_mode::refresh_cookie(state, headers)? {
        return Ok(raw);
    }
    Err(DrfError::AuthenticationFailed {
        detail: "No valid refresh token found.".into(),
        code: Some("token_not_valid"),
    })
}

/// DRF parses these bodies into a `QueryDict` (`html.is_html_input`).
fn is_html_input(headers: &HeaderMap) -> bool {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    media == "application/x-www-form-urlencoded" || media == "multipart/form-data"
}

/// DRF's `JSONEncoder` for an aware UTC datetime: `isoformat()` with `+00:00` as `Z`
/// (microseconds shown unless zero).
pub fn drf_datetime(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_as_drf_renders_them() {
        let t = DateTime::parse_from_rfc3339("2026-11-29T23:19:57.208042Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        assert_eq!(
            t.map(drf_datetime).as_deref(),
            Some("2026-11-29T23:19:57.208042Z")
        );
        let t = DateTime::parse_from_rfc3339("2026-11-29T23:19:57.000000999Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        assert_eq!(t.map(drf_datetime).as_deref(), Some("2026-11-29T23:19:57Z"));
    }
}
