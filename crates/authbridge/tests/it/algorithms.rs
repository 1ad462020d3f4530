//! Asymmetric algorithms: tokens signed with a private key from config, the public key published
//! as a JWKS that simplejwt's `JWK_URL` can use; HMAC deployments publish nothing.

use base64::Engine;
use serde_json::{json, Value};

use crate::support::tokens::{header_of, sign_with_key};
use crate::support::TestApp;

/// The standard base64 of PEM bodies.
const PEM_BODY: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[tokio::test]
async fn asymmetric_tokens_and_jwks() {
    let cases = [
        (
            "EdDSA",
            include_str!("keys/ed25519.pem"),
            Some(include_str!("keys/ed25519.pub.pem")),
            "OKP",
        ),
        (
            "ES256",
            include_str!("keys/es256.pem"),
            Some(include_str!("keys/es256.pub.pem")),
            "EC",
        ),
        (
            "RS256",
            include_str!("keys/rs256.pem"),
            Some(include_str!("keys/rs256.pub.pem")),
            "RSA",
        ),
    ];
    for (alg, private, public, kty) in cases {
        let mut overrides = vec![
            ("SIMPLE_JWT_ALGORITHM", alg),
            ("SIMPLE_JWT_SIGNING_KEY", private),
            ("SIMPLE_JWT_SIGNING_KEY_ID", "key-1"),
            ("PASSWORD_HASHERS", "pbkdf2_sha256"),
        ];
        if let Some(public) = public {
            overrides.push(("SIMPLE_JWT_VERIFYING_KEY", public));
        }
        let app = TestApp::spawn("sqlite", &overrides).await;
        app.create_user("ann", "pw-1", true).await;
        let (refresh, access) = app.login("ann", "pw-1").await;
        assert_eq!(
            header_of(&access),
            json!({"alg": alg, "kid": "key-1", "typ": "JWT"}),
            "{alg}"
        );

        let res = app
            .client
            .get(app.url("/api/token/jwks/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{alg}");
        let jwks: Value = res.json().await.unwrap();
        assert_eq!(jwks["keys"][0]["kty"], kty, "{alg}");
        assert_eq!(jwks["keys"][0]["kid"], "key-1", "{alg}");
        assert!(
            jwks["keys"][0].get("d").is_none(),
            "{alg}: private part published"
        );

        // The published key verifies the token it signed.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg.parse().unwrap());
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(&access, &key, &validation).unwrap();

        for path in ["/api/token/verify/"] {
            let res = app.post_json(path, json!({"token": access})).await;
            assert_eq!(res.status(), 200, "{alg} {path}");
        }
        let res = app
            .post_json("/api/token/refresh/", json!({"refresh": refresh}))
            .await;
        assert_eq!(res.status(), 200, "{alg} refresh");
        // Algorithm confusion: an HS256 token whose HMAC key is the *public* key, in every form
        // an attacker can get it (PEM as configured, DER, the published JWK), is refused.
        let public_pem = public.expect("every case has its public key");
        let der = PEM_BODY
            .decode(
                public_pem
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        let jwk_text = serde_json::to_string(&jwks["keys"][0]).unwrap();
        let claims = json!({"token_type": "access", "exp": 4_000_000_000_i64, "iat": 1, "jti": "x", "user_id": "1"}).to_string();
        for (form, key) in [
            ("PEM", public_pem.as_bytes().to_vec()),
            (
                "PEM without newline",
                public_pem.trim_end().as_bytes().to_vec(),
            ),
            ("DER", der),
            ("JWK", jwk_text.into_bytes()),
        ] {
            for header in [
                r#"{"alg":"HS256","typ":"JWT"}"#.to_string(),
                r#"{"alg":"HS256","kid":"key-1","typ":"JWT"}"#.to_string(),
            ] {
                let confused = sign_with_key(&header, &claims, &key);
                for path in ["/api/token/verify/", "/api/me/"] {
                    let res = if path == "/api/me/" {
                        app.client
                            .get(app.url(path))
                            .header("authorization", format!("Bearer {confused}"))
                            .send()
                            .await
                            .unwrap()
                    } else {
                        app.post_json(path, json!({"token": confused})).await
                    };
                    assert_eq!(
                        res.status(),
                        401,
                        "{alg} confusion with the {form} at {path}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn hmac_publishes_no_jwks() {
    let app = TestApp::spawn("sqlite", &[]).await;
    let res = app
        .client
        .get(app.url("/api/token/jwks/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
