//! Each way of being signed in, through the gateway: a simplejwt Bearer token, an Auth.js v5
//! session cookie, authbridge's login session cookie; the path policies (public, authenticated,
//! staff; JSON 401 or a login redirect); and bearer mode's minted token.

use authbridge::model::{LoginSession, SessionHash};
use serde_json::{json, Map, Value};

use super::{seen, spawn, spawn_on, Upstream, PASSWORD};
use crate::support::tokens::{claims_of, decode_part, header_of, sign};
use crate::support::{backends, json_of, TestApp, SECRET};

const AUTH_SECRET: &str = "gateway-test-auth-secret-0123456789abcdef";
const FIXTURES: &str = include_str!("../../../../authjs-jwe/fixtures/authjs_tokens.json");

const POLICIES: &str = r#"[
    {"prefix": "/echo/public/", "policy": "public"},
    {"prefix": "/echo/admin/", "policy": "staff", "redirect": true},
    {"glob": "/echo/*/page/**", "policy": "authenticated", "redirect": true},
    {"prefix": "/echo/", "policy": "authenticated"}
]"#;

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    json_of(req.send().await.expect("request")).await
}

/// The status of a GET of `path` written byte for byte on the socket.
async fn raw_status(app: &TestApp, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr
    );
    socket.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    socket.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .expect("status")
        .parse()
        .expect("code")
}

fn v5_cookie(claims: Value) -> String {
    let Value::Object(mut claims) = claims else {
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

#[tokio::test]
async fn each_credential_names_the_user_to_the_upstream() {
    for backend in backends() {
        each_credential_on(backend).await;
    }
}

async fn each_credential_on(backend: &str) {
    let upstream = Upstream::start().await;
    let app = spawn_on(backend, &upstream, &[("AUTH_SECRET", AUTH_SECRET)]).await;
    app.create_user("ann", PASSWORD, true).await;
    let (refresh, access) = app.login("ann", PASSWORD).await;

    // 1. simplejwt's Bearer token (passed on as well in headers mode).
    let bearer = format!("Bearer {access}");
    let (status, echo) = get(&app, "/echo/x", &[("authorization", &bearer)]).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);
    assert_eq!(seen(&echo, "authorization"), [bearer.as_str()]);

    // 2. An Auth.js v5 session cookie carrying an authbridge refresh token.
    let cookie = v5_cookie(json!({"sub": "gh-1", "refreshToken": refresh}));
    let (status, echo) = get(&app, "/echo/x", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);

    // 3. authbridge's login session cookie.
    let user_id = app
        .store
        .user_by_username("ann")
        .await
        .expect("lookup")
        .expect("ann")
        .id;
    let now = chrono::Utc::now();
    app.store
        .create_login_session(&LoginSession {
            hash: SessionHash::of("gateway-session-id"),
            user_id,
            auth_time: now,
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
        })
        .await
        .expect("session");
    let (status, echo) = get(
        &app,
        "/echo/x",
        &[("cookie", "authbridge_session=gateway-session-id")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["ann"]);
    let (status, _) = get(&app, "/echo/x", &[("cookie", "authbridge_session=other")]).await;
    assert_eq!(status, 200, "public by default");

    // A refused Bearer on a public path: passed on anonymous, Django decides.
    let (status, echo) = get(&app, "/echo/x", &[("authorization", "Bearer nope")]).await;
    assert_eq!(status, 200);
    assert!(seen(&echo, "x-remote-user").is_empty());
}

#[tokio::test]
async fn a_session_cookie_minted_by_the_real_authjs_is_read_but_not_trusted_without_our_token() {
    // The committed fixture from @auth/core: decrypted (so it is not "no credentials"), but it
    // carries no authbridge refresh token, so it names nobody.
    let doc: Value = serde_json::from_str(FIXTURES).expect("fixtures");
    let fixture = doc["fixtures"]
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["id"] == "v5-basic@authjs.session-token")
        .expect("v5-basic");
    let secret = doc["secrets"]["primary"].as_str().expect("secret");
    let cookie = format!(
        "authjs.session-token={}",
        fixture["token"].as_str().expect("token")
    );
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTH_SECRET", AUTH_SECRET),
            ("AUTH_SECRET_1", secret),
            ("AUTHBRIDGE_INSECURE_DEV", "true"),
            ("AUTHBRIDGE_GATEWAY_paths", POLICIES),
        ],
    )
    .await;
    let (status, echo) = get(&app, "/echo/public/x", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert!(seen(&echo, "x-remote-user").is_empty());
    let (status, body) = get(&app, "/echo/x", &[("cookie", &cookie)]).await;
    assert_eq!(status, 401);
    assert_ne!(
        body,
        json!({"detail": "Authentication credentials were not provided."}),
        "the cookie was not even read"
    );
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn path_policies() {
    for backend in backends() {
        path_policies_on(backend).await;
    }
}

async fn path_policies_on(backend: &str) {
    let upstream = Upstream::start().await;
    let app = spawn_on(
        backend,
        &upstream,
        &[("AUTHBRIDGE_GATEWAY_paths", POLICIES)],
    )
    .await;
    app.create_user("ann", PASSWORD, true).await;
    app.create_user("boss", PASSWORD, true).await;
    app.exec("UPDATE auth_user SET is_staff = TRUE WHERE username = 'boss'")
        .await;
    let (_, ann) = app.login("ann", PASSWORD).await;
    let (_, boss) = app.login("boss", PASSWORD).await;
    let ann = format!("Bearer {ann}");
    let boss = format!("Bearer {boss}");

    // public: anyone.
    assert_eq!(get(&app, "/echo/public/x", &[]).await.0, 200);
    // authenticated (JSON path): simplejwt's 401, or its exact token error.
    let (status, body) = get(&app, "/echo/api", &[]).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({"detail": "Authentication credentials were not provided."})
        )
    );
    let (status, body) = get(&app, "/echo/api", &[("authorization", "Bearer a.b.c")]).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "token_not_valid");
    assert_eq!(
        get(&app, "/echo/api", &[("authorization", &ann)]).await.0,
        200
    );
    // staff: DRF's 403 for a signed-in user who is not staff.
    let (status, body) = get(&app, "/echo/admin/", &[("authorization", &ann)]).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"detail": "You do not have permission to perform this action."})
        )
    );
    let (status, echo) = get(&app, "/echo/admin/", &[("authorization", &boss)]).await;
    assert_eq!(status, 200);
    assert_eq!(seen(&echo, "x-remote-user"), ["boss"]);
    // The same path spelled with escapes Django decodes is the same path.
    assert_eq!(
        get(&app, "/echo/%61dmin/", &[("authorization", &ann)])
            .await
            .0,
        403
    );
    // Dot segments (which a client library would resolve away) are refused as sent.
    for raw in ["/echo/public/../admin/", "/echo/public/%2e%2e/admin/"] {
        assert_eq!(raw_status(&app, raw).await, 400, "{raw}");
    }

    // HTML paths: a browser is sent to the login page; other methods still get the 401.
    let res = app
        .client
        .get(app.url("/echo/app/page/a?tab=1"))
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/login?next=%2Fecho%2Fapp%2Fpage%2Fa%3Ftab%3D1"
    );
    let res = app
        .client
        .get(app.url("/echo/admin/"))
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 302);
    let res = app
        .client
        .post(app.url("/echo/app/page/a"))
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"api\"");
    let (status, _) = get(&app, "/echo/app/page/a", &[("authorization", &ann)]).await;
    assert_eq!(status, 200);
    // Refusals never reached the upstream.
    assert_eq!(upstream.hits(), 4);
}

