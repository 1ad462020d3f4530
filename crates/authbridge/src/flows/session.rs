//! The login an Auth.js session stands for. Only a claim authbridge issued counts: the session
//! must carry an authbridge refresh token (what `/api/token/`, `/api/users/sync` or
//! `/api/authjs/token` returned, kept by the app's `jwt` callback), valid under our keys, whose
//! login has not been signed out. Its `user_id` is the user. A bare `sub` or `user_id` claim is
//! never trusted: without an adapter next-auth puts the OAuth provider's own user id in `sub`,
//! and an app may copy provider profile fields into the token.

use serde_json::Value;
use std::net::IpAddr;

use super::{FlowError, Flows, SessionRefusal};
use crate::audit::{self, Event, Subject};
use crate::model::{FamilyState, User};
use crate::tokens::{TokenType, UserIdClaim};

/// A session's user and login.
#[derive(Debug)]
pub struct SessionLogin {
    pub user: User,
    /// The login (refresh family) of the refresh token the session carries.
    pub family: String,
}

/// A refusal: the answer, the reason for the audit line, and the user when known.
type Refusal = (FlowError, &'static str, Option<i64>);

fn refused(why: SessionRefusal) -> FlowError {
    FlowError::Session(why)
}

impl Flows<'_> {
    /// The login of the refresh token a session carries (`None`: the session carries none).
    /// Refusals are security events.
    pub async fn session_login(
        &self,
        refresh: Option<&str>,
        client: IpAddr,
    ) -> Result<SessionLogin, FlowError> {
        let (user, family, issued_at) = match self.linked_user(refresh).await {
            Ok(linked) => linked,
            Err((error, reason, user_id)) => {
                audit::record(
                    Event::SessionRefused,
                    Subject {
                        user_id,
                        client: Some(client),
                        reason: Some(reason),
                        ..Subject::default()
                    },
                );
                return Err(error);
            }
        };
        if let Some(revoked) = self.revoked_since(&user, issued_at, Some(client)).await? {
            audit::record(
                Event::SessionRefused,
                Subject {
                    username: Some(&user.username),
                    user_id: Some(user.id),
                    client: Some(client),
                    reason: Some(revoked.reason()),
                },
            );
            return Err(refused(SessionRefusal::Revoked));
        }
        Ok(SessionLogin { user, family })
    }

    async fn linked_user(
        &self,
        refresh: Option<&str>,
    ) -> Result<(User, String, Option<i64>), Refusal> {
        let raw = refresh.ok_or((refused(SessionRefusal::NotLinked), "no_refresh_token", None))?;
        let invalid = || {
            (
                refused(SessionRefusal::Invalid),
                "refresh_token_invalid",
                None,
            )
        };
        let now = self.clock.now();
        let rules = &self.tokens.rules;
        let token = self
            .tokens
            .decode(raw, now.timestamp())
            .and_then(|t| {
                rules
                    .verify(&t, Some(TokenType::Refresh), now.timestamp())
                    .map(|()| t)
            })
            .map_err(|_| invalid())?;
        let jti = token.jti(rules).ok_or_else(invalid)?;
        let UserIdClaim::Id(id) = token.user_id(rules) else {
            return Err((
                refused(SessionRefusal::NotLinked),
                "refresh_token_without_user",
                None,
            ));
        };
        let internal = |e: crate::storage::StorageError| (FlowError::from(e), "storage", Some(id));
        let family = match self.store.family_state(jti, now).await.map_err(internal)? {
            FamilyState::Live { family } => family,
            FamilyState::Revoked => {
                return Err((refused(SessionRefusal::Revoked), "family_revoked", Some(id)))
            }
        };
        let user = self.store.user_by_id(id).await.map_err(internal)?.ok_or((
            refused(SessionRefusal::UserNotFound),
            "user_not_found",
            Some(id),
        ))?;
        if self.jwt.check_user_is_active && !user.is_active {
            return Err((refused(SessionRefusal::UserInactive), "inactive", Some(id)));
        }
        let issued_at = token.claims.get("iat").and_then(Value::as_i64);
        Ok((user, family, issued_at))
    }
}
