//! The token endpoint's refusals that come before any grant is looked at: client authentication,
//! grant types, where parameters may come from, body size. Every one is RFC 6749 JSON, no-store,
//! never a 5xx.

use serde_json::Value;

use super::{as_web, basic, form, post_form, provider, OTHER_SECRET, WEB_SECRET};
use crate::support::{backends, json_of, TestApp};

const TOKEN: &str = "/oauth2/token";

/// Status, `error`, and the response's `WWW-Authenticate` (checked `no-store` on the way).
async fn refusal(res: reqwest::Response) -> (u16, String, Option<String>) {
    assert_eq!(res.headers()["cache-control"], "no-store");
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = json_of(res).await;
    let error = body["error"].as_str().unwrap_or_default().to_string();
    (status, error, challenge)
}

async fn code_grant(
    app: &TestApp,
    headers: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", "nope"),
        ("redirect_uri", super::WEB_REDIRECT),
    ];
    fields.extend_from_slice(extra);
    post_form(app, TOKEN, headers, &fields).await
}

#[tokio::test]
async fn client_authentication_refusals() {
    for backend in backends() {
        let app = provider(backend).await;
        // No client at all.
        let (status, error, challenge) = refusal(code_grant(&app, &[], &[]).await).await;
        assert_eq!(
            (status, error.as_str(), challenge),
            (401, "invalid_client", None)
        );

        // A wrong secret through Basic: the challenge names Basic.
        let wrong = basic("web", OTHER_SECRET);
        let (status, error, challenge) =
            refusal(code_grant(&app, &[("authorization", &wrong)], &[]).await).await;
        assert_eq!(
            (status, error.as_str()),
            (401, "invalid_client"),
            "{backend}"
        );
        assert!(challenge.unwrap().starts_with("Basic"));

        // An unknown client answers exactly as a wrong secret.
        let unknown = basic("nobody", WEB_SECRET);
        let (status, error, _) =
            refusal(code_grant(&app, &[("authorization", &unknown)], &[]).await).await;
        assert_eq!((status, error.as_str()), (401, "invalid_client"));

        // client_secret_post with a wrong secret: no Basic challenge.
        let (status, error, challenge) =
            refusal(code_grant(&app, &[], &[("client_id", "web"), ("client_secret", "x")]).await)
                .await;
        assert_eq!(
            (status, error.as_str(), challenge),
            (401, "invalid_client", None)
        );

        // A confidential client without its secret (method none).
        let (status, error, _) =
            refusal(code_grant(&app, &[], &[("client_id", "web")]).await).await;
        assert_eq!((status, error.as_str()), (401, "invalid_client"));

        // A public client presenting a secret.
        let (status, error, _) = refusal(
            code_grant(
                &app,
                &[],
                &[("client_id", "spa"), ("client_secret", WEB_SECRET)],
            )
            .await,
        )
        .await;
        assert_eq!((status, error.as_str()), (401, "invalid_client"));

        // Two methods at once.
        let good = basic("web", WEB_SECRET);
        let (status, error, _) = refusal(
            code_grant(
                &app,
                &[("authorization", &good)],
                &[("client_secret", WEB_SECRET)],
            )
            .await,
        )
        .await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"));

        // Authenticated, but the code is unknown.
        let (status, error, _) =
            refusal(code_grant(&app, &[("authorization", &good)], &[]).await).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_grant"),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn grant_types_we_do_not_serve() {
    for backend in backends() {
        let app = provider(backend).await;
        for grant in [
            "password",
            "implicit",
            "urn:ietf:params:oauth:grant-type:device_code",
        ] {
            let res = as_web(
                &app,
                TOKEN,
                &[
                    ("grant_type", grant),
                    ("username", "ada"),
                    ("password", "pw"),
                ],
            )
            .await;
            let (status, error, _) = refusal(res).await;
            assert_eq!(
                (status, error.as_str()),
                (400, "unsupported_grant_type"),
                "{grant}"
            );
        }
        let (status, error, _) = refusal(as_web(&app, TOKEN, &[]).await).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"));
        // A public client may not use client_credentials.
        let res = post_form(
            &app,
            TOKEN,
            &[],
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
        )
        .await;
        let (status, error, _) = refusal(res).await;
        assert_eq!((status, error.as_str()), (400, "unauthorized_client"));
        // A refresh grant without a token.
        let (status, error, _) =
            refusal(as_web(&app, TOKEN, &[("grant_type", "refresh_token")]).await).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"));
        // A refresh token that is not one.
        let res = as_web(
            &app,
            TOKEN,
            &[("grant_type", "refresh_token"), ("refresh_token", "x.y.z")],
        )
        .await;
        let (status, error, _) = refusal(res).await;
        assert_eq!((status, error.as_str()), (400, "invalid_grant"));
    }
}

#[tokio::test]
async fn only_a_bounded_form_body_and_no_credentials_in_the_query() {
    for backend in backends() {
        let app = provider(backend).await;
        let auth = basic("web", WEB_SECRET);
        let body = form(&[("grant_type", "client_credentials")]);

        for query in [
            "code=abc",
            "refresh_token=x",
            "client_secret=s",
            "access_token=t",
        ] {
            let res = app
                .client
                .post(app.url(&format!("{TOKEN}?{query}")))
                .header("authorization", &auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let (status, error, _) = refusal(res).await;
            assert_eq!(
                (status, error.as_str()),
                (400, "invalid_request"),
                "{query}"
            );
        }

        let res = app
            .client
            .post(app.url(TOKEN))
            .header("authorization", &auth)
            .json(&serde_json::json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap();
        let (status, error, _) = refusal(res).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_request"),
            "JSON body"
        );

        let huge = format!(
            "grant_type=client_credentials&pad={}",
            "a".repeat(64 * 1024)
        );
        let res = app
            .client
            .post(app.url(TOKEN))
            .header("authorization", &auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(huge)
            .send()
            .await
            .unwrap();
        let (status, error, _) = refusal(res).await;
        assert_eq!((status, error.as_str()), (413, "invalid_request"));

        let res = post_form(
            &app,
            TOKEN,
            &[("authorization", &auth)],
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "password"),
            ],
        )
        .await;
        let (status, error, _) = refusal(res).await;
        assert_eq!(
            (status, error.as_str()),
            (400, "invalid_request"),
            "repeated"
        );

        let res = app.client.get(app.url(TOKEN)).send().await.unwrap();
        assert_eq!(res.status(), 405);
    }
}

#[tokio::test]
async fn client_credentials_gives_an_access_token_without_a_user() {
    for backend in backends() {
        let app = provider(backend).await;
        let res = as_web(&app, TOKEN, &[("grant_type", "client_credentials")]).await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        let (status, body) = json_of(res).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_i64().unwrap() > 0);
        assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
        let access = body["access_token"].as_str().unwrap();
        let claims = crate::support::tokens::claims_of(access);
        assert_eq!(claims["token_type"], "access");
        assert_eq!(claims["sub"], "web");
        assert_eq!(claims["client_id"], "web");
        assert!(claims.get("user_id").is_none(), "{claims}");

        // Django's JWTAuthentication (here /api/me/) does not take it.
        let me = app
            .request(
                reqwest::Method::GET,
                "/api/me/",
                &[("authorization", &format!("Bearer {access}"))],
                None,
            )
            .await;
        assert_eq!(me.status(), 401);

        // Its client introspects it; another client hears only "inactive".
        let res = as_web(&app, "/oauth2/introspect", &[("token", access)]).await;
        let (status, answer) = json_of(res).await;
        assert_eq!(
            (status, &answer["active"]),
            (200, &Value::Bool(true)),
            "{answer}"
        );
        assert_eq!(answer["client_id"], "web");
        assert_eq!(answer["sub"], "web");
        let other = basic("other", OTHER_SECRET);
        let res = post_form(
            &app,
            "/oauth2/introspect",
            &[("authorization", &other)],
            &[("token", access)],
        )
        .await;
        let (_, answer) = json_of(res).await;
        assert_eq!(answer, serde_json::json!({"active": false}));
    }
}
