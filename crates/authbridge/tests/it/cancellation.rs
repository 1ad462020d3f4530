//! A client that gives up mid-request (disconnect, timeout) must not leave a transaction open:
//! the bench once saw SQLite stay locked after a refresh run, every later write failing. Here
//! many rotations are cut off at random points, then the server must still write normally.

use serde_json::{json, Value};
use std::time::Duration;

use crate::support::{backends, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_requests_leave_no_transaction_open() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                ("PASSWORD_HASHERS", "pbkdf2_sha256"),
                ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
                ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
            ],
        )
        .await;
        app.create_user("ann", "pw-1", true).await;
        let mut refresh_tokens = Vec::new();
        for _ in 0..40 {
            refresh_tokens.push(app.login("ann", "pw-1").await.0);
        }
        let impatient = reqwest::Client::new();
        let mut tasks = Vec::new();
        for (i, token) in refresh_tokens.into_iter().enumerate() {
            let (client, url) = (impatient.clone(), app.url("/api/token/refresh/"));
            tasks.push(tokio::spawn(async move {
                let cut = Duration::from_micros(200 + (i as u64 * 137) % 3000);
                let _ = tokio::time::timeout(
                    cut,
                    client.post(url).json(&json!({"refresh": token})).send(),
                )
                .await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Every write path still works afterwards, repeatedly.
        for _ in 0..5 {
            let (refresh, _) = app.login("ann", "pw-1").await;
            let res = app
                .post_json("/api/token/refresh/", json!({"refresh": refresh}))
                .await;
            assert_eq!(res.status(), 200, "{backend}: refresh after cancellations");
            let body: Value = res.json().await.unwrap();
            let res = app
                .post_json("/api/token/blacklist/", json!({"refresh": body["refresh"]}))
                .await;
            assert_eq!(res.status(), 200, "{backend}: logout after cancellations");
        }
    }
}
