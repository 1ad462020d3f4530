//! What a client does with its tokens: refresh them (the token API's rotation, its own tokens
//! only), read userinfo with the access token, introspect and revoke. Tokens are minted here with
//! the server's HMAC key, as the token endpoint issues them (simplejwt claims plus `client_id`
//! and `scope`).

use serde_json::{json, Value};

use super::{as_web, basic, post_form, provider, provider_with, OTHER_SECRET};
use crate::support::tokens::{claims_aged, claims_of, mint};
use crate::support::{backends, json_of, TestApp};

fn client_token(kind: &str, user_id: i64, client_id: &str, scope: &str) -> String {
    let mut claims = claims_aged(kind, json!(user_id.to_string()), 0, 3600);
    claims["client_id"] = json!(client_id);
    claims["scope"] = json!(scope);
    mint(claims)
}

async fn userinfo(
    app: &TestApp,
    headers: &[(&str, &str)],
    query: &str,
) -> (u16, Option<String>, Value) {
    let mut req = app.client.get(app.url(&format!("/oauth2/userinfo{query}")));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = json_of(res).await;
    (status, challenge, body)
}

#[tokio::test]
async fn userinfo_takes_a_clients_access_token_from_the_header_only() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let access = client_token("access", id, "web", "openid email");
        let bearer = format!("Bearer {access}");

        let (status, _, body) = userinfo(&app, &[("authorization", &bearer)], "").await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(
            body,
            json!({"sub": id.to_string(), "email": "ada@example.com", "email_verified": false})
        );
        // POST works the same.
        let res = app
            .client
            .post(app.url("/oauth2/userinfo"))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);

        let (status, challenge, _) = userinfo(&app, &[], "").await;
        assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
        let (status, challenge, _) =
            userinfo(&app, &[("authorization", "Bearer not-a-token")], "").await;
        assert_eq!(
            (status, challenge.as_deref()),
            (401, Some("Bearer error=\"invalid_token\""))
        );
        let (status, challenge, _) = userinfo(&app, &[], &format!("?access_token={access}")).await;
        assert_eq!(
            (status, challenge.as_deref()),
            (400, Some("Bearer error=\"invalid_request\""))
        );
        // The token API's own access token was not issued to a client.
        let (_, plain) = app.login("ada", "pw-ada-123").await;
        let (status, _, _) =
            userinfo(&app, &[("authorization", &format!("Bearer {plain}"))], "").await;
        assert_eq!(status, 401);
        // A refresh token is not an access token.
        let refresh = client_token("refresh", id, "web", "openid email");
        let (status, _, _) =
            userinfo(&app, &[("authorization", &format!("Bearer {refresh}"))], "").await;
        assert_eq!(status, 401);
        // Without the openid scope.
        let email_only = client_token("access", id, "web", "email");
        let (status, challenge, _) = userinfo(
            &app,
            &[("authorization", &format!("Bearer {email_only}"))],
            "",
        )
        .await;
        assert_eq!(
            (status, challenge.as_deref()),
            (403, Some("Bearer error=\"insufficient_scope\""))
        );
        // An inactive user's token says nothing.
        app.exec(&format!(
            "UPDATE auth_user SET is_active = false WHERE id = {id}"
        ))
        .await;
        let (status, _, _) = userinfo(&app, &[("authorization", &bearer)], "").await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn refresh_rotates_for_its_own_client_only() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let refresh = client_token("refresh", id, "web", "openid email");

        // Another client may not use it.
        let other = basic("other", OTHER_SECRET);
        let res = post_form(
            &app,
            "/oauth2/token",
            &[("authorization", &other)],
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        let (status, body) = json_of(res).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{backend}"
        );

        let res = as_web(
            &app,
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        let (status, body) = json_of(res).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "openid email");
        let rotated = body["refresh_token"].as_str().unwrap();
        assert_ne!(rotated, refresh);
        let claims = claims_of(rotated);
        assert_eq!(
            (claims["client_id"].as_str(), claims["scope"].as_str()),
            (Some("web"), Some("openid email"))
        );
        let access = claims_of(body["access_token"].as_str().unwrap());
        assert_eq!(access["client_id"], "web");
        assert_eq!(access["user_id"], id.to_string());

        // A wider scope than granted is refused.
        let res = as_web(
            &app,
            "/oauth2/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rotated),
                ("scope", "openid email profile"),
            ],
        )
        .await;
        let (status, body) = json_of(res).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope"))
        );

        // The old token again: blacklisted by the rotation (reuse detection past a grace window
        // is `in_process::reuse_after_the_grace_window_revokes_the_family`).
        let res = as_web(
            &app,
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(json_of(res).await.1["error"], "invalid_grant");

        // A client's token does not work at the token API either.
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": rotated}))
            .await;
        assert_eq!(res.status(), 401);
    }
}

