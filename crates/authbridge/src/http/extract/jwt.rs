//! simplejwt's `JWTAuthentication` as an extractor: the Bearer header, the access-token checks and
//! the user lookup, with its exact errors. The gateway reuses it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::{AppState, DrfError};
use crate::storage::User;
use crate::tokens::{Token, TokenType, UserIdClaim};

/// The authenticated user and the access token that proved it.
pub struct JwtUser {
    pub user: User,
    pub token: Token,
}

impl FromRequestParts<AppState> for JwtUser {
    type Rejection = DrfError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, DrfError> {
        let header_name = header_name(&state.settings.simple_jwt.auth_header_name);
        let raw = parts
            .headers
            .get(header_name.as_str())
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .ok_or(DrfError::NotAuthenticated)?;
        let token = raw_token(&raw, &state.settings.simple_jwt.auth_header_types)?;
        authenticate(state, token).await
    }
}

/// Django's `request.META` key (`HTTP_AUTHORIZATION`) back to an HTTP header name.
fn header_name(meta_key: &str) -> String {
    meta_key
        .strip_prefix("HTTP_")
        .unwrap_or(meta_key)
        .replace('_', "-")
        .to_ascii_lowercase()
}

/// `get_raw_token`: split on whitespace; the first part must be one of `AUTH_HEADER_TYPES`
/// (case-sensitive) or the request is simply unauthenticated; then exactly two parts.
fn raw_token<'a>(header: &'a str, types: &[String]) -> Result<&'a str, DrfError> {
    let parts: Vec<&str> = header.split_whitespace().collect();
    match parts.first() {
        Some(scheme) if types.iter().any(|t| t == scheme) => {}
        _ => return Err(DrfError::NotAuthenticated),
    }
    if parts.len() != 2 {
        return Err(DrfError::AuthenticationFailed {
            detail: "Authorization header must contain two space-delimited values".into(),
            code: Some("bad_authorization_header"),
        });
    }
    Ok(parts[1])
}

/// `get_validated_token` + `get_user`.
pub async fn authenticate(state: &AppState, raw: &str) -> Result<JwtUser, DrfError> {
    let now = state.clock.now().timestamp();
    let token = state
        .tokens
        .decode(raw, now)
        .and_then(|t| {
            state
                .tokens
                .rules
                .verify(&t, Some(TokenType::Access), now)
                .map(|()| t)
        })
        .map_err(|e| DrfError::NoValidTokenType {
            message: e.to_string(),
        })?;
    let user = match token.user_id(&state.tokens.rules) {
        UserIdClaim::Absent => {
            return Err(DrfError::AuthenticationFailed {
                detail: "Token contained no recognizable user identification".into(),
                code: Some("token_not_valid"),
            })
        }
        UserIdClaim::Unparseable => return Err(DrfError::user_not_found()),
        UserIdClaim::Id(id) => state
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(DrfError::user_not_found)?,
    };
    if state.settings.simple_jwt.check_user_is_active && !user.is_active {
        return Err(DrfError::user_inactive());
    }
    if state.settings.simple_jwt.check_revoke_token {
        let claim = token
            .claims
            .get(&state.settings.simple_jwt.revoke_token_claim)
            .and_then(|v| v.as_str());
        if claim != Some(user.password_hash_claim().as_str()) {
            return Err(DrfError::AuthenticationFailed {
                detail: "The user's password has been changed.".into(),
                code: Some("password_changed"),
            });
        }
    }
    Ok(JwtUser { user, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_matches_simplejwt() {
        let types = vec!["Bearer".to_string()];
        assert!(matches!(
            raw_token("Token abc", &types),
            Err(DrfError::NotAuthenticated)
        ));
        assert!(matches!(
            raw_token("bearer abc", &types),
            Err(DrfError::NotAuthenticated)
        ));
        assert!(matches!(
            raw_token("", &types),
            Err(DrfError::NotAuthenticated)
        ));
        assert!(matches!(
            raw_token("Bearer", &types),
            Err(DrfError::AuthenticationFailed { .. })
        ));
        assert!(matches!(
            raw_token("Bearer a b", &types),
            Err(DrfError::AuthenticationFailed { .. })
        ));
        assert_eq!(raw_token("Bearer  abc ", &types).ok(), Some("abc"));
        assert_eq!(header_name("HTTP_AUTHORIZATION"), "authorization");
        assert_eq!(header_name("HTTP_X_ACCESS_TOKEN"), "x-access-token");
    }
}
