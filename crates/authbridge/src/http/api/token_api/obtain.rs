//! `POST /api/token/` (simplejwt `TokenObtainPairView`), plus `user_id` in the body.
//!
//! Before simplejwt's steps, each attempt is counted by the login limiter (`crate::limits`) and a
//! locked or throttled one is refused with DRF's 429 without touching the database or a hasher;
//! when the password queue is full the answer is 503. Every outcome is an audit event.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::audit::{self, Event, Subject};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::{DrfData, Fields};
use crate::http::drf::json_response;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};
use crate::limits::{throttled_detail, Decision};
use crate::passwords::PasswordError;
use crate::storage::User;

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

enum Outcome {
    Authenticated(User),
    /// Wrong password, unknown user or inactive user: the reason is for the audit log only.
    Refused(&'static str),
    QueueFull,
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
    let subject = Subject {
        username: Some(&username),
        client,
        ..Subject::default()
    };
    let admitted = state
        .limiter
        .admit(&username, client, state.clock.now())
        .await;
    let admission = match admitted {
        // The counter's store (Redis, the database) is unreachable: refuse without hashing, as a
        // temporary condition the client may retry, never unthrottled and never a 500.
        Err(e) => {
            tracing::error!(error = %e, "login limiter unavailable; login refused");
            return Ok(retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Login is temporarily unavailable, try again later.",
                QUEUE_FULL_RETRY_AFTER,
            ));
        }

        Ok(Decision::Admitted(admission)) => admission,
        Ok(Decision::Refused { scope, wait }) => {
            let event = if scope.is_lockout() {
                Event::LoginLocked
            } else {
                Event::LoginThrottled
            };
            audit::record(event, subject);
            return Ok(retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                &throttled_detail(wait),
                wait,
            ));
        }
    };

    let outcome = match authenticate(&state, &username, password).await {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Err(undo) = state.limiter.abandoned(admission).await {
                tracing::warn!("login counter not settled: {undo}");
            }
            return Err(e);
        }
    };
    let user = match outcome {
        Outcome::Authenticated(user) => user,
        Outcome::Refused(reason) => {
            audit::record(
                Event::LoginFailed,
                Subject {
                    reason: Some(reason),
                    ..subject
                },
            );
            return Err(no_active_account());
        }
        Outcome::QueueFull => {
            if let Err(e) = state.limiter.abandoned(admission).await {
                tracing::warn!("login counter not settled: {e}");
            }
            audit::record(Event::LoginQueueFull, subject);
            return Ok(retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many logins in progress, try again later.",
                QUEUE_FULL_RETRY_AFTER,
            ));
        }
    };
    // The password was right: a counter that cannot be cleared now (Redis restarting) must not
    // turn a good login into an error.
    if let Err(e) = state.limiter.succeeded(admission).await {
        tracing::warn!("login counter not cleared: {e}");
    }
    let pair = state.flows().issue_pair(&user, None).await?;
    audit::record(
        Event::LoginOk,
        Subject {
            user_id: Some(user.id),
            ..subject
        },
    );
    cookie_mode::respond_with_pair(
        &state,
        &headers,
        json!({"refresh": pair.refresh, "access": pair.access, "user_id": user.id}),
    )
}

/// Django's ModelBackend: look the user up, check the password (hashing anyway for an unknown
/// user), upgrade an outdated hash, then refuse inactive users.
async fn authenticate(
    state: &AppState,
    username: &str,
    password: Zeroizing<String>,
) -> Result<Outcome, DrfError> {
    let user = state.store.user_by_username(username).await?;
    let verdict = match state
        .passwords
        .check(password.clone(), user.as_ref().map(|u| u.password.clone()))
        .await
    {
        Ok(verdict) => verdict,
        Err(PasswordError::QueueFull) => return Ok(Outcome::QueueFull),
        Err(e) => return Err(e.into()),
    };
    let Some(mut user) = user else {
        return Ok(Outcome::Refused("unknown_user"));
    };
    if !verdict.valid {
        return Ok(Outcome::Refused("bad_password"));
    }
    if verdict.must_update {
        // The upgrade is Django's housekeeping, not part of the answer: when the queue is full
        // it waits for the next login.
        match state.passwords.make(password).await {
            Ok(encoded) => {
                // Same password, new hash: not a password change (the user stays logged in
                // elsewhere), and the pair issued now carries the new hash's revoke claim.
                state
                    .store
                    .upgrade_password(user.id, &user.password, &encoded)
                    .await?;
                user.password = encoded;
            }
            Err(PasswordError::QueueFull) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !user.is_active {
        return Ok(Outcome::Refused("inactive"));
    }
    Ok(Outcome::Authenticated(user))
}
