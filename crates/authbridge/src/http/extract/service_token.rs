//! The service token (`AUTHBRIDGE_SERVICE_TOKEN`): how a trusted server (the Auth.js backend)
//! proves itself to `/api/users/sync`. Checked in the handler, after the body is parsed, so a
//! malformed body is reported first as DRF does.

use axum::http::HeaderMap;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::bearer::bearer_token;
use crate::http::{AppState, DrfError};

/// 404 when no service token is configured (the endpoint does not exist), 401 without a Bearer
/// token or with the wrong one.
pub fn check_service_token(state: &AppState, headers: &HeaderMap) -> Result<(), DrfError> {
    let expected = state
        .settings
        .service_token
        .as_ref()
        .ok_or(DrfError::NotFound)?;
    match bearer_token(headers) {
        None => Err(DrfError::NotAuthenticated),
        Some(p) if !service_token_ok(p, expected.expose_secret()) => {
            Err(DrfError::AuthenticationFailed {
                detail: "Invalid service token.".into(),
                code: Some("invalid_service_token"),
            })
        }
        Some(_) => Ok(()),
    }
}

/// Compare digests so neither content nor length leaks through timing.
fn service_token_ok(presented: &str, expected: &str) -> bool {
    Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}
