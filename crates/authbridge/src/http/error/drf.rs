//! Django REST framework's and simplejwt's errors: `{"detail": ..}` (with simplejwt's `"code"`),
//! serializer field errors, and `WWW-Authenticate` on every 401 as DRF sends it.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::Internal;
use crate::http::drf::json_response;
use crate::tokens::TokenError;

const WWW_AUTHENTICATE: HeaderValue = HeaderValue::from_static("Bearer realm=\"api\"");

#[derive(Debug, thiserror::Error)]
pub enum DrfError {
    /// simplejwt's `InvalidToken`: 401 `{"detail": <message>, "code": "token_not_valid"}`.
    #[error("{0}")]
    Token(TokenError),
    /// `JWTAuthentication`'s `InvalidToken` for every token class it tried.
    #[error("Given token not valid for any token type")]
    NoValidTokenType { message: String },
    /// DRF's `AuthenticationFailed`: 401 `{"detail": ..}` plus `"code"` when simplejwt adds one.
    #[error("{detail}")]
    AuthenticationFailed {
        detail: String,
        code: Option<&'static str>,
    },
    /// DRF's `NotAuthenticated`.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// Serializer field errors: 400 `{"<field>": ["..."]}` in field order.
    #[error("invalid fields")]
    Fields(Map<String, Value>),
    /// 400 `{"non_field_errors": [..]}`.
    #[error("{0}")]
    NonField(String),
    /// DRF's `ParseError`: 400 `{"detail": ..}`.
    #[error("{0}")]
    Parse(String),
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(Method),
    /// 403 `{"detail": ..}` (DRF's `PermissionDenied`, e.g. a CSRF failure).
    #[error("{0}")]
    Forbidden(String),
    /// 409 `{"detail": .., "code": ..}`.
    #[error("{detail}")]
    Conflict { detail: String, code: &'static str },
    #[error("Not found.")]
    NotFound,
    /// DRF's content negotiation failure.
    #[error("Could not satisfy the request Accept header.")]
    NotAcceptable,
    #[error("Request body too large.")]
    PayloadTooLarge,
    /// DRF's `Throttled`: 429 with `Retry-After`.
    #[error("{}", crate::limits::throttled_detail(*.wait))]
    Throttled { wait: i64 },
    /// DRF's `ServiceUnavailable` (503, `Retry-After: 1`): every password worker busy, or the
    /// limiter's store unreachable.
    #[error("Service temporarily unavailable, try again later.")]
    Unavailable,
    /// Anything unexpected: logged with its cause, answered without it.
    #[error("internal error: {0}")]
    Internal(Internal),
}

impl DrfError {
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Internal::new(cause))
    }

    /// simplejwt's `AuthenticationFailed` for a token whose user is gone.
    pub fn user_not_found() -> Self {
        Self::AuthenticationFailed {
            detail: "User not found".into(),
            code: Some("user_not_found"),
        }
    }

    /// simplejwt's `AuthenticationFailed` for a user with `is_active` false.
    pub fn user_inactive() -> Self {
        Self::AuthenticationFailed {
            detail: "User is inactive".into(),
            code: Some("user_inactive"),
        }
    }

    pub fn field(name: &str, message: &str) -> Self {
        let mut m = Map::new();
        m.insert(name.into(), json!([message]));
        Self::Fields(m)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Token(_)
            | Self::NoValidTokenType { .. }
            | Self::AuthenticationFailed { .. }
            | Self::NotAuthenticated => StatusCode::UNAUTHORIZED,
            Self::Fields(_) | Self::NonField(_) | Self::Parse(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::Token(e) => json!({"detail": e.to_string(), "code": "token_not_valid"}),
            Self::NoValidTokenType { message } => json!({
                "detail": "Given token not valid for any token type",
                "code": "token_not_valid",
                "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}],
            }),
            Self::AuthenticationFailed {
                detail,
                code: Some(code),
            } => {
                json!({"detail": detail, "code": code})
            }
            Self::Conflict { detail, code } => json!({"detail": detail, "code": code}),
            Self::Fields(map) => Value::Object(map.clone()),
            Self::NonField(msg) => json!({"non_field_errors": [msg]}),
            Self::Internal(_) => json!({"detail": "A server error occurred."}),
            other => json!({"detail": other.to_string()}),
        }
    }
}

impl From<TokenError> for DrfError {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<crate::storage::StorageError> for DrfError {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::internal(e)
    }
}

impl From<crate::passwords::PasswordTaskError> for DrfError {
    fn from(e: crate::passwords::PasswordTaskError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for DrfError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = json_response(status, &self.body());
        let retry_after = match &self {
            Self::Throttled { wait } => Some(*wait),
            Self::Unavailable => Some(1),
            _ => None,
        };
        if let Some(v) = retry_after.and_then(|w| HeaderValue::from_str(&w.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, WWW_AUTHENTICATE);
        }
        if let Self::Internal(internal) = self {
            internal.attach(&mut response);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_drf_and_simplejwt() {
        assert_eq!(
            DrfError::Token(TokenError::Expired).body().to_string(),
            r#"{"detail":"Token is expired","code":"token_not_valid"}"#
        );
        assert_eq!(
            DrfError::AuthenticationFailed {
                detail: "No active account found with the given credentials".into(),
                code: None
            }
            .body()
            .to_string(),
            r#"{"detail":"No active account found with the given credentials"}"#
        );
        assert_eq!(
            DrfError::NonField("Token is blacklisted".into())
                .body()
                .to_string(),
            r#"{"non_field_errors":["Token is blacklisted"]}"#
        );
        assert_eq!(
            DrfError::MethodNotAllowed(Method::GET).body().to_string(),
            r#"{"detail":"Method \"GET\" not allowed."}"#
        );
    }

    #[test]
    fn throttled_and_unavailable_say_when_to_retry() {
        let res = DrfError::Throttled { wait: 42 }.into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "42");
        assert_eq!(
            DrfError::Throttled { wait: 1 }.body().to_string(),
            r#"{"detail":"Request was throttled. Expected available in 1 second."}"#
        );
        let res = DrfError::Unavailable.into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            DrfError::Unavailable.body().to_string(),
            r#"{"detail":"Service temporarily unavailable, try again later."}"#
        );
    }
}
