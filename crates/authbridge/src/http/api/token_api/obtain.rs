//! `POST /api/token/` (simplejwt `TokenObtainPairView`), plus `user_id` in the body.
//!
//! The password login is `flows::login` (shared with the provider's `/login` page): a locked or
//! throttled attempt is refused with DRF's 429 without touching the database or a hasher; when the
//! password queue is full the answer is 503.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::flows::login::{LoginError, LoginOutcome};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};
use crate::limits::throttled_detail;

/// `Retry-After` of the 503 sent when the password queue is full.
const QUEUE_FULL_RETRY_AFTER: i64 = 1;

pub fn metadata(state: &AppState) -> Value {
    super::view_metadata(
        "Token Obtain Pair",
        "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
        &[state.settings.username_field.as_str(), "password"],
        &[],
    )
}

fn no_active_account() -> DrfError {
    DrfError::AuthenticationFailed {
        detail: "No active account found with the given credentials".into(),
        code: None,
    }
}

/// A DRF-style `{"detail": ..}` answer with `Retry-After`.
fn retry_later(status: StatusCode, detail: &str, wait: i64) -> Response {
    let mut res = json_response(status, &json!({ "detail": detail }));
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    res
}

impl From<LoginError> for DrfError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Storage(e) => e.into(),
            LoginError::Password(e) => e.into(),
        }
    }
}

pub async fn obtain(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let username_field = state.settings.username_field.as_str();
    let mut fields = Fields::new(&data);
    let username = fields.char_field(username_field);
    let password = Zeroizing::new(fields.char_field("password"));
    fields.finish()?;

    let client = (client != ClientIp::UNKNOWN).then_some(client.0);
    let user = match state
        .password_login()
        .login(&username, password, client)
        .await?
    {
        LoginOutcome::Authenticated(user) => user,
        LoginOutcome::Refused => return Err(no_active_account()),
        LoginOutcome::Throttled { wait, .. } => {
            return Ok(retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                &throttled_detail(wait),
                wait,
            ))
        }
        LoginOutcome::Busy => {
            return Ok(retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many logins in progress, try again later.",
                QUEUE_FULL_RETRY_AFTER,
            ))
        }
        // The counter's store (Redis, the database) is unreachable: a temporary condition the
        // client may retry, never unthrottled and never a 500.
        LoginOutcome::LimiterUnavailable => {
            return Ok(retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Login is temporarily unavailable, try again later.",
                QUEUE_FULL_RETRY_AFTER,
            ))
        }
    };
    let pair = state.flows().issue_pair(&user, None).await?;
    cookie_mode::respond_with_pair(
        &state,
        &headers,
        json!({"refresh": pair.refresh, "access": pair.access, "user_id": user.id}),
    )
}
