//! `POST /api/token/refresh/` (simplejwt `TokenRefreshView`), with the rotation written in one
//! transaction, a grace window for concurrent tabs, and reuse detection.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::logout::revoked_since;
use super::{outstanding, read_refresh};
use crate::audit::{self, Event, Subject};
use crate::http::browser::cookie_mode;
use crate::http::drf::body::DrfData;
use crate::http::extract::ClientIp;
use crate::http::{AppState, DrfError};
use crate::storage::{RotateOutcome, Rotation};
use crate::tokens::{Token, TokenError, TokenType, UserIdClaim};

pub fn metadata(_: &AppState) -> Value {
    super::view_metadata(
        "Token Refresh",
        "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
        &["refresh"],
        &["access"],
    )
}

fn no_active_account() -> DrfError {
    DrfError::AuthenticationFailed {
        detail: "No active account found for the given token.".into(),
        code: None,
    }
}

/// The serializer's user check (a deleted user is simplejwt's 500; here the same 401), then
/// authbridge's revocations. An inactive user's refresh tokens are revoked on sight, so that a
/// later reactivation does not bring old logins back; a password changed since authbridge last
/// saw it, or a "log out everywhere" after the token was issued, answers as simplejwt answers for
/// a blacklisted token (which the token now is).
async fn user_check(
    state: &AppState,
    token: &Token,
    client: ClientIp,
) -> Result<Option<i64>, Refused> {
    match token.user_id(&state.tokens.rules) {
        UserIdClaim::Absent => Ok(None),
        UserIdClaim::Unparseable => Err(no_active_account().into()),
        UserIdClaim::Id(id) => {
            let refused = |reason| {
                audit::record(
                    Event::RefreshRefused,
                    Subject {
                        user_id: Some(id),
                        client: Some(client.0),
                        reason: Some(reason),
                        ..Subject::default()
                    },
                )
            };
            let Some(user) = state.store.user_by_id(id).await? else {
                refused("user_not_found");
                return Err(no_active_account().into());
            };
            if state.settings.simple_jwt.check_user_is_active && !user.is_active {
                refused("inactive");
                return Err(Refused {
                    error: no_active_account(),
                    inactive_user: Some(id),
                });
            }
            let issued_at = token.claims.get("iat").and_then(Value::as_i64);
            if let Some(revoked) = revoked_since(state, &user, issued_at, client).await? {
                refused(revoked.reason());
                return Err(DrfError::from(TokenError::Blacklisted).into());
            }
            Ok(Some(id))
        }
    }
}

/// A refused user check. An inactive user's tokens are revoked once the answer is settled (the
/// answer stays simplejwt's: a token blacklisted before is "Token is blacklisted").
struct Refused {
    error: DrfError,
    inactive_user: Option<i64>,
}

impl From<DrfError> for Refused {
    fn from(error: DrfError) -> Self {
        Self {
            error,
            inactive_user: None,
        }
    }
}

impl From<crate::storage::StorageError> for Refused {
    fn from(error: crate::storage::StorageError) -> Self {
        DrfError::from(error).into()
    }
}

impl Refused {
    /// The answer, after revoking an inactive user's tokens.
    async fn settle(self, state: &AppState) -> DrfError {
        if let Some(id) = self.inactive_user {
            match state.store.revoke_user(id, state.clock.now()).await {
                Ok(revoked) => {
                    tracing::debug!(user_id = id, revoked, "inactive user: tokens revoked")
                }
                Err(e) => return e.into(),
            }
        }
        self.error
    }
}

pub async fn refresh(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    data: DrfData,
) -> Result<Response, DrfError> {
    let refused = |reason| {
        audit::record(
            Event::RefreshRefused,
            Subject {
                client: Some(client.0),
                reason: Some(reason),
                ..Subject::default()
            },
        )
    };
    let result = rotate_or_refresh(&state, client, &headers, &data).await;
    match &result {
        Ok((_, user_id)) => audit::record(
            Event::Refresh,
            Subject {
                user_id: *user_id,
                client: Some(client.0),
                ..Subject::default()
            },
        ),
        // Refusals with a known user were recorded where they happened.
        Err(DrfError::Token(TokenError::Blacklisted)) => refused("blacklisted"),
        Err(DrfError::Token(_)) => refused("token_not_valid"),
        Err(_) => {}
    }
    result.map(|(response, _)| response)
}

