//! Client authentication at the back-channel endpoints (RFC 6749 §2.3): `oidc::client_auth`
//! reads what the request presents, the client is looked up (config first, then the database),
//! and its secret checked. Every failure is one `invalid_client` (401), with
//! `WWW-Authenticate: Basic` when the client tried Basic (§5.2), so a caller cannot tell an
//! unknown client from a wrong secret.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::form::OAuthForm;
use crate::http::error::OAuthError;
use crate::http::AppState;
use crate::oidc::client::Client;
use crate::oidc::client_auth::{presented, Method};
use crate::oidc::ErrorCode;

/// A refused client authentication, rendered as `invalid_client` or `invalid_request`.
#[derive(Debug)]
pub struct ClientRefused {
    error: OAuthError,
    basic: bool,
}

impl IntoResponse for ClientRefused {
    fn into_response(self) -> Response {
        let mut res = self.error.into_response();
        if self.basic {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"authbridge\""),
            );
        }
        res
    }
}

impl From<OAuthError> for ClientRefused {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            basic: false,
        }
    }
}

/// The authenticated client. `public_allowed`: whether `none` (a public client's client_id
/// alone) is enough here (not at introspection).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &OAuthForm,
    public_allowed: bool,
) -> Result<Client, ClientRefused> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let tried_basic = authorization.is_some_and(|v| {
        v.split_once(' ')
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
    });
    let refused = |code: ErrorCode, description: &str| ClientRefused {
        error: super::refused(code, description),
        basic: tried_basic && code == ErrorCode::InvalidClient,
    };
    let who = presented(
        authorization,
        form.get("client_id"),
        form.get("client_secret"),
    )
    .map_err(|code| match code {
        ErrorCode::InvalidRequest => refused(code, "use exactly one client authentication method"),
        _ => refused(ErrorCode::InvalidClient, "client authentication failed"),
    })?;
    let client = super::runtime(state)?
        .client(&who.client_id)
        .await
        .map_err(|e| ClientRefused::from(OAuthError::internal(e)))?;
    let Some(client) = client else {
        tracing::debug!(client_id = who.client_id, "unknown client");
        return Err(refused(
            ErrorCode::InvalidClient,
            "client authentication failed",
        ));
    };
    let public_refused = who.method == Method::None && !public_allowed;
    if public_refused || !client.check_secret(who.secret.as_deref()) {
        tracing::debug!(client_id = who.client_id, "client authentication failed");
        return Err(refused(
            ErrorCode::InvalidClient,
            "client authentication failed",
        ));
    }
    Ok(client)
}
