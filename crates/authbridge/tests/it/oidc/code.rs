//! The authorization_code grant end to end at the token endpoint, with codes inserted through the
//! code repository as the authorization endpoint stores them: tokens and an ID token verified
//! independently against the JWKS, PKCE, single use (a reused code revokes what it issued), and
//! every mismatch.

use authbridge::oidc::code::{CodeHash, CodeRecord, NewCode};
use authbridge::oidc::pkce::CodeChallenge;
use authbridge::oidc::Scope;
use authbridge::storage::DynStore;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::{as_web, post_form, provider, ISSUER, SPA_REDIRECT, WEB_REDIRECT};
use crate::support::tokens::{claims_of, header_of};
use crate::support::{backends, json_of, TestApp};

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What a code is issued for.
pub struct Issue<'a> {
    pub client_id: &'a str,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub challenge: Option<&'a str>,
}

/// Store a fresh code as the authorization endpoint would; returns the code's text.
pub async fn issue_code(
    store: &DynStore,
    issue: Issue<'_>,
    now: DateTime<Utc>,
    lifetime: i64,
) -> String {
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let record = CodeRecord::new(
        CodeHash::of(&code),
        NewCode {
            client_id: issue.client_id.into(),
            user_id: issue.user_id,
            redirect_uri: issue.redirect_uri.into(),
            scope: Scope::parse(issue.scope),
            nonce: issue.nonce.map(String::from),
            code_challenge: issue
                .challenge
                .map(|c| CodeChallenge::parse(c, Some("S256")).unwrap()),
            auth_time: now,
        },
        now,
        lifetime,
    );
    store.insert_code(&record).await.expect("insert code");
    code
}

fn web_code(user_id: i64) -> Issue<'static> {
    Issue {
        client_id: "web",
        user_id,
        redirect_uri: WEB_REDIRECT,
        scope: "openid profile email",
        nonce: Some("n-0S6_WzA2Mj"),
        challenge: None,
    }
}

async fn redeem_as_web(app: &TestApp, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_REDIRECT),
    ];
    fields.extend_from_slice(extra);
    json_of(as_web(app, "/oauth2/token", &fields).await).await
}

/// The ID token checked as a relying party checks it: by the JWKS key its `kid` names.
async fn verify_id_token(app: &TestApp, id_token: &str, client_id: &str) -> Value {
    let (_, jwks) = json_of(
        app.client
            .get(app.url("/oauth2/jwks"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let kid = header_of(id_token)["kid"]
        .as_str()
        .expect("kid")
        .to_string();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} in the JWKS {jwks}"));
    let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
        .expect("ID token verifies against the JWKS")
        .claims
}

#[tokio::test]
async fn a_code_yields_tokens_and_an_id_token_that_verifies() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let code = issue_code(&app.store, web_code(id), Utc::now(), 300).await;

        // client_secret_post this time (the helper uses Basic).
        let res = post_form(
            &app,
            "/oauth2/token",
            &[],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
                ("client_id", "web"),
                ("client_secret", super::WEB_SECRET),
            ],
        )
        .await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        let (status, body) = json_of(res).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "openid profile email");
        assert!(body["expires_in"].as_i64().unwrap() > 0);

        let id_token = body["id_token"].as_str().unwrap();
        assert_eq!(header_of(id_token)["alg"], "RS256");
        let claims = verify_id_token(&app, id_token, "web").await;
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], id.to_string());
        assert_eq!(claims["aud"], "web");
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["email"], "ada@example.com");
        assert_eq!(claims["preferred_username"], "ada");
        assert!(claims["auth_time"].is_i64());

        let access = body["access_token"].as_str().unwrap();
        let a = claims_of(access);
        assert_eq!(
            (
                a["token_type"].as_str(),
                a["user_id"].as_str(),
                a["client_id"].as_str()
            ),
            (Some("access"), Some(id.to_string().as_str()), Some("web"))
        );
        assert_eq!(a["scope"], "openid profile email");
        let r = claims_of(body["refresh_token"].as_str().unwrap());
        assert_eq!(
            (r["token_type"].as_str(), r["client_id"].as_str()),
            (Some("refresh"), Some("web"))
        );

        // Django's JWTAuthentication takes the access token; userinfo too.
        let bearer = format!("Bearer {access}");
        let me = app
            .request(
                reqwest::Method::GET,
                "/api/me/",
                &[("authorization", &bearer)],
                None,
            )
            .await;
        assert_eq!(me.status(), 200);
        let info = app
            .client
            .get(app.url("/oauth2/userinfo"))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        let (status, info) = json_of(info).await;
        assert_eq!(status, 200);
        assert_eq!(info["sub"], id.to_string());
        assert_eq!(info["email"], "ada@example.com");
    }
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let code = issue_code(&app.store, web_code(id), Utc::now(), 300).await;
        let (status, first) = redeem_as_web(&app, &code, &[]).await;
        assert_eq!(status, 200, "{first}");
        let refresh = first["refresh_token"].as_str().unwrap();

        // Rotate once: the family now has a successor, which the reuse must reach too.
        let res = as_web(
            &app,
            "/oauth2/token",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        let (status, rotated) = json_of(res).await;
        assert_eq!(status, 200, "{rotated}");
        let successor = rotated["refresh_token"].as_str().unwrap();

        let (status, again) = redeem_as_web(&app, &code, &[]).await;
        assert_eq!(
            (status, again["error"].as_str()),
            (400, Some("invalid_grant")),
            "{backend}"
        );
        for token in [refresh, successor] {
            let res = as_web(&app, "/oauth2/introspect", &[("token", token)]).await;
            assert_eq!(json_of(res).await.1, json!({"active": false}), "{backend}");
        }
    }
}

