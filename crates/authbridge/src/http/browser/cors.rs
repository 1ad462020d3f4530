//! CORS with django-cors-headers' semantics, as a tower `Layer` so the same policy can wrap any
//! HTTP service (the router here, the gateway's proxied responses elsewhere).
//!
//! Why not tower-http's `CorsLayer`: it treats every `OPTIONS` as a preflight (shadowing DRF's
//! `OPTIONS` metadata, which django-cors-headers leaves to the view unless
//! `Access-Control-Request-Method` is present), sends `Access-Control-Allow-Credentials` and the
//! allow lists to origins it does not allow, and has no `CORS_URLS_REGEX`. The rules below are
//! django-cors-headers' `CorsMiddleware`, line for line, except that allow-all-with-credentials is
//! refused at configuration time instead of reflecting every origin:
//! - a path not matching `CORS_URLS_REGEX` is passed through untouched;
//! - an `OPTIONS` request with `Access-Control-Request-Method` is a preflight: answered here with
//!   `200`, an empty body and the CORS headers, never reaching routing or a handler;
//! - every other response (errors included) passes through and gets `Vary: origin` (the CORS
//!   headers depend on the origin); then, only when the `Origin` is allowed, the CORS headers;
//! - an unknown origin gets no CORS header at all (the browser blocks it), never an error page;
//! - `Access-Control-Allow-Origin: *` only for allow-all without credentials; with credentials
//!   the origin is echoed.

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

use crate::config::CorsSettings;

const ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");
const REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");

/// The configured policy with its header values built once.
#[derive(Debug)]
struct Policy {
    settings: CorsSettings,
    allow_headers: Option<HeaderValue>,
    allow_methods: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: Option<HeaderValue>,
}

fn joined(items: &[String]) -> Option<HeaderValue> {
    HeaderValue::from_str(&items.join(", ")).ok()
}

/// The CORS layer. Build it with `CorsLayer::from_settings`.
#[derive(Debug, Clone)]
pub struct CorsLayer {
    policy: Arc<Policy>,
}

impl CorsLayer {
    /// `None` when no origin is allowed: then there is nothing to add, and responses stay exactly
    /// what they are without django-cors-headers (not even `Vary: origin`).
    pub fn from_settings(settings: &CorsSettings) -> Option<Self> {
        if !settings.cors_enabled() {
            return None;
        }
        Some(Self::new(settings))
    }

    /// A layer for these settings, even when they allow no origin.
    pub fn new(settings: &CorsSettings) -> Self {
        let policy = Policy {
            settings: settings.clone(),
            allow_headers: joined(&settings.cors_allow_headers),
            allow_methods: joined(&settings.cors_allow_methods),
            expose_headers: if settings.cors_expose_headers.is_empty() {
                None
            } else {
                joined(&settings.cors_expose_headers)
            },
            max_age: (settings.cors_preflight_max_age > 0)
                .then(|| HeaderValue::from(settings.cors_preflight_max_age)),
        };
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;
    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The CORS service wrapping `S`.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    policy: Arc<Policy>,
}

/// What the response decoration needs from the request.
struct RequestFacts {
    origin: Option<HeaderValue>,
    is_options: bool,
    private_network: bool,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Django matches `request.path_info`, which is percent-decoded.
        let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
        if !self.policy.settings.cors_applies_to(&path) {
            return Box::pin(self.inner.call(req));
        }
        let headers = req.headers();
        let facts = RequestFacts {
            origin: headers.get(header::ORIGIN).cloned(),
            is_options: req.method() == Method::OPTIONS,
            private_network: headers
                .get(REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.as_bytes() == b"true"),
        };
        let policy = self.policy.clone();
        if facts.is_options && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            // django-cors-headers' preflight: `HttpResponse(headers={"content-length": "0"})`.
            let mut res = Response::new(ResBody::default());
            *res.status_mut() = StatusCode::OK;
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            policy.decorate(h, &facts);
            return Box::pin(async move { Ok(res) });
        }
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut res = future.await?;
            policy.decorate(res.headers_mut(), &facts);
            Ok(res)
        })
    }
}

