//! Time, in process: the real router on a `MockClock` (`support::in_process`), on every backend.
//! Access and refresh expiry, the refresh grace window and reuse detection are shown by moving
//! the clock, never by waiting, so a busy machine cannot flake them.

use chrono::Duration;
use serde_json::{json, Value};

use crate::support::backends;
use crate::support::bodies::{BLACKLISTED, EXPIRED};
use crate::support::in_process::{InProcess, Reply};

const SETTINGS: &[(&str, &str)] = &[
    crate::support::FAST_HASHER,
    ("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "300"),
    ("SIMPLE_JWT_REFRESH_TOKEN_LIFETIME", "86400"),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "10"),
];

async fn post(app: &InProcess, path: &str, body: Value) -> Reply {
    app.post_from(Some([127, 0, 0, 1].into()), path, body.to_string())
        .await
}

async fn login(app: &InProcess) -> (String, String) {
    let res = app
        .login_from(Some([127, 0, 0, 1].into()), "alice", "pass-1234")
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let body: Value = serde_json::from_str(&res.body).expect("json");
    (
        body["refresh"].as_str().expect("refresh").into(),
        body["access"].as_str().expect("access").into(),
    )
}

fn pair(res: &Reply) -> (String, String) {
    assert_eq!(res.status, 200, "{}", res.body);
    let body: Value = serde_json::from_str(&res.body).expect("json");
    (
        body["refresh"].as_str().expect("refresh").into(),
        body["access"].as_str().expect("access").into(),
    )
}

async fn started(backend: &str) -> InProcess {
    let app = InProcess::start(backend, SETTINGS).await;
    app.create_user("alice", "pass-1234", true).await;
    app
}

#[tokio::test]
async fn tokens_expire_on_the_injected_clock() {
    for backend in backends() {
        let app = started(backend).await;
        let (refresh, access) = login(&app).await;
        let verify = |token: String| post(&app, "/api/token/verify/", json!({"token": token}));

        // One second before the end of the access token's lifetime, then one after it.
        app.clock.advance(Duration::seconds(299));
        assert_eq!(verify(access.clone()).await.status, 200, "{backend}");
        app.clock.advance(Duration::seconds(2));
        let res = verify(access).await;
        assert_eq!((res.status, res.body.as_str()), (401, EXPIRED), "{backend}");

        // The refresh token lives a day: still good, then expired.
        assert_eq!(verify(refresh.clone()).await.status, 200, "{backend}");
        app.clock.advance(Duration::seconds(86_400 - 301 + 1));
        let res = verify(refresh.clone()).await;
        assert_eq!((res.status, res.body.as_str()), (401, EXPIRED), "{backend}");
        let res = post(&app, "/api/token/refresh/", json!({"refresh": refresh})).await;
        assert_eq!((res.status, res.body.as_str()), (401, EXPIRED), "{backend}");
    }
}

#[tokio::test]
async fn grace_window_and_reuse_detection_on_the_injected_clock() {
    for backend in backends() {
        let app = started(backend).await;
        let (original, _) = login(&app).await;
        let refresh = |token: &str| post(&app, "/api/token/refresh/", json!({"refresh": token}));

        // Rotated; a second tab replaying the original within the window gets the same pair.
        let successor = pair(&refresh(&original).await);
        app.clock.advance(Duration::seconds(10));
        assert_eq!(pair(&refresh(&original).await), successor, "{backend}");

        // Past the window, the original is a reuse: refused, and its whole family revoked.
        app.clock.advance(Duration::seconds(1));
        let res = refresh(&original).await;
        assert_eq!(res.status, 401, "{backend}: {}", res.body);
        let res = refresh(&successor.0).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (401, BLACKLISTED),
            "{backend}: the successor of a reused token is revoked"
        );

        // A new login is a new family, unaffected.
        let (fresh, _) = login(&app).await;
        assert_eq!(refresh(&fresh).await.status, 200, "{backend}");
    }
}
