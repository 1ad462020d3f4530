//! dj-rest-auth's JWT cookies at the account endpoints (cookie mode: `JWT_AUTH_REFRESH_COOKIE`,
//! see docs/browser.md): login sets them (with `JWT_AUTH_HTTPONLY` the body's `refresh` is `""`,
//! as dj-rest-auth leaves it), refresh reads the cookie when the body has none and drops
//! `refresh` / `refresh_expiration` from its body, logout reads only the cookie and clears both
//! on every answer.

use serde_json::Value;

use super::{answer, keys, send};
use crate::support::headers::set_cookie_for;
use crate::support::{backends, TestApp, FAST_HASHER};

const COOKIE_MODE: &[(&str, &str)] = &[
    ("AUTHBRIDGE_ACCOUNTS", "true"),
    ("ACCOUNT_EMAIL_VERIFICATION", "optional"),
    ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
    ("JWT_AUTH_COOKIE", "access"),
    ("JWT_AUTH_REFRESH_COOKIE_PATH", "/api/"),
    ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
    ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
    ("AUTHBRIDGE_LOGIN_FAILURES", "0"),
    FAST_HASHER,
];

fn json() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "application/json".into())]
}

fn with_cookie(cookie: &str) -> Vec<(String, String)> {
    let mut h = json();
    h.push(("Cookie".into(), cookie.into()));
    h
}

#[tokio::test]
async fn login_refresh_and_logout_set_and_clear_the_cookies() {
    for backend in backends() {
        let app = TestApp::spawn(backend, COOKIE_MODE).await;
        let base = format!("http://{}", app.addr);
        let register = r#"{"username":"cora","email":"cora@example.com","password1":"Tr1cky-Passw0rd!","password2":"Tr1cky-Passw0rd!"}"#;
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/registration/",
                &json(),
                Some(register),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);

        let login = r#"{"username":"cora","password":"Tr1cky-Passw0rd!"}"#;
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/login/",
                &json(),
                Some(login),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(keys(&a.body), ["access", "refresh", "user"]);
        let body: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(
            body["refresh"], "",
            "HttpOnly: dj-rest-auth keeps the key, empty"
        );
        let (refresh_cookie, refresh) =
            set_cookie_for(&a.headers, "refresh").expect("refresh cookie");
        assert!(
            refresh_cookie.contains("HttpOnly") && refresh_cookie.contains("Path=/api/"),
            "{refresh_cookie}"
        );
        let (_, access) = set_cookie_for(&a.headers, "access").expect("access cookie");
        assert_eq!(body["access"].as_str(), Some(access.as_str()));

        // Refresh from the cookie: no refresh token nor its expiry in the body.
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh/",
                &with_cookie(&format!("refresh={refresh}")),
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(keys(&a.body), ["access", "access_expiration"]);
        let (_, rotated) = set_cookie_for(&a.headers, "refresh").expect("rotated cookie");
        assert_ne!(rotated, refresh);

        // Logout reads the cookie only (HttpOnly), and clears the cookies on every answer.
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/logout/",
                &json(),
                Some(&format!("{{\"refresh\":\"{rotated}\"}}")),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                401,
                r#"{"detail":"Refresh token was not included in cookie data."}"#
            )
        );
        assert!(a.headers.get("www-authenticate").is_none());
        let (cleared, value) = set_cookie_for(&a.headers, "refresh").expect("cleared");
        assert!(
            value == "\"\"" && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/logout/",
                &with_cookie(&format!("refresh={rotated}")),
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (200, r#"{"detail":"Successfully logged out."}"#)
        );
        assert!(set_cookie_for(&a.headers, "access").is_some_and(|(_, v)| v == "\"\""));
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh/",
                &with_cookie(&format!("refresh={rotated}")),
                Some("{}"),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                401,
                r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#
            )
        );
    }
}

/// Without cookie mode, dj-rest-auth's refresh view answers in the body: the rotated refresh
/// token and both expiries, in this order.
#[tokio::test]
async fn body_mode_refresh_has_both_expirations() {
    for backend in backends() {
        let mut settings = super::SERVER_O.to_vec();
        settings.push(("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "120"));
        let app = TestApp::spawn(backend, &settings).await;
        let base = format!("http://{}", app.addr);
        let register = r#"{"username":"olga","email":"olga@example.com","password1":"Tr1cky-Passw0rd!","password2":"Tr1cky-Passw0rd!"}"#;
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/registration/",
                &json(),
                Some(register),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
        assert_eq!(keys(&a.body), ["access", "refresh", "user"]);
        let body: Value = serde_json::from_str(&a.body).unwrap();
        let refresh = body["refresh"].as_str().unwrap();
        let before = chrono::Utc::now();
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh",
                &json(),
                Some(&format!("{{\"refresh\":\"{refresh}\"}}")),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(
            keys(&a.body),
            [
                "access",
                "refresh",
                "access_expiration",
                "refresh_expiration"
            ]
        );
        let body: Value = serde_json::from_str(&a.body).unwrap();
        let at = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(body[k].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let access_in = (at("access_expiration") - before).num_seconds();
        assert!((119..=121).contains(&access_in), "{access_in}");
        let refresh_in = (at("refresh_expiration") - before).num_seconds();
        assert!((86_399..=86_401).contains(&refresh_in), "{refresh_in}");
        // A blank refresh in a form is "not given" (DRF's HTML input rule); in JSON it is a
        // blank field.
        let form = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh/",
                &form,
                Some("refresh="),
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
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/token/refresh/",
                &json(),
                Some(r#"{"refresh":""}"#),
            )
            .await,
        )
        .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (400, r#"{"refresh":["This field may not be blank."]}"#)
        );
    }
}
