//! The upstream: a small axum app on 127.0.0.1:0 standing in for Django.
//! - `/echo/...` (any method): the method, URI and every header it received, as JSON;
//! - `/upload` (POST): counts and sums the body, saying when the first chunk arrived;
//! - `/download?bytes=N`: N bytes generated lazily, the first 64 KiB then the rest only once the
//!   test says the client has the first chunk;
//! - `/never`: never answers;
//! - `/stall`: answers, sends one chunk, then nothing more, never ending;
//! - `/ws`: a WebSocket echo (hyper upgrade + tungstenite).

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

pub const CHUNK: usize = 64 * 1024;

#[derive(Default)]
pub struct Signals {
    /// The upload's first chunk has arrived.
    pub upload_started: Notify,
    /// The client has the download's first chunk: send the rest.
    pub download_go: Notify,
    /// Requests that reached the upstream.
    pub hits: AtomicUsize,
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub signals: Arc<Signals>,
}

/// The byte at offset `i` of a generated body.
pub fn byte_at(i: u64) -> u8 {
    (i % 251) as u8
}

impl Upstream {
    pub async fn start() -> Self {
        let signals = Arc::new(Signals::default());
        let app = Router::new()
            .route("/echo", any(echo))
            .route("/echo/{*rest}", any(echo))
            .route("/upload", post(upload))
            .route("/download", get(download))
            .route("/never", any(never))
            .route("/stall", get(stall))
            .route("/ws", get(ws))
            .with_state(signals.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("upstream serves");
        });
        Self { addr, signals }
    }

    pub fn hits(&self) -> usize {
        self.signals.hits.load(Ordering::SeqCst)
    }
}

async fn echo(State(s): State<Arc<Signals>>, req: Request) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let headers: Vec<Value> = req
        .headers()
        .iter()
        .map(|(n, v)| json!([n.as_str(), String::from_utf8_lossy(v.as_bytes())]))
        .collect();
    Json(json!({
        "method": req.method().as_str(),
        "uri": req.uri().to_string(),
        "version": format!("{:?}", req.version()),
        "headers": headers,
    }))
}

async fn upload(State(s): State<Arc<Signals>>, req: Request) -> Json<Value> {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let mut stream = req.into_body().into_data_stream();
    let (mut bytes, mut sum, mut ordered) = (0u64, 0u64, true);
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Json(json!({"error": "body failed"}));
        };
        if bytes == 0 && !chunk.is_empty() {
            s.upload_started.notify_one();
        }
        for b in chunk.iter() {
            ordered &= *b == byte_at(bytes);
            sum += u64::from(*b);
            bytes += 1;
        }
    }
    Json(json!({"bytes": bytes, "sum": sum, "ordered": ordered}))
}

async fn download(
    State(s): State<Arc<Signals>>,
    Query(q): Query<HashMap<String, u64>>,
) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let total = q.get("bytes").copied().unwrap_or(0);
    let stream = futures_util::stream::unfold(0u64, move |offset| {
        let s = s.clone();
        async move {
            if offset >= total {
                return None;
            }
            if offset == CHUNK as u64 {
                // Nothing more until the client proves it already has the first chunk.
                s.download_go.notified().await;
            }
            let n = (total - offset).min(CHUNK as u64);
            let chunk: Vec<u8> = (offset..offset + n).map(byte_at).collect();
            Some((Ok::<_, std::io::Error>(chunk), offset + n))
        }
    });
    let mut res = Body::from_stream(stream).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    res
}

async fn never(State(s): State<Arc<Signals>>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    std::future::pending::<()>().await;
    StatusCode::OK.into_response()
}

async fn stall() -> Response {
    let first = futures_util::stream::once(async { Ok::<_, std::io::Error>(vec![b'x'; 16]) });
    let rest = futures_util::stream::pending::<Result<Vec<u8>, std::io::Error>>();
    Body::from_stream(first.chain(rest)).into_response()
}

async fn ws(mut req: Request) -> Response {
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        while let Some(Ok(msg)) = socket.next().await {
            if msg.is_close() {
                break;
            }
            if (msg.is_text() || msg.is_binary()) && socket.send(msg).await.is_err() {
                break;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(Body::empty())
        .expect("101")
}
