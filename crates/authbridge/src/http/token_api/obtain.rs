//! `POST /api/token/` (simplejwt `TokenObtainPairView`), plus `user_id` in the body.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::issue_pair;
use crate::http::body::{DrfData, Fields};
use crate::http::{cookie_mode, ApiError, AppState};

pub fn metadata(state: &AppState) -> Value {
    super::view_metadata(
        "Token Obtain Pair",
        "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
        &[state.settings.username_field.as_str(), "password"],
        &[],
    )
}

fn no_active_account() -> ApiError {
    ApiError::AuthenticationFailed {
        detail: "No active account found with the given credentials".into(),
        code: None,
    }
}

pub async fn obtain(
    State(state): State<AppState>,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, ApiError> {
    let username_field = state.settings.username_field.as_str();
    let mut fields = Fields::new(&data);
    let username = fields.char_field(username_field);
    let password = Zeroizing::new(fields.char_field("password"));
    fields.finish()?;

    // Django's ModelBackend: look the user up, check the password (hashing anyway for an unknown
    // user), upgrade an outdated hash, then refuse inactive users.
    let user = state.store.user_by_username(&username).await?;
    let verdict = state
        .passwords
        .check(password.clone(), user.as_ref().map(|u| u.password.clone()))
        .await?;
    let Some(mut user) = user.filter(|_| verdict.valid) else {
        return Err(no_active_account());
    };
    if verdict.must_update {
        let encoded = state.passwords.make(password).await?;
        // Same password, new hash: not a password change (the user stays logged in elsewhere).
        state
            .store
            .upgrade_password(user.id, &user.password, &encoded)
            .await?;
        user.password = encoded;
    }
    if !user.is_active {
        return Err(no_active_account());
    }
    let pair = issue_pair(&state, &user).await?;
    cookie_mode::respond_with_pair(
        &state,
        &headers,
        json!({"refresh": pair.refresh, "access": pair.access, "user_id": user.id}),
    )
}
