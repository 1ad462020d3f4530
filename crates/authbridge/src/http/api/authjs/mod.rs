//! The Auth.js bridge: read Auth.js sessions (v5 and v4 cookies, chunked, or a Bearer JWE),
//! exchange them for simplejwt tokens, and sync OAuth sign-ins into Django's users.

mod session;
mod sync;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};

use super::token_api::logout::revoked_since;
use crate::audit::{self, Event, Subject};
use crate::http::extract::{bearer_token, cookie_pairs, ClientIp};
use crate::http::{AppState, DrfError};
use crate::storage::{FamilyState, User};
use crate::tokens::{TokenType, UserIdClaim};

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
    /// The login (refresh family) of the authbridge refresh token the session carries.
    pub family: String,
}

fn session_invalid() -> DrfError {
    DrfError::AuthenticationFailed {
        detail: "Auth.js session is invalid or expired".into(),
        code: Some("session_not_valid"),
    }
}

fn not_linked() -> DrfError {
    DrfError::AuthenticationFailed {
        detail: "Auth.js session is not linked to a Django user".into(),
        code: Some("user_not_linked"),
    }
}

fn session_revoked() -> DrfError {
    DrfError::AuthenticationFailed {
        detail: "Auth.js session has been signed out".into(),
        code: Some("session_revoked"),
    }
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
        let (user, family, issued_at) = match linked_user(state, &claims).await {
            Ok(linked) => linked,
            Err((error, reason, user_id)) => {
                audit::record(
                    Event::SessionRefused,
                    Subject {
                        user_id,
                        client: Some(client.0),
                        reason: Some(reason),
                        ..Subject::default()
                    },
                );
                return Err(error);
            }
        };
        if let Some(revoked) = revoked_since(state, &user, issued_at, client).await? {
            audit::record(
                Event::SessionRefused,
                Subject {
                    username: Some(&user.username),
                    user_id: Some(user.id),
                    client: Some(client.0),
                    reason: Some(revoked.reason()),
                },
            );
            return Err(session_revoked());
        }
        Ok(Self {
            claims,
            user,
            from_cookie,
            family,
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

type Refusal = (DrfError, &'static str, Option<i64>);

/// The Django user a session names, and its login. Only a claim authbridge issued counts: the
/// session must carry an authbridge refresh token (what `/api/token/`, `/api/users/sync` or
/// `/api/authjs/token` returned, kept by the app's `jwt` callback), valid under our keys, whose
/// login has not been signed out. Its `user_id` is the user. A bare `sub` or `user_id` claim is
/// never trusted: without an adapter next-auth puts the OAuth provider's own user id in `sub`,
/// and an app may copy provider profile fields into the token.
async fn linked_user(
    state: &AppState,
    claims: &Map<String, Value>,
) -> Result<(User, String, Option<i64>), Refusal> {
    let raw = refresh_claim(claims, &state.settings.authjs_refresh_claims).ok_or((
        not_linked(),
        "no_refresh_token",
        None,
    ))?;
    let now = state.clock.now();
    let token = state
        .tokens
        .decode(raw, now.timestamp())
        .and_then(|t| {
            state
                .tokens
                .rules
                .verify(&t, Some(TokenType::Refresh), now.timestamp())
                .map(|()| t)
        })
        .map_err(|_| (session_invalid(), "refresh_token_invalid", None))?;
    let jti =
        token
            .jti(&state.tokens.rules)
            .ok_or((session_invalid(), "refresh_token_invalid", None))?;
    let UserIdClaim::Id(id) = token.user_id(&state.tokens.rules) else {
        return Err((not_linked(), "refresh_token_without_user", None));
    };
    let internal = |e: crate::storage::StorageError| (DrfError::from(e), "storage", Some(id));
    let family = match state.store.family_state(jti, now).await.map_err(internal)? {
        FamilyState::Live { family } => family,
        FamilyState::Revoked => return Err((session_revoked(), "family_revoked", Some(id))),
    };
    let user = state.store.user_by_id(id).await.map_err(internal)?.ok_or((
        DrfError::user_not_found(),
        "user_not_found",
        Some(id),
    ))?;
    if state.settings.simple_jwt.check_user_is_active && !user.is_active {
        return Err((DrfError::user_inactive(), "inactive", Some(id)));
    }
    let issued_at = token.claims.get("iat").and_then(Value::as_i64);
    Ok((user, family, issued_at))
}
