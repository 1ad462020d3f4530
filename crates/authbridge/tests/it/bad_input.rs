//! Bad input on every endpoint: answered in simplejwt's format, never a 5xx, and nothing already
//! stored is lost.

use serde_json::json;

use crate::support::bodies::INVALID;
use crate::support::{backends, TestApp};

const ENDPOINTS: [&str; 4] = [
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
];

#[tokio::test]
async fn malformed_bodies_never_5xx() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[("PASSWORD_HASHERS", "pbkdf2_sha256")]).await;
        app.create_user("keeper", "pw-keep", true).await;
        let (refresh, _) = app.login("keeper", "pw-keep").await;

        let big_json = format!(
            r#"{{"username": "{}", "password": "x", "refresh": "{0}", "token": "{0}"}}"#,
            "a".repeat(1_000_000)
        );
        let huge = "x".repeat(3_000_000);
        let bodies: Vec<(Option<&str>, String)> = vec![
            (Some("application/json"), big_json),
            (Some("application/json"), "{\"username\": \"\u{1F600}\", \"password\": \"\u{0}\"}".into()),
            (Some("application/json"), "\u{FEFF}{}".into()),
            (Some("application/json"), "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}".into()),
            (Some("application/json"), "\"just a string\"".into()),
            (Some("application/json"), "null".into()),
            (Some("application/json"), "{\"token\": {\"nested\": true}, \"refresh\": 12, \"username\": 1.5, \"password\": false}".into()),
            (Some("application/x-www-form-urlencoded"), "%%%&&&===".into()),
            (Some("multipart/form-data"), "garbage".into()),
            (Some("multipart/form-data; boundary=xyz"), "--xyz\r\nbroken".into()),
            (Some("application/json; charset=latin-1"), "{\"username\": \"\u{e9}\"}".into()),
            (Some("application/json"), huge),
        ];
        for path in ENDPOINTS {
            for (ct, body) in &bodies {
                let res = app.post_raw(path, *ct, body).await;
                let status = res.status().as_u16();
                let text = res.text().await.unwrap();
                assert!(
                    (400..500).contains(&status),
                    "{path} {ct:?} {}: {status} {text}",
                    &body[..body.len().min(40)]
                );
                let parsed: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
                assert!(parsed.is_object(), "{path}: {text}");
            }
            // Bad bytes that are not UTF-8.
            let res = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .body(vec![0xff, 0xfe, 0x00, 0x7b])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "{path} non-utf8");
        }
        let tokens = [
            String::new(),
            "a.b".into(),
            "a.b.c.d".into(),
            "....".into(),
            "eyJhbGciOiJub25lIn0.e30.".into(),
            "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln".into(),
            "\u{1F511}.\u{1F511}.\u{1F511}".into(),
            format!(
                "{}.{}.{}",
                "A".repeat(70_000),
                "B".repeat(70_000),
                "C".repeat(70_000)
            ),
        ];
        for path in &ENDPOINTS[1..] {
            for t in &tokens {
                let res = app.post_json(path, json!({"token": t, "refresh": t})).await;
                let status = res.status().as_u16();
                assert!(
                    status == 400 || status == 401,
                    "{path} {:?}: {status}",
                    &t[..t.len().min(20)]
                );
            }
        }
        // Nothing stored was lost: the user still logs in, the earlier token still verifies.
        let login = app
            .post_json(
                "/api/token/",
                json!({"username": "keeper", "password": "pw-keep"}),
            )
            .await;
        assert_eq!(login.status(), 200, "stored user still logs in");
        let res = app
            .post_json("/api/token/verify/", json!({"token": refresh}))
            .await;
        assert_eq!(res.status(), 200, "earlier token still valid");
    }
}

