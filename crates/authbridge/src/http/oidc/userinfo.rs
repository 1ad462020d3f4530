//! `GET/POST /oauth2/userinfo` (OpenID Connect Core §5.3): the Bearer access token from the
//! `Authorization` header only (RFC 6750 §2.1; the query and body forms of §2.2-2.3 are refused:
//! they leak into logs), answered with `sub` and the scope's claims. Errors are RFC 6750 §3's,
//! in `WWW-Authenticate` (and the body, for clients that read it).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::form::refuse_query_credentials;
use crate::flows::oidc::userinfo::UserinfoError;
use crate::http::error::OAuthError;
use crate::http::extract::bearer_token;
use crate::http::AppState;

pub async fn userinfo(State(state): State<AppState>, req: Request) -> Response {
    if refuse_query_credentials(req.uri().query()).is_err() {
        return challenge(StatusCode::BAD_REQUEST, Some("invalid_request"));
    }
    let Some(raw) = bearer_token(req.headers()).filter(|t| !t.is_empty()) else {
        // §3.1: a request without credentials gets the challenge without an error code.
        return challenge(StatusCode::UNAUTHORIZED, None);
    };
    let email_verified = state.settings.oidc.email_verified;
    match state.flows().userinfo(raw, email_verified).await {
        Ok(claims) => super::no_store(&serde_json::Value::Object(claims)),
        Err(UserinfoError::InvalidToken) => {
            challenge(StatusCode::UNAUTHORIZED, Some("invalid_token"))
        }
        Err(UserinfoError::InsufficientScope) => {
            challenge(StatusCode::FORBIDDEN, Some("insufficient_scope"))
        }
        Err(UserinfoError::Flow(e)) => OAuthError::internal(e).into_response(),
    }
}

fn challenge(status: StatusCode, error: Option<&'static str>) -> Response {
    let (mut res, value) = match error {
        Some(error) => (
            OAuthError::new(status, error, None).into_response(),
            format!("Bearer error=\"{error}\""),
        ),
        None => (
            OAuthError::new(status, "invalid_token", None).into_response(),
            "Bearer".into(),
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    res
}
