//! `POST /oauth2/introspect` (RFC 7662): for confidential clients (the resource servers and
//! relying parties holding a secret); a token is active only to the client it was issued to.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::client::authenticate;
use super::form::OAuthForm;
use crate::http::error::OAuthError;
use crate::http::AppState;
use crate::oidc::ErrorCode;

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Response {
    let client = match authenticate(&state, &headers, &form, false).await {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    let Some(token) = form.get("token") else {
        return super::refused(ErrorCode::InvalidRequest, "token is required").into_response();
    };
    let issuer = match super::runtime(&state) {
        Ok(runtime) => runtime.issuer(),
        Err(e) => return e.into_response(),
    };
    match state
        .flows()
        .introspect(&client, token, form.get("token_type_hint"), issuer)
        .await
    {
        Ok(answer) => super::no_store(&answer),
        Err(e) => OAuthError::internal(e).into_response(),
    }
}