#[tokio::test]
async fn revoke_ends_the_family_and_introspect_tells_its_client_only() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let refresh = client_token("refresh", id, "web", "openid");

        let res = as_web(&app, "/oauth2/introspect", &[("token", &refresh)]).await;
        let (status, answer) = json_of(res).await;
        assert_eq!(status, 200);
        assert_eq!(answer["active"], true, "{backend}: {answer}");
        assert_eq!(answer["client_id"], "web");
        assert_eq!(answer["sub"], id.to_string());
        assert_eq!(answer["scope"], "openid");
        assert_eq!(answer["token_type"], "refresh_token");
        assert_eq!(answer["username"], "ada");
        for claim in ["exp", "iat"] {
            assert!(answer[claim].is_i64(), "{claim}");
        }

        // Unknown tokens and other clients' tokens: 200, nothing done.
        let other = basic("other", OTHER_SECRET);
        for (auth, token) in [
            (basic("web", super::WEB_SECRET), "garbage"),
            (other.clone(), refresh.as_str()),
        ] {
            let res = post_form(
                &app,
                "/oauth2/revoke",
                &[("authorization", &auth)],
                &[("token", token)],
            )
            .await;
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["cache-control"], "no-store");
        }
        let res = as_web(&app, "/oauth2/introspect", &[("token", &refresh)]).await;
        assert_eq!(
            json_of(res).await.1["active"],
            true,
            "another client's revoke did nothing"
        );

        // A rotation, then revoking the old token ends the new one too (one family).
        let res = as_web(
            &app,
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        let (_, body) = json_of(res).await;
        let rotated = body["refresh_token"].as_str().unwrap().to_string();
        let res = as_web(
            &app,
            "/oauth2/revoke",
            &[("token", &refresh), ("token_type_hint", "refresh_token")],
        )
        .await;
        assert_eq!(res.status(), 200);
        for token in [&refresh, &rotated] {
            let res = as_web(&app, "/oauth2/introspect", &[("token", token)]).await;
            assert_eq!(json_of(res).await.1, json!({"active": false}), "{backend}");
        }
        let res = as_web(
            &app,
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &rotated)],
        )
        .await;
        assert_eq!(json_of(res).await.1["error"], "invalid_grant");

        // Introspection is for confidential clients; a token is required.
        let res = post_form(
            &app,
            "/oauth2/introspect",
            &[],
            &[("client_id", "spa"), ("token", &rotated)],
        )
        .await;
        assert_eq!(
            json_of(res).await,
            (
                401,
                json!({"error": "invalid_client", "error_description": "client authentication failed"})
            )
        );
        let res = as_web(&app, "/oauth2/introspect", &[]).await;
        assert_eq!(json_of(res).await.1["error"], "invalid_request");
        let res = as_web(&app, "/oauth2/revoke", &[]).await;
        assert_eq!(json_of(res).await.1["error"], "invalid_request");
    }
}

#[tokio::test]
async fn a_clients_tokens_live_as_the_oidc_lifetimes_say() {
    let app = provider_with(
        "sqlite",
        &[
            ("AUTHBRIDGE_OIDC_ACCESS_TOKEN_LIFETIME", "120"),
            ("AUTHBRIDGE_OIDC_REFRESH_TOKEN_LIFETIME", "600"),
        ],
    )
    .await;
    let id = app.create_user("ada", "pw-ada-123", true).await;
    let res = as_web(
        &app,
        "/oauth2/token",
        &[("grant_type", "client_credentials")],
    )
    .await;
    let (_, body) = json_of(res).await;
    assert_eq!(body["expires_in"], 120);
    let access = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        120
    );

    let refresh = client_token("refresh", id, "web", "openid");
    let res = as_web(
        &app,
        "/oauth2/token",
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    let (status, body) = json_of(res).await;
    assert_eq!((status, &body["expires_in"]), (200, &json!(120)), "{body}");
    let rotated = claims_of(body["refresh_token"].as_str().unwrap());
    assert_eq!(
        rotated["exp"].as_i64().unwrap() - rotated["iat"].as_i64().unwrap(),
        600
    );

    // The token API keeps SIMPLE_JWT's lifetimes (300 s access by default).
    let (_, plain) = app.login("ada", "pw-ada-123").await;
    let plain = claims_of(&plain);
    assert_eq!(
        plain["exp"].as_i64().unwrap() - plain["iat"].as_i64().unwrap(),
        300
    );
}
