//! The edge middleware, outermost on every request:
//! - **client address**: the TCP peer (`ConnectInfo`, put there by `crate::server`); when that
//!   peer is one of `AUTHBRIDGE_TRUSTED_PROXIES`, the rightmost address in `X-Forwarded-For` that
//!   is not itself a trusted proxy. Stored as `ClientIp` in the request's extensions;
//! - **forwarded headers**: `X-Forwarded-For`, `-Proto` and `-Host` are removed from requests
//!   whose peer is not a trusted proxy, so nothing downstream (the CSRF own-origin, the host
//!   check) can be steered by a client that spoofs them;
//! - **request id**: a well-formed incoming `X-Request-Id` is kept, otherwise one is generated;
//!   it is echoed in the response and names the request's log span (audit lines carry it);
//! - **request line**: one `info` line per request (target `authbridge::access`): method, path
//!   without the query string, status, latency, client address, request id. Never headers,
//!   cookies, bodies or tokens;
//! - **metrics**: `authbridge_http_requests_total{route,method,status}` and
//!   `authbridge_http_request_duration_seconds{route}` (route = the matched route pattern).
//!
//! The host check (`host_check`, Django's `ALLOWED_HOSTS`) is a separate layer placed where
//! Django's `CommonMiddleware` sits, see `http::router`.

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tracing::Instrument;

use super::extract::ClientIp;
use super::AppState;
use crate::config::edge::canonical;
use crate::config::EdgeSettings;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const MAX_LOGGED_PATH: usize = 256;

/// Which listener a request came in on: the public one logs every request at `info`; the
/// operations listener (`AUTHBRIDGE_OPS_BIND`, scraped every few seconds) at `debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Public,
    Ops,
}

/// The client address for a request from `peer` with these (not yet cleaned) headers.
pub fn client_ip(edge: &EdgeSettings, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let peer = canonical(peer);
    if !edge.is_trusted_proxy(peer) {
        return peer;
    }
    // Every X-Forwarded-For header, in order, as one list; walked from the right (the hop our
    // trusted proxy appended) to the first address that is not a trusted proxy.
    let hops: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage from the client's side of the chain: the last trusted hop is all we know.
            break;
        };
        client = ip;
        if !edge.is_trusted_proxy(ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// A request id we accept from the client: short, and only characters that cannot forge a log
/// line.
fn valid_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn logged_path(path: &str) -> &str {
    if path.len() <= MAX_LOGGED_PATH {
        return path;
    }
    let mut end = MAX_LOGGED_PATH;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

/// What only a trusted proxy may tell us.
fn drop_forwarded(headers: &mut HeaderMap) {
    headers.remove(&X_FORWARDED_FOR);
    headers.remove(&X_FORWARDED_PROTO);
    headers.remove(&X_FORWARDED_HOST);
}

/// The middleware (see the module documentation).
pub async fn edge(
    State((state, listener)): State<(AppState, Listener)>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let edge = &state.settings.edge;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| canonical(c.0.ip()));
    let client = match peer {
        Some(peer) => {
            let ip = client_ip(edge, peer, req.headers());
            if !edge.is_trusted_proxy(peer) {
                drop_forwarded(req.headers_mut());
            }
            ClientIp(ip)
        }
        None => {
            // Built in-process (no connection): nothing forwarded is believed.
            drop_forwarded(req.headers_mut());
            ClientIp::UNKNOWN
        }
    };
    req.extensions_mut().insert(client);
    // HTTP/2 carries the host in `:authority`; give the rest of the stack a `Host` header.
    if !req.headers().contains_key(header::HOST) {
        if let Some(v) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            req.headers_mut().insert(header::HOST, v);
        }
    }
    let request_id = match req.headers().get(&REQUEST_ID) {
        Some(v) if valid_request_id(v) => v.clone(),
        _ => {
            let v = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("-"));
            req.headers_mut().insert(REQUEST_ID, v.clone());
            v
        }
    };
    let id = request_id.to_str().unwrap_or("-").to_string();
    let method = req.method().clone();
    let path = logged_path(req.uri().path()).to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| super::error::log_internal(&res, &method, &route));
    res.headers_mut().insert(REQUEST_ID, request_id);
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let client = client.0;
    // `tracing` fixes a line's level where it is written: one line, two levels (see `Listener`).
    macro_rules! access_line {
        ($level:expr) => {
            tracing::event!(
                target: "authbridge::access",
                $level,
                method = %method,
                path = %path,
                status,
                latency_ms = format_args!("{latency_ms:.2}"),
                client = %client,
                request_id = %id,
                "request"
            )
        };
    }
    match listener {
        Listener::Public => access_line!(tracing::Level::INFO),
        Listener::Ops => access_line!(tracing::Level::DEBUG),
    }
    let method = method_label(&method);
    metrics::counter!(
        "authbridge_http_requests_total",
        "route" => route.clone(),
        "method" => method,
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("authbridge_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    res
}

/// Django's `ALLOWED_HOSTS` check (`HttpRequest.get_host`, run by `CommonMiddleware`): the host
/// (`X-Forwarded-Host` from a trusted proxy, else `Host`) must match `AUTHBRIDGE_ALLOWED_HOSTS`,
/// otherwise Django's `400 Bad Request` page. `/healthz` and `/readyz` are exempt: load
/// balancers and orchestrators probe them by IP address.
pub async fn host_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let headers = req.headers();
    let first = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let host = first(&X_FORWARDED_HOST).or_else(|| first(&header::HOST));
    match host {
        Some(h) if state.settings.edge.host_allowed(h) => next.run(req).await,
        other => {
            // The host is the client's text: bounded here, and escaped by the log formatter.
            let host: String = other.unwrap_or("").chars().take(100).collect();
            let client = req
                .extensions()
                .get::<ClientIp>()
                .filter(|c| **c != ClientIp::UNKNOWN)
                .map(|c| c.0);
            crate::audit::record(
                crate::audit::Event::DisallowedHost,
                crate::audit::Subject {
                    client,
                    reason: Some(&host),
                    ..Default::default()
                },
            );
            bad_request()
        }
    }
}

