//! The Auth.js session (v5 and v4 cookies, chunked or not, or a Bearer JWE) as an extractor:
//! decrypted with the configured secrets, then tied to a Django user by the authbridge refresh
//! token it carries (`crate::flows::session`). The Auth.js endpoints and the gateway use it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::{bearer_token, cookie_pairs, ClientIp};
use crate::flows::{FlowError, SessionRefusal};
use crate::http::{AppState, DrfError};
use crate::model::User;

/// Cookie names in the order they are tried: secure names first (a browser only holds them on
/// https, where they win), v5 before v4.
pub const COOKIE_NAMES: [&str; 4] = [
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
    /// The login (refresh family) of the authbridge refresh token the session carries.
    pub family: String,
}

fn session_invalid() -> DrfError {
    FlowError::Session(SessionRefusal::Invalid).into()
}

impl FromRequestParts<AppState> for AuthJsSession {
    type Rejection = DrfError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, DrfError> {
        let decoder = state.authjs.as_ref().ok_or(DrfError::NotFound)?;
        let now = state.clock.now().timestamp();
        let cookies: Vec<_> = cookie_pairs(&parts.headers).collect();
        let mut saw_cookie = false;
        let mut decoded = None;
        for name in COOKIE_NAMES {
            let token = authjs_jwe::reassemble_chunks(cookies.iter().copied(), name)
                .map_err(|_| session_invalid())?;
            if let Some(token) = token {
                saw_cookie = true;
                if let Ok(claims) = decoder.decode_cookie(&token, name, now) {
                    decoded = Some((claims, true));
                    break;
                }
            }
        }
        if decoded.is_none() && !saw_cookie {
            if let Some(raw) = bearer_token(&parts.headers) {
                let raw = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
                let (_, claims) = decoder
                    .decode_bearer(&raw, now)
                    .map_err(|_| session_invalid())?;
                decoded = Some((claims, false));
            }
        }
        let Some((claims, from_cookie)) = decoded else {
            return Err(if saw_cookie {
                session_invalid()
            } else {
                DrfError::NotAuthenticated
            });
        };
        let client = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp::UNKNOWN);
        let refresh = refresh_claim(&claims, &state.settings.authjs_refresh_claims);
        let login = state.flows().session_login(refresh, client.0).await?;
        Ok(Self {
            claims,
            user: login.user,
            from_cookie,
            family: login.family,
        })
    }
}

/// The first configured claim (a dotted path reaches into objects) holding a string.
fn refresh_claim<'a>(claims: &'a Map<String, Value>, paths: &[String]) -> Option<&'a str> {
    paths.iter().find_map(|path| {
        let mut parts = path.split('.');
        let mut value = claims.get(parts.next()?)?;
        for part in parts {
            value = value.as_object()?.get(part)?;
        }
        value.as_str()
    })
}
