//! `POST /oauth2/revoke` (RFC 7009): the client authenticates (public clients by client_id), the
//! token is revoked if it is a refresh token issued to it (`flows::oidc::revoke`), and the answer
//! is 200 whatever the token was (§2.2).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::client::authenticate;
use super::form::OAuthForm;
use crate::http::error::OAuthError;
use crate::http::extract::ClientIp;
use crate::http::AppState;
use crate::oidc::ErrorCode;

pub async fn revoke(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    form: OAuthForm,
) -> Response {
    let client = match authenticate(&state, &headers, &form, true).await {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    let Some(token) = form.get("token") else {
        return super::refused(ErrorCode::InvalidRequest, "token is required").into_response();
    };
    match state.flows().revoke(&client, token, ip.0).await {
        Ok(revoked) => {
            tracing::debug!(client_id = client.client_id, revoked, "revocation");
            super::no_store(&serde_json::json!({}))
        }
        Err(e) => OAuthError::internal(e).into_response(),
    }
}
