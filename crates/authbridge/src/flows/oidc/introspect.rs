//! Token introspection (RFC 7662): whether a token is live, and what it stands for, told only to
//! the client it was issued to (anyone else hears `{"active": false}`, §2.2).

use serde_json::Value;

use super::LiveToken;
use crate::flows::{FlowError, Flows};
use crate::oidc::client::Client;
use crate::oidc::grant::{introspection, ActiveToken};
use crate::tokens::TokenType;

impl Flows<'_> {
    /// `hint`: `token_type_hint`, only an order to try the types in (§2.1).
    pub async fn introspect(
        &self,
        caller: &Client,
        raw: &str,
        hint: Option<&str>,
        issuer: &str,
    ) -> Result<Value, FlowError> {
        let order = match hint {
            Some("refresh_token") => [TokenType::Refresh, TokenType::Access],
            _ => [TokenType::Access, TokenType::Refresh],
        };
        for kind in order {
            if let Some(live) = self.live_client_token(raw, kind).await? {
                if live.client_id != caller.client_id {
                    break;
                }
                return Ok(answer(&live, kind, issuer, &self.tokens.rules.jti_claim));
            }
        }
        Ok(introspection(None))
    }
}

fn answer(live: &LiveToken, kind: TokenType, issuer: &str, jti_claim: &str) -> Value {
    let claims = &live.token.claims;
    let number = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or_default();
    let sub = match &live.user {
        Some(user) => Some(crate::oidc::claims::subject(user)),
        None => claims
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let scope = live.scope.as_string();
    introspection(Some(ActiveToken {
        token_type: match kind {
            TokenType::Access => "Bearer",
            TokenType::Refresh => "refresh_token",
        },
        client_id: &live.client_id,
        scope: &scope,
        sub,
        username: live.user.as_ref().map(|u| u.username.as_str()),
        iss: issuer,
        exp: number("exp"),
        iat: number("iat"),
        jti: claims.get(jti_claim).and_then(Value::as_str),
    }))
}
