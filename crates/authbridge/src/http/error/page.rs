//! A small HTML page, for what a browser navigates to (login and consent pages, redirects that
//! cannot go back to the client): the title as heading, one paragraph, everything escaped.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Internal;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{title}")]
    Page {
        status: StatusCode,
        title: String,
        message: String,
    },
    /// Anything unexpected: Django's bare "Server Error (500)", logged with its cause.
    #[error("internal error: {0}")]
    Internal(Internal),
}

impl PageError {
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Page {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(Internal::new(cause))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Self::Page {
                status,
                title,
                message,
            } => (*status, title.as_str(), message.as_str()),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Server Error (500)", ""),
        };
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body><h1>{}</h1><p>{}</p></body></html>\n",
            escape_html(title),
            escape_html(title),
            escape_html(message)
        );
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response();
        // The provider's pages re-render this in their branded layout (`http::pages`).
        response.extensions_mut().insert(ShownError {
            title: title.to_string(),
            message: message.to_string(),
        });
        if let Self::Internal(internal) = self {
            internal.attach(&mut response);
        }
        response
    }
}

/// What an error page says, carried on its response for a layout that knows the branding.
#[derive(Debug, Clone)]
pub struct ShownError {
    pub title: String,
    pub message: String,
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::response_parts;

    async fn parts(error: PageError) -> (StatusCode, axum::http::HeaderMap, String) {
        response_parts(error.into_response()).await
    }

    #[tokio::test]
    async fn pages_are_small_and_escaped() {
        let (status, headers, body) = parts(PageError::new(
            StatusCode::BAD_REQUEST,
            "Invalid <request>",
            "The \"redirect_uri\" & client do not match.",
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
        assert!(!headers.contains_key(header::CACHE_CONTROL));
        assert_eq!(
            body,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Invalid &lt;request&gt;</title></head>\n<body><h1>Invalid &lt;request&gt;</h1><p>The &quot;redirect_uri&quot; &amp; client do not match.</p></body></html>\n"
        );

        let (status, _, body) = parts(PageError::internal("template missing")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("<h1>Server Error (500)</h1><p></p>"));
        assert!(!body.contains("template missing"));
    }
}
