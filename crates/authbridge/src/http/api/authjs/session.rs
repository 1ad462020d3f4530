//! `GET /api/authjs/session` (who is this Auth.js session?) and `POST /api/authjs/token` (give me
//! simplejwt tokens for it).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::audit::{self, Event, Subject};
use crate::http::browser::csrf;
use crate::http::drf::json_response;
use crate::http::extract::AuthJsSession;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};
use crate::storage::User;

pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email.clone().unwrap_or_default(),
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    })
}

/// The session claims `/api/authjs/session` answers with, when present: who (`sub`, `name`,
/// `email`, `picture`, `image`), when (`iat`, `exp`, `jti`), and what the example's `session`
/// callback hands to page scripts anyway (`accessToken`, `accessTokenExpires`, `error`).
/// Everything else (refresh tokens under any name or nesting, provider tokens, app data) stays in
/// the encrypted cookie.
pub const ECHOED_CLAIMS: [&str; 11] = [
    "sub",
    "name",
    "email",
    "picture",
    "image",
    "iat",
    "exp",
    "jti",
    "accessToken",
    "accessTokenExpires",
    "error",
];

fn echoed(claims: Map<String, Value>) -> Map<String, Value> {
    claims
        .into_iter()
        .filter(|(name, _)| ECHOED_CLAIMS.contains(&name.as_str()))
        .collect()
}

pub async fn session(session: AuthJsSession) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"session": echoed(session.claims), "user": user_json(&session.user)}),
    )
}

pub async fn exchange(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    session: AuthJsSession,
) -> Result<Response, DrfError> {
    if session.from_cookie {
        csrf::check(&state.settings, &headers)?;
    }
    // The pair joins the session's login: signing the session out ends it too.
    let pair = state
        .flows()
        .issue_pair(&session.user, Some(&session.family))
        .await?;
    audit::record(
        Event::SessionExchange,
        Subject {
            username: Some(&session.user.username),
            user_id: Some(session.user.id),
            client: Some(client.0),
            reason: None,
        },
    );
    Ok(json_response(
        StatusCode::OK,
        &json!({"refresh": pair.refresh, "access": pair.access, "user_id": session.user.id}),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn only_allowed_claims_are_echoed() {
        let claims = json!({
            "sub": "1", "name": "Ann", "email": "a@x", "picture": "p", "iat": 1, "exp": 2,
            "jti": "j", "accessToken": "a", "error": "RefreshTokenError",
            "refreshToken": "r1", "rt": "r2", "tokens": {"refresh": "r3"}, "REFRESH": "r4",
            "provider_access_token": "r5", "user_id": 3
        });
        let serde_json::Value::Object(claims) = claims else {
            unreachable!()
        };
        let out = super::echoed(claims);
        let mut names: Vec<&str> = out.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "accessToken",
                "email",
                "error",
                "exp",
                "iat",
                "jti",
                "name",
                "picture",
                "sub"
            ]
        );
        let text = serde_json::to_string(&out).unwrap_or_default();
        for secret in ["r1", "r2", "r3", "r4", "r5"] {
            assert!(!text.contains(&format!("\"{secret}\"")), "{secret} leaked");
        }
    }
}
