//! What the upstream sees: the request as sent minus hop-by-hop headers, `X-Forwarded-*` set
//! (believed only from trusted proxies), `Host` preserved or not, and never a client's copy of an
//! identity header, whatever its spelling.

use serde_json::Value;

use super::{seen, seen_headers, spawn, Upstream, PASSWORD};
use crate::support::json_of;

/// Every spelling a client could use to pass for a user: each maps to a `request.META` key
/// Django's `RemoteUserMiddleware` reads (WSGI, or ASGI in 5.2/6.0), or names one in
/// `Connection` hoping the proxy adds it after cleaning.
const SPOOFS: &[(&str, &str)] = &[
    ("X-Remote-User", "admin"),
    ("X_Remote_User", "admin"),
    ("x-remote_user", "admin"),
    ("Http-X-Remote-User", "admin"),
    ("HTTP_X_REMOTE_USER", "admin"),
    ("X-Remote-User-Id", "1"),
    ("X_REMOTE_USER_ID", "1"),
    ("Http-X-Remote-User-Id", "1"),
    ("X-Remote-User-Email", "admin@example.com"),
    ("x_remote_user_email", "admin@example.com"),
    ("Remote-User", "admin"),
    ("Remote_User", "admin"),
    ("Http-Remote-User", "admin"),
];

fn spoofed_names(echo: &Value) -> Vec<(String, String)> {
    seen_headers(echo)
        .into_iter()
        .filter(|(n, _)| {
            let meta = n.to_ascii_uppercase().replace('-', "_");
            meta.contains("REMOTE_USER")
        })
        .collect()
}

#[tokio::test]
async fn the_upstream_gets_the_request_without_hop_by_hop_headers() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let res = app
        .client
        .post(app.url("/echo/a/b?x=1&y=%2F"))
        .header("connection", "keep-alive, X-Drop-Me")
        .header("keep-alive", "timeout=5")
        .header("x-drop-me", "1")
        .header("te", "trailers")
        .header("proxy-authorization", "Basic eDp5")
        .header("x-custom", "kept")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("cookie", "a=1")
        .body("hello")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-request-id").is_some());
    let (_, echo) = json_of(res).await;
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], "/echo/a/b?x=1&y=%2F");
    assert_eq!(echo["version"], "HTTP/1.1");
    for gone in [
        "connection",
        "keep-alive",
        "x-drop-me",
        "te",
        "proxy-authorization",
    ] {
        assert!(seen(&echo, gone).is_empty(), "{gone} reached the upstream");
    }
    assert_eq!(seen(&echo, "x-custom"), ["kept"]);
    assert_eq!(seen(&echo, "cookie"), ["a=1"]);
    assert_eq!(seen(&echo, "content-length"), ["5"]);
    // Our peer is no trusted proxy: its X-Forwarded-* are dropped and ours set.
    let host = app.addr.to_string();
    assert_eq!(seen(&echo, "host"), [host.as_str()]);
    assert_eq!(seen(&echo, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(seen(&echo, "x-forwarded-proto"), ["http"]);
    assert_eq!(seen(&echo, "x-forwarded-host"), [host]);
    assert_eq!(seen(&echo, "x-request-id").len(), 1);
    assert!(spoofed_names(&echo).is_empty());
}

#[tokio::test]
async fn forwarded_headers_from_a_trusted_proxy_are_kept_and_extended() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1"),
            ("AUTHBRIDGE_ALLOWED_HOSTS", "app.example, 127.0.0.1"),
        ],
    )
    .await;
    let res = app
        .client
        .get(app.url("/echo"))
        .header("x-forwarded-for", "203.0.113.5")
        .header("x-forwarded-host", "app.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    let (status, echo) = json_of(res).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-forwarded-for"), ["203.0.113.5, 127.0.0.1"]);
    assert_eq!(seen(&echo, "x-forwarded-host"), ["app.example"]);
    assert_eq!(seen(&echo, "x-forwarded-proto"), ["https"]);
}

#[tokio::test]
async fn host_is_the_upstreams_when_not_preserved() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[("AUTHBRIDGE_GATEWAY_PRESERVE_HOST", "false")]).await;
    let (_, echo) = json_of(app.client.get(app.url("/echo")).send().await.expect("r")).await;
    assert_eq!(seen(&echo, "host"), [upstream.addr.to_string()]);
    assert_eq!(seen(&echo, "x-forwarded-host"), [app.addr.to_string()]);
}

