//! The gateway's own answers, when it cannot hand a request to the upstream: DRF-shaped JSON
//! (`{"detail": .., "code": ..}`), so a Django API's clients read them as they read Django's.
//! Authentication and permission refusals on proxied paths are simplejwt's and DRF's own
//! (`DrfError`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::drf::json_response;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The upstream refused or dropped the connection, or is not there.
    #[error("The upstream server is unavailable.")]
    BadGateway,
    /// The upstream did not start its answer within `READ_TIMEOUT`.
    #[error("The upstream server did not answer in time.")]
    Timeout,
    /// The request body is larger than `MAX_BODY_BYTES`.
    #[error("Request body too large.")]
    TooLarge,
    /// A path whose meaning depends on who normalises it (`/a/../b`).
    #[error("The request path is not acceptable.")]
    BadPath,
    /// As many WebSockets are joined as `AUTHBRIDGE_MAX_CONNECTIONS` allows.
    #[error("Too many upgraded connections are open.")]
    TooManyUpgrades,
    /// A forward-auth check carries a client-sent identity header (any spelling Django maps to
    /// the same key).
    #[error("The request carries an identity header.")]
    IdentityHeader,
}

impl GatewayError {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadPath => StatusCode::BAD_REQUEST,
            Self::TooManyUpgrades => StatusCode::SERVICE_UNAVAILABLE,
            Self::IdentityHeader => StatusCode::FORBIDDEN,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::BadGateway => "upstream_unavailable",
            Self::Timeout => "upstream_timeout",
            Self::TooLarge => "request_too_large",
            Self::BadPath => "bad_path",
            Self::TooManyUpgrades => "too_many_upgrades",
            Self::IdentityHeader => "identity_header",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        json_response(
            self.status(),
            &json!({"detail": self.to_string(), "code": self.code()}),
        )
    }
}
