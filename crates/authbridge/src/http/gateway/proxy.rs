//! The proxy itself: hyper-util's pooled HTTP/1 client to the upstream, bodies streamed both ways
//! (never buffered), hop-by-hop headers removed, `X-Forwarded-*` set, WebSocket upgrades passed
//! through, and the upstream's failures answered as `GatewayError` (502, 504, 413).
//!
//! - **Host**: the client's `Host` goes to the upstream (`PRESERVE_HOST`, the default), as
//!   nginx's `proxy_set_header Host $host` does: Django's `ALLOWED_HOSTS`, `build_absolute_uri`
//!   and redirects then name the public host without `USE_X_FORWARDED_HOST`. With
//!   `PRESERVE_HOST = false` the upstream's own `host:port` is sent instead, and the public host
//!   is only in `X-Forwarded-Host`.
//! - **X-Forwarded-For / -Proto / -Host**: the edge middleware (`http::edge`) has already removed
//!   them unless the peer is one of `AUTHBRIDGE_TRUSTED_PROXIES`, and `strip_forwarded` removes
//!   the spellings Django maps to the same keys (`X_Forwarded_Proto`) and `-Port`; what is left is believed and
//!   extended: the peer address is appended to `X-Forwarded-For`, `-Proto` (default `http`, the
//!   listener's scheme) and `-Host` (default the client's `Host`) are set when absent.
//! - **Timeouts**: `CONNECT_TIMEOUT` to open a connection (else 502); `READ_TIMEOUT` for the
//!   upstream to start its answer once the request body is sent (else 504), and then for each
//!   next chunk of its answer (else the answer is cut: its status is already sent). A request body that
//!   stalls is the server's body read timeout's business, which for a proxied request bounds
//!   each wait for the next chunk rather than the whole upload (`server::StreamingBody`).
//! - **Body limit**: `MAX_BODY_BYTES`, checked against `Content-Length` before anything is sent
//!   and counted while streaming; either way 413, nothing buffered.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Body as _, Frame, SizeHint};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Semaphore};

use crate::config::edge::canonical;
use crate::config::gateway::{GatewaySettings, Upstream};
use crate::http::error::GatewayError;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// RFC 9110 §7.6.1's hop-by-hop headers, plus the old `Proxy-Connection` and `Keep-Alive`.
/// `Expect` goes too: the client's `100-continue` was answered by our own server.
const HOP_BY_HOP: [HeaderName; 10] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::EXPECT,
];

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(30);

pub struct Proxy {
    client: Client<HttpConnector, UpstreamBody>,
    upstream: Upstream,
    preserve_host: bool,
    read_timeout: Duration,
    max_body: u64,
    /// One permit per joined WebSocket: a tunnel no longer holds a server connection slot, so
    /// it is counted here (`AUTHBRIDGE_MAX_CONNECTIONS` of them at most).
    tunnels: Arc<Semaphore>,
}

/// What `prepare` learned before it cleaned the headers.
pub struct Prepared {
    /// The protocol asked for by an HTTP/1.1 `Upgrade`, when it is `websocket`.
    upgrade: Option<HeaderValue>,
    host: Option<HeaderValue>,
}

/// Remove the hop-by-hop headers, those named in `Connection` included (`Host` excepted: it is
/// set again below), remembering the upgrade asked for and the client's `Host`.
pub fn prepare(parts: &mut Parts) -> Prepared {
    let upgrade = (parts.version == Version::HTTP_11
        && connection_tokens(&parts.headers).any(|t| t.eq_ignore_ascii_case("upgrade")))
    .then(|| parts.headers.get(header::UPGRADE).cloned())
    .flatten()
    // WebSocket only: a tunnel for another protocol (`h2c`) would be a raw connection to the
    // upstream, its requests never authenticated nor cleaned here.
    .filter(|p| p.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let host = parts.headers.get(header::HOST).cloned();
    remove_hop_by_hop(&mut parts.headers);
    Prepared { upgrade, host }
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = connection_tokens(headers)
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .filter(|n| *n != header::HOST)
        .collect();
    for name in listed.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
}

/// The `X-Forwarded-*` names Django reads (`SECURE_PROXY_SSL_HEADER`, `USE_X_FORWARDED_HOST`,
/// `USE_X_FORWARDED_PORT`, and apps reading `X-Forwarded-For`), as `request.META` keys.
const FORWARDED_KEYS: [&str; 4] = [
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
];

/// Remove what Django would read as an `X-Forwarded-*` header but a trusted proxy did not
/// send: every spelling with `_` (Django files `X_Forwarded_Proto` under the same key and joins
/// the values), and from any other peer every spelling at all (the edge middleware has removed
/// only the exact `X-Forwarded-For`, `-Proto` and `-Host`).
pub fn strip_forwarded(headers: &mut HeaderMap, trusted_peer: bool) {
    let doomed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            let n = name.as_str();
            (!trusted_peer || n.contains('_'))
                && FORWARDED_KEYS.iter().any(|key| {
                    let key = &key[5..];
                    key.len() == n.len()
                        && key.bytes().zip(n.bytes()).all(|(k, c)| {
                            k == if c == b'-' {
                                b'_'
                            } else {
                                c.to_ascii_uppercase()
                            }
                        })
                })
        })
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(&name);
    }
}

