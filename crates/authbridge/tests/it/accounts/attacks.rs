//! Hostile input at the account endpoints: every answer is DRF's own 4xx (never a 500, never a
//! hang), nothing is written for a refused sign-up, and nothing a caller sends reaches an email
//! header.

use serde_json::{json, Value};

use super::{answer, send, SERVER_M};
use crate::support::{backends, TestApp};

async fn post(app: &TestApp, path: &str, content_type: Option<&str>, body: &str) -> (u16, String) {
    let mut headers = Vec::new();
    if let Some(ct) = content_type {
        headers.push(("Content-Type".to_string(), ct.to_string()));
    }
    let base = format!("http://{}", app.addr);
    let a = answer(send(app, &base, "POST", path, &headers, Some(body)).await).await;
    (a.status, a.body)
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (u16, String) {
    post(app, path, Some("application/json"), &body.to_string()).await
}

const REGISTER: &str = "/api/auth/registration/";

async fn user_count(app: &TestApp) -> usize {
    super::query_pairs(
        &app.db,
        "SELECT CAST(id AS BIGINT), username FROM auth_user",
    )
    .await
    .len()
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_drfs_4xx() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        // The views that hash take the login cap (64 KiB); the others Django's 2.5 MB.
        let big = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
        for path in [
            REGISTER,
            "/api/auth/login/",
            "/api/auth/password/reset/confirm/",
        ] {
            let (status, _) = post(&app, path, Some("application/json"), &big).await;
            assert_eq!(status, 413, "{path}");
        }
        let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
        let (status, _) = post(
            &app,
            "/api/auth/password/reset/",
            Some("application/json"),
            &huge,
        )
        .await;
        assert_eq!(status, 413);

        // Nesting deeper than any parser's stack (under the 64 KiB cap): a parse error, not a crash.
        let deep = format!(
            "{{\"email\": {}{}}}",
            "[".repeat(30_000),
            "]".repeat(30_000)
        );
        for path in [
            REGISTER,
            "/api/auth/login/",
            "/api/auth/logout/",
            "/api/auth/password/reset/",
        ] {
            let (status, body) = post(&app, path, Some("application/json"), &deep).await;
            assert_eq!(status, 400, "{path}: {body}");
            assert!(
                body.starts_with("{\"detail\":\"JSON parse error - "),
                "{path}: {body}"
            );
        }

        let (status, body) = post(
            &app,
            "/api/auth/login/",
            Some("application/json"),
            "{\"username\": \"\u{0}",
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body.starts_with("{\"detail\":\"JSON parse error - "),
            "{body}"
        );
        let (status, body) = post(&app, "/api/auth/login/", Some("text/plain"), "x").await;
        assert_eq!(
            (status, body.as_str()),
            (
                415,
                r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#
            )
        );

        // A JSON body that is not an object: DRF's serializer message (the anchor's logout
        // answers 500 here; see docs/compatibility.md).
        for body in ["[]", "\"x\"", "12", "true"] {
            for path in [REGISTER, "/api/auth/logout/", "/api/auth/password/reset/"] {
                let (status, text) = post(&app, path, Some("application/json"), body).await;
                assert_eq!(status, 400, "{path} {body}: {text}");
                assert!(
                    text.starts_with(
                        "{\"non_field_errors\":[\"Invalid data. Expected a dictionary, but got "
                    ),
                    "{path}: {text}"
                );
            }
        }
        let (status, text) =
            post(&app, "/api/auth/logout/", Some("application/json"), "null").await;
        assert_eq!(
            (status, text.as_str()),
            (400, r#"{"non_field_errors":["No data provided"]}"#)
        );
    }
}

#[tokio::test]
async fn wrong_types_and_unicode_get_field_errors() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        let (status, body) = post_json(
            &app,
            REGISTER,
            &json!({"username": {"$gt": ""}, "email": ["a@b.co"], "password1": true, "password2": 1.5}),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                r#"{"username":["Not a valid string."],"email":["Enter a valid email address."],"password1":["Not a valid string."]}"#
            )
        );
        let (status, body) = post_json(
            &app,
            REGISTER,
            &json!({"username": "b\u{f3}b\u{1f600}", "email": "b@\u{1f600}.com", "password1": "p\u{0}ssword-Long-1", "password2": "x"}),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                r#"{"username":["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."],"email":["Enter a valid email address."],"password1":["Null characters are not allowed."]}"#
            )
        );
        let (status, body) = post_json(
            &app,
            "/api/auth/login/",
            &json!({"username": ["alice"], "email": 5, "password": {}}),
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                r#"{"username":["Not a valid string."],"email":["Enter a valid email address."],"password":["Not a valid string."]}"#
            )
        );
        assert_eq!(user_count(&app).await, 0);
    }
}

