//! The Auth.js bridge: read Auth.js sessions (v5 and v4 cookies, chunked, or a Bearer JWE),
//! exchange them for simplejwt tokens, and sync OAuth sign-ins into Django's users.

mod session;
mod sync;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};

use super::{ApiError, AppState};
use crate::storage::User;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/authjs/session", get(session::session))
        .route("/api/authjs/token", post(session::exchange))
        .route("/api/users/sync", post(sync::sync))
}

/// Cookie names in the order they are tried: secure names first (a browser only holds them on
/// https, where they win), v5 before v4.
const COOKIE_NAMES: [&str; 4] = [
    "__Secure-authjs.session-token",
    "authjs.session-token",
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
];

/// A decrypted Auth.js session and the Django user it is linked to.
pub struct AuthJsSession {
    pub claims: Map<String, Value>,
    pub user: User,
    /// The session came in a cookie (so the request needs CSRF protection).
    pub from_cookie: bool,
}

fn session_invalid() -> ApiError {
    ApiError::AuthenticationFailed {
        detail: "Auth.js session is invalid or expired".into(),
        code: Some("session_not_valid"),
    }
}

fn cookie_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

impl FromRequestParts<AppState> for AuthJsSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let decoder = state.authjs.as_ref().ok_or(ApiError::NotFound)?;
        let now = state.clock.now().timestamp();
        let cookies = cookie_pairs(&parts.headers);
        let mut saw_cookie = false;
        let mut decoded = None;
        for name in COOKIE_NAMES {
            let pairs = cookies.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let token =
                authjs_jwe::reassemble_chunks(pairs, name).map_err(|_| session_invalid())?;
            if let Some(token) = token {
                saw_cookie = true;
                if let Ok(claims) = decoder.decode_cookie(&token, name, now) {
                    decoded = Some((claims, true));
                    break;
                }
            }
        }
        if decoded.is_none() && !saw_cookie {
            if let Some(auth) = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
            {
                if let Some(raw) = auth.strip_prefix("Bearer ") {
                    let raw = percent_encoding::percent_decode_str(raw.trim()).decode_utf8_lossy();
                    let (_, claims) = decoder
                        .decode_bearer(&raw, now)
                        .map_err(|_| session_invalid())?;
                    decoded = Some((claims, false));
                }
            }
        }
        let Some((claims, from_cookie)) = decoded else {
            return Err(if saw_cookie {
                session_invalid()
            } else {
                ApiError::NotAuthenticated
            });
        };
        let user = linked_user(state, &claims).await?;
        Ok(Self {
            claims,
            user,
            from_cookie,
        })
    }
}

/// The Django user a session names: the `user_id` claim, else `sub` when it is an integer (the
/// Credentials flow puts Django's id there).
async fn linked_user(state: &AppState, claims: &Map<String, Value>) -> Result<User, ApiError> {
    let id = ["user_id", "sub"]
        .iter()
        .find_map(|k| match claims.get(*k)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse::<i64>().ok(),
            _ => None,
        });
    let Some(id) = id else {
        return Err(ApiError::AuthenticationFailed {
            detail: "Auth.js session is not linked to a Django user".into(),
            code: Some("user_not_linked"),
        });
    };
    let user = state
        .store
        .user_by_id(id)
        .await?
        .ok_or(ApiError::AuthenticationFailed {
            detail: "User not found".into(),
            code: Some("user_not_found"),
        })?;
    if state.settings.simple_jwt.check_user_is_active && !user.is_active {
        return Err(ApiError::AuthenticationFailed {
            detail: "User is inactive".into(),
            code: Some("user_inactive"),
        });
    }
    Ok(user)
}
