//! Sign-up and email confirmation: `registration/` (`RegisterView`), `registration/verify-email/`
//! (`VerifyEmailView`) and `registration/resend-email/` (`ResendEmailVerificationView`).

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::serializers::{self, RegisterCheck};
use super::{client_of, detail, flows, link_origin, mail_link, user_body, vary_cookie, MaybeUser};
use crate::flows::account::{NewAccount, Registered};
use crate::http::drf::body::DrfData;
use crate::http::drf::json_response;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};

/// `POST registration/`: 201 `{"detail":"Verification e-mail sent."}` when verification is
/// mandatory, else 201 with a pair and the user (dj-rest-auth sets no cookie here).
pub async fn register(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let flows = flows(&state)?;
    let validators = &state.settings.password_validators;
    let client = client_of(client);
    let mut check = RegisterCheck::new(&data.0, validators);
    let found = flows
        .signup_checks(check.username(), check.email(), client)
        .await?;
    if found.username_taken {
        check.username_taken();
    }
    if found.email_registered {
        check.email_taken();
    }
    let registration = check.finish(validators)?;
    let account = NewAccount {
        username: registration.username,
        email: registration.email,
        password: registration.password,
        is_valid_email: serializers::is_valid_email,
    };
    let origin = link_origin(&state, &headers);
    let body = match flows.register(account, &origin, client).await? {
        Registered::VerificationSent { .. } => json!({"detail": "Verification e-mail sent."}),
        Registered::LoggedIn { user, tokens } => json!({
            "access": tokens.access,
            "refresh": tokens.refresh,
            "user": user_body(&user),
        }),
    };
    Ok(vary_cookie(json_response(StatusCode::CREATED, &body)))
}

/// `POST registration/verify-email/ {key}`: 200 `{"detail":"ok"}`, or 404 for any key that
/// does not confirm an unverified address now.
pub async fn verify_email(
    State(state): State<AppState>,
    client: ClientIp,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    let flows = flows(&state)?;
    let key = serializers::verify_email(&data.0)?;
    flows.verify_email(&key, client_of(client)).await?;
    Ok(detail(StatusCode::OK, "ok"))
}

/// `VerifyEmailView.get` raises `MethodNotAllowed('GET')` (HEAD runs it too).
pub async fn verify_email_get(_auth: MaybeUser) -> DrfError {
    DrfError::MethodNotAllowed(Method::GET)
}

/// `POST registration/resend-email/ {email}`: always 200 `{"detail":"ok"}` (unless throttled);
/// only an unverified address gets an email, off the request path.
pub async fn resend_email(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    _auth: MaybeUser,
    data: DrfData,
) -> Result<Response, DrfError> {
    mail_link(
        &state,
        client,
        &headers,
        &data,
        "ok",
        |flows, email, origin, client| async move {
            flows.resend_verification(&email, &origin, client).await
        },
    )
    .await
}
