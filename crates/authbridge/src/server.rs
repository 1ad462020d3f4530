//! The accept loop: hyper-util's automatic HTTP/1 + HTTP/2 connection builder with a Tokio timer,
//! so that no connection can be held open for free. Per connection:
//! - **header read**: HTTP/1 request headers must arrive within `header_read_timeout` (hyper's own
//!   timer; it also runs while a kept-alive connection waits for its next request, so an idle
//!   HTTP/1 connection is closed after `min(header_read_timeout, idle_timeout)`); the first request
//!   on any connection (HTTP/2's preface included) must start within it too;
//! - **idle**: a connection with no request in progress is closed `idle_timeout` after its last
//!   request ended (HTTP/2 pings do not count as activity);
//! - **response**: a response whose next frame the client does not take (it stops reading) for
//!   `idle_timeout` is cut;
//! - **body read**: a request body must be complete `body_read_timeout` after its headers; a body
//!   that trickles is cut off, the request answered `408` (HTTP/1: with `Connection: close`);
//! - **HTTP/2**: bounded concurrent streams and header-list size; HTTP/1's read buffer (and so its
//!   header block) is bounded by the same `max_header_bytes`.
//!
//! Connections are capped by a semaphore of `max_connections` permits, taken *before* `accept`:
//! when every permit is in use the loop stops accepting, and new connections wait in the kernel's
//! listen backlog (the TCP handshake completes there, the request is read once a slot frees). That
//! costs no file descriptor and no memory per waiting client, keeps descriptors free for the
//! database (a flood cannot make `accept` fail with EMFILE), and serves a waiting client as soon as
//! any connection ends; the timeouts above guarantee that slots do free up. Closing excess
//! connections instead would spend an accept and a descriptor on each one just to reset it, and
//! turn every burst into errors for legitimate clients.
//!
//! Each request gets the TCP peer in its extensions (`axum::extract::ConnectInfo<SocketAddr>`);
//! the router's edge middleware (`http::edge`) derives the `ClientIp` from it.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode, Version};
use axum::Router;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::EdgeSettings;

/// How long an idle connection may take to close once asked (HTTP/2: GOAWAY, then the peer's
/// acknowledgement of a PING) before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// At most one "connection cap reached" warning per interval.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(60);
/// How long the server waits for open connections at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The limits the accept loop enforces (from `EdgeSettings`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
    pub http2_max_streams: u32,
    pub max_header_bytes: usize,
}

impl From<&EdgeSettings> for Limits {
    fn from(e: &EdgeSettings) -> Self {
        Self {
            header_read_timeout: e.header_read_timeout,
            idle_timeout: e.idle_timeout,
            body_read_timeout: e.body_read_timeout,
            max_connections: e.max_connections.max(1),
            http2_max_streams: e.http2_max_streams,
            max_header_bytes: e.max_header_bytes.max(8192),
        }
    }
}

fn builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(Some(20))
        .max_local_error_reset_streams(Some(1024))
        // A peer that stops answering pings is gone; its connection is released.
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Serve `router` on `listener` until `shutdown` resolves, then let open connections finish
/// (at most `SHUTDOWN_GRACE`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = Arc::new(builder(&limits));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let local = listener.local_addr().ok();
    let mut saturated = false;
    let mut last_warning: Option<Instant> = None;
    loop {
        if permits.available_permits() == 0 && !saturated {
            saturated = true;
            metrics::counter!("authbridge_connection_cap_reached_total").increment(1);
            // Said at most once a minute: under a flood the cap is reached again at every slot.
            if last_warning.is_none_or(|t| t.elapsed() >= CAP_WARNING_INTERVAL) {
                last_warning = Some(Instant::now());
                tracing::warn!(
                    listener = ?local,
                    max_connections = limits.max_connections,
                    "connection cap reached: new connections wait in the listen backlog"
                );
            }
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        if permits.available_permits() > 0 {
            saturated = false;
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    drop(permit);
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let router = router.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            metrics::gauge!("authbridge_open_connections").increment(1.0);
            serve_connection(&builder, stream, peer, router, limits, stop).await;
            metrics::gauge!("authbridge_open_connections").decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after the grace period are dropped");
    }
    Ok(())
}

/// `accept` failed: a per-connection error (the peer reset before we got to it) is skipped;
/// anything else (EMFILE, ENFILE, ENOMEM) is logged and retried after a pause instead of spinning.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What the idle watchdog of one connection needs to know.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

struct ActivityState {
    in_flight: usize,
    /// Since when nothing is in flight (the connection's start before its first request).
    idle_since: Instant,
    any_request: bool,
    /// Since when a response's last frame waits for the client to take it (hyper asks for the
    /// next one only once the socket has room): a client that stops reading is cut after
    /// `idle_timeout`.
    sending_since: Option<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                idle_since: Instant::now(),
                any_request: false,
                sending_since: None,
            }),
            changed: Notify::new(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut ActivityState) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// When the connection is to be closed if nothing happens meanwhile; `None` while a request
    /// is in progress.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        self.with(|s| {
            if s.in_flight > 0 {
                s.sending_since.map(|t| t + limits.idle_timeout)
            } else if s.any_request {
                Some(s.idle_since + limits.idle_timeout)
            } else {
                Some(s.idle_since + limits.header_read_timeout.min(limits.idle_timeout))
            }
        })
    }

    fn start(self: &Arc<Self>) -> InFlight {
        self.with(|s| {
            s.in_flight += 1;
            s.any_request = true;
        });
        self.changed.notify_waiters();
        InFlight(self.clone())
    }
}

