//! The upstream down (502 at once) or slow (504 after `READ_TIMEOUT`), in the gateway's JSON.

use serde_json::json;
use std::time::{Duration, Instant};

use super::{spawn, Upstream};
use crate::support::{json_of, TestApp};

#[tokio::test]
async fn upstream_down_is_a_quick_502() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let upstream = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn("sqlite", &[("AUTHBRIDGE_UPSTREAM", upstream.as_str())]).await;
    for _ in 0..2 {
        let started = Instant::now();
        let res = app
            .client
            .get(app.url("/anything"))
            .send()
            .await
            .expect("r");
        let elapsed = started.elapsed();
        let (status, body) = json_of(res).await;
        assert_eq!(status, 502);
        assert_eq!(
            body,
            json!({"detail": "The upstream server is unavailable.", "code": "upstream_unavailable"})
        );
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    }
    // authbridge itself is fine.
    let res = app.client.get(app.url("/healthz")).send().await.expect("r");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_slow_upstream_is_a_504_after_the_read_timeout() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[("AUTHBRIDGE_GATEWAY_READ_TIMEOUT", "300ms")]).await;
    let started = Instant::now();
    let res = app.client.get(app.url("/never")).send().await.expect("r");
    let elapsed = started.elapsed();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 504);
    assert_eq!(
        body,
        json!({"detail": "The upstream server did not answer in time.", "code": "upstream_timeout"})
    );
    assert!(elapsed >= Duration::from_millis(300), "took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(upstream.hits(), 1);
    // The next request is served (the stuck connection is not reused).
    let res = app.client.get(app.url("/echo")).send().await.expect("r");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_answer_that_stalls_is_cut_after_the_read_timeout() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[("AUTHBRIDGE_GATEWAY_READ_TIMEOUT", "300ms")]).await;
    let mut res = app.client.get(app.url("/stall")).send().await.expect("r");
    assert_eq!(res.status(), 200);
    let first = res.chunk().await.expect("first chunk").expect("some");
    assert_eq!(&first[..], &[b'x'; 16][..]);
    let started = Instant::now();
    let rest = tokio::time::timeout(Duration::from_secs(10), res.chunk())
        .await
        .expect("cut, not left hanging");
    assert!(
        rest.is_err(),
        "a stalled answer must end in an error, not look complete"
    );
    assert!(started.elapsed() >= Duration::from_millis(250));
}