impl Policy {
    /// django-cors-headers' `add_response_headers` (for a path CORS applies to).
    fn decorate(&self, headers: &mut HeaderMap, req: &RequestFacts) {
        patch_vary(headers, "origin");
        let Some(origin_value) = &req.origin else {
            return;
        };
        let Ok(origin) = origin_value.to_str() else {
            return;
        };
        let s = &self.settings;
        if !s.cors_allow_all_origins && !s.cors_origin_listed(origin) {
            return;
        }
        if s.cors_allow_all_origins && !s.cors_allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        } else {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin_value.clone());
        }
        if s.cors_allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
        if req.is_options {
            if let Some(v) = &self.allow_headers {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            if let Some(v) = &self.allow_methods {
                headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v.clone());
            }
            if let Some(v) = &self.max_age {
                headers.insert(header::ACCESS_CONTROL_MAX_AGE, v.clone());
            }
        }
        if s.cors_allow_private_network && req.private_network {
            headers.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
        }
    }
}

/// Django's `patch_vary_headers`: one `Vary` header listing the existing values plus `name`
/// unless already there (case-insensitively); `*` stays `*`.
fn patch_vary(headers: &mut HeaderMap, name: &'static str) {
    let mut values: Vec<String> = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect();
    if !values.iter().any(|v| v.eq_ignore_ascii_case(name)) {
        values.push(name.to_string());
    }
    let joined = if values.iter().any(|v| v == "*") {
        "*".to_string()
    } else {
        values.join(", ")
    };
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(header::VARY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use axum::body::Body;
    use std::convert::Infallible;
    use tower::ServiceExt;

    fn browser(pairs: &[(&str, &str)]) -> CorsSettings {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(None, env).expect("test value").cors
    }

    /// A service that answers like a DRF view (`Vary: Accept`) and counts its calls.
    fn app(
        settings: &CorsSettings,
    ) -> (
        impl Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
        Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let inner = tower::service_fn(move |_req: Request<Body>| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                let mut res = Response::new(Body::from("{}"));
                res.headers_mut()
                    .insert(header::VARY, HeaderValue::from_static("Accept"));
                Ok::<_, Infallible>(res)
            }
        });
        (CorsLayer::new(settings).layer(inner), calls)
    }

    async fn send(
        svc: impl Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Response<Body> {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        svc.oneshot(req.body(Body::empty()).expect("test value"))
            .await
            .expect("test value")
    }

    fn get<'a>(res: &'a Response<Body>, name: &str) -> Option<&'a str> {
        res.headers()
            .get(name)
            .map(|v| v.to_str().expect("test value"))
    }

    const APP: &str = "http://localhost:3000";

    #[tokio::test]
    async fn preflight_is_answered_without_the_handler() {
        let settings = browser(&[
            ("CORS_ALLOWED_ORIGINS", APP),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]);
        let (svc, calls) = app(&settings);
        let res = send(
            svc,
            Method::OPTIONS,
            "/api/token/",
            &[
                ("origin", APP),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
        )
        .await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(res.status(), 200);
        assert_eq!(get(&res, "content-length"), Some("0"));
        assert_eq!(get(&res, "access-control-allow-origin"), Some(APP));
        assert_eq!(get(&res, "access-control-allow-credentials"), Some("true"));
        assert_eq!(
            get(&res, "access-control-allow-methods"),
            Some("DELETE, GET, OPTIONS, PATCH, POST, PUT")
        );
        assert_eq!(
            get(&res, "access-control-allow-headers"),
            Some("accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with")
        );
        assert_eq!(get(&res, "access-control-max-age"), Some("86400"));
        assert_eq!(get(&res, "vary"), Some("origin"));
    }

    #[tokio::test]
    async fn plain_options_reaches_the_view() {
        let settings = browser(&[("CORS_ALLOWED_ORIGINS", APP)]);
        let (svc, calls) = app(&settings);
        let res = send(svc, Method::OPTIONS, "/api/token/", &[("origin", APP)]).await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(get(&res, "vary"), Some("Accept, origin"));
        assert_eq!(get(&res, "access-control-allow-origin"), Some(APP));
        assert!(get(&res, "access-control-allow-methods").is_some());
        assert!(get(&res, "access-control-allow-credentials").is_none());
    }

    #[tokio::test]
    async fn unknown_origin_gets_only_vary() {
        let settings = browser(&[
            ("CORS_ALLOWED_ORIGINS", APP),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]);
        for method in [Method::POST, Method::OPTIONS] {
            let (svc, _) = app(&settings);
            let res = send(
                svc,
                method,
                "/api/token/",
                &[
                    ("origin", "http://evil.test"),
                    ("access-control-request-method", "POST"),
                ],
            )
            .await;
            assert_eq!(res.status(), 200);
            let cors: Vec<_> = res
                .headers()
                .keys()
                .filter(|k| k.as_str().starts_with("access-control-"))
                .collect();
            assert!(cors.is_empty(), "{cors:?}");
            assert!(get(&res, "vary").expect("test value").contains("origin"));
        }
    }

    #[tokio::test]
    async fn allow_all_without_credentials_is_a_wildcard() {
        let settings = browser(&[
            ("CORS_ALLOW_ALL_ORIGINS", "true"),
            ("CORS_EXPOSE_HEADERS", "x-csrftoken, etag"),
        ]);
        let (svc, _) = app(&settings);
        let res = send(
            svc,
            Method::GET,
            "/api/me/",
            &[("origin", "http://any.test")],
        )
        .await;
        assert_eq!(get(&res, "access-control-allow-origin"), Some("*"));
        assert!(get(&res, "access-control-allow-credentials").is_none());
        assert_eq!(
            get(&res, "access-control-expose-headers"),
            Some("x-csrftoken, etag")
        );
        assert!(get(&res, "access-control-allow-methods").is_none());
        // No Origin: Vary only.
        let (svc, _) = app(&settings);
        let res = send(svc, Method::GET, "/api/me/", &[]).await;
        assert!(get(&res, "access-control-allow-origin").is_none());
        assert_eq!(get(&res, "vary"), Some("Accept, origin"));
    }

    #[tokio::test]
    async fn urls_regex_limits_the_layer() {
        let settings = browser(&[
            ("CORS_ALLOWED_ORIGINS", APP),
            ("CORS_URLS_REGEX", r"^/api/token/"),
        ]);
        let (svc, calls) = app(&settings);
        let res = send(
            svc,
            Method::OPTIONS,
            "/api/me/",
            &[("origin", APP), ("access-control-request-method", "GET")],
        )
        .await;
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "not a CORS path: the view answers"
        );
        assert_eq!(get(&res, "vary"), Some("Accept"));
        assert!(get(&res, "access-control-allow-origin").is_none());
    }

    #[tokio::test]
    async fn regex_origins_and_private_network() {
        let settings = browser(&[
            ("CORS_ALLOWED_ORIGIN_REGEXES", r"^http://localhost:\d+$"),
            ("CORS_ALLOW_PRIVATE_NETWORK", "true"),
            ("CORS_PREFLIGHT_MAX_AGE", "0"),
        ]);
        let (svc, _) = app(&settings);
        let res = send(
            svc,
            Method::OPTIONS,
            "/x",
            &[
                ("origin", "http://localhost:5173"),
                ("access-control-request-method", "GET"),
                ("access-control-request-private-network", "true"),
            ],
        )
        .await;
        assert_eq!(
            get(&res, "access-control-allow-origin"),
            Some("http://localhost:5173")
        );
        assert_eq!(
            get(&res, "access-control-allow-private-network"),
            Some("true")
        );
        assert!(get(&res, "access-control-max-age").is_none());
    }

    #[test]
    fn vary_is_patched_like_django() {
        let mut h = HeaderMap::new();
        patch_vary(&mut h, "origin");
        assert_eq!(h.get("vary").expect("test value"), "origin");
        let mut h = HeaderMap::new();
        h.append(header::VARY, HeaderValue::from_static("Accept"));
        h.append(header::VARY, HeaderValue::from_static("Cookie, Origin"));
        patch_vary(&mut h, "origin");
        assert_eq!(h.get_all("vary").iter().count(), 1);
        assert_eq!(h.get("vary").expect("test value"), "Accept, Cookie, Origin");
        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("*"));
        patch_vary(&mut h, "origin");
        assert_eq!(h.get("vary").expect("test value"), "*");
    }
}
