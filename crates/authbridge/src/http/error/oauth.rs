//! RFC 6749 §5.2 error responses, for OAuth 2 and OpenID Connect endpoints: `{"error": ..}` with
//! an optional `"error_description"`, `Cache-Control: no-store` (the answer concerns credentials),
//! and no `WWW-Authenticate` of DRF's `Bearer realm="api"` kind.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Internal;
use crate::http::drf::json_response;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// An error the RFC names (`invalid_request`, `invalid_grant`, `invalid_client`, ...).
    #[error("{error}")]
    Refused {
        status: StatusCode,
        error: &'static str,
        description: Option<String>,
    },
    /// Anything unexpected: `server_error`, logged with its cause, answered without it.
    #[error("internal error: {0}")]
    Internal(Internal),
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: Option<String>) -> Self {
        Self::Refused {
            status,
            error,
            description,
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Internal::new(cause))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Self::Refused {
                error,
                description: Some(d),
                ..
            } => json!({"error": error, "error_description": d}),
            Self::Refused { error, .. } => json!({"error": error}),
            Self::Internal(_) => json!({"error": "server_error"}),
        };
        let mut response = json_response(status, &body);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::Internal(internal) = self {
            internal.attach(&mut response);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::response_parts;

    async fn parts(error: OAuthError) -> (StatusCode, axum::http::HeaderMap, String) {
        response_parts(error.into_response()).await
    }

    #[tokio::test]
    async fn bodies_and_headers_are_rfc_6749() {
        let (status, headers, body) = parts(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            None,
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, r#"{"error":"invalid_grant"}"#);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE));

        let (status, headers, body) = parts(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            Some("Client authentication failed.".into()),
        ))
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE));

        let (status, headers, body) = parts(OAuthError::internal("disk on fire")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, r#"{"error":"server_error"}"#);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
}
