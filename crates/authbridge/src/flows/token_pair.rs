//! Issuing a simplejwt pair, and refreshing one: simplejwt's `TokenRefreshSerializer` with the
//! rotation written in one transaction, a grace window for concurrent tabs, and reuse detection.

use serde_json::Value;
use std::net::IpAddr;

use super::{FlowError, Flows};
use crate::audit::{self, Event, Subject};
use crate::model::{RotateOutcome, Rotation, User};
use crate::tokens::{Token, TokenError, TokenType, UserIdClaim};

/// A freshly issued pair (`for_user`, outstanded, and its access token).
#[derive(Debug)]
pub struct TokenPair {
    pub refresh: String,
    pub access: String,
}

/// A refresh's answer: the access token, the successor refresh token when rotating, and the user
/// the token named (for the audit line).
#[derive(Debug)]
pub struct Refreshed {
    pub access: String,
    pub refresh: Option<String>,
    pub user_id: Option<i64>,
}

impl Flows<'_> {
    /// A new pair for `user` (login, token exchange, user sync), as `TokenObtainPairSerializer`
    /// makes it. `family` makes the refresh token join an existing login instead of starting one:
    /// logging that login out then ends this pair too.
    pub async fn issue_pair(
        &self,
        user: &User,
        family: Option<&str>,
    ) -> Result<TokenPair, FlowError> {
        self.issue_pair_with(user, family, serde_json::Map::new())
            .await
    }

    /// `issue_pair` with `claims` added to the refresh token (and so copied into its access
    /// tokens and successors): the OpenID Connect token endpoint's `client_id` and `scope`.
    pub async fn issue_pair_with(
        &self,
        user: &User,
        family: Option<&str>,
        claims: serde_json::Map<String, Value>,
    ) -> Result<TokenPair, FlowError> {
        let now = self.clock.now();
        // Before the new token exists: a password changed since last seen revokes only older ones.
        self.note_password(user, now).await?;
        let rules = &self.tokens.rules;
        let mut rng = self.random.rng();
        let mut extra = claims;
        if self.jwt.check_revoke_token {
            extra.insert(
                self.jwt.revoke_token_claim.clone(),
                Value::from(user.password_hash_claim()),
            );
        }
        let refresh = rules.refresh_for_user_with(user.id, extra, now.timestamp(), &mut rng);
        let access = rules.access_from_refresh(&refresh, now.timestamp(), &mut rng);
        let refresh_raw = self.tokens.encode(&refresh).map_err(FlowError::Signing)?;
        let access_raw = self.tokens.encode(&access).map_err(FlowError::Signing)?;
        self.store
            .outstand(
                &self.outstanding(&refresh, &refresh_raw, Some(user.id), now),
                family,
            )
            .await?;
        if self.jwt.update_last_login {
            self.store.set_last_login(user.id, now).await?;
        }
        Ok(TokenPair {
            refresh: refresh_raw,
            access: access_raw,
        })
    }

    /// `RefreshToken(raw)`: decode, then `check_blacklist()` before the other checks (simplejwt's
    /// order). A token without jti is "Token has no id" here, where simplejwt answers 500.
    pub(super) async fn read_refresh(&self, raw: &str, now: i64) -> Result<Token, FlowError> {
        let token = self.tokens.decode(raw, now)?;
        let jti = token.jti(&self.tokens.rules).ok_or(TokenError::NoId)?;
        if self.store.is_blacklisted(jti).await? {
            return Err(TokenError::Blacklisted.into());
        }
        self.tokens
            .rules
            .verify(&token, Some(TokenType::Refresh), now)?;
        Ok(token)
    }

    /// `POST /api/token/refresh/`'s rule, from the client at `client`. A refresh token issued to
    /// an OAuth client (it carries `client_id`) is refused here: it refreshes only at the token
    /// endpoint, where its client authenticates.
    pub async fn refresh(&self, raw: &str, client: IpAddr) -> Result<Refreshed, FlowError> {
        self.refresh_owned(raw, None, client).await
    }

    /// The OpenID Connect refresh grant: the same rotation, for refresh tokens issued to
    /// `client_id` only.
    pub async fn refresh_for_client(
        &self,
        raw: &str,
        client_id: &str,
        client: IpAddr,
    ) -> Result<Refreshed, FlowError> {
        self.refresh_owned(raw, Some(client_id), client).await
    }

    async fn refresh_owned(
        &self,
        raw: &str,
        owner: Option<&str>,
        client: IpAddr,
    ) -> Result<Refreshed, FlowError> {
        let refused = |reason| {
            audit::record(
                Event::RefreshRefused,
                Subject {
                    client: Some(client),
                    reason: Some(reason),
                    ..Subject::default()
                },
            )
        };
        let result = self.rotate_or_refresh(raw, owner, client).await;
        match &result {
            Ok(refreshed) => audit::record(
                Event::Refresh,
                Subject {
                    user_id: refreshed.user_id,
                    client: Some(client),
                    ..Subject::default()
                },
            ),
            // Refusals with a known user were recorded where they happened.
            Err(FlowError::Token(TokenError::Blacklisted)) => refused("blacklisted"),
            Err(FlowError::Token(_)) => refused("token_not_valid"),
            Err(_) => {}
        }
        result
    }

    async fn rotate_or_refresh(
        &self,
        raw: &str,
        owner: Option<&str>,
        client: IpAddr,
    ) -> Result<Refreshed, FlowError> {
        let jwt = self.jwt;
        let now = self.clock.now();
        let rotating_with_grace = jwt.rotate_refresh_tokens
            && jwt.blacklist_after_rotation
            && jwt.refresh_token_grace_period > 0;
        let (token, user_id) = if rotating_with_grace {
            // The blacklist is consulted inside the rotation's transaction (a rotated token may be
            // replayed within the grace window), saving a query per refresh. A token that fails the
            // other checks is looked up here, so the answer stays simplejwt's: blacklisted first.
            let token = self.tokens.decode(raw, now.timestamp())?;
            check_owner(&token, owner)?;
            let jti = token
                .jti(&self.tokens.rules)
                .ok_or(TokenError::NoId)?
                .to_string();
            let checked =
                match self
                    .tokens
                    .rules
                    .verify(&token, Some(TokenType::Refresh), now.timestamp())
                {
                    Ok(()) => self.user_check(&token, client).await,
                    Err(e) => Err(FlowError::from(e).into()),
                };
            match checked {
                Ok(user_id) => (token, user_id),
                Err(mut refused) if self.store.is_blacklisted(&jti).await? => {
                    tracing::debug!(error = %refused.error, "refresh of a blacklisted token");
                    refused.error = TokenError::Blacklisted.into();
                    return Err(self.settle(refused).await);
                }
                Err(refused) => return Err(self.settle(refused).await),
            }
        } else {
            let token = self.read_refresh(raw, now.timestamp()).await?;
            check_owner(&token, owner)?;
            let user_id = match self.user_check(&token, client).await {
                Ok(user_id) => user_id,
                Err(refused) => return Err(self.settle(refused).await),
            };
            (token, user_id)
        };

        let rules = &self.tokens.rules;
        let mut rng = self.random.rng();
        let access = rules.access_from_refresh(&token, now.timestamp(), &mut rng);
        let new = rules.rotate(&token, now.timestamp(), &mut rng);
        let access_raw = self.tokens.encode(&access).map_err(FlowError::Signing)?;
        if !jwt.rotate_refresh_tokens {
            return Ok(Refreshed {
                access: access_raw,
                refresh: None,
                user_id,
            });
        }

        let new_raw = self.tokens.encode(&new).map_err(FlowError::Signing)?;
        let new_row = self.outstanding(&new, &new_raw, user_id, now);
        if !jwt.blacklist_after_rotation {
            // The old token stays valid (simplejwt's behaviour without blacklisting); the new one
            // joins the old one's family.
            let family = token.jti(rules).map(str::to_string);
            self.store.outstand(&new_row, family.as_deref()).await?;
            return Ok(Refreshed {
                access: access_raw,
                refresh: Some(new_raw),
                user_id,
            });
        }
        let rotation = Rotation {
            old: self.outstanding(&token, raw, user_id, now),
            new: new_row,
            new_access: access_raw.clone(),
            blacklist_old: true,
            now,
            grace: chrono::Duration::seconds(jwt.refresh_token_grace_period.max(0)),
        };
        match self.store.rotate(&rotation).await? {
            RotateOutcome::Rotated => Ok(Refreshed {
                access: access_raw,
                refresh: Some(new_raw),
                user_id,
            }),
            RotateOutcome::Replayed { refresh, access } => Ok(Refreshed {
                access,
                refresh: Some(refresh),
                user_id,
            }),
            RotateOutcome::ReuseDetected => {
                tracing::warn!(
                    jti = rotation.old.jti,
                    "refresh token reused after rotation; its family is revoked"
                );
                audit::record(
                    Event::ReuseDetected,
                    Subject {
                        user_id,
                        client: Some(client),
                        reason: Some("family_revoked"),
                        ..Subject::default()
                    },
                );
                Err(TokenError::Blacklisted.into())
            }
            RotateOutcome::Blacklisted => Err(TokenError::Blacklisted.into()),
        }
    }

    /// The serializer's user check (a deleted user is simplejwt's 500; here the same 401), then
    /// authbridge's revocations. An inactive user's refresh tokens are revoked on sight, so that a
    /// later reactivation does not bring old logins back; a password changed since authbridge last
    /// saw it, or a "log out everywhere" after the token was issued, answers as simplejwt answers
    /// for a blacklisted token (which the token now is).
    async fn user_check(&self, token: &Token, client: IpAddr) -> Result<Option<i64>, Refused> {
        match token.user_id(&self.tokens.rules) {
            UserIdClaim::Absent => Ok(None),
            UserIdClaim::Unparseable => Err(FlowError::NoActiveAccount.into()),
            UserIdClaim::Id(id) => {
                let refused = |reason| {
                    audit::record(
                        Event::RefreshRefused,
                        Subject {
                            user_id: Some(id),
                            client: Some(client),
                            reason: Some(reason),
                            ..Subject::default()
                        },
                    )
                };
                let Some(user) = self.store.user_by_id(id).await.map_err(FlowError::from)? else {
                    refused("user_not_found");
                    return Err(FlowError::NoActiveAccount.into());
                };
                if self.jwt.check_user_is_active && !user.is_active {
                    refused("inactive");
                    return Err(Refused {
                        error: FlowError::NoActiveAccount,
                        inactive_user: Some(id),
                    });
                }
                let issued_at = token.claims.get("iat").and_then(Value::as_i64);
                if let Some(revoked) = self.revoked_since(&user, issued_at, Some(client)).await? {
                    refused(revoked.reason());
                    return Err(FlowError::from(TokenError::Blacklisted).into());
                }
                Ok(Some(id))
            }
        }
    }

    /// The answer to a refused user check, after revoking an inactive user's tokens.
    async fn settle(&self, refused: Refused) -> FlowError {
        if let Some(id) = refused.inactive_user {
            match self.store.revoke_user(id, self.clock.now()).await {
                Ok(revoked) => {
                    tracing::debug!(user_id = id, revoked, "inactive user: tokens revoked")
                }
                Err(e) => return e.into(),
            }
        }
        refused.error
    }
}

/// A token refreshes only where it was issued: a client's (`client_id` claim) at the token
/// endpoint by that client, any other at `/api/token/refresh/`. Either mismatch is simplejwt's
/// "Token is invalid", so the answer does not tell which clients exist.
fn check_owner(token: &Token, owner: Option<&str>) -> Result<(), TokenError> {
    let issued_to = token.claims.get(CLIENT_ID_CLAIM).map(Value::as_str);
    match (issued_to, owner) {
        (None, None) => Ok(()),
        (Some(Some(issued)), Some(owner)) if issued == owner => Ok(()),
        _ => Err(TokenError::Invalid),
    }
}

/// The claim naming the OAuth client a token was issued to (RFC 9068 §2.2).
pub const CLIENT_ID_CLAIM: &str = "client_id";

/// A refused user check. An inactive user's tokens are revoked once the answer is settled (the
/// answer stays simplejwt's: a token blacklisted before is "Token is blacklisted").
struct Refused {
    error: FlowError,
    inactive_user: Option<i64>,
}

impl From<FlowError> for Refused {
    fn from(error: FlowError) -> Self {
        Self {
            error,
            inactive_user: None,
        }
    }
}
