//! Discovery and JWKS: served only when the provider is enabled, the issuer byte for byte.

use serde_json::json;

use super::{provider, ISSUER};
use crate::support::{backends, json_of, TestApp};

#[tokio::test]
async fn discovery_names_every_endpoint_under_the_issuer() {
    for backend in backends() {
        let app = provider(backend).await;
        let res = app
            .client
            .get(app.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap();
        assert!(res
            .headers()
            .get("cache-control")
            .is_some_and(|v| v.to_str().unwrap().contains("max-age")));
        let (status, doc) = json_of(res).await;
        assert_eq!(status, 200, "{backend}");
        assert_eq!(doc["issuer"], ISSUER);
        for (key, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userinfo"),
            ("jwks_uri", "/oauth2/jwks"),
            ("revocation_endpoint", "/oauth2/revoke"),
            ("introspection_endpoint", "/oauth2/introspect"),
            ("end_session_endpoint", "/oauth2/logout"),
        ] {
            assert_eq!(doc[key], format!("{ISSUER}{path}"), "{key}");
        }
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["id_token_signing_alg_values_supported"][0], "RS256");
        assert_eq!(
            doc["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials"])
        );
    }
}

#[tokio::test]
async fn jwks_publishes_keys_with_kids_and_is_cacheable() {
    for backend in backends() {
        let app = provider(backend).await;
        let res = app
            .client
            .get(app.url("/oauth2/jwks"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["cache-control"].to_str().unwrap(),
            "public, max-age=300"
        );
        let (status, jwks) = json_of(res).await;
        assert_eq!(status, 200);
        for key in jwks["keys"].as_array().unwrap() {
            assert!(key["kid"].is_string(), "{key}");
            assert!(key.get("d").is_none(), "no private part");
        }
    }
}

#[tokio::test]
async fn nothing_is_served_when_the_provider_is_disabled() {
    let app = TestApp::spawn("sqlite", &[]).await;
    for path in [
        "/.well-known/openid-configuration",
        "/oauth2/jwks",
        "/oauth2/userinfo",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = app.post_raw("/oauth2/token", None, "").await;
    assert_eq!(res.status(), 404);
}