/// One request in progress; dropped when its response is ready or it is abandoned.
struct InFlight(Arc<Activity>);

impl InFlight {
    /// A frame was handed to hyper (`true`: until it asks for the next one, the client is the one
    /// to wait for), or hyper asks for the next (`false`).
    fn sending(&self, waiting: bool) {
        let changed = self.0.with(|s| {
            let was = s.sending_since.is_some();
            s.sending_since = waiting.then(Instant::now);
            waiting && !was
        });
        if changed {
            self.0.changed.notify_waiters();
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
                s.sending_since = None;
            }
        });
        self.0.changed.notify_waiters();
    }
}

async fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let service = ConnService {
        router,
        peer,
        activity: activity.clone(),
        body_read_timeout: limits.body_read_timeout,
    };
    // With upgrades: the gateway passes WebSocket upgrades through (`http::gateway::proxy`).
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let mut hard_deadline: Option<Instant> = None;
    loop {
        // Register for changes before reading the state, so none is missed in between.
        let changed = activity.changed.notified();
        let mut changed = std::pin::pin!(changed);
        changed.as_mut().enable();
        let idle_deadline = if hard_deadline.is_none() {
            activity.deadline(&limits)
        } else {
            None
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(idle_deadline) => {
                // Re-checked: a request may have started since the deadline was computed.
                if activity.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    metrics::counter!("authbridge_connections_timed_out_total").increment(1);
                    tracing::debug!(%peer, "closing an idle connection");
                    conn.as_mut().graceful_shutdown();
                    hard_deadline = Some(Instant::now() + CLOSE_GRACE);
                }
            }
            () = &mut changed => {}
            _ = stop.changed(), if hard_deadline.is_none() => {
                conn.as_mut().graceful_shutdown();
                hard_deadline = Some(Instant::now() + SHUTDOWN_GRACE);
            }
            () = sleep_until(hard_deadline) => return,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The per-connection hyper service: peer address in, body deadline on, router called.
#[derive(Clone)]
struct ConnService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
    body_read_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.start();
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        let http1 = parts.version < Version::HTTP_2;
        let timed_out = Arc::new(AtomicBool::new(false));
        let streaming = StreamingBody::default();
        parts.extensions.insert(streaming.clone());
        let body = TimedBody {
            inner: body,
            deadline: Instant::now() + self.body_read_timeout,
            timeout: self.body_read_timeout,
            streaming,
            sleep: None,
            timed_out: timed_out.clone(),
        };
        let req = Request::from_parts(parts, Body::new(body));
        let router = self.router.clone();
        Box::pin(async move {
            let res = router.oneshot(req).await;
            if timed_out.load(Ordering::Acquire) {
                drop(in_flight);
                metrics::counter!("authbridge_body_read_timeouts_total").increment(1);
                return Ok(request_timeout(http1));
            }
            // The request stays in progress (no idle close) until its response body is sent: a
            // long download (the gateway's) is activity.
            res.map(|res| {
                res.map(|body| {
                    Body::new(GuardedBody {
                        inner: body,
                        in_flight: Some(in_flight),
                    })
                })
            })
        })
    }
}

/// `408 Request Timeout`; on HTTP/1 the connection is closed after it (the rest of the body may
/// still be on its way).
fn request_timeout(http1: bool) -> Response<Body> {
    let mut res = Response::new(Body::from(
        r#"{"detail":"Request body not received in time."}"#,
    ));
    *res.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if http1 {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

#[derive(Debug, thiserror::Error)]
#[error("request body not received within the body read timeout")]
pub struct BodyReadTimeout;

/// Set by a handler that streams the request body elsewhere (the gateway): the body read
/// timeout then bounds each wait for the next chunk instead of the whole body, so a long upload
/// that keeps moving is not cut while one that stalls still is.
#[derive(Clone, Default)]
pub struct StreamingBody(Arc<AtomicBool>);

impl StreamingBody {
    pub fn enable(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The request body with a deadline for its last byte (or, once `StreamingBody` is enabled,
/// for its next chunk).
struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    timeout: Duration,
    streaming: StreamingBody,
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

/// A response body that keeps its request counted as in progress until it is sent or dropped.
struct GuardedBody {
    inner: Body,
    in_flight: Option<InFlight>,
}

impl hyper::body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(in_flight) = &self.in_flight {
            in_flight.sending(false);
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.in_flight = None,
            Poll::Ready(Some(Ok(_))) => {
                if let Some(in_flight) = &self.in_flight {
                    in_flight.sending(true);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl hyper::body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.timed_out.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(Box::new(BodyReadTimeout))));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if this.streaming.0.load(Ordering::Acquire) {
                // A chunk arrived: the next one has the whole timeout again.
                this.deadline = Instant::now() + this.timeout;
                this.sleep = None;
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.timed_out.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(Box::new(BodyReadTimeout))));
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
