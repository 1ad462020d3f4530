//! Bad input on every endpoint: answered in simplejwt's format, never a 5xx, and nothing already
//! stored is lost.

use serde_json::json;

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