/// Finding 1 of the security review: a deeply nested body overflowed the stack of the CPython
/// error-message rebuilder and aborted the process. Every endpoint that parses a body, the
/// service-token one included (its body is parsed before the token is checked).
#[tokio::test]
async fn deeply_nested_bodies_get_400_and_the_server_lives() {
    let service = "a-service-token-that-is-long-enough-0123456789";
    let app = TestApp::spawn(
        "sqlite",
        &[
            ("PASSWORD_HASHERS", "pbkdf2_sha256"),
            ("AUTHBRIDGE_SERVICE_TOKEN", service),
            (
                "AUTH_SECRET",
                "an-auth-js-secret-that-is-long-enough-0123456789",
            ),
        ],
    )
    .await;
    app.create_user("keeper", "pw-keep", true).await;
    let arrays = "[".repeat(50_000);
    let objects = "{\"a\":".repeat(100_000);
    let closed = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    for path in ENDPOINTS
        .iter()
        .chain(&["/api/users/sync", "/api/authjs/token"])
    {
        for (doc, message) in [
            (&arrays, "Expecting value: line 1 column 50001 (char 50000)"),
            (
                &objects,
                "Expecting value: line 1 column 500001 (char 500000)",
            ),
        ] {
            let res = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {service}"))
                .body(doc.clone())
                .send()
                .await
                .expect("the server answers");
            let (status, body) = (res.status().as_u16(), res.text().await.unwrap());
            if *path == "/api/authjs/token" {
                // No session: refused before the body is read.
                assert_eq!(status, 401, "{path}: {body}");
                continue;
            }
            if *path == "/api/token/" && doc.len() > 64 * 1024 {
                // Over the login endpoint's body cap: refused before it is parsed.
                assert_eq!(status, 413, "{path}: {body}");
                continue;
            }
            assert_eq!(status, 400, "{path}: {body}");
            assert_eq!(
                body,
                json!({"detail": format!("JSON parse error - {message}")}).to_string(),
                "{path}"
            );
        }
        let res = app.post_raw(path, Some("application/json"), &closed).await;
        assert!(res.status().is_client_error(), "{path}");
    }
    let (refresh, _) = app.login("keeper", "pw-keep").await;
    assert!(!refresh.is_empty(), "still serving");
}

/// Finding 17: malformed tokens get simplejwt's exact bodies, not just "some 4xx".
#[tokio::test]
async fn malformed_tokens_get_simplejwts_exact_bodies() {
    let app = TestApp::spawn("sqlite", &[]).await;
    let long = format!(
        "{}.{}.{}",
        "A".repeat(70_000),
        "B".repeat(70_000),
        "C".repeat(70_000)
    );
    let tokens = [
        "a.b",
        "a.b.c.d",
        "....",
        "eyJhbGciOiJub25lIn0.e30.",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
        "\u{1F511}.\u{1F511}.\u{1F511}",
        &long,
    ];
    for (path, field) in [
        ("/api/token/refresh/", "refresh"),
        ("/api/token/verify/", "token"),
        ("/api/token/blacklist/", "refresh"),
    ] {
        for t in tokens {
            let res = app.post_json(path, json!({ field: t })).await;
            let (status, body) = crate::support::status_body(res).await;
            assert_eq!((status, body.as_str()), (401, INVALID), "{path} {:.20}", t);
        }
        let res = app.post_json(path, json!({ field: "" })).await;
        let (status, body) = crate::support::status_body(res).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({ field: ["This field may not be blank."] }).to_string()
        );
    }
}