#[tokio::test]
async fn bearer_mode_sends_a_short_lived_simplejwt_access_token() {
    let upstream = Upstream::start().await;
    let app = spawn(
        &upstream,
        &[
            ("AUTH_SECRET", AUTH_SECRET),
            ("AUTHBRIDGE_GATEWAY_IDENTITY", "bearer"),
            ("AUTHBRIDGE_GATEWAY_TOKEN_LIFETIME", "30"),
        ],
    )
    .await;
    let id = app.create_user("ann", PASSWORD, true).await;
    let (refresh, _) = app.login("ann", PASSWORD).await;
    let cookie = v5_cookie(json!({"sub": "gh-1", "refreshToken": refresh}));
    let (status, echo) = get(
        &app,
        "/echo/x",
        &[
            ("cookie", &cookie),
            ("http-authorization", "Bearer spoof"),
            ("x-remote-user", "admin"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(seen(&echo, "x-remote-user").is_empty());
    assert!(seen(&echo, "http-authorization").is_empty());
    let sent = seen(&echo, "authorization");
    assert_eq!(sent.len(), 1);
    let token = sent[0].strip_prefix("Bearer ").expect("Bearer scheme");
    // Signed with simplejwt's key (re-signed here with an independent HMAC).
    assert_eq!(
        sign(&decode_part(token, 0), &decode_part(token, 1), SECRET),
        token
    );
    assert_eq!(header_of(token)["alg"], "HS256");
    let claims = claims_of(token);
    let keys: Vec<&str> = claims
        .as_object()
        .map(Map::keys)
        .expect("object")
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["token_type", "exp", "iat", "jti", "user_id"]);
    assert_eq!(claims["token_type"], "access");
    assert_eq!(claims["user_id"], id.to_string());
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        30
    );
    // It works where simplejwt does: authbridge's own API accepts it.
    let res = app
        .client
        .get(app.url("/api/me/"))
        .bearer_auth(token)
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 200);

    // Anonymous on a public path: a client's Authorization never reaches the upstream.
    let (status, echo) = get(&app, "/echo/x", &[("authorization", "Bearer forged")]).await;
    assert_eq!(status, 200);
    assert!(seen(&echo, "authorization").is_empty());
}