impl Proxy {
    pub fn new(settings: &GatewaySettings, upstream: &Upstream, max_tunnels: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(settings.connect_timeout));
        connector.set_nodelay(true);
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(settings.pool_size)
            .build(connector);
        Self {
            client,
            upstream: upstream.clone(),
            preserve_host: settings.preserve_host,
            read_timeout: settings.read_timeout,
            max_body: settings.max_body_bytes,
            tunnels: Arc::new(Semaphore::new(max_tunnels.max(1))),
        }
    }

    /// Send the request (headers prepared, identity set) upstream and stream back the answer.
    pub async fn send(&self, mut parts: Parts, body: Body, prepared: Prepared) -> Response {
        let started = Instant::now();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body) {
            return self.failed(GatewayError::TooLarge, started);
        }
        if let Some(streaming) = parts.extensions.get::<crate::server::StreamingBody>() {
            streaming.enable();
        }
        self.forwarded(&mut parts, prepared.host.as_ref());
        let tunnel_permit = match &prepared.upgrade {
            Some(_) => match self.tunnels.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return self.failed(GatewayError::TooManyUpgrades, started),
            },
            None => None,
        };
        let client_upgrade = match &prepared.upgrade {
            Some(protocol) => {
                parts
                    .headers
                    .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
                parts.headers.insert(header::UPGRADE, protocol.clone());
                parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
            }
            None => None,
        };
        let path = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let Ok(uri) = Uri::builder()
            .scheme(self.upstream.scheme.clone())
            .authority(self.upstream.authority.clone())
            .path_and_query(path)
            .build()
        else {
            return self.failed(GatewayError::BadPath, started);
        };
        let (done_tx, done_rx) = oneshot::channel();
        let body_ended = body.is_end_stream();
        let too_large = Arc::new(AtomicBool::new(false));
        let body = UpstreamBody {
            inner: body,
            limit: self.max_body,
            seen: 0,
            too_large: too_large.clone(),
            done: Some(done_tx),
        };
        let mut out = Request::new(body);
        *out.method_mut() = parts.method;
        *out.uri_mut() = uri;
        *out.version_mut() = Version::HTTP_11;
        *out.headers_mut() = parts.headers;

        let read_timeout = self.read_timeout;
        let deadline = async move {
            if !body_ended {
                // Sent (or dropped by the client connection): the upstream's turn begins.
                let _ = done_rx.await;
            }
            tokio::time::sleep(read_timeout).await;
        };
        let result = tokio::select! {
            result = self.client.request(out) => result,
            () = deadline => {
                tracing::warn!(
                    target: "authbridge::gateway",
                    upstream = %self.upstream.authority,
                    timeout_ms = u64::try_from(read_timeout.as_millis()).unwrap_or(u64::MAX),
                    "upstream did not answer within READ_TIMEOUT"
                );
                return self.failed(GatewayError::Timeout, started);
            }
        };
        let mut res = match result {
            Ok(res) => res,
            Err(_) if too_large.load(Ordering::Acquire) => {
                return self.failed(GatewayError::TooLarge, started)
            }
            Err(e) => {
                let cause = std::error::Error::source(&e)
                    .map_or_else(|| e.to_string(), ToString::to_string);
                tracing::warn!(
                    target: "authbridge::gateway",
                    upstream = %self.upstream.authority,
                    connect = e.is_connect(),
                    error = %cause,
                    "upstream request failed"
                );
                return self.failed(GatewayError::BadGateway, started);
            }
        };
        record(res.status().as_str(), started);
        if res.status() == StatusCode::SWITCHING_PROTOCOLS {
            let upstream_upgrade = hyper::upgrade::on(&mut res);
            if let (Some(client_upgrade), Some(permit)) = (client_upgrade, tunnel_permit) {
                tokio::spawn(async move {
                    tunnel(client_upgrade, upstream_upgrade).await;
                    drop(permit);
                });
            }
            let (parts, _) = res.into_parts();
            return Response::from_parts(parts, Body::empty());
        }
        let (mut parts, body) = res.into_parts();
        remove_hop_by_hop(&mut parts.headers);
        let body = StallGuard {
            inner: body,
            timeout: self.read_timeout,
            sleep: None,
        };
        Response::from_parts(parts, Body::new(body))
    }

    /// The `X-Forwarded-*` headers and `Host` (see the module documentation).
    fn forwarded(&self, parts: &mut Parts, host: Option<&HeaderValue>) {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| canonical(c.0.ip()));
        let headers = &mut parts.headers;
        if let Some(peer) = peer {
            let mut chain: Vec<String> = headers
                .get_all(&X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_string)
                .collect();
            chain.push(peer.to_string());
            if let Ok(v) = HeaderValue::from_str(&chain.join(", ")) {
                headers.insert(X_FORWARDED_FOR, v);
            }
        }
        if !headers.contains_key(&X_FORWARDED_PROTO) {
            headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
        }
        if let Some(host) = host {
            if !headers.contains_key(&X_FORWARDED_HOST) {
                headers.insert(X_FORWARDED_HOST, host.clone());
            }
        }
        let host = match host {
            Some(h) if self.preserve_host => Some(h.clone()),
            _ => HeaderValue::from_str(self.upstream.authority.as_str()).ok(),
        };
        if let Some(host) = host {
            headers.insert(header::HOST, host);
        }
    }

    fn failed(&self, error: GatewayError, started: Instant) -> Response {
        let outcome = match error {
            GatewayError::BadGateway => "unavailable",
            GatewayError::Timeout => "timeout",
            GatewayError::TooLarge => "too_large",
            GatewayError::BadPath => "bad_path",
            GatewayError::TooManyUpgrades => "too_many_upgrades",
            GatewayError::IdentityHeader => "identity_header",
        };
        record(outcome, started);
        error.into_response()
    }
}

