//! `GET /auth/check` for nginx `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`: 200
//! with the identity headers or the refusal, by the original URI's policy when a trusted proxy
//! names it. It exists with or without an upstream.

use serde_json::json;

use super::PASSWORD;
use crate::support::{json_of, TestApp};

const POLICIES: &str = r#"[
    {"prefix": "/public/", "policy": "public"},
    {"prefix": "/admin/", "policy": "staff", "redirect": true}
]"#;

async fn check(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url("/auth/check"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn the_check_answers_with_the_identity_or_the_refusal() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            crate::support::FAST_HASHER,
            ("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1"),
            ("AUTHBRIDGE_GATEWAY_paths", POLICIES),
        ],
    )
    .await;
    let id = app.create_user("ann", PASSWORD, true).await;
    let (_, access) = app.login("ann", PASSWORD).await;
    let bearer = format!("Bearer {access}");

    let res = check(&app, &[("authorization", &bearer)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-remote-user"], "ann");
    assert_eq!(res.headers()["x-remote-user-id"], id.to_string().as_str());
    assert_eq!(res.headers()["x-remote-user-email"], "ann@example.com");

    // No original URI: a signed-in user is required.
    let (status, body) = json_of(check(&app, &[]).await).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
    // The original URI's policy (nginx: X-Original-URI; Traefik and Caddy: X-Forwarded-Uri).
    let res = check(&app, &[("x-original-uri", "/public/page?x=1")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-remote-user").is_none());
    let res = check(&app, &[("x-forwarded-uri", "/public/page")]).await;
    assert_eq!(res.status(), 200);
    // No redirect here even on an HTML path: nginx passes only 2xx, 401 and 403 on.
    let res = check(&app, &[("x-original-uri", "/admin/")]).await;
    assert_eq!(res.status(), 401);
    let res = check(
        &app,
        &[
            ("x-original-uri", "/admin/users/"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = check(&app, &[("x-original-uri", "/%2e%2e/admin/")]).await;
    assert_eq!(res.status(), 400);
    // nginx's subrequest keeps the original method.
    let res = app
        .client
        .post(app.url("/auth/check"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-remote-user"], "ann");
}

#[tokio::test]
async fn the_original_uri_is_believed_only_from_trusted_proxies() {
    let app = TestApp::spawn("sqlite", &[("AUTHBRIDGE_GATEWAY_paths", POLICIES)]).await;
    let res = check(&app, &[("x-original-uri", "/public/page")]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn in_bearer_mode_the_check_hands_out_a_minted_token() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            crate::support::FAST_HASHER,
            ("AUTHBRIDGE_GATEWAY_IDENTITY", "bearer"),
        ],
    )
    .await;
    app.create_user("ann", PASSWORD, true).await;
    let (_, access) = app.login("ann", PASSWORD).await;
    let res = check(&app, &[("authorization", &format!("Bearer {access}"))]).await;
    assert_eq!(res.status(), 200);
    let minted = res.headers()["authorization"].to_str().expect("ascii");
    let token = minted.strip_prefix("Bearer ").expect("scheme");
    assert_ne!(token, access);
    let res = app
        .client
        .get(app.url("/api/me/"))
        .bearer_auth(token)
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-remote-user").is_none());
}

/// Traefik and Caddy copy the client's headers onto the check and set only `X-Forwarded-Uri`:
/// a client-sent `X-Original-URI` (or a second copy of either) must not choose the policy.
#[tokio::test]
async fn a_client_cannot_choose_the_original_uri_next_to_the_proxys() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1"),
            ("AUTHBRIDGE_GATEWAY_paths", POLICIES),
        ],
    )
    .await;
    for headers in [
        [
            ("x-original-uri", "/public/x"),
            ("x-forwarded-uri", "/admin/"),
        ],
        [
            ("x-forwarded-uri", "/admin/"),
            ("x-original-uri", "/public/x"),
        ],
        [
            ("x-forwarded-uri", "/public/x"),
            ("x-forwarded-uri", "/admin/"),
        ],
        [
            ("x-original-uri", "/public/x"),
            ("x-original-uri", "/admin/"),
        ],
    ] {
        let res = check(&app, &headers).await;
        assert_ne!(res.status(), 200, "{headers:?}");
    }
    // Two copies that agree are one original URI.
    let res = check(
        &app,
        &[
            ("x-original-uri", "/public/x?a=1"),
            ("x-forwarded-uri", "http://app.example/public/x"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
}

/// The check carries the client's own headers (nginx's subrequest, Traefik and Caddy copy them),
/// and the proxy replaces only the spellings it is told: `X_Remote_User` or the ASGI
/// `Http-X-Remote-User` would reach Django beside them. A check that carries any spelling of an
/// identity header is the client's forgery: refused (403, which every proxy passes on).
#[tokio::test]
async fn a_check_carrying_a_client_sent_identity_header_is_refused() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            crate::support::FAST_HASHER,
            ("AUTHBRIDGE_TRUSTED_PROXIES", "127.0.0.1"),
            ("AUTHBRIDGE_GATEWAY_paths", POLICIES),
        ],
    )
    .await;
    app.create_user("ann", PASSWORD, true).await;
    let (_, access) = app.login("ann", PASSWORD).await;
    let bearer = format!("Bearer {access}");
    for spoof in [
        "X_Remote_User",
        "Http-X-Remote-User",
        "x-remote-user",
        "Remote-User",
    ] {
        for original in ["/public/x", "/private/"] {
            let res = check(
                &app,
                &[
                    ("authorization", &bearer),
                    ("x-original-uri", original),
                    (spoof, "admin"),
                ],
            )
            .await;
            assert_eq!(res.status(), 403, "{spoof} on {original}");
            assert!(res.headers().get("x-remote-user").is_none());
        }
    }
    let res = check(&app, &[("authorization", &bearer)]).await;
    assert_eq!(res.status(), 200);
}
