//! The discovery document (OpenID Connect Discovery 1.0 §3, RFC 8414). `issuer` is the
//! configured value byte for byte: Auth.js compares it to the ID token's `iss` as a string.

use serde_json::{json, Value};

use super::keys::SigningAlg;
use super::{endpoint, paths, scope};

/// `id_token_algs`: the algorithms with a published key, the default first.
pub fn document(issuer: &str, id_token_algs: &[SigningAlg]) -> Value {
    let at = |path| endpoint(issuer, path);
    let algs: Vec<&str> = id_token_algs.iter().map(|a| a.name()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": at(paths::AUTHORIZE),
        "token_endpoint": at(paths::TOKEN),
        "userinfo_endpoint": at(paths::USERINFO),
        "jwks_uri": at(paths::JWKS),
        "revocation_endpoint": at(paths::REVOKE),
        "introspection_endpoint": at(paths::INTROSPECT),
        "end_session_endpoint": at(paths::END_SESSION),
        "scopes_supported": scope::SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
            "name", "given_name", "family_name", "preferred_username", "email", "email_verified"
        ],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_auth_js_and_oauth4webapi_read() {
        let doc = document("https://auth.test", &[SigningAlg::RS256, SigningAlg::EdDSA]);
        assert_eq!(doc["issuer"], "https://auth.test");
        assert_eq!(
            doc["authorization_endpoint"],
            "https://auth.test/oauth2/authorize"
        );
        assert_eq!(doc["token_endpoint"], "https://auth.test/oauth2/token");
        assert_eq!(
            doc["userinfo_endpoint"],
            "https://auth.test/oauth2/userinfo"
        );
        assert_eq!(doc["jwks_uri"], "https://auth.test/oauth2/jwks");
        assert_eq!(
            doc["revocation_endpoint"],
            "https://auth.test/oauth2/revoke"
        );
        assert_eq!(
            doc["introspection_endpoint"],
            "https://auth.test/oauth2/introspect"
        );
        assert_eq!(
            doc["end_session_endpoint"],
            "https://auth.test/oauth2/logout"
        );
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["RS256", "EdDSA"])
        );
        assert_eq!(
            doc["grant_types_supported"],
            json!(["authorization_code", "refresh_token", "client_credentials"])
        );
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "none"])
        );
        assert_eq!(
            doc["scopes_supported"],
            json!(["openid", "profile", "email", "offline_access"])
        );
    }

    #[test]
    fn the_issuer_is_used_byte_for_byte() {
        let doc = document("https://example.test/auth", &[SigningAlg::RS256]);
        assert_eq!(doc["issuer"], "https://example.test/auth");
        assert_eq!(
            doc["token_endpoint"],
            "https://example.test/auth/oauth2/token"
        );
    }
}