/// `authbridge_gateway_upstream_requests_total{outcome}` (the upstream's status, or why there
/// was none) and `authbridge_gateway_upstream_duration_seconds` (until the answer's headers).
fn record(outcome: &str, started: Instant) {
    metrics::counter!("authbridge_gateway_upstream_requests_total", "outcome" => outcome.to_string())
        .increment(1);
    metrics::histogram!("authbridge_gateway_upstream_duration_seconds")
        .record(started.elapsed().as_secs_f64());
}

/// Both sides of an upgraded connection, copied until either closes.
async fn tunnel(client: hyper::upgrade::OnUpgrade, upstream: hyper::upgrade::OnUpgrade) {
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::debug!(target: "authbridge::gateway", error = %e, "upgrade failed");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!(target: "authbridge::gateway", error = %e, "upgraded connection ended");
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request body larger than the gateway's MAX_BODY_BYTES")]
struct BodyTooLarge;

#[derive(Debug, thiserror::Error)]
#[error("the upstream's answer stalled for longer than READ_TIMEOUT")]
struct UpstreamStalled;

/// The upstream's answer on its way to the client: a wait longer than `READ_TIMEOUT` for its
/// next frame ends it (a stuck upstream must not hold a client connection for ever). The timer
/// exists only while a frame is awaited.
struct StallGuard {
    inner: hyper::body::Incoming,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl hyper::body::Body for StallGuard {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.sleep = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            tracing::warn!(
                target: "authbridge::gateway",
                timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                "upstream answer stalled; cut"
            );
            metrics::counter!("authbridge_gateway_upstream_requests_total", "outcome" => "stalled")
                .increment(1);
            return Poll::Ready(Some(Err(Box::new(UpstreamStalled))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body on its way upstream: counted against the limit, and telling the read
/// timeout when it is done (sent, failed, or dropped).
pub struct UpstreamBody {
    inner: Body,
    limit: u64,
    seen: u64,
    too_large: Arc<AtomicBool>,
    done: Option<oneshot::Sender<()>>,
}

impl hyper::body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen = this.seen.saturating_add(data.len() as u64);
                    if this.seen > this.limit {
                        this.too_large.store(true, Ordering::Release);
                        this.done = None;
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = None;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                if let Some(done) = this.done.take() {
                    let _ = done.send(());
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_with_those_connection_names() {
        let mut req = Request::builder()
            .header("connection", "keep-alive, X-Secret, host")
            .header("connection", "upgrade")
            .header("keep-alive", "timeout=5")
            .header("x-secret", "s")
            .header("te", "trailers")
            .header("transfer-encoding", "chunked")
            .header("upgrade", "websocket")
            .header("proxy-authorization", "Basic x")
            .header("expect", "100-continue")
            .header("host", "app.example")
            .header("x-kept", "k")
            .body(())
            .expect("request");
        *req.version_mut() = Version::HTTP_11;
        let (mut parts, ()) = req.into_parts();
        let prepared = prepare(&mut parts);
        assert_eq!(
            prepared.upgrade,
            Some(HeaderValue::from_static("websocket"))
        );
        assert_eq!(prepared.host, Some(HeaderValue::from_static("app.example")));
        let mut left: Vec<&str> = parts.headers.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["host", "x-kept"]);

        // No upgrade to anything but WebSocket.
        let mut req = Request::builder()
            .header("connection", "Upgrade, HTTP2-Settings")
            .header("upgrade", "h2c")
            .body(())
            .expect("request");
        *req.version_mut() = Version::HTTP_11;
        let (mut parts, ()) = req.into_parts();
        assert!(prepare(&mut parts).upgrade.is_none());
        assert!(parts.headers.get("upgrade").is_none());

        // No upgrade without `Connection: upgrade`, nor over HTTP/2.
        let (mut parts, ()) = Request::builder()
            .header("upgrade", "websocket")
            .body(())
            .expect("request")
            .into_parts();
        assert!(prepare(&mut parts).upgrade.is_none());
    }
}
