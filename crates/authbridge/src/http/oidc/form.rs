//! The body of a back-channel request (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1):
//! `application/x-www-form-urlencoded` only, bounded (`MAX_FORM_BYTES`), each parameter at most
//! once (§3.2), and no credential in the query string, where logs and proxies keep it
//! (RFC 6750 §5.3, RFC 9700 §4.3.2).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use std::collections::HashMap;

use crate::http::error::OAuthError;

/// Parameters that are secrets or grants: refused in the query string of any endpoint here.
const CREDENTIALS: [&str; 8] = [
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "token",
    "access_token",
    "password",
    "client_assertion",
];

/// The form's parameters, each once.
#[derive(Debug, Default)]
pub struct OAuthForm(HashMap<String, String>);

impl OAuthForm {
    /// A parameter's value; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut fields = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if fields
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(invalid(format!("parameter {name} is repeated")));
            }
        }
        Ok(Self(fields))
    }
}

fn invalid(description: String) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some(description),
    )
}

/// `invalid_request` when the query string carries a credential.
pub fn refuse_query_credentials(query: Option<&str>) -> Result<(), OAuthError> {
    let Some(query) = query else { return Ok(()) };
    match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| CREDENTIALS.contains(&k.as_ref()))
    {
        Some((name, _)) => Err(invalid(format!(
            "{name} is not accepted in the query string; send it in the body"
        ))),
        None => Ok(()),
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, OAuthError> {
        refuse_query_credentials(req.uri().query())?;
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if media != "application/x-www-form-urlencoded" {
            return Err(invalid(
                "the body must be application/x-www-form-urlencoded".into(),
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the body exceeds {} bytes", super::MAX_FORM_BYTES)
            } else {
                "the body could not be read".into()
            };
            let status = if status.is_client_error() {
                status
            } else {
                StatusCode::BAD_REQUEST
            };
            OAuthError::new(status, "invalid_request", Some(description))
        })?;
        Self::parse(&body)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parameters_once_and_never_credentials_in_the_query() {
        let form = OAuthForm::parse(b"grant_type=authorization_code&code=abc&scope=").unwrap();
        assert_eq!(form.get("code"), Some("abc"));
        assert_eq!(form.get("scope"), None, "empty is absent");
        assert!(OAuthForm::parse(b"code=a&code=b").is_err());
        assert!(refuse_query_credentials(None).is_ok());
        assert!(refuse_query_credentials(Some("foo=bar")).is_ok());
        for q in [
            "client_secret=s",
            "a=1&refresh_token=x",
            "access_token=t",
            "code=c",
        ] {
            assert!(refuse_query_credentials(Some(q)).is_err(), "{q}");
        }
    }
}