#[tokio::test]
async fn spoofed_identity_headers_never_reach_the_upstream() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let id = app.create_user("ann", PASSWORD, true).await.to_string();
    let (_, access) = app.login("ann", PASSWORD).await;
    for signed_in in [false, true] {
        let mut req = app
            .client
            .get(app.url("/echo"))
            .header("connection", "X-Remote-User, x-remote-user-id");
        for (name, value) in SPOOFS {
            req = req.header(*name, *value);
        }
        if signed_in {
            req = req.bearer_auth(&access);
        }
        let (status, echo) = json_of(req.send().await.expect("request")).await;
        assert_eq!(status, 200);
        let identity = spoofed_names(&echo);
        if signed_in {
            assert_eq!(
                identity,
                [
                    ("x-remote-user".to_string(), "ann".to_string()),
                    ("x-remote-user-id".to_string(), id.clone()),
                    (
                        "x-remote-user-email".to_string(),
                        "ann@example.com".to_string()
                    ),
                ]
            );
        } else {
            assert!(
                identity.is_empty(),
                "anonymous request carried {identity:?}"
            );
        }
    }
}

#[tokio::test]
async fn authbridges_own_routes_answer_first_and_the_host_check_covers_proxied_paths() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let res = app
        .client
        .get(app.url("/api/token/"))
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 405);
    let res = app
        .client
        .get(app.url("/api/token"))
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/api/token/");
    let res = app.client.get(app.url("/healthz")).send().await.expect("r");
    assert_eq!(res.status(), 200);
    assert_eq!(upstream.hits(), 0);
    let res = app
        .client
        .get(app.url("/echo"))
        .header("host", "evil.example")
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 400);
    assert_eq!(upstream.hits(), 0);
    // authbridge's own headers stay off proxied answers: Django's are the ones that count.
    let res = app.client.get(app.url("/echo")).send().await.expect("r");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-frame-options").is_none());
    assert!(res.headers().get("cross-origin-opener-policy").is_none());
    let res = app.client.get(app.url("/api/me/")).send().await.expect("r");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
}

/// Django files `X_Forwarded_Proto` under the same `request.META` key as `X-Forwarded-Proto`
/// (WSGI servers that keep `_` headers, and ASGI always), and reads the first of the joined
/// values for `SECURE_PROXY_SSL_HEADER`; `X-Forwarded-Port` is `USE_X_FORWARDED_PORT`'s. From
/// a client that is not a trusted proxy, no spelling of them may reach Django but authbridge's.
#[tokio::test]
async fn forwarded_headers_cannot_be_spoofed_in_another_spelling() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let res = app
        .client
        .get(app.url("/echo"))
        .header("x_forwarded_proto", "https")
        .header("X_Forwarded_Host", "evil.example")
        .header("x_forwarded_for", "6.6.6.6")
        .header("x-forwarded-port", "443")
        .header("x_forwarded_port", "443")
        .send()
        .await
        .expect("request");
    let (status, echo) = json_of(res).await;
    assert_eq!(status, 200);
    let forwarded: Vec<(String, String)> = seen_headers(&echo)
        .into_iter()
        .filter(|(n, _)| {
            n.to_ascii_uppercase()
                .replace('-', "_")
                .starts_with("X_FORWARDED_")
        })
        .collect();
    let names: Vec<&str> = forwarded.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        forwarded.iter().all(|(n, v)| n.starts_with("x-forwarded-")
            && !v.contains("6.6.6.6")
            && v != "https"
            && v != "evil.example"),
        "{forwarded:?}"
    );
    assert!(!names.contains(&"x-forwarded-port"), "{names:?}");
    assert_eq!(seen(&echo, "x-forwarded-proto"), ["http"]);
}

/// Only WebSocket upgrades are passed on. An upstream that accepts `Upgrade: h2c` (hypercorn)
/// would otherwise hand the client a raw HTTP/2 connection to Django behind the gateway's
/// back: every request on it unchecked, with any `X-Remote-User` it likes.
#[tokio::test]
async fn only_websocket_upgrades_reach_the_upstream() {
    let upstream = Upstream::start().await;
    let app = spawn(&upstream, &[]).await;
    let res = app
        .client
        .get(app.url("/echo"))
        .header("connection", "Upgrade, HTTP2-Settings")
        .header("upgrade", "h2c")
        .header("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA")
        .send()
        .await
        .expect("request");
    let (status, echo) = json_of(res).await;
    assert_eq!(status, 200);
    assert!(seen(&echo, "upgrade").is_empty(), "{echo}");
    assert!(seen(&echo, "connection")
        .iter()
        .all(|v| !v.to_ascii_lowercase().contains("upgrade")));
}
