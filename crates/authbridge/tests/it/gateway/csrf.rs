//! Cross-site requests do not ride a cookie through the gateway: an unsafe request (POST, PUT,
//! PATCH, DELETE) whose identity would come from a cookie (an Auth.js session or authbridge's login
//! session) must pass authbridge's CSRF check (Fetch Metadata and Origin, as its own cookie
//! endpoints do), or it goes on without an identity: a protected path answers 403, a public one
//! reaches Django anonymous. A Bearer token is not sent by the browser on its own, so it is not
//! checked.

use serde_json::{json, Value};

use super::{seen, spawn, Upstream, PASSWORD};
use crate::support::{json_of, TestApp};

const AUTH_SECRET: &str = "gateway-test-auth-secret-0123456789abcdef";

const POLICIES: &str = r#"[
    {"prefix": "/echo/private/", "policy": "authenticated"}
]"#;

fn v5_cookie(refresh: &str) -> String {
    let Value::Object(mut claims) = json!({"sub": "gh-1", "refreshToken": refresh}) else {
        unreachable!()
    };
    let now = chrono::Utc::now().timestamp();
    authjs_jwe::stamp_claims(&mut claims, now, 3600, &uuid::Uuid::new_v4().to_string());
    let token = authjs_jwe::SessionDecoder::new(&[AUTH_SECRET.as_bytes()])
        .encode_v5(
            &claims,
            "authjs.session-token",
            uuid::Uuid::new_v4().as_bytes(),
        )
        .expect("encode v5");
    format!("authjs.session-token={token}")
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    json_of(req.send().await.expect("request")).await
}

const CROSS_SITE: [(&str, &str); 2] = [
    ("origin", "https://evil.example"),
    ("sec-fetch-site", "cross-site"),
];

#[tokio::test]
async fn a_cross_site_post_does_not_ride_the_session_cookie() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTH_SECRET", AUTH_SECRET),
            ("AUTHBRIDGE_GATEWAY_paths", POLICIES),
        ],
    )
    .await;
    app.create_user("ann", PASSWORD, true).await;
    let (refresh, access) = app.login("ann", PASSWORD).await;
    let cookie = v5_cookie(&refresh);

    // Same site: the cookie names the user, whatever the method.
    for fetch_site in ["same-origin", "none"] {
        let (status, echo) = send(
            &app,
            reqwest::Method::POST,
            "/echo/private/x",
            &[("cookie", &cookie), ("sec-fetch-site", fetch_site)],
        )
        .await;
        assert_eq!(status, 200, "{fetch_site}");
        assert_eq!(seen(&echo, "x-remote-user"), ["ann"], "{fetch_site}");
    }
    // A server-side caller (no browser headers at all) is not a forged browser request.
    let (status, echo) = send(
        &app,
        reqwest::Method::DELETE,
        "/echo/private/x",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);

    // Cross-site, unsafe: refused on a protected path, anonymous on a public one.
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(CROSS_SITE);
        let (status, body) = send(&app, method.clone(), "/echo/private/x", &headers).await;
        assert_eq!(status, 403, "{method}: {body}");
        assert_eq!(
            body["detail"],
            "CSRF Failed: Origin checking failed - https://evil.example does not match any trusted origins."
        );
        let (status, echo) = send(&app, method.clone(), "/echo/public", &headers).await;
        assert_eq!(status, 200, "{method}");
        assert!(seen(&echo, "x-remote-user").is_empty(), "{method}: {echo}");
        // An Origin alone (older browsers send no Fetch Metadata) is checked as well.
        let (status, _) = send(
            &app,
            method.clone(),
            "/echo/private/x",
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        )
        .await;
        assert_eq!(status, 403, "{method}");
    }
    // Cross-site but safe: a link followed from another site still carries the session.
    let mut headers = vec![("cookie", cookie.as_str())];
    headers.extend(CROSS_SITE);
    let (status, echo) = send(&app, reqwest::Method::GET, "/echo/private/x", &headers).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);

    // A Bearer token is the caller's own doing: not checked.
    let bearer = format!("Bearer {access}");
    let mut headers = vec![("authorization", bearer.as_str())];
    headers.extend(CROSS_SITE);
    let (status, echo) = send(&app, reqwest::Method::POST, "/echo/private/x", &headers).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);

    // forward-auth gets the original method and headers from the proxy in front: same rule.
    let mut headers = vec![("cookie", cookie.as_str())];
    headers.extend(CROSS_SITE);
    let (status, _) = send(&app, reqwest::Method::POST, "/auth/check", &headers).await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &app,
        reqwest::Method::POST,
        "/auth/check",
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_trusted_origin_may_post_with_the_cookie() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTH_SECRET", AUTH_SECRET),
            ("AUTHBRIDGE_TRUSTED_ORIGINS", "https://app.example"),
        ],
    )
    .await;
    app.create_user("ann", PASSWORD, true).await;
    let (refresh, _) = app.login("ann", PASSWORD).await;
    let cookie = v5_cookie(&refresh);
    let (status, echo) = send(
        &app,
        reqwest::Method::POST,
        "/echo/x",
        &[
            ("cookie", &cookie),
            ("origin", "https://app.example"),
            ("sec-fetch-site", "same-site"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);
}
