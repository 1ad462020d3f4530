//! The OpenID Connect grants and the token endpoint's companions (issue 9): the rules that span
//! storage and tokens, over the same [`Flows`] as the token API. A client's tokens are simplejwt
//! tokens plus `client_id` and `scope` (`issue_pair_with`), refreshed by the same rotation
//! (`refresh_for_client`), ended by the same family revocation (`logout`).
//!
//! - `token`: the authorization_code, refresh_token and client_credentials grants;
//! - `userinfo`: the user an access token issued to a client names, and its claims;
//! - `introspect` and `revoke`: RFC 7662 and RFC 7009.

pub mod introspect;
pub mod revoke;
pub mod token;
pub mod userinfo;

pub use token::{CodeGrant, Issued};

use serde_json::Value;

use super::{FlowError, Flows};
use crate::config::OidcSettings;
use crate::oidc::keys::KeySet;
use crate::oidc::{ErrorCode, Scope};
use crate::tokens::{Token, TokenRules, TokenService, TokenType, UserIdClaim};

/// The provider's side of a grant: its issuer, settings and signing keys.
#[derive(Clone, Copy)]
pub struct Provider<'a> {
    pub issuer: &'a str,
    pub settings: &'a OidcSettings,
    pub keys: &'a KeySet,
}

/// A grant refused in OAuth 2's words (`invalid_grant`, …) with a description for the client,
/// or a flow that failed underneath (storage, signing), which the surface answers as a 500.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("{}: {description}", code.as_str())]
    Refused {
        code: ErrorCode,
        description: &'static str,
    },
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// No active key for the algorithm (the key runtime keeps one per configured algorithm).
    #[error("no active {0} signing key")]
    NoSigningKey(&'static str),
    #[error(transparent)]
    Key(#[from] crate::oidc::keys::KeyError),
}

impl GrantError {
    pub fn refused(code: ErrorCode, description: &'static str) -> Self {
        Self::Refused { code, description }
    }

    fn invalid_grant(description: &'static str) -> Self {
        Self::refused(ErrorCode::InvalidGrant, description)
    }
}

/// The token service for tokens issued to clients: the token API's keys, with `[oidc]`'s access
/// and refresh lifetimes when set. Built once, by the OIDC runtime at start.
pub fn client_tokens(tokens: &TokenService, oidc: &OidcSettings) -> TokenService {
    let rules = TokenRules {
        access_lifetime: oidc
            .access_token_lifetime
            .unwrap_or(tokens.rules.access_lifetime),
        refresh_lifetime: oidc
            .refresh_token_lifetime
            .unwrap_or(tokens.rules.refresh_lifetime),
        ..tokens.rules.clone()
    };
    TokenService {
        keys: tokens.keys.clone(),
        rules,
    }
}

/// Claims of a client's token: which client, which scope.
fn client_claims(client_id: &str, scope: &Scope) -> serde_json::Map<String, Value> {
    let mut claims = serde_json::Map::new();
    claims.insert(
        crate::flows::token_pair::CLIENT_ID_CLAIM.into(),
        client_id.into(),
    );
    claims.insert("scope".into(), scope.as_string().into());
    claims
}

/// The `client_id` a token was issued to, if any.
fn issued_to(token: &Token) -> Option<&str> {
    token
        .claims
        .get(crate::flows::token_pair::CLIENT_ID_CLAIM)
        .and_then(Value::as_str)
}

fn scope_of(token: &Token) -> Scope {
    Scope::parse(
        token
            .claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or(""),
    )
}

impl Flows<'_> {
    /// These flows with `tokens` (a client's lifetimes) instead of the token API's.
    pub fn with_tokens<'b>(&'b self, tokens: &'b TokenService) -> Flows<'b> {
        Flows { tokens, ..*self }
    }
}

/// A token issued to a client, checked as its use demands: ours, unexpired, of `kind`, issued to
/// a client; a refresh token not blacklisted; its user (if any) still there, active, not logged
/// out everywhere since, and with the password the token was issued under.
pub struct LiveToken {
    pub token: Token,
    pub client_id: String,
    pub scope: Scope,
    pub user: Option<crate::storage::User>,
}

impl Flows<'_> {
    /// `None` for any token that is not live (the callers answer without saying why).
    pub async fn live_client_token(
        &self,
        raw: &str,
        kind: TokenType,
    ) -> Result<Option<LiveToken>, FlowError> {
        let now = self.clock.now().timestamp();
        let Ok(token) = self.tokens.decode(raw, now) else {
            return Ok(None);
        };
        if self.tokens.rules.verify(&token, Some(kind), now).is_err() {
            return Ok(None);
        }
        let Some(client_id) = issued_to(&token).map(str::to_string) else {
            return Ok(None);
        };
        if kind == TokenType::Refresh {
            let jti = token.jti(&self.tokens.rules).unwrap_or_default();
            if self.store.is_blacklisted(jti).await? {
                return Ok(None);
            }
        }
        let user = match token.user_id(&self.tokens.rules) {
            UserIdClaim::Absent => None,
            UserIdClaim::Unparseable => return Ok(None),
            UserIdClaim::Id(id) => match self.store.user_by_id(id).await? {
                Some(user) => Some(user),
                None => return Ok(None),
            },
        };
        if let Some(user) = &user {
            if self.jwt.check_user_is_active && !user.is_active {
                return Ok(None);
            }
            if self.jwt.check_revoke_token {
                let claim = token
                    .claims
                    .get(&self.jwt.revoke_token_claim)
                    .and_then(Value::as_str);
                if claim != Some(user.password_hash_claim().as_str()) {
                    return Ok(None);
                }
            }
            let iat = token.claims.get("iat").and_then(Value::as_i64);
            if self.revoked_since(user, iat, None).await?.is_some() {
                return Ok(None);
            }
        }
        let scope = scope_of(&token);
        Ok(Some(LiveToken {
            token,
            client_id,
            scope,
            user,
        }))
    }
}
