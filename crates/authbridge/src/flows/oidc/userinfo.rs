//! The userinfo endpoint's rule (OpenID Connect Core §5.3): an access token issued to a client
//! for the `openid` scope names a user, whose claims the scope allows are returned.

use serde_json::{Map, Value};

use crate::flows::{FlowError, Flows};
use crate::oidc::claims::userinfo_claims;
use crate::tokens::TokenType;

/// Why userinfo refuses, in RFC 6750 §3.1's terms.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// Not a live access token issued to a client for a user.
    #[error("invalid_token")]
    InvalidToken,
    /// A live token without the `openid` scope.
    #[error("insufficient_scope")]
    InsufficientScope,
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl Flows<'_> {
    pub async fn userinfo(
        &self,
        raw: &str,
        email_verified: bool,
    ) -> Result<Map<String, Value>, UserinfoError> {
        let live = self
            .live_client_token(raw, TokenType::Access)
            .await?
            .ok_or(UserinfoError::InvalidToken)?;
        // A client_credentials token names no user: nothing to tell about.
        let user = live.user.ok_or(UserinfoError::InvalidToken)?;
        if !live.scope.is_openid() {
            return Err(UserinfoError::InsufficientScope);
        }
        Ok(userinfo_claims(&user, &live.scope, email_verified))
    }
}
