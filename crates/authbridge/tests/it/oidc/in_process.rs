//! What needs the clock moved: an expired code, and a refresh token reused after the grace
//! window (the family is revoked, as at `/api/token/refresh/`).

use authbridge::clock::Clock;
use axum::body::Body;
use chrono::Duration;
use http::{Method, Request};
use serde_json::json;

use super::code::{issue_code, Issue, CHALLENGE, VERIFIER};
use super::{basic, clients, form, ISSUER, SPA_REDIRECT, WEB_SECRET};
use crate::support::backends;
use crate::support::in_process::{InProcess, Reply};

async fn start(backend: &str) -> InProcess {
    let clients = clients();
    InProcess::start(
        backend,
        &[
            ("AUTHBRIDGE_OIDC_ENABLED", "true"),
            ("AUTHBRIDGE_OIDC_ISSUER", ISSUER),
            ("AUTHBRIDGE_OIDC_clients", &clients),
            ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
            ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
            ("SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD", "10"),
        ],
    )
    .await
}

async fn post(
    app: &InProcess,
    path: &str,
    auth: Option<&str>,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let Reply { status, body, .. } = app
        .send_from(
            Some([127, 0, 0, 1].into()),
            req.body(Body::from(form(fields))).unwrap(),
        )
        .await;
    (status, serde_json::from_str(&body).unwrap_or(json!(body)))
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    for backend in backends() {
        let app = start(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let issue = || Issue {
            client_id: "spa",
            user_id: id,
            redirect_uri: SPA_REDIRECT,
            scope: "openid",
            nonce: None,
            challenge: Some(CHALLENGE),
        };
        let redeem = |code: String| {
            let app = &app;
            async move {
                let fields = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", SPA_REDIRECT),
                    ("client_id", "spa"),
                    ("code_verifier", VERIFIER),
                ];
                post(app, "/oauth2/token", None, &fields).await
            }
        };
        let code = issue_code(&app.state.store, issue(), app.clock.now(), 60).await;
        app.clock.advance(Duration::seconds(60));
        let (status, body) = redeem(code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{backend}"
        );

        let code = issue_code(&app.state.store, issue(), app.clock.now(), 60).await;
        app.clock.advance(Duration::seconds(59));
        let (status, body) = redeem(code).await;
        assert_eq!(status, 200, "{backend}: {body}");
    }
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_family() {
    for backend in backends() {
        let app = start(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let auth = basic("web", WEB_SECRET);
        let mut claims = json!({
            "token_type": "refresh",
            "exp": app.clock.now().timestamp() + 3600,
            "iat": app.clock.now().timestamp(),
            "jti": uuid::Uuid::new_v4().simple().to_string(),
            "user_id": id.to_string(),
        });
        claims["client_id"] = json!("web");
        claims["scope"] = json!("openid");
        let refresh = crate::support::tokens::mint(claims);
        let g = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let (status, first) = post(&app, "/oauth2/token", Some(&auth), &g).await;
        assert_eq!(status, 200, "{backend}: {first}");
        let successor = first["refresh_token"].as_str().unwrap().to_string();

        // Within the grace window a replay gets the same successor (two tabs refreshing).
        let (status, replay) = post(&app, "/oauth2/token", Some(&auth), &g).await;
        assert_eq!(
            (status, replay["refresh_token"].as_str()),
            (200, Some(successor.as_str()))
        );

        app.clock.advance(Duration::seconds(11));
        let (status, reuse) = post(&app, "/oauth2/token", Some(&auth), &g).await;
        assert_eq!(
            (status, reuse["error"].as_str()),
            (400, Some("invalid_grant")),
            "{backend}"
        );
        let s = [
            ("grant_type", "refresh_token"),
            ("refresh_token", successor.as_str()),
        ];
        let (status, body) = post(&app, "/oauth2/token", Some(&auth), &s).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "the successor is revoked too"
        );
    }
}
