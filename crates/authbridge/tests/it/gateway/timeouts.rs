//! The server's own timers and a proxied body: an upload that keeps moving outlives the body
//! read timeout (it bounds each wait for the next chunk of a proxied body, not the whole), and a
//! download in progress is activity, not an idle connection. Real time passes here, as in the
//! edge's own timeout tests: the timers under test are the server's.

use std::time::Duration;

use super::upstream::{byte_at, CHUNK};
use super::{spawn, Upstream};
use crate::support::json_of;

#[tokio::test]
async fn a_proxied_upload_that_keeps_moving_outlives_the_body_read_timeout() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTHBRIDGE_BODY_READ_TIMEOUT", "300ms"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "10"),
        ],
    )
    .await;
    // Ten chunks 100 ms apart: a second in all, more than three times the timeout.
    let body = futures_util::stream::unfold(0u64, |i| async move {
        if i == 10 {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chunk: Vec<u8> = (i * 1000..(i + 1) * 1000).map(byte_at).collect();
        Some((Ok::<_, std::io::Error>(chunk), i + 1))
    });
    let res = app
        .client
        .post(app.url("/upload"))
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("request");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bytes"], 10_000);
    assert_eq!(body["ordered"], true);
}

#[tokio::test]
async fn a_download_in_progress_is_not_an_idle_connection() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTHBRIDGE_IDLE_TIMEOUT", "300ms"),
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "10"),
        ],
    )
    .await;
    let total = 4 * CHUNK as u64;
    let mut res = app
        .client
        .get(app.url(&format!("/download?bytes={total}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let first = res.chunk().await.expect("body").expect("first chunk");
    // Longer than the idle timeout plus the server's 1 s closing grace, mid-response.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    upstream.signals.download_go.notify_one();
    let mut received = first.len() as u64;
    while let Some(chunk) = res.chunk().await.expect("the download was not cut") {
        received += chunk.len() as u64;
    }
    assert_eq!(received, total);
}

/// A client that stops reading a download (slowloris on the response) held its connection, and
/// Django's worker behind it, for ever: hyper waits on the socket and nothing timed it. A
/// response the client takes no more of for the idle timeout is cut.
#[tokio::test]
async fn a_client_that_stops_reading_a_download_is_cut() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTHBRIDGE_IDLE_TIMEOUT", "300ms"),
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "10"),
        ],
    )
    .await;
    upstream.signals.download_go.notify_one();
    let total: u64 = 64 * 1024 * 1024;
    let mut socket = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    socket
        .write_all(
            format!("GET /download?bytes={total} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
        )
        .await
        .expect("write");
    // Not reading: the socket buffers fill, then the server can send nothing more.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut received = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received += n as u64,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the connection was still open after {received} bytes"
    );
    assert!(
        received < total / 2,
        "the whole download came after the stall: {received} bytes"
    );
}
