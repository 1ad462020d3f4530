//! Browser clients, black-box: CORS (preflights, allowed and refused origins, credentials,
//! `Vary`) and cookie mode (cookie attributes, refresh and logout through the cookie, CSRF
//! acceptance and refusal). The real-browser counterpart is interop/browser/.

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::headers::{header, set_cookie_for, set_cookies};
use crate::support::{backends, status_body, TestApp, FAST_HASHER};

const APP: &str = "http://localhost:3000";
const EVIL: &str = "http://evil.test";
const CORS: &[(&str, &str)] = &[
    FAST_HASHER,
    ("CORS_ALLOWED_ORIGINS", APP),
    ("CORS_ALLOW_CREDENTIALS", "true"),
];
const COOKIE_MODE: &[(&str, &str)] = &[
    FAST_HASHER,
    ("CORS_ALLOWED_ORIGINS", APP),
    ("CORS_ALLOW_CREDENTIALS", "true"),
    ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "0"),
];

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

async fn spawn_with_user(backend: &str, settings: &[(&str, &str)]) -> TestApp {
    let app = TestApp::spawn(backend, settings).await;
    app.create_user("alice", "pass-1234", true).await;
    app
}

/// Log in from the app's origin in cookie mode: the refresh cookie's value, and the response.
async fn cookie_login(app: &TestApp, extra: &[(&str, &str)]) -> (String, Value, HeaderMap) {
    let mut headers = vec![("origin", APP), ("sec-fetch-site", "same-site")];
    headers.extend_from_slice(extra);
    let res = app
        .request(
            Method::POST,
            "/api/token/",
            &headers,
            Some(json!({"username": "alice", "password": "pass-1234"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let body: Value = res.json().await.expect("json");
    let (_, value) = set_cookie_for(&h, "refresh").expect("refresh cookie set");
    (value, body, h)
}

#[tokio::test]
async fn preflight_is_answered_for_allowed_and_unknown_origins() {
    for backend in backends() {
        let app = TestApp::spawn(backend, CORS).await;
        let preflight = [
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ];

        let mut h = vec![("origin", APP)];
        h.extend_from_slice(&preflight);
        let res = app.request(Method::OPTIONS, "/api/token/", &h, None).await;
        let headers = res.headers().clone();
        assert_eq!(status_body(res).await, (200, String::new()));
        assert_eq!(header(&headers, "access-control-allow-origin"), Some(APP));
        assert_eq!(
            header(&headers, "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            header(&headers, "access-control-allow-methods"),
            Some("DELETE, GET, OPTIONS, PATCH, POST, PUT")
        );
        assert_eq!(
            header(&headers, "access-control-allow-headers"),
            Some("accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with")
        );
        assert_eq!(header(&headers, "access-control-max-age"), Some("86400"));
        assert_eq!(header(&headers, "vary"), Some("origin"));
        assert!(
            header(&headers, "allow").is_none(),
            "the DRF view was not reached"
        );
        // Django's security headers still wrap the preflight.
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));

        let mut h = vec![("origin", EVIL)];
        h.extend_from_slice(&preflight);
        let res = app.request(Method::OPTIONS, "/api/token/", &h, None).await;
        let headers = res.headers().clone();
        assert_eq!(
            status_body(res).await,
            (200, String::new()),
            "not an error page"
        );
        assert!(
            cors_headers(&headers).is_empty(),
            "{:?}",
            cors_headers(&headers)
        );
        assert_eq!(header(&headers, "vary"), Some("origin"));
    }
}

#[tokio::test]
async fn actual_responses_errors_included_carry_cors_headers() {
    for backend in backends() {
        let app = spawn_with_user(backend, CORS).await;
        let login = json!({"username": "alice", "password": "pass-1234"});

        let res = app
            .request(
                Method::POST,
                "/api/token/",
                &[("origin", APP)],
                Some(login.clone()),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            Some(APP)
        );
        assert_eq!(
            header(res.headers(), "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(header(res.headers(), "vary"), Some("Accept, origin"));
        assert!(
            header(res.headers(), "access-control-allow-methods").is_none(),
            "only on OPTIONS"
        );
        assert!(
            set_cookies(res.headers()).is_empty(),
            "body mode sets no cookie"
        );
        let body: Value = res.json().await.expect("json");
        let keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
        assert_eq!(
            keys,
            ["refresh", "access", "user_id"],
            "simplejwt's wire format"
        );

        // A 401, a DRF 405, the 404 fallback and a 415 are all readable by the allowed origin.
        let bad = json!({"username": "alice", "password": "wrong"});
        let res = app
            .request(Method::POST, "/api/token/", &[("origin", APP)], Some(bad))
            .await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            Some(APP)
        );
        for (method, path, status) in [
            (Method::GET, "/api/token/", 405),
            (Method::GET, "/nowhere/", 404),
            // No body: DRF's field errors (it picks a parser only for a body).
            (Method::POST, "/api/token/", 400),
        ] {
            let res = app
                .client
                .request(method, app.url(path))
                .header("origin", APP)
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), status, "{path}");
            assert_eq!(
                header(res.headers(), "access-control-allow-origin"),
                Some(APP),
                "{path}"
            );
            assert!(
                header(res.headers(), "vary").is_some_and(|v| v.contains("origin")),
                "{path}"
            );
        }

        // A plain OPTIONS (no Access-Control-Request-Method) is DRF's metadata, plus CORS.
        let res = app
            .request(Method::OPTIONS, "/api/token/", &[("origin", APP)], None)
            .await;
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            Some(APP)
        );
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["name"], "Token Obtain Pair");

        // An unknown origin gets the normal answer and no CORS header: the browser blocks it.
        let res = app
            .request(
                Method::POST,
                "/api/token/",
                &[("origin", EVIL)],
                Some(login),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(cors_headers(res.headers()).is_empty());
        assert_eq!(header(res.headers(), "vary"), Some("Accept, origin"));
    }
}

#[tokio::test]
async fn cors_off_by_default_and_allow_all_is_a_wildcard() {
    let app = TestApp::spawn("sqlite", &[FAST_HASHER]).await;
    let h = [("origin", APP), ("access-control-request-method", "POST")];
    let res = app.request(Method::OPTIONS, "/api/token/", &h, None).await;
    assert!(cors_headers(res.headers()).is_empty());
    assert_eq!(
        header(res.headers(), "vary"),
        Some("Accept"),
        "no CORS layer: DRF's own OPTIONS"
    );

    let app = TestApp::spawn("sqlite", &[FAST_HASHER, ("CORS_ALLOW_ALL_ORIGINS", "true")]).await;
    let res = app.request(Method::OPTIONS, "/api/token/", &h, None).await;
    assert_eq!(
        header(res.headers(), "access-control-allow-origin"),
        Some("*")
    );
    assert!(header(res.headers(), "access-control-allow-credentials").is_none());

    let err = authbridge::config::Settings::load(
        None,
        [
            ("CORS_ALLOW_ALL_ORIGINS", "true"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ]
        .map(|(k, v)| (k.into(), v.into())),
    )
    .expect_err("allow-all with credentials is refused");
    assert!(err.to_string().contains("CORS_ALLOW_CREDENTIALS"), "{err}");
}

#[tokio::test]
async fn urls_regex_and_origin_regexes() {
    let app = TestApp::spawn(
        "sqlite",
        &[
            FAST_HASHER,
            ("CORS_ALLOWED_ORIGIN_REGEXES", r"^http://localhost:\d+$"),
            ("CORS_URLS_REGEX", r"^/api/token/"),
        ],
    )
    .await;
    let h = [
        ("origin", "http://localhost:5173"),
        ("access-control-request-method", "GET"),
    ];
    let res = app
        .request(Method::OPTIONS, "/api/token/refresh/", &h, None)
        .await;
    assert_eq!(
        header(res.headers(), "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let res = app.request(Method::OPTIONS, "/api/me/", &h, None).await;
    assert!(
        cors_headers(res.headers()).is_empty(),
        "outside CORS_URLS_REGEX"
    );
    let h = [
        ("origin", "http://localhost.evil.test"),
        ("access-control-request-method", "GET"),
    ];
    let res = app
        .request(Method::OPTIONS, "/api/token/refresh/", &h, None)
        .await;
    assert!(cors_headers(res.headers()).is_empty());
}

#[tokio::test]
async fn cookie_mode_login_refresh_logout() {
    for backend in backends() {
        let app = spawn_with_user(backend, COOKIE_MODE).await;
        let (refresh, body, headers) = cookie_login(&app, &[]).await;
        let keys: Vec<_> = body.as_object().expect("object").keys().cloned().collect();
        assert_eq!(
            keys,
            ["access", "user_id"],
            "only the access token in the body"
        );
        let (set_cookie, _) = set_cookie_for(&headers, "refresh").expect("cookie");
        assert!(
            set_cookie.ends_with("; HttpOnly; Max-Age=86400; Path=/api/token/; SameSite=Lax"),
            "{set_cookie}"
        );
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
        assert_eq!(header(&headers, "access-control-allow-origin"), Some(APP));

        // The access token works on the protected view.
        let access = body["access"].as_str().expect("access");
        let res = app
            .client
            .get(app.url("/api/me/"))
            .bearer_auth(access)
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), 200);

        // Refresh through the cookie: a new access token, the rotated refresh token in the cookie.
        let browser = [("origin", APP), ("sec-fetch-site", "same-site")];
        let cookie = format!("refresh={refresh}");
        let mut h = browser.to_vec();
        h.push(("cookie", &cookie));
        let res = app
            .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
            .await;
        assert_eq!(res.status(), 200);
        let (_, rotated) = set_cookie_for(res.headers(), "refresh").expect("rotated cookie");
        assert_ne!(rotated, refresh);
        let body: Value = res.json().await.expect("json");
        assert_eq!(
            body.as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["access".to_string()])
        );

        // The old cookie is blacklisted by the rotation; the body still wins over the cookie.
        let res = app
            .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
            .await;
        assert_eq!(
            status_body(res).await,
            (
                401,
                r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#.into()
            )
        );
        let res = app
            .request(
                Method::POST,
                "/api/token/refresh/",
                &h,
                Some(json!({"refresh": "x"})),
            )
            .await;
        assert_eq!(
            status_body(res).await,
            (
                401,
                r#"{"detail":"Token is invalid","code":"token_not_valid"}"#.into()
            )
        );

        // Neither body nor cookie: simplejwt's exact 400.
        let res = app
            .request(
                Method::POST,
                "/api/token/refresh/",
                &browser,
                Some(json!({})),
            )
            .await;
        assert_eq!(
            status_body(res).await,
            (400, r#"{"refresh":["This field is required."]}"#.into())
        );
        let res = app
            .request(
                Method::POST,
                "/api/token/blacklist/",
                &browser,
                Some(json!({})),
            )
            .await;
        assert_eq!(
            status_body(res).await,
            (400, r#"{"refresh":["This field is required."]}"#.into())
        );

        // Logout through the cookie clears it; the token is then blacklisted.
        let cookie = format!("refresh={rotated}");
        let mut h = browser.to_vec();
        h.push(("cookie", &cookie));
        let res = app
            .request(Method::POST, "/api/token/blacklist/", &h, Some(json!({})))
            .await;
        let (cleared, value) = set_cookie_for(res.headers(), "refresh").expect("cleared cookie");
        assert_eq!(value, "\"\"");
        assert!(
            cleared.contains("; Max-Age=0; Path=/api/token/; SameSite=Lax"),
            "{cleared}"
        );
        assert_eq!(status_body(res).await, (200, "{}".into()));
        let res = app
            .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
            .await;
        assert_eq!(res.status(), 401);
    }
}

#[tokio::test]
async fn cookie_attributes_follow_the_settings() {
    let mut settings = COOKIE_MODE.to_vec();
    settings.extend([
        ("JWT_AUTH_SECURE", "true"),
        ("JWT_AUTH_SAMESITE", "Strict"),
        ("JWT_AUTH_COOKIE", "access"),
        ("JWT_AUTH_HTTPONLY", "false"),
    ]);
    let app = spawn_with_user("sqlite", &settings).await;
    let res = app
        .request(
            Method::POST,
            "/api/token/",
            &[],
            Some(json!({"username": "alice", "password": "pass-1234"})),
        )
        .await;
    let headers = res.headers().clone();
    let body: Value = res.json().await.expect("json");
    let (refresh, _) =
        set_cookie_for(&headers, "__Secure-refresh").expect("__Secure- refresh cookie");
    assert!(
        refresh.ends_with("; Max-Age=86400; Path=/api/token/; SameSite=Strict; Secure"),
        "{refresh}"
    );
    assert!(!refresh.contains("HttpOnly"), "{refresh}");
    let (access, value) = set_cookie_for(&headers, "__Host-access").expect("__Host- access cookie");
    assert!(
        access.ends_with("; Max-Age=300; Path=/; SameSite=Strict; Secure"),
        "{access}"
    );
    assert_eq!(body["access"].as_str(), Some(value.as_str()));
    assert!(
        body["refresh"].is_string(),
        "JWT_AUTH_HTTPONLY=false keeps the refresh token in the body too"
    );

    // Path "/" makes the refresh cookie a __Host- cookie.
    let mut settings = COOKIE_MODE.to_vec();
    settings.extend([
        ("JWT_AUTH_SECURE", "true"),
        ("JWT_AUTH_REFRESH_COOKIE_PATH", "/"),
    ]);
    let app = spawn_with_user("sqlite", &settings).await;
    let res = app
        .request(
            Method::POST,
            "/api/token/",
            &[],
            Some(json!({"username": "alice", "password": "pass-1234"})),
        )
        .await;
    let (refresh, _) =
        set_cookie_for(res.headers(), "__Host-refresh").expect("__Host- refresh cookie");
    assert!(
        refresh.ends_with("; HttpOnly; Max-Age=86400; Path=/; SameSite=Lax; Secure"),
        "{refresh}"
    );
    // Reading uses the prefixed name; logout clears it with the same attributes.
    let (_, value) = set_cookie_for(res.headers(), "__Host-refresh").expect("cookie");
    let cookie = format!("__Host-refresh={value}");
    let res = app
        .request(
            Method::POST,
            "/api/token/blacklist/",
            &[("cookie", &cookie)],
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (cleared, _) = set_cookie_for(res.headers(), "__Host-refresh").expect("cleared");
    assert!(
        cleared.ends_with("; Max-Age=0; Path=/; SameSite=Lax; Secure"),
        "{cleared}"
    );
}

#[tokio::test]
async fn csrf_origin_checks_on_cookie_requests() {
    let mut settings = COOKIE_MODE.to_vec();
    settings.push(("AUTHBRIDGE_TRUSTED_ORIGINS", "https://admin.example.com"));
    let app = spawn_with_user("sqlite", &settings).await;
    let login = json!({"username": "alice", "password": "pass-1234"});

    // Login from a cross-site page is refused and sets no cookie (login CSRF).
    let res = app
        .request(
            Method::POST,
            "/api/token/",
            &[("origin", EVIL), ("sec-fetch-site", "cross-site")],
            Some(login),
        )
        .await;
    assert!(set_cookies(res.headers()).is_empty());
    assert_eq!(
        status_body(res).await,
        (
            403,
            r#"{"detail":"CSRF Failed: Origin checking failed - http://evil.test does not match any trusted origins."}"#
                .into()
        )
    );

    let (refresh, _, _) = cookie_login(&app, &[]).await;
    let cookie = format!("refresh={refresh}");
    // Refused: a cross-site page, a cross-site request without Origin, an untrusted Origin alone.
    for headers in [
        vec![("origin", EVIL), ("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("origin", "http://localhost:4000"),
            ("sec-fetch-site", "same-site"),
        ],
        vec![("origin", EVIL)],
    ] {
        for path in ["/api/token/refresh/", "/api/token/blacklist/"] {
            let mut h = headers.clone();
            h.push(("cookie", &cookie));
            let res = app.request(Method::POST, path, &h, Some(json!({}))).await;
            assert!(set_cookies(res.headers()).is_empty());
            let (status, body) = status_body(res).await;
            assert_eq!(status, 403, "{path} {headers:?}: {body}");
            assert!(body.starts_with(r#"{"detail":"CSRF Failed: "#), "{body}");
        }
    }
    // In cookie mode a body token from an untrusted page is refused too, before any rotation
    // (the accepted refreshes below start from this very token).
    let res = app
        .request(
            Method::POST,
            "/api/token/refresh/",
            &[("origin", EVIL), ("sec-fetch-site", "cross-site")],
            Some(json!({"refresh": refresh})),
        )
        .await;
    assert_eq!(res.status(), 403);
    // Accepted: the CORS-allowed origin, a trusted origin, same-origin, and a non-browser client.
    // (Each refresh rotates, so each step uses the cookie the previous one set.)
    let mut current = refresh;
    for headers in [
        vec![("origin", APP), ("sec-fetch-site", "same-site")],
        vec![
            ("origin", "https://admin.example.com"),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("sec-fetch-site", "same-origin")],
        vec![],
    ] {
        let cookie = format!("refresh={current}");
        let mut h = headers.clone();
        h.push(("cookie", &cookie));
        let res = app
            .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
            .await;
        assert_eq!(res.status(), 200, "{headers:?}");
        current = set_cookie_for(res.headers(), "refresh").expect("rotated").1;
    }
}

#[tokio::test]
async fn csrf_origin_needs_cors_credentials() {
    // Listed for CORS but without credentials: not trusted to spend the cookie.
    let settings = [
        FAST_HASHER,
        ("CORS_ALLOWED_ORIGINS", APP),
        ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
        ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ];
    let app = spawn_with_user("sqlite", &settings).await;
    let login = json!({"username": "alice", "password": "pass-1234"});
    let res = app
        .request(Method::POST, "/api/token/", &[], Some(login))
        .await;
    let (_, refresh) = set_cookie_for(res.headers(), "refresh").expect("cookie");
    let cookie = format!("refresh={refresh}");
    let h = [
        ("origin", APP),
        ("sec-fetch-site", "same-site"),
        ("cookie", cookie.as_str()),
    ];
    let res = app
        .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn csrf_double_submit_token() {
    let mut settings = COOKIE_MODE.to_vec();
    settings.push(("JWT_AUTH_COOKIE_USE_CSRF", "true"));
    settings.push(("CORS_EXPOSE_HEADERS", "x-csrftoken"));
    let app = spawn_with_user("sqlite", &settings).await;
    let (refresh, _, headers) = cookie_login(&app, &[]).await;
    let (csrf_cookie, csrf) = set_cookie_for(&headers, "csrftoken").expect("csrftoken cookie");
    assert!(
        csrf_cookie.ends_with("; Max-Age=31449600; Path=/; SameSite=Lax"),
        "{csrf_cookie}"
    );
    assert!(!csrf_cookie.contains("HttpOnly"), "readable by the page");
    assert_eq!(
        header(&headers, "x-csrftoken"),
        Some(csrf.as_str()),
        "also in a header for other hosts"
    );
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        Some("x-csrftoken")
    );

    let browser = [("origin", APP), ("sec-fetch-site", "same-site")];
    let cookies = format!("refresh={refresh}; csrftoken={csrf}");
    let detail = |d: &str| format!(r#"{{"detail":"CSRF Failed: {d}"}}"#);
    let wrong = "A".repeat(32);
    for (extra, expected) in [
        (vec![], detail("CSRF token missing.")),
        (
            vec![("x-csrftoken", wrong.as_str())],
            detail("CSRF token from the 'X-Csrftoken' HTTP header incorrect."),
        ),
    ] {
        let mut h = browser.to_vec();
        h.push(("cookie", &cookies));
        h.extend(extra);
        let res = app
            .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
            .await;
        assert_eq!(status_body(res).await, (403, expected));
    }
    let only_refresh = format!("refresh={refresh}");
    let mut h = browser.to_vec();
    h.extend([
        ("cookie", only_refresh.as_str()),
        ("x-csrftoken", csrf.as_str()),
    ]);
    let res = app
        .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
        .await;
    assert_eq!(
        status_body(res).await,
        (403, detail("CSRF cookie not set."))
    );

    // The right token: accepted, and the browser keeps the same CSRF token (other tabs hold it).
    let mut h = browser.to_vec();
    h.extend([("cookie", cookies.as_str()), ("x-csrftoken", csrf.as_str())]);
    let res = app
        .request(Method::POST, "/api/token/refresh/", &h, Some(json!({})))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        set_cookie_for(res.headers(), "csrftoken").map(|c| c.1),
        Some(csrf.clone())
    );
    let rotated = set_cookie_for(res.headers(), "refresh").expect("rotated").1;

    // A body token is not cookie-authenticated: no CSRF token needed.
    let res = app
        .request(
            Method::POST,
            "/api/token/blacklist/",
            &browser,
            Some(json!({"refresh": rotated})),
        )
        .await;
    assert_eq!(res.status(), 200);
}
