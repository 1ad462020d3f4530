//! The real router without a socket: each request is driven through `tower::ServiceExt::oneshot`
//! with the TCP peer the test chooses put where `crate::server` puts it (`ConnectInfo`, from
//! which the edge derives `ClientIp`), on a `MockClock` the test moves by hand. For tests about
//! what the application decides; what the network edge does (timeouts, connection limits,
//! HTTP/2) needs `TestApp` or the binary.

use authbridge::app::{build_state, open_store};
use authbridge::clock::MockClock;
use authbridge::http::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http::{HeaderMap, Method, Request};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower::ServiceExt;

use super::app::{create_user_in, settings};
use super::db::TestDb;

/// A server in the test's own process: state, router and clock.
pub struct InProcess {
    pub state: AppState,
    pub clock: MockClock,
    router: Router,
    _db: TestDb,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::headers::header(&self.headers, name)
    }
}

impl InProcess {
    /// The router of `authbridge::http::router` on a fresh database, the clock at the real now.
    pub async fn start(backend: &str, overrides: &[(&str, &str)]) -> Self {
        let db = TestDb::new(backend).await;
        let settings = settings(&db.url, overrides);
        let store = open_store(&settings).await.expect("store");
        let clock = MockClock::new(chrono::Utc::now());
        let state = build_state(settings, store, Arc::new(clock.clone()))
            .await
            .expect("state");
        let router = authbridge::http::router(state.clone());
        Self {
            state,
            clock,
            router,
            _db: db,
        }
    }

    /// Create a user with a real Django hash; returns its id.
    pub async fn create_user(&self, username: &str, password: &str, active: bool) -> i64 {
        create_user_in(
            &self.state.store,
            &self.state.settings,
            username,
            password,
            active,
        )
        .await
    }

    /// Send `req` as if from the TCP peer `peer` (`None`: a request without a peer address).
    pub async fn send_from(&self, peer: Option<IpAddr>, mut req: Request<Body>) -> Reply {
        if let Some(ip) = peer {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
        }
        if !req.headers().contains_key(http::header::HOST) {
            req.headers_mut().insert(
                http::header::HOST,
                http::HeaderValue::from_static("127.0.0.1"),
            );
        }
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A POST of `body` with a `content-type` of `application/json`.
    pub async fn post_from(&self, peer: Option<IpAddr>, path: &str, body: String) -> Reply {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        self.send_from(peer, req).await
    }

    /// A login attempt at `/api/token/` from `peer`.
    pub async fn login_from(&self, peer: Option<IpAddr>, username: &str, password: &str) -> Reply {
        let body = serde_json::json!({"username": username, "password": password});
        self.post_from(peer, "/api/token/", body.to_string()).await
    }
}
