//! Token revocation (RFC 7009): a client ends a refresh token it was issued, and with it the
//! token's whole family (its rotations), as logout does. Access tokens are self-contained JWTs
//! that no server-side state vouches for: revoking one is accepted and changes nothing (§2.2
//! allows it; they expire after ACCESS_TOKEN_LIFETIME). Anything unknown, expired, or another
//! client's is answered the same way and left alone (§2.2: "invalid tokens do not cause an error").

use std::net::IpAddr;

use super::issued_to;
use crate::flows::{FlowError, Flows};
use crate::oidc::client::Client;
use crate::tokens::{TokenError, TokenType};

impl Flows<'_> {
    /// `true` when a login was ended (for the log; the answer is the same either way).
    pub async fn revoke(&self, caller: &Client, raw: &str, ip: IpAddr) -> Result<bool, FlowError> {
        let now = self.clock.now().timestamp();
        let Ok(token) = self.tokens.decode(raw, now) else {
            return Ok(false);
        };
        let is_refresh = self
            .tokens
            .rules
            .verify(&token, Some(TokenType::Refresh), now)
            .is_ok();
        if !is_refresh || issued_to(&token) != Some(caller.client_id.as_str()) {
            return Ok(false);
        }
        match self.logout(raw, ip).await {
            Ok(()) => Ok(true),
            Err(FlowError::Token(TokenError::Expired | TokenError::Invalid)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
