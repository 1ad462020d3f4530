//! The network edge, black-box: connection timeouts and cap (slowloris, idle, slow body, one
//! connection over the cap), the host check, forwarded headers from untrusted and trusted peers,
//! the CSRF own origin from configuration, `null` origins, request lines and secrets in the logs,
//! `/readyz` and `/metrics`. Timeouts are configured short so every test takes a few seconds at
//! most; each measured bound has slack for a loaded machine.

use crate::support::binary::{spawn_binary, stop_and_read_stderr};
use crate::support::{
    backends, seed_user, settings, status_body, TestApp, TestDb, FAST_HASHER, SECRET,
};
use authbridge::app::Application;
use authbridge::config::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Read until the peer closes (EOF or reset) or `limit` passes; returns what was read and
/// whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Read one complete HTTP/1.1 response with a Content-Length body (or give up at `limit`).
async fn read_response(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&out).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if out.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

fn get(addr: SocketAddr, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n")
}

#[tokio::test]
async fn slowloris_headers_are_cut_at_the_header_read_timeout() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "500ms"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "30"),
        ],
    )
    .await;
    // HTTP/1 request line and headers one byte every 100 ms (the full request would take 4 s),
    // and the HTTP/2 preface the same way (hyper's HTTP/1 timer does not see it).
    let http1 = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nUser-Agent: slowloris-slowloris\r\n\r\n",
        app.addr
    );
    let http2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0".to_string();
    for request in [http1, http2] {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect");
        let started = Instant::now();
        let mut sent = 0;
        let mut closed = false;
        for byte in request.as_bytes() {
            if stream.write_all(&[*byte]).await.is_err() {
                closed = true;
                break;
            }
            sent += 1;
            let (_, c) = read_until_closed(&mut stream, Duration::from_millis(100)).await;
            if c {
                closed = true;
                break;
            }
        }
        let elapsed = started.elapsed();
        assert!(closed, "still open after sending all {sent} bytes");
        assert!(sent < request.len(), "the whole request went through");
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(2500),
            "closed after {elapsed:?} ({sent} bytes sent)"
        );
    }
    // A connection that never sends a byte is closed just as soon.
    let mut silent = TcpStream::connect(app.addr).await.expect("connect");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(3)).await;
    assert!(closed && started.elapsed() < Duration::from_millis(2500));
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "10"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "400ms"),
        ],
    )
    .await;
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    // Two requests on the connection: activity keeps it open.
    for _ in 0..2 {
        stream
            .write_all(get(app.addr, "/healthz").as_bytes())
            .await
            .expect("write");
        let res = read_response(&mut stream, Duration::from_secs(2))
            .await
            .expect("response");
        assert!(res.starts_with("HTTP/1.1 200"), "{res}");
        // Stays (the network edge's own timer): half the idle timeout of quiet, after which
        // the connection must still be open for the next request.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Then idle: closed by the idle timeout, long before the 10 s header timer.
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    let elapsed = started.elapsed();
    assert!(closed, "idle connection still open after 3 s");
    assert!(
        elapsed < Duration::from_millis(1500),
        "closed after {elapsed:?}"
    );

    // An HTTP/2 connection that never sends a request (preface and SETTINGS only) is closed too
    // (GOAWAY first; this client never acknowledges the PING, so after a 1 s grace).
    let mut h2 = TcpStream::connect(app.addr).await.expect("connect");
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .expect("write");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut h2, Duration::from_secs(4)).await;
    let elapsed = started.elapsed();
    assert!(
        closed && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_MAX_CONNECTIONS", "2"),
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "10"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "10"),
        ],
    )
    .await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(app.addr).await.expect("connect");
        s.write_all(get(app.addr, "/healthz").as_bytes())
            .await
            .expect("write");
        let res = read_response(&mut s, Duration::from_secs(2))
            .await
            .expect("served");
        assert!(res.starts_with("HTTP/1.1 200"));
        open.push(s);
    }
    // The third connects (the kernel's backlog completes the handshake) but is not served.
    let mut third = TcpStream::connect(app.addr).await.expect("connect");
    third
        .write_all(get(app.addr, "/healthz").as_bytes())
        .await
        .expect("write");
    assert!(
        read_response(&mut third, Duration::from_millis(800))
            .await
            .is_none(),
        "served over the cap"
    );
    // One of the two closes: the third is served at once.
    drop(open.remove(0));
    let started = Instant::now();
    let res = read_response(&mut third, Duration::from_secs(2))
        .await
        .expect("served once a slot freed");
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn a_trickled_body_is_cut_with_408() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_BODY_READ_TIMEOUT", "500ms"),
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "10"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "10"),
        ],
    )
    .await;
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let head = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut closed = false;
    // One body byte every 100 ms: 100 bytes would take 10 s.
    for _ in 0..40 {
        let _ = stream.write_all(b" ").await;
        let (bytes, c) = read_until_closed(&mut stream, Duration::from_millis(100)).await;
        answer.extend(bytes);
        if c {
            closed = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(closed, "connection left open after the 408");
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
    // A body that arrives in time is unaffected.
    let res = app
        .post_json("/api/token/", json!({"username": "x", "password": "y"}))
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn disallowed_hosts_get_djangos_400() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        let port = app.addr.port();
        // The default: the local host only (Django's DEBUG default), any port.
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            "localhost".into(),
            "[::1]:1".into(),
        ] {
            let res = app
                .client
                .get(app.url("/api/token/"))
                .header("host", host.as_str())
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 405, "{host}");
        }
        for host in [
            "evil.example",
            "auth.example.com:443",
            "127.0.0.2",
            "a b",
            "",
        ] {
            let res = app
                .client
                .post(app.url("/api/token/"))
                .header("host", host)
                .json(&json!({"username": "a", "password": "b"}))
                .send()
                .await
                .expect("request");
            assert_eq!(
                res.headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("text/html; charset=utf-8")
            );
            assert!(res.headers().contains_key("x-request-id"));
            let (status, body) = status_body(res).await;
            assert_eq!(status, 400, "{host}");
            assert_eq!(
                body,
                "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
            );
        }
        // Probes by IP address still work.
        for path in ["/healthz", "/readyz"] {
            let res = app
                .client
                .get(app.url(path))
                .header("host", "10.1.2.3:8080")
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 200, "{path}");
        }
    }
    let app = TestApp::spawn(
        "sqlite",
        &[("AUTHBRIDGE_ALLOWED_HOSTS", ".example.com, [2001:db8::1]")],
    )
    .await;
    for (host, status) in [
        ("example.com", 405),
        ("auth.example.com:8443", 405),
        ("[2001:db8::1]:80", 405),
        ("badexample.com", 400),
        ("example.com.evil.test", 400),
        ("localhost", 400),
    ] {
        let res = app
            .client
            .get(app.url("/api/token/"))
            .header("host", host)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), status, "{host}");
    }
    // X-Forwarded-Host from an untrusted peer does not get a request past the check.
    let res = app
        .client
        .get(app.url("/api/token/"))
        .header("host", "evil.test")
        .header("x-forwarded-host", "auth.example.com")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
}

