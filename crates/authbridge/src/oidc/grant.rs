//! The token endpoint's `grant_type` and which clients may use which grant, and the RFC 7662
//! introspection answer.
//!
//! The password grant is refused as unsupported (OAuth 2.1 removes it; RFC 9700 §2.4 forbids
//! it): authbridge's own `/api/token/` already serves first-party password logins. The
//! client_credentials grant is for confidential clients only: a public client cannot keep the
//! secret that grant rests on.

use serde_json::{json, Map, Value};

use super::client::Client;
use super::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    /// `grant_type` from the form; missing is `invalid_request`, anything else we do not serve
    /// (`password`, `implicit`, device code, token exchange…) `unsupported_grant_type`.
    pub fn parse(value: Option<&str>) -> Result<Self, ErrorCode> {
        match value {
            None | Some("") => Err(ErrorCode::InvalidRequest),
            Some("authorization_code") => Ok(Self::AuthorizationCode),
            Some("refresh_token") => Ok(Self::RefreshToken),
            Some("client_credentials") => Ok(Self::ClientCredentials),
            Some(_) => Err(ErrorCode::UnsupportedGrantType),
        }
    }

    /// `unauthorized_client` when this (authenticated) client may not use the grant.
    pub fn allowed_for(self, client: &Client) -> Result<(), ErrorCode> {
        match self {
            Self::ClientCredentials if client.is_public() => Err(ErrorCode::UnauthorizedClient),
            _ => Ok(()),
        }
    }
}

/// What introspection reports about a live token (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken<'a> {
    pub token_type: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    /// The user, absent for client_credentials tokens.
    pub sub: Option<String>,
    pub username: Option<&'a str>,
    pub iss: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub jti: Option<&'a str>,
}

/// The introspection answer: `{"active": false}` and nothing else for any token that is unknown,
/// expired, revoked or not the caller's to ask about (§2.2: no hint about why), else the claims.
pub fn introspection(token: Option<ActiveToken<'_>>) -> Value {
    let Some(t) = token else {
        return json!({ "active": false });
    };
    let mut out = Map::new();
    out.insert("active".into(), true.into());
    out.insert("token_type".into(), t.token_type.into());
    out.insert("client_id".into(), t.client_id.into());
    out.insert("scope".into(), t.scope.into());
    if let Some(sub) = t.sub {
        out.insert("sub".into(), sub.into());
    }
    if let Some(username) = t.username {
        out.insert("username".into(), username.into());
    }
    out.insert("iss".into(), t.iss.into());
    out.insert("aud".into(), t.client_id.into());
    out.insert("exp".into(), t.exp.into());
    out.insert("iat".into(), t.iat.into());
    if let Some(jti) = t.jti {
        out.insert("jti".into(), jti.into());
    }
    Value::Object(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::oidc::client::{ClientAuth, SecretHash};

    #[test]
    fn grant_types() {
        assert_eq!(
            GrantType::parse(Some("authorization_code")),
            Ok(GrantType::AuthorizationCode)
        );
        assert_eq!(
            GrantType::parse(Some("refresh_token")),
            Ok(GrantType::RefreshToken)
        );
        assert_eq!(
            GrantType::parse(Some("client_credentials")),
            Ok(GrantType::ClientCredentials)
        );
        for refused in [
            "password",
            "implicit",
            "urn:ietf:params:oauth:grant-type:device_code",
        ] {
            assert_eq!(
                GrantType::parse(Some(refused)),
                Err(ErrorCode::UnsupportedGrantType)
            );
        }
        assert_eq!(GrantType::parse(None), Err(ErrorCode::InvalidRequest));
        assert_eq!(GrantType::parse(Some("")), Err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn public_clients_cannot_use_client_credentials() {
        let mut client = Client {
            client_id: "c".into(),
            name: "c".into(),
            auth: ClientAuth::Public,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            first_party: false,
            id_token_alg: None,
        };
        assert_eq!(
            GrantType::ClientCredentials.allowed_for(&client),
            Err(ErrorCode::UnauthorizedClient)
        );
        assert_eq!(GrantType::AuthorizationCode.allowed_for(&client), Ok(()));
        client.auth = ClientAuth::Secret(SecretHash::of("s"));
        assert_eq!(GrantType::ClientCredentials.allowed_for(&client), Ok(()));
    }

    #[test]
    fn introspection_answers() {
        assert_eq!(introspection(None), json!({"active": false}));
        let active = introspection(Some(ActiveToken {
            token_type: "Bearer",
            client_id: "web",
            scope: "openid email",
            sub: Some("7".into()),
            username: Some("ada"),
            iss: "https://auth.test",
            exp: 200,
            iat: 100,
            jti: Some("j"),
        }));
        assert_eq!(
            active,
            json!({"active": true, "token_type": "Bearer", "client_id": "web",
                   "scope": "openid email", "sub": "7", "username": "ada",
                   "iss": "https://auth.test", "aud": "web", "exp": 200, "iat": 100, "jti": "j"})
        );
    }
}