/// Email headers are built from the address and the username: a line break or any other
/// control character in either is refused by Django's validators before anything is sent.
#[tokio::test]
async fn header_injection_through_addresses_and_names_is_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        for email in [
            "victim@example.com\r\nBcc: attacker@evil.test",
            "victim@example.com\nBcc: attacker@evil.test",
            "\"a\r\nb\"@example.com",
            "victim@example.com>, attacker@evil.test",
            "victim@example.com\u{0}",
        ] {
            let (status, body) = post_json(
                &app,
                REGISTER,
                &json!({"username": "mallory", "email": email, "password1": "Tr1cky-Passw0rd!", "password2": "Tr1cky-Passw0rd!"}),
            )
            .await;
            assert_eq!(status, 400, "{email:?}: {body}");
            assert!(body.contains("\"email\":["), "{email:?}: {body}");
            for path in [
                "/api/auth/password/reset/",
                "/api/auth/registration/resend-email/",
            ] {
                let (status, body) = post_json(&app, path, &json!({"email": email})).await;
                assert_eq!(status, 400, "{path} {email:?}: {body}");
            }
        }
        // A trailing line break alone is stripped (Python's `strip()`): "mallory\n" is "mallory".
        for username in [
            "mallory\r\nBcc: x@evil.test",
            "mal\nlory",
            "mal lory",
            "mallory\u{0}",
        ] {
            let (status, body) = post_json(
                &app,
                REGISTER,
                &json!({"username": username, "email": "m@example.com", "password1": "Tr1cky-Passw0rd!", "password2": "Tr1cky-Passw0rd!"}),
            )
            .await;
            assert_eq!(status, 400, "{username:?}: {body}");
            assert!(body.starts_with("{\"username\":["), "{username:?}: {body}");
        }
        assert_eq!(user_count(&app).await, 0);
    }
}

/// Like any DRF view without its own authentication classes, the `AllowAny` account views
/// authenticate first: a bad Bearer header is a 401, as the anchor answers.
#[tokio::test]
async fn a_bad_bearer_header_is_refused_everywhere_but_the_token_views() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        let base = format!("http://{}", app.addr);
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Authorization".to_string(), "Bearer abc".to_string()),
        ];
        let invalid = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#;
        for path in [
            REGISTER,
            "/api/auth/registration/verify-email/",
            "/api/auth/registration/resend-email/",
            "/api/auth/login/",
            "/api/auth/logout/",
            "/api/auth/user/",
            "/api/auth/password/change/",
            "/api/auth/password/reset/",
            "/api/auth/password/reset/confirm/",
        ] {
            let a = answer(send(&app, &base, "POST", path, &headers, Some("{}")).await).await;
            assert_eq!((a.status, a.body.as_str()), (401, invalid), "{path}");
            assert_eq!(
                a.headers["www-authenticate"], "Bearer realm=\"api\"",
                "{path}"
            );
        }
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/verify/",
                &headers,
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (400, r#"{"token":["This field is required."]}"#)
        );
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh/",
                &headers,
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                401,
                r#"{"detail":"No valid refresh token found.","code":"token_not_valid"}"#
            )
        );
    }
}

#[tokio::test]
async fn another_host_gets_no_link() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        let base = format!("http://{}", app.addr);
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Host".to_string(), "evil.test".to_string()),
        ];
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/password/reset/",
                &headers,
                Some(r#"{"email":"a@example.com"}"#),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 400, "{}", a.body);
    }
}

