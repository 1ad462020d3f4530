//! Corners the recorded probe does not cover, with the answers the real dj-rest-auth 7.2.0 +
//! allauth 65.21.1 + simplejwt 5.5.1 gave to the same requests (DRF's test client, the probe's
//! settings, `JWTAuthentication` as the default authentication).

use serde_json::Value;

use super::{answer, send, SERVER_O};
use crate::support::{backends, TestApp};

/// name, method, path, headers, body, status, body answered, `WWW-Authenticate` sent.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Vec<(String, String)>,
    &'a str,
    u16,
    &'a str,
    bool,
);

fn headers(content_type: &str, bearer: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![("Content-Type".to_string(), content_type.to_string())];
    if let Some(b) = bearer {
        h.push(("Authorization".to_string(), b.to_string()));
    }
    h
}

#[tokio::test]
async fn answers_as_the_real_stack_does() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_O).await;
        let base = format!("http://{}", app.addr);
        let json = "application/json";
        let form = "application/x-www-form-urlencoded";
        let a = answer(
            send(&app, &base, "POST", "/api/auth/registration/", &headers(json, None), Some(
                r#"{"username":"alice","email":"alice@example.com","password1":"Tr1cky-Passw0rd!","password2":"Tr1cky-Passw0rd!"}"#,
            ))
            .await,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let body: Value = serde_json::from_str(&a.body).unwrap();
        let refresh = body["refresh"].as_str().unwrap().to_string();
        let bearer = format!("Bearer {}", body["access"].as_str().unwrap());
        let spaced = format!("{{\"refresh\": \" {refresh} \"}}");

        let invalid_401 = r#"{"detail":"Token is invalid","code":"token_not_valid"}"#;
        let cases: Vec<Case> = vec![
            (
                "logout null",
                "POST",
                "/api/auth/logout/",
                headers(json, None),
                r#"{"refresh": null}"#,
                200,
                r#"{"detail":"Successfully logged out."}"#,
                false,
            ),
            (
                "logout number",
                "POST",
                "/api/auth/logout/",
                headers(json, None),
                r#"{"refresh": 123}"#,
                401,
                r#"{"detail":"Token is invalid"}"#,
                false,
            ),
            (
                "logout form blank",
                "POST",
                "/api/auth/logout/",
                headers(form, None),
                "refresh=",
                401,
                r#"{"detail":"Token is invalid"}"#,
                false,
            ),
            (
                "logout spaced",
                "POST",
                "/api/auth/logout/",
                headers(json, None),
                &spaced,
                401,
                r#"{"detail":"Token is invalid"}"#,
                false,
            ),
            (
                "refresh number",
                "POST",
                "/api/auth/token/refresh/",
                headers(json, None),
                r#"{"refresh": 123}"#,
                401,
                invalid_401,
                true,
            ),
            (
                "refresh spaced",
                "POST",
                "/api/auth/token/refresh/",
                headers(json, None),
                &spaced,
                401,
                invalid_401,
                true,
            ),
            (
                "refresh form blank",
                "POST",
                "/api/auth/token/refresh/",
                headers(form, None),
                "refresh=",
                401,
                r#"{"detail":"No valid refresh token found.","code":"token_not_valid"}"#,
                true,
            ),
            (
                "refresh list",
                "POST",
                "/api/auth/token/refresh/",
                headers(json, None),
                r#"{"refresh": ["x"]}"#,
                400,
                r#"{"refresh":["Not a valid string."]}"#,
                false,
            ),
            (
                "user PUT null name",
                "PUT",
                "/api/auth/user/",
                headers(json, Some(&bearer)),
                r#"{"username": "bob", "first_name": null}"#,
                400,
                r#"{"first_name":["This field may not be null."]}"#,
                false,
            ),
            (
                "user PATCH own name in capitals",
                "PATCH",
                "/api/auth/user/",
                headers(json, Some(&bearer)),
                r#"{"username": "ALICE"}"#,
                400,
                r#"{"username":["A user with that username already exists."]}"#,
                false,
            ),
            (
                "reset confirm signed uid",
                "POST",
                "/api/auth/password/reset/confirm/",
                headers(json, None),
                r#"{"uid": "+1", "token": "x-1", "new_password1": "a", "new_password2": "b"}"#,
                400,
                r#"{"token":["Invalid value"]}"#,
                false,
            ),
        ];
        for (name, method, path, h, body, status, want, challenge) in cases {
            let a = answer(send(&app, &base, method, path, &h, Some(body)).await).await;
            assert_eq!((a.status, a.body.as_str()), (status, want), "{name}");
            assert_eq!(
                a.headers.contains_key("www-authenticate"),
                challenge,
                "{name}"
            );
        }

        // Another scheme in `Authorization` is simply no authentication.
        let h = headers(json, Some("Basic abc"));
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/login/",
                &h,
                Some(r#"{"username":"alice","password":"Tr1cky-Passw0rd!"}"#),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let a = answer(
            send(
                &app,
                &base,
                "HEAD",
                "/api/auth/registration/verify-email/",
                &[],
                None,
            )
            .await,
        )
        .await;
        assert_eq!((a.status, a.body.as_str()), (405, ""));
        // No body and no content type: the serializer's field errors.
        let a = answer(send(&app, &base, "POST", "/api/auth/registration/", &[], None).await).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                400,
                r#"{"username":["This field is required."],"email":["This field is required."],"password1":["This field is required."],"password2":["This field is required."]}"#
            )
        );
    }
}

/// Over-long values never reach the database whole (PostgreSQL's `varchar` would refuse them
/// with a 500): a sign-up's email over 254 characters is cut as allauth cuts it (201), names
/// and usernames over 150 are the serializers' 400.
#[tokio::test]
async fn over_long_values_are_cut_or_refused_never_a_500() {
    for backend in backends() {
        let app = TestApp::spawn(backend, SERVER_O).await;
        let base = format!("http://{}", app.addr);
        let json = "application/json";
        let email = format!("{}@Example.com", "e".repeat(250));
        let body = serde_json::json!({
            "username": "erin", "email": email,
            "password1": "Tr1cky-Passw0rd!", "password2": "Tr1cky-Passw0rd!",
        })
        .to_string();
        let a = answer(
            send(
                &app,
                &base,
                "POST",
                "/api/auth/registration/",
                &headers(json, None),
                Some(&body),
            )
            .await,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
        let v: Value = serde_json::from_str(&a.body).unwrap();
        let cut = format!("{}@exa", "e".repeat(250));
        assert_eq!(v["user"]["email"], cut.as_str());
        let bearer = format!("Bearer {}", v["access"].as_str().unwrap());
        let long = "n".repeat(151);
        for (method, body) in [
            ("PATCH", serde_json::json!({ "first_name": long })),
            ("PATCH", serde_json::json!({ "last_name": long })),
            ("PUT", serde_json::json!({ "username": long })),
        ] {
            let a = answer(
                send(
                    &app,
                    &base,
                    method,
                    "/api/auth/user/",
                    &headers(json, Some(&bearer)),
                    Some(&body.to_string()),
                )
                .await,
            )
            .await;
            assert_eq!(a.status, 400, "{method} {body}: {}", a.body);
            assert!(a.body.contains("no more than 150 characters"), "{}", a.body);
        }
    }
}