#[tokio::test]
async fn pkce_and_every_mismatch_are_invalid_grant() {
    for backend in backends() {
        let app = provider(backend).await;
        let id = app.create_user("ada", "pw-ada-123", true).await;
        let spa = |challenge| Issue {
            client_id: "spa",
            user_id: id,
            redirect_uri: SPA_REDIRECT,
            scope: "openid",
            nonce: None,
            challenge,
        };
        let redeem_spa = |code: String, verifier: Option<&'static str>| {
            let app = &app;
            async move {
                let mut fields = vec![
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", SPA_REDIRECT),
                    ("client_id", "spa"),
                ];
                if let Some(v) = verifier {
                    fields.push(("code_verifier", v));
                }
                json_of(post_form(app, "/oauth2/token", &[], &fields).await).await
            }
        };
        let now = Utc::now;
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
        for (challenge, verifier, what) in [
            (Some(CHALLENGE), None, "verifier missing"),
            (Some(CHALLENGE), Some(wrong), "verifier wrong"),
            (
                Some(CHALLENGE),
                Some(CHALLENGE),
                "the challenge as verifier",
            ),
            (None, None, "a public client's code without PKCE"),
            (None, Some(VERIFIER), "a verifier for a code without PKCE"),
        ] {
            let code = issue_code(&app.store, spa(challenge), now(), 300).await;
            let (status, body) = redeem_spa(code, verifier).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{what}"
            );
        }
        let code = issue_code(&app.store, spa(Some(CHALLENGE)), now(), 300).await;
        let (status, body) = redeem_spa(code, Some(VERIFIER)).await;
        assert_eq!(status, 200, "{backend}: {body}");
        assert!(body["id_token"].is_string());
        assert!(
            verify_id_token(&app, body["id_token"].as_str().unwrap(), "spa").await["nonce"]
                .is_null()
        );

        // A code for web: redeemed by another client, with another redirect_uri, or none.
        let code = issue_code(&app.store, web_code(id), now(), 300).await;
        let auth = super::basic("other", super::OTHER_SECRET);
        let res = post_form(
            &app,
            "/oauth2/token",
            &[("authorization", &auth)],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_REDIRECT),
            ],
        )
        .await;
        assert_eq!(json_of(res).await.1["error"], "invalid_grant");
        for redirect in [format!("{WEB_REDIRECT}/"), String::new()] {
            let code = issue_code(&app.store, web_code(id), now(), 300).await;
            let mut fields = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
            ];
            if !redirect.is_empty() {
                fields.push(("redirect_uri", redirect.as_str()));
            }
            let (status, body) = json_of(as_web(&app, "/oauth2/token", &fields).await).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{redirect:?}"
            );
        }
        // A code whose user became inactive.
        let code = issue_code(&app.store, web_code(id), now(), 300).await;
        app.exec(&format!(
            "UPDATE auth_user SET is_active = false WHERE id = {id}"
        ))
        .await;
        let (status, body) = redeem_as_web(&app, &code, &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
    }
}