/// Findings 7 and 8: `crit`, `b64: false`, and every other spelling of a valid signature are
/// refused as PyJWT 2.15 refuses them; a numeric-string `exp` is a 401, not a 500.
#[tokio::test]
async fn tokens_pyjwt_refuses_are_refused() {
    use crate::support::tokens::sign;
    let app = TestApp::spawn("sqlite", &[]).await;
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"token_type": "access", "exp": now + 300, "iat": now, "jti": "j1", "user_id": "1"})
            .to_string();
    let good = sign(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims,
        crate::support::SECRET,
    );
    let res = app
        .post_json("/api/token/verify/", json!({"token": good}))
        .await;
    assert_eq!(res.status(), 200, "the control token verifies");
    let mut bad: Vec<(String, String)> = [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":[]}"#,
        r#"{"alg":"HS256","typ":"JWT","b64":false}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}"#,
    ]
    .iter()
    .map(|h| (h.to_string(), sign(h, &claims, crate::support::SECRET)))
    .collect();
    let (message, sig) = good.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    bad.push((
        "standard alphabet".into(),
        format!("{message}.{}", STANDARD_NO_PAD.encode(&raw)),
    ));
    bad.push(("double padding".into(), format!("{good}==")));
    bad.push(("stray character".into(), format!("{message}.!{sig}")));
    let string_exp = json!({"token_type": "access", "exp": (now + 300).to_string(), "iat": now, "jti": "j2", "user_id": "1"});
    bad.push((
        "numeric-string exp".into(),
        sign(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &string_exp.to_string(),
            crate::support::SECRET,
        ),
    ));
    for (what, token) in bad {
        if what == "standard alphabet" && token == good {
            continue; // this signature has neither `-` nor `_`
        }
        for path in ["/api/token/verify/", "/api/token/refresh/"] {
            let field = if path.contains("verify") {
                "token"
            } else {
                "refresh"
            };
            let res = app.post_json(path, json!({ field: token })).await;
            let (status, body) = crate::support::status_body(res).await;
            assert_eq!((status, body.as_str()), (401, INVALID), "{what} at {path}");
        }
    }
    let res = app
        .post_json("/api/token/verify/", json!({"token": format!("{good}=")}))
        .await;
    assert_eq!(
        res.status(),
        200,
        "one `=` completing the quartet is accepted, as PyJWT does"
    );
}

/// Finding 16: what DRF does where authbridge differed.
#[tokio::test]
async fn drf_request_handling_differences() {
    let app = TestApp::spawn("sqlite", &[("PASSWORD_HASHERS", "pbkdf2_sha256")]).await;
    app.create_user("keeper", "pw-keep", true).await;
    // An empty body: field errors whatever the media type (DRF only picks a parser for a body).
    for ct in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("application/json"),
    ] {
        let res = app.post_raw("/api/token/refresh/", ct, "").await;
        let (status, body) = crate::support::status_body(res).await;
        assert_eq!(
            (status, body.as_str()),
            (400, r#"{"refresh":["This field is required."]}"#),
            "{ct:?}"
        );
    }
    // With a body, an unsupported media type is still a 415.
    let res = app
        .post_raw("/api/token/refresh/", Some("text/plain"), "x")
        .await;
    assert_eq!(res.status(), 415);
    // A multipart field whose name has a control byte is just an unknown field.
    let body = "--xyz\r\nContent-Disposition: form-data; name=\"a\u{1d}b\"\r\n\r\nv\r\n--xyz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nkeeper\r\n--xyz\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npw-keep\r\n--xyz--\r\n";
    let res = app
        .post_raw(
            "/api/token/",
            Some("multipart/form-data; boundary=xyz"),
            body,
        )
        .await;
    assert_eq!(res.status(), 200);
    // /api/me/: authentication runs before the method check.
    let (_, access) = app.login("keeper", "pw-keep").await;
    let not_provided = r#"{"detail":"Authentication credentials were not provided."}"#;
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .client
            .request(m.clone(), app.url("/api/me/"))
            .send()
            .await
            .unwrap();
        let (status, text) = crate::support::status_body(res).await;
        assert_eq!(
            (status, text.as_str()),
            (401, not_provided),
            "{method} without credentials"
        );
        let res = app
            .client
            .request(m.clone(), app.url("/api/me/"))
            .header("authorization", "Bearer abc")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} with a bad token");
        let res = app
            .client
            .request(m, app.url("/api/me/"))
            .header("authorization", format!("Bearer {access}"))
            .send()
            .await
            .unwrap();
        let want = if method == "OPTIONS" { 200 } else { 405 };
        assert_eq!(res.status(), want, "{method} authenticated");
    }
}

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