/// Django's `bad_request` view without a `400.html` template.
fn bad_request() -> Response {
    let body = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n";
    (
        StatusCode::BAD_REQUEST,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        Body::from(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn edge(pairs: &[(&str, &str)]) -> EdgeSettings {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(None, env).expect("settings").edge
    }

    fn xff(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let e = edge(&[("AUTHBRIDGE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")]);
        let cases: [(&str, &[&'static str], &str); 9] = [
            // Untrusted peer: the header is ignored.
            ("203.0.113.9", &["1.2.3.4"], "203.0.113.9"),
            // Trusted peer: the rightmost untrusted hop; a spoofed left part is skipped.
            ("10.0.0.2", &["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
            (
                "10.0.0.2",
                &["6.6.6.6", "198.51.100.7, 10.1.1.1"],
                "198.51.100.7",
            ),
            // Only proxies in the chain: the leftmost.
            ("10.0.0.2", &["10.9.9.9, 192.0.2.1"], "10.9.9.9"),
            // No header, or garbage: the last trusted hop.
            ("10.0.0.2", &[], "10.0.0.2"),
            ("10.0.0.2", &["unknown"], "10.0.0.2"),
            ("10.0.0.2", &["198.51.100.7:4711"], "198.51.100.7"),
            ("::ffff:10.0.0.2", &["[2001:db8::1]:80"], "2001:db8::1"),
            // A peer outside the trusted ranges, whatever it claims.
            ("192.0.2.2", &["1.2.3.4"], "192.0.2.2"),
        ];
        for (peer, forwarded, expected) in cases {
            assert_eq!(
                client_ip(&e, ip(peer), &xff(forwarded)),
                ip(expected),
                "peer {peer}, X-Forwarded-For {forwarded:?}"
            );
        }
        // Nothing trusted by default.
        assert_eq!(
            client_ip(&edge(&[]), ip("127.0.0.1"), &xff(&["1.2.3.4"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn request_ids() {
        assert!(valid_request_id(&HeaderValue::from_static("abc-123_x.y")));
        assert!(!valid_request_id(&HeaderValue::from_static("")));
        assert!(!valid_request_id(&HeaderValue::from_static("a b")));
        assert!(!valid_request_id(
            &HeaderValue::from_str(&"a".repeat(129)).expect("v")
        ));
        assert_eq!(logged_path("/api/"), "/api/");
        assert_eq!(logged_path(&"/a".repeat(500)).len(), MAX_LOGGED_PATH);
    }
}
