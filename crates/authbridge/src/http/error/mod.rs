//! One error type per surface, so a handler's return type names the format it answers in and the
//! compiler keeps it there:
//! - `DrfError` (`drf.rs`): Django REST framework and simplejwt JSON, for the token API, `/api/me/`
//!   and the Auth.js bridge;
//! - `OAuthError` (`oauth.rs`): RFC 6749 §5.2 error JSON, for OAuth 2 / OpenID Connect endpoints;
//! - `PageError` (`page.rs`): a small HTML page, for what a browser navigates to;
//! - `GatewayError` (`gateway.rs`): the gateway's own 502, 504, 413 and 400, DRF-shaped JSON.
//!
//! Each has an arm for `Internal`: the unexpected failure, whose cause is kept (boxed, with its
//! source chain) for the log and never shown to the caller. The response carries it as an
//! extension and the edge middleware logs it once, with the method and route (`log_internal`).

mod drf;
mod gateway;
mod oauth;
mod page;

pub use drf::DrfError;
pub use gateway::GatewayError;
pub use oauth::OAuthError;
pub use page::{PageError, ShownError};

use axum::http::Method;
use axum::response::Response;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

type Cause = Box<dyn Error + Send + Sync>;

/// An unexpected failure (storage down, a key that cannot sign): answered as a bare 500 in the
/// surface's format, logged with its whole cause.
#[derive(Debug, thiserror::Error)]
#[error("{cause}")]
pub struct Internal {
    #[source]
    cause: Cause,
}

impl Internal {
    pub fn new(cause: impl Into<Cause>) -> Self {
        Self {
            cause: cause.into(),
        }
    }

    /// Hand the cause to the edge middleware, which logs it (a surface's `into_response` calls
    /// this on its internal arm).
    fn attach(self, response: &mut Response) {
        response
            .extensions_mut()
            .insert(InternalCause(Arc::new(self)));
    }
}

/// The cause of a 500, as the response carries it to the edge middleware.
#[derive(Clone)]
struct InternalCause(Arc<Internal>);

/// The cause and every source below it, `outer: inner: innermost`.
struct Chain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

/// Log the internal error a response carries, if any: once per request, by the edge middleware,
/// which knows the method and the matched route.
pub fn log_internal(response: &Response, method: &Method, route: &str) {
    if let Some(InternalCause(internal)) = response.extensions().get::<InternalCause>() {
        let cause = Chain(internal.cause.as_ref());
        tracing::error!(%method, route, %cause, "request failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    #[derive(Debug, thiserror::Error)]
    #[error("pool timed out")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("user lookup failed")]
    struct Outer(#[source] Inner);

    #[test]
    fn the_cause_is_kept_with_its_chain() {
        let internal = Internal::new(Outer(Inner));
        assert_eq!(internal.to_string(), "user lookup failed");
        assert_eq!(
            Chain(internal.cause.as_ref()).to_string(),
            "user lookup failed: pool timed out"
        );
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_log_line_names_method_route_and_whole_cause() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let failed = DrfError::internal(Outer(Inner)).into_response();
        let refused = DrfError::NotFound.into_response();
        tracing::subscriber::with_default(subscriber, || {
            log_internal(&failed, &Method::POST, "/api/token/refresh/");
            log_internal(&refused, &Method::GET, "/api/me/");
        });
        let log = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(log.contains("ERROR"), "{log}");
        assert!(log.contains("request failed"), "{log}");
        assert!(log.contains("method=POST"), "{log}");
        assert!(log.contains("/api/token/refresh/"), "{log}");
        assert!(log.contains("user lookup failed: pool timed out"), "{log}");
    }

    #[test]
    fn every_surface_attaches_its_internal_error_to_the_response() {
        let responses = [
            DrfError::internal(Outer(Inner)).into_response(),
            OAuthError::internal(Outer(Inner)).into_response(),
            PageError::internal(Outer(Inner)).into_response(),
        ];
        for response in responses {
            assert_eq!(response.status(), 500);
            let InternalCause(internal) = response
                .extensions()
                .get::<InternalCause>()
                .expect("the cause travels with the response");
            assert_eq!(
                Chain(internal.cause.as_ref()).to_string(),
                "user lookup failed: pool timed out"
            );
        }
    }
}
