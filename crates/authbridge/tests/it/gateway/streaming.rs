//! Bodies stream through the gateway both ways, never buffered: each test holds the rest of a
//! large body back until the far side proves it already has the first chunk, which a buffering
//! proxy could never deliver (the test would time out). Also the body limit and WebSocket.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use super::upstream::{byte_at, CHUNK};
use super::{spawn, Upstream};
use crate::support::json_of;

const LARGE: u64 = 24 * 1024 * 1024;
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_large_upload_streams_to_the_upstream() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let signals = upstream.signals.clone();
    // Generated lazily; everything after the first chunk waits until the upstream has it.
    let body = futures_util::stream::unfold(0u64, move |offset| {
        let signals = signals.clone();
        async move {
            if offset >= LARGE {
                return None;
            }
            if offset == CHUNK as u64 {
                signals.upload_started.notified().await;
            }
            let n = (LARGE - offset).min(CHUNK as u64);
            let chunk: Vec<u8> = (offset..offset + n).map(byte_at).collect();
            Some((Ok::<_, std::io::Error>(chunk), offset + n))
        }
    });
    let res = tokio::time::timeout(
        PATIENCE,
        app.client
            .post(app.url("/upload"))
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    )
    .await
    .expect("the upstream got the first chunk while the client was still sending")
    .expect("request");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 200);
    let expected_sum: u64 = (0..LARGE).map(|i| u64::from(byte_at(i))).sum();
    assert_eq!(body["bytes"], LARGE);
    assert_eq!(body["sum"], expected_sum);
    assert_eq!(body["ordered"], true);
}

#[tokio::test]
async fn a_large_download_streams_to_the_client() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let mut res = app
        .client
        .get(app.url(&format!("/download?bytes={LARGE}")))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let mut offset = 0u64;
    let mut released = false;
    let mut ordered = true;
    while let Some(chunk) = tokio::time::timeout(PATIENCE, res.chunk())
        .await
        .expect("the client got the first chunk before the upstream sent the rest")
        .expect("body")
    {
        for b in chunk.iter() {
            ordered &= *b == byte_at(offset);
            offset += 1;
        }
        if !released {
            released = true;
            upstream.signals.download_go.notify_one();
        }
    }
    assert_eq!(offset, LARGE);
    assert!(ordered);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_without_being_buffered() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[("AUTHBRIDGE_GATEWAY_MAX_BODY_BYTES", "100000")],
    )
    .await;
    // Declared too large: refused before the upstream hears of it.
    let res = app
        .client
        .post(app.url("/upload"))
        .body(vec![0u8; 100_001])
        .send()
        .await
        .expect("request");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "request_too_large");
    assert_eq!(upstream.hits(), 0);
    // Chunked, no length: counted while streaming, cut at the limit.
    let chunks =
        futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![0u8; 32 * 1024])));
    let res = app
        .client
        .post(app.url("/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 413);
    // At the limit: through.
    let res = app
        .client
        .post(app.url("/upload"))
        .body(vec![byte_at(0); 100_000])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn websocket_upgrades_pass_through() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let (mut socket, response) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .expect("upgrade through the gateway");
    assert_eq!(response.status(), 101);
    for text in ["hello", "through the gateway"] {
        socket.send(Message::text(text)).await.expect("send");
        let echoed = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("echo in time")
            .expect("a message")
            .expect("ok");
        assert_eq!(echoed, Message::text(text));
    }
    socket
        .send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send");
    let echoed = socket.next().await.expect("a message").expect("ok");
    assert_eq!(echoed, Message::binary(vec![1u8, 2, 3]));
    socket.close(None).await.expect("close");
}

/// A joined WebSocket no longer holds one of the server's connection slots, so the tunnels are
/// capped by their own count (`AUTHBRIDGE_MAX_CONNECTIONS` of them): past it an upgrade is
/// refused with a 503 before Django is asked, and plain requests are still served.
#[tokio::test]
async fn open_websockets_are_bounded() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[("AUTHBRIDGE_MAX_CONNECTIONS", "2")]).await;
    let url = format!("ws://{}/ws", app.addr);
    let mut open = Vec::new();
    for _ in 0..2 {
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("upgrade within the cap");
        open.push(socket);
    }
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 503);
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a third WebSocket was joined past the cap of 2"),
    }
    let res = app.client.get(app.url("/echo")).send().await.expect("r");
    assert_eq!(res.status(), 200);
    drop(open);
}
