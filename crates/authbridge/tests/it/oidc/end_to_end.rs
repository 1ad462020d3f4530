//! The whole code flow through the provider's own pages: sign in at `/login`, `/oauth2/authorize`
//! redirects back with a code, the token endpoint redeems it (PKCE, public client), the ID token
//! verifies against `/oauth2/jwks` and carries the authorization request's nonce, userinfo
//! answers for the access token, and the refresh token rotates.

use axum::body::Body;
use http::{Method, Request};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::code::{CHALLENGE, VERIFIER};
use super::form;
use crate::pages::{location, provider, query_of, Browser, ISSUER, PASSWORD};
use crate::support::backends;
use crate::support::in_process::InProcess;
use crate::support::tokens::header_of;

async fn send(app: &InProcess, req: Request<Body>) -> (u16, Value) {
    let reply = app.send_from(Some([127, 0, 0, 1].into()), req).await;
    let body = serde_json::from_str(&reply.body).unwrap_or(Value::String(reply.body));
    (reply.status, body)
}

async fn token(app: &InProcess, fields: &[(&str, &str)]) -> (u16, Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form(fields)))
        .unwrap();
    send(app, req).await
}

#[tokio::test]
async fn sign_in_authorize_redeem_verify_userinfo_refresh() {
    for backend in backends() {
        let app = provider(
            backend,
            &[
                ("SIMPLE_JWT_ROTATE_REFRESH_TOKENS", "true"),
                ("SIMPLE_JWT_BLACKLIST_AFTER_ROTATION", "true"),
            ],
        )
        .await;
        let mut browser = Browser::new(&app);
        let authorize = format!(
            "/oauth2/authorize?{}",
            form(&[
                ("client_id", "first"),
                ("redirect_uri", "https://first.test/cb"),
                ("response_type", "code"),
                ("scope", "openid profile email"),
                ("state", "st-9"),
                ("nonce", "n-9"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
        );
        let to_login = browser.get(&authorize).await;
        let next = query_of(location(&to_login))["next"].clone();
        let posted = browser.login("alice", PASSWORD, Some(&next)).await;
        let back = browser.get(location(&posted)).await;
        let redirect = location(&back).to_string();
        assert!(
            redirect.starts_with("https://first.test/cb?"),
            "{backend}: {redirect}"
        );
        let q = query_of(&redirect);
        assert_eq!((q["state"].as_str(), q["iss"].as_str()), ("st-9", ISSUER));

        let (status, tokens) = token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", "https://first.test/cb"),
                ("client_id", "first"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {tokens}");
        assert_eq!(tokens["scope"], "openid profile email");

        // The ID token, as a relying party checks it: the JWKS key its kid names.
        let id_token = tokens["id_token"].as_str().unwrap();
        let kid = header_of(id_token)["kid"].as_str().unwrap().to_string();
        let jwks_req = Request::builder()
            .uri("/oauth2/jwks")
            .body(Body::empty())
            .unwrap();
        let (_, jwks) = send(&app, jwks_req).await;
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the ID token's kid is published")
            .clone();
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["first"]);
        validation.set_issuer(&[ISSUER]);
        let claims = jsonwebtoken::decode::<Value>(
            id_token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .expect("verifies")
        .claims;
        assert_eq!(claims["nonce"], "n-9");
        assert_eq!(claims["preferred_username"], "alice");
        let sub = claims["sub"].as_str().unwrap().to_string();

        let access = tokens["access_token"].as_str().unwrap();
        let userinfo = Request::builder()
            .uri("/oauth2/userinfo")
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap();
        let (status, info) = send(&app, userinfo).await;
        assert_eq!((status, info["sub"].as_str()), (200, Some(sub.as_str())));
        assert_eq!(info["email"], "alice@example.com");

        let (status, refreshed) = token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
                ("client_id", "first"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{refreshed}");
        assert_ne!(refreshed["refresh_token"], tokens["refresh_token"]);

        // The code is spent.
        let (status, again) = token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", "https://first.test/cb"),
                ("client_id", "first"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        assert_eq!(
            (status, again["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
}