#[tokio::test]
async fn switched_off_the_api_is_not_there() {
    for backend in backends() {
        let app = TestApp::spawn(backend, &[]).await;
        for path in [
            REGISTER,
            "/api/auth/registration",
            "/api/auth/login/",
            "/api/auth/token/refresh/",
        ] {
            let (status, body) = post_json(&app, path, &json!({})).await;
            assert_eq!(
                (status, body.as_str()),
                (404, r#"{"detail":"Not found."}"#),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn paths_take_the_slash_as_dj_rest_auth_does() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        for path in [
            "/api/auth/login",
            "/api/auth/registration/resend-email",
            "/api/auth/password/reset",
            "/api/auth/password/reset/confirm",
            "/api/auth/token/verify",
        ] {
            let (status, body) = post_json(&app, path, &json!({})).await;
            assert_eq!(status, 400, "{path}: {body}");
        }
        let base = format!("http://{}", app.addr);
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/registration?next=x",
                &[],
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 301);
        assert_eq!(a.headers["location"], "/api/auth/registration/?next=x");
        let a = answer(send(&app, &base, "GET", "/api/auth/user", &[], None).await).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                401,
                r#"{"detail":"Authentication credentials were not provided."}"#
            )
        );
        let a = answer(send(&app, &base, "OPTIONS", "/api/auth/login/", &[], None).await).await;
        assert_eq!(a.status, 200);
        assert!(
            a.body
                .starts_with(r#"{"name":"Login","description":"Check the credentials"#),
            "{}",
            a.body
        );
        assert_eq!(a.headers["allow"], "POST, OPTIONS");
    }
}

/// DRF's form and multipart parsers: the same fields, the same answers.
#[tokio::test]
async fn form_and_multipart_bodies_are_read_as_drf_reads_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_M).await;
        let form = reqwest::multipart::Form::new()
            .text("username", "dora")
            .text("email", "Dora@Example.com")
            .text("password1", "Tr1cky-Passw0rd!")
            .text("password2", "Tr1cky-Passw0rd!");
        let res = app
            .client
            .post(app.url(REGISTER))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let a = answer(res).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (201, r#"{"detail":"Verification e-mail sent."}"#)
        );
        let (status, body) = post(
            &app,
            "/api/auth/login/",
            Some("application/x-www-form-urlencoded"),
            "username=&email=&password=x",
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (
                400,
                r#"{"non_field_errors":["Must include either \"username\" or \"email\" and \"password\"."]}"#
            )
        );
        // A repeated key: Django's QueryDict keeps the last value.
        let (status, body) = post(
            &app,
            "/api/auth/password/reset/",
            Some("application/x-www-form-urlencoded"),
            "email=dora%40example.com&email=not-an-email",
        )
        .await;
        assert_eq!(
            (status, body.as_str()),
            (400, r#"{"email":["Enter a valid email address."]}"#)
        );
    }
}

/// Sign-up, resend and reset are rate limited per address (the flows' limiter): past the limit
/// the answer is DRF's 429 with `Retry-After`, before the body's own errors.
#[tokio::test]
async fn floods_are_throttled_with_drfs_429() {
    for backend in backends() {
        let app = TestApp::spawn(
            backend,
            &[
                ("AUTHBRIDGE_ACCOUNTS", "true"),
                ("AUTHBRIDGE_SIGNUP_ADDRESS_RATE", "2/h"),
                ("AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE", "2/h"),
            ],
        )
        .await;
        let signup = json!({"username": "eve", "email": "eve@example.com", "password1": "x", "password2": "y"});
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(post_json(&app, REGISTER, &signup).await);
        }
        assert_eq!(statuses[0].0, 400, "{:?}", statuses[0]);
        let (status, body) = &statuses[2];
        assert_eq!(*status, 429, "{body}");
        assert!(
            body.starts_with(r#"{"detail":"Request was throttled. Expected available in "#),
            "{body}"
        );
        let base = format!("http://{}", app.addr);
        let h = vec![("Content-Type".to_string(), "application/json".to_string())];
        let mut last = None;
        for _ in 0..3 {
            let res = send(
                &app,
                &base,
                "POST",
                "/api/auth/password/reset/",
                &h,
                Some(r#"{"email":"eve@example.com"}"#),
            )
            .await;
            last = Some(answer(res).await);
        }
        let last = last.unwrap();
        assert_eq!(last.status, 429, "{}", last.body);
        let wait: i64 = last.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
    }
}