async fn rotate_or_refresh(
    state: &AppState,
    client: ClientIp,
    headers: &HeaderMap,
    data: &DrfData,
) -> Result<(Response, Option<i64>), DrfError> {
    let raw = cookie_mode::refresh_token(state, headers, data)?;
    let respond = |body| cookie_mode::respond_with_refreshed(state, headers, body);

    let jwt = &state.settings.simple_jwt;
    let now = state.clock.now();
    let rotating_with_grace = jwt.rotate_refresh_tokens
        && jwt.blacklist_after_rotation
        && jwt.refresh_token_grace_period > 0;
    let (token, user_id) = if rotating_with_grace {
        // The blacklist is consulted inside the rotation's transaction (a rotated token may be
        // replayed within the grace window), saving a query per refresh. A token that fails the
        // other checks is looked up here, so the answer stays simplejwt's: blacklisted first.
        let token = state.tokens.decode(&raw, now.timestamp())?;
        let jti = token
            .jti(&state.tokens.rules)
            .ok_or(TokenError::NoId)?
            .to_string();
        let checked =
            match state
                .tokens
                .rules
                .verify(&token, Some(TokenType::Refresh), now.timestamp())
            {
                Ok(()) => user_check(state, &token, client).await,
                Err(e) => Err(DrfError::from(e).into()),
            };
        match checked {
            Ok(user_id) => (token, user_id),
            Err(mut refused) if state.store.is_blacklisted(&jti).await? => {
                tracing::debug!(error = %refused.error, "refresh of a blacklisted token");
                refused.error = TokenError::Blacklisted.into();
                return Err(refused.settle(state).await);
            }
            Err(refused) => return Err(refused.settle(state).await),
        }
    } else {
        let (token, _) = read_refresh(state, &raw, now.timestamp(), true).await?;
        let user_id = match user_check(state, &token, client).await {
            Ok(user_id) => user_id,
            Err(refused) => return Err(refused.settle(state).await),
        };
        (token, user_id)
    };

    let rules = &state.tokens.rules;
    let (access, new) = {
        let mut rng = rand::rng();
        (
            rules.access_from_refresh(&token, now.timestamp(), &mut rng),
            rules.rotate(&token, now.timestamp(), &mut rng),
        )
    };
    let access_raw = state.tokens.encode(&access).map_err(DrfError::internal)?;
    if !jwt.rotate_refresh_tokens {
        return Ok((respond(json!({"access": access_raw}))?, user_id));
    }

    let new_raw = state.tokens.encode(&new).map_err(DrfError::internal)?;
    let new_row = outstanding(state, &new, &new_raw, user_id, now);
    if !jwt.blacklist_after_rotation {
        // The old token stays valid (simplejwt's behaviour without blacklisting); the new one
        // joins the old one's family.
        let family = token.jti(rules).map(str::to_string);
        state.store.outstand(&new_row, family.as_deref()).await?;
        return Ok((
            respond(json!({"access": access_raw, "refresh": new_raw}))?,
            user_id,
        ));
    }
    let rotation = Rotation {
        old: outstanding(state, &token, &raw, user_id, now),
        new: new_row,
        new_access: access_raw.clone(),
        blacklist_old: true,
        now,
        grace: chrono::Duration::seconds(jwt.refresh_token_grace_period.max(0)),
    };
    match state.store.rotate(&rotation).await? {
        RotateOutcome::Rotated => Ok((
            respond(json!({"access": access_raw, "refresh": new_raw}))?,
            user_id,
        )),
        RotateOutcome::Replayed { refresh, access } => Ok((
            respond(json!({"access": access, "refresh": refresh}))?,
            user_id,
        )),
        RotateOutcome::ReuseDetected => {
            tracing::warn!(
                jti = rotation.old.jti,
                "refresh token reused after rotation; its family is revoked"
            );
            audit::record(
                Event::ReuseDetected,
                Subject {
                    user_id,
                    client: Some(client.0),
                    reason: Some("family_revoked"),
                    ..Subject::default()
                },
            );
            Err(TokenError::Blacklisted.into())
        }
        RotateOutcome::Blacklisted => Err(TokenError::Blacklisted.into()),
    }
}