const COOKIE_MODE: &[(&str, &str)] = &[
    FAST_HASHER,
    ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
    ("AUTHBRIDGE_ALLOWED_HOSTS", "127.0.0.1, auth.example.com"),
];

async fn cookie_login(app: &TestApp, headers: &[(&str, &str)]) -> (u16, String) {
    let login = json!({"username": "alice", "password": "pass-1234"});
    status_body(
        app.request(Method::POST, "/api/token/", headers, Some(login))
            .await,
    )
    .await
}

#[tokio::test]
async fn csrf_own_origin_comes_from_configuration_not_from_the_request() {
    // Without AUTHBRIDGE_PUBLIC_URL: the own origin is the Host, with a scheme that only a
    // trusted proxy may say is https.
    let app = TestApp::spawn("sqlite", COOKIE_MODE).await;
    app.create_user("alice", "pass-1234", true).await;
    let own_http = format!("http://{}", app.addr);
    let own_https = format!("https://{}", app.addr);
    let (status, _) = cookie_login(&app, &[("origin", &own_http)]).await;
    assert_eq!(status, 200);
    let (status, body) = cookie_login(
        &app,
        &[("origin", &own_https), ("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(status, 403, "spoofed X-Forwarded-Proto believed: {body}");
    let (status, _) = cookie_login(
        &app,
        &[
            ("origin", "https://evil.test"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.test"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    // `null` is never the own origin nor trusted.
    let (status, _) = cookie_login(&app, &[("origin", "null")]).await;
    assert_eq!(status, 403);

    // From a trusted proxy the forwarded scheme is believed.
    let mut trusted = COOKIE_MODE.to_vec();
    trusted.push(("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1"));
    let app = TestApp::spawn("sqlite", &trusted).await;
    app.create_user("alice", "pass-1234", true).await;
    let own_https = format!("https://{}", app.addr);
    let (status, body) = cookie_login(
        &app,
        &[("origin", &own_https), ("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // With AUTHBRIDGE_PUBLIC_URL, that is the own origin, whatever Host says.
    let mut public = COOKIE_MODE.to_vec();
    public.push(("AUTHBRIDGE_PUBLIC_URL", "https://auth.example.com"));
    let app = TestApp::spawn("sqlite", &public).await;
    app.create_user("alice", "pass-1234", true).await;
    let (status, body) = cookie_login(&app, &[("origin", "https://auth.example.com")]).await;
    assert_eq!(status, 200, "{body}");
    let own_http = format!("http://{}", app.addr);
    let (status, body) = cookie_login(&app, &[("origin", &own_http)]).await;
    assert_eq!(
        (status, body),
        (
            403,
            format!(
                r#"{{"detail":"CSRF Failed: Origin checking failed - {own_http} does not match any trusted origins."}}"#
            )
        )
    );
}

#[tokio::test]
async fn null_origin_with_credentials_is_a_configuration_error() {
    let db = TestDb::new("sqlite").await;
    let env = |extra: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db.url.clone()),
            ("DJANGO_SECRET_KEY".into(), SECRET.into()),
        ];
        v.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        v
    };
    let err = Settings::load(
        None,
        env(&[
            ("CORS_ALLOWED_ORIGINS", "http://localhost:3000, null"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]),
    )
    .expect_err("refused")
    .to_string();
    assert!(
        err.contains("CORS_ALLOWED_ORIGINS") && err.contains("null"),
        "{err}"
    );
    let err = Settings::load(None, env(&[("AUTHBRIDGE_TRUSTED_ORIGINS", "null")]))
        .expect_err("refused")
        .to_string();
    assert!(err.contains("AUTHBRIDGE_TRUSTED_ORIGINS"), "{err}");
    // An origin regex is matched against the whole origin.
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("CORS_ALLOWED_ORIGIN_REGEXES", r"http://localhost:\d+"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ],
    )
    .await;
    for (origin, allowed) in [
        ("http://localhost:3000", true),
        ("http://localhost:3000.evil.test", false),
    ] {
        let res = app
            .client
            .request(Method::OPTIONS, app.url("/api/token/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("request");
        assert_eq!(
            res.headers().contains_key("access-control-allow-origin"),
            allowed,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn readyz_and_metrics_on_the_ops_listener() {
    let db = TestDb::new("sqlite").await;
    let s = settings(&db.url, &[("AUTHBRIDGE_OPS_BIND", "127.0.0.1:0")]);
    let app = Application::build(s).await.expect("starts");
    let addr = app.local_addr().expect("addr");
    let ops = app.ops_addr().expect("ops listener");
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("http://{addr}/api/token/"))
        .json(&json!({"username": "nobody", "password": "x"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401);
    let res = client
        .get(format!("http://{addr}/api/me/"))
        .header("host", "evil.example")
        .send()
        .await
        .expect("bad host");
    assert_eq!(res.status(), 400);
    // Not on the public listener.
    let res = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 404);
    let res = client
        .get(format!("http://{ops}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let text = res.text().await.expect("text");
    assert!(
        text.contains(
            r#"authbridge_http_requests_total{route="/api/token/",method="POST",status="401"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("authbridge_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("authbridge_open_connections"), "{text}");
    assert!(
        text.contains(r#"authbridge_security_events_total{event="disallowed_host"}"#),
        "{text}"
    );
    let res = client
        .get(format!("http://{ops}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(res.status(), 200);

    // The database gone (PostgreSQL dropped under the server): /readyz says so.
    if backends().contains(&"postgres") {
        let app = TestApp::spawn("postgres", &[]).await;
        let res = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        assert_eq!(res.status(), 200);
        let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
        let name = url::Url::parse(&app.db.url)
            .expect("url")
            .path()
            .trim_start_matches('/')
            .to_string();
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&server).await.expect("connect");
        sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop");
        let res = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        let (status, body) = status_body(res).await;
        assert_eq!(
            (status, body.as_str()),
            (503, r#"{"status":"database unavailable"}"#)
        );
    }
}

#[tokio::test]
async fn logs_have_request_lines_and_never_secrets() {
    let db = TestDb::new("sqlite").await;
    let password = "correct-horse-battery-staple-4711";
    let auth_secret = "an-auth-js-secret-for-the-log-test-0123456789";
    seed_user(&db, &[FAST_HASHER], "alice", password).await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("DJANGO_SECRET_KEY", SECRET),
        ("AUTH_SECRET", auth_secret),
        ("PASSWORD_HASHERS", FAST_HASHER.1),
        ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
        ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
        ("JWT_AUTH_HTTPONLY", "false"),
    ];
    let (child, addr) = spawn_binary(&env);
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");
    let res = client
        .post(url("/api/token/?next=/secret-query"))
        .header("x-request-id", "req-login-1")
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({"username": "alice", "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-login-1")
    );
    let refresh_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("refresh="))
        .and_then(|c| c.split(';').next())
        .expect("refresh cookie")
        .to_string();
    let pair: Value = res.json().await.expect("json");
    let (refresh, access) = (
        pair["refresh"].as_str().expect("refresh").to_string(),
        pair["access"].as_str().expect("access").to_string(),
    );
    let res = client
        .post(url("/api/token/refresh/"))
        .header("cookie", format!("refresh={refresh_cookie}"))
        .json(&json!({}))
        .send()
        .await
        .expect("refresh");
    assert_eq!(res.status(), 200);
    let generated_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("generated request id")
        .to_string();
    let rotated: Value = res.json().await.expect("json");
    let res = client
        .get(url("/api/me/"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 200);
    // An Auth.js session cookie (v5), linked by the Credentials flow's user_id.
    let decoder = authjs_jwe::SessionDecoder::new(&[auth_secret.as_bytes()]);
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), json!("1"));
    claims.insert("user_id".into(), json!(1));
    let now = chrono::Utc::now().timestamp();
    authjs_jwe::stamp_claims(&mut claims, now, 3600, "log-test-jti");
    let session = decoder
        .encode_v5(&claims, "authjs.session-token", &[7u8; 16])
        .expect("session cookie");
    let res = client
        .get(url("/api/authjs/session"))
        .header("cookie", format!("authjs.session-token={session}"))
        .send()
        .await
        .expect("session");
    assert!(res.status().is_success() || res.status().is_client_error());
    // A security event (a request for a host not allowed): shown by the default filter.
    let res = client
        .get(url("/api/me/"))
        .header("host", "evil.example")
        .bearer_auth(&access)
        .send()
        .await
        .expect("bad host");
    assert_eq!(res.status(), 400);
    let log = stop_and_read_stderr(child);

    let secrets = [
        ("password", password.to_string()),
        ("refresh token", refresh.clone()),
        ("access token", access.clone()),
        ("refresh cookie", refresh_cookie),
        (
            "rotated access",
            rotated["access"].as_str().unwrap_or("").to_string(),
        ),
        ("session cookie", session),
        ("signing key", SECRET.to_string()),
        ("Auth.js secret", auth_secret.to_string()),
        ("query string", "secret-query".to_string()),
    ];
    for (what, secret) in &secrets {
        assert!(!secret.is_empty(), "{what}");
        // Any 16-character piece of a secret would do: look for the longest distinctive parts.
        assert!(
            !log.contains(secret.as_str()),
            "{what} found in the log:\n{log}"
        );
        let tail = &secret[secret.len().saturating_sub(16)..];
        assert!(
            !log.contains(tail),
            "part of the {what} found in the log:\n{log}"
        );
    }
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("authbridge::access"))
        .collect();
    assert_eq!(lines.len(), 5, "one request line per request:\n{log}");
    assert!(
        log.lines().any(|l| l.contains("authbridge::audit")
            && l.contains("disallowed_host")
            && l.contains("request_id=")),
        "no audit line at the default level:\n{log}"
    );
    let login = lines[0];
    for part in [
        "method=POST",
        "path=/api/token/",
        "status=200",
        "latency_ms=",
        "client=127.0.0.1",
        "request_id=req-login-1",
    ] {
        assert!(login.contains(part), "{part} missing in {login}");
    }
    assert!(
        lines[1].contains(&format!("request_id={generated_id}")),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("path=/api/me/") && lines[2].contains("status=200"));

    // Behind a trusted proxy the forwarded client address is the one logged.
    let mut env = env.to_vec();
    env.push(("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1/32"));
    let (child, addr) = spawn_binary(&env);
    let res = client
        .get(format!("http://{addr}/healthz"))
        .header("x-forwarded-for", "6.6.6.6, 203.0.113.7")
        .send()
        .await
        .expect("healthz");
    assert_eq!(res.status(), 200);
    let log = stop_and_read_stderr(child);
    let line = log
        .lines()
        .find(|l| l.contains("authbridge::access"))
        .unwrap_or_else(|| panic!("no request line:\n{log}"));
    assert!(line.contains("client=203.0.113.7"), "{line}");
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_and_closes_idle_connections() {
    let db = TestDb::new("sqlite").await;
    let s = settings(&db.url, &[("AUTHBRIDGE_IDLE_TIMEOUT", "30")]);
    let app = Application::build(s).await.expect("starts");
    let addr = app.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));
    // An idle keep-alive connection and one with a request half sent.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(get(addr, "/healthz").as_bytes())
        .await
        .expect("write");
    assert!(read_response(&mut idle, Duration::from_secs(2))
        .await
        .is_some());
    let mut busy = TcpStream::connect(addr).await.expect("connect");
    let body = r#"{"username":"a","password":"b"}"#;
    let head = format!(
        "POST /api/token/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.expect("write");
    // Stays (no server hook says "head read"): lets the server read the head, so the stop
    // finds a request in progress, not an idle connection.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    stop_tx.send(()).expect("stop");
    // The request in progress is still answered, then its connection closes.
    busy.write_all(body.as_bytes()).await.expect("write");
    let res = read_response(&mut busy, Duration::from_secs(3))
        .await
        .expect("answered during shutdown");
    assert!(res.starts_with("HTTP/1.1 401"), "{res}");
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(3)).await;
    assert!(closed, "idle connection kept open at shutdown");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stopped")
        .expect("task")
        .expect("serve");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

/// One HTTP/2 frame: length, type, flags, stream id, payload.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Read frames until `want` returns true for one (or `limit` passes).
async fn h2_read_until(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    limit: Duration,
    mut want: impl FnMut(u8, u8, u32, &[u8]) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        while buf.len() >= 9 {
            let len =
                (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
            if buf.len() < 9 + len {
                break;
            }
            let (kind, flags) = (buf[3], buf[4]);
            let id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            let payload = buf[9..9 + len].to_vec();
            buf.drain(..9 + len);
            if want(kind, flags, id, &payload) {
                return true;
            }
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return false,
        }
    }
}

#[tokio::test]
async fn http2_streams_are_bounded() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_HTTP2_MAX_STREAMS", "2"),
            ("AUTHBRIDGE_BODY_READ_TIMEOUT", "10"),
        ],
    )
    .await;
    let mut s = TcpStream::connect(app.addr).await.expect("connect");
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("preface");
    s.write_all(&h2_frame(4, 0, 0, &[]))
        .await
        .expect("settings");
    let mut buf = Vec::new();
    let mut max_streams = None;
    let got_settings = h2_read_until(
        &mut s,
        &mut buf,
        Duration::from_secs(2),
        |kind, flags, _, p| {
            if kind == 4 && flags & 1 == 0 {
                for setting in p.chunks(6) {
                    if setting.len() == 6 && u16::from_be_bytes([setting[0], setting[1]]) == 3 {
                        max_streams = Some(u32::from_be_bytes([
                            setting[2], setting[3], setting[4], setting[5],
                        ]));
                    }
                }
                return true;
            }
            false
        },
    )
    .await;
    assert!(got_settings, "no SETTINGS from the server");
    assert_eq!(max_streams, Some(2), "SETTINGS_MAX_CONCURRENT_STREAMS");
    s.write_all(&h2_frame(4, 1, 0, &[]))
        .await
        .expect("settings ack");
    // Give the server the ACK before opening streams (the limit applies once acknowledged).
    // Stays: HTTP/2 sends nothing back for a SETTINGS ACK, so there is nothing to wait on.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // HPACK: :method POST, :scheme http (static), :path /api/token/ and content-type literals,
    // END_HEADERS without END_STREAM: each request waits for a body that never comes.
    let mut block = vec![0x83, 0x86, 0x44, 11];
    block.extend_from_slice(b"/api/token/");
    block.extend_from_slice(&[0x5f, 16]);
    block.extend_from_slice(b"application/json");
    for id in [1u32, 3, 5] {
        s.write_all(&h2_frame(1, 0x4, id, &block))
            .await
            .expect("headers");
    }
    // The third stream is over the limit: reset with REFUSED_STREAM (or PROTOCOL_ERROR).
    let mut reset = None;
    let refused = h2_read_until(
        &mut s,
        &mut buf,
        Duration::from_secs(3),
        |kind, _, id, p| {
            if kind == 3 && id == 5 && p.len() == 4 {
                reset = Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]));
                return true;
            }
            false
        },
    )
    .await;
    assert!(refused, "the stream over the limit was accepted");
    assert!(matches!(reset, Some(7) | Some(1)), "{reset:?}");
}
