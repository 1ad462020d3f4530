//! The token endpoint's grants (RFC 6749 §4.1.3, §6, §4.4). The client is already authenticated
//! (the HTTP layer ran `oidc::client_auth`); everything here is about the grant itself.

use chrono::{DateTime, Utc};
use std::net::IpAddr;

use super::{client_claims, scope_of, GrantError, Provider};
use crate::audit::{self, Event, Subject};
use crate::flows::{FlowError, Flows};
use crate::model::OutstandingToken;
use crate::oidc::claims::{id_token_claims, IdTokenInput};
use crate::oidc::client::Client;
use crate::oidc::code::{self, CodeHash, CodeRecord, RedeemError, Redemption};
use crate::oidc::{ErrorCode, Scope};
use crate::storage::User;
use crate::tokens::Token;

/// What the token endpoint answers on success.
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: i64,
    pub scope: String,
}

/// The authorization_code grant's parameters.
#[derive(Debug, Clone, Copy)]
pub struct CodeGrant<'a> {
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

impl Flows<'_> {
    /// Redeem a code: atomically marked used, then checked (`oidc::code::redeem`); a code used
    /// before revokes the refresh token issued from it and that token's family (RFC 6749 §4.1.2).
    /// `self` carries the client's token lifetimes (`client_tokens`).
    pub async fn authorization_code(
        &self,
        provider: Provider<'_>,
        client: &Client,
        grant: CodeGrant<'_>,
        ip: IpAddr,
    ) -> Result<Issued, GrantError> {
        let now = self.clock.now();
        let hash = CodeHash::of(grant.code);
        let redeemed = self
            .store
            .redeem_code(hash, now)
            .await
            .map_err(FlowError::from)?;
        if let Some(redeemed) = &redeemed {
            if redeemed.already_used() {
                self.revoke_code_family(&redeemed.record, redeemed.refresh_jti.as_deref(), ip)
                    .await?;
            }
        }
        let record = redeemed.map(|r| r.record);
        let request = Redemption {
            client_id: &client.client_id,
            redirect_uri: grant.redirect_uri,
            code_verifier: grant.code_verifier,
        };
        code::redeem(record.as_ref(), request, now).map_err(|e| {
            tracing::debug!(client_id = client.client_id, error = %e, "code refused");
            GrantError::invalid_grant(redeem_description(e))
        })?;
        let Some(record) = record else {
            return Err(GrantError::invalid_grant("unknown authorization code"));
        };
        // The authorization endpoint requires PKCE of public clients; a code without a challenge
        // for one is never honoured, whatever issued it.
        if client.is_public() && record.code_challenge.is_none() {
            return Err(GrantError::invalid_grant("PKCE is required"));
        }
        let user = self.grant_user(record.user_id).await?;

        let claims = client_claims(&client.client_id, &record.scope);
        let pair = self.issue_pair_with(&user, None, claims).await?;
        if let Some(jti) = jti_of(self, &pair.refresh) {
            self.store
                .set_code_refresh_jti(hash, &jti)
                .await
                .map_err(FlowError::from)?;
        }
        let id_token = if record.scope.is_openid() {
            Some(self.id_token(provider, client, &user, &record, now)?)
        } else {
            None
        };
        Ok(Issued {
            access_token: pair.access,
            refresh_token: Some(pair.refresh),
            id_token,
            expires_in: self.tokens.rules.access_lifetime,
            scope: record.scope.as_string(),
        })
    }

    /// The refresh_token grant: the token API's rotation (grace window, reuse detection), for
    /// this client's refresh tokens only. `scope` may repeat or narrow the granted scope (RFC 6749
    /// §6), never widen it; the granted scope stays the token's. No new ID token.
    pub async fn refresh_token_grant(
        &self,
        client: &Client,
        raw: &str,
        scope: Option<&str>,
        ip: IpAddr,
    ) -> Result<Issued, GrantError> {
        let invalid =
            || GrantError::invalid_grant("the refresh token is invalid, expired or revoked");
        // The scope is checked before the rotation: a refused request must not use the token up.
        let granted = self
            .tokens
            .decode(raw, self.clock.now().timestamp())
            .map(|t| scope_of(&t))
            .map_err(|_| invalid())?;
        if let Some(asked) = scope {
            if !Scope::parse(asked).is_subset_of(&granted) || asked.split(' ').any(unknown) {
                return Err(GrantError::refused(
                    ErrorCode::InvalidScope,
                    "the scope may not exceed the granted scope",
                ));
            }
        }
        let refreshed = self
            .refresh_for_client(raw, &client.client_id, ip)
            .await
            .map_err(|e| match e {
                FlowError::Token(_) | FlowError::NoActiveAccount => invalid(),
                other => other.into(),
            })?;
        Ok(Issued {
            access_token: refreshed.access,
            refresh_token: refreshed.refresh,
            id_token: None,
            expires_in: self.tokens.rules.access_lifetime,
            scope: granted.as_string(),
        })
    }

    /// The client_credentials grant (confidential clients: `GrantType::allowed_for`): an access
    /// token for the client itself, `sub` = client_id and no `user_id`, so Django's
    /// `JWTAuthentication` refuses it; it is for introspection by resource servers. Every scope
    /// we know is about a user, so a requested scope is granted as none (`"scope": ""`, RFC 6749
    /// §3.3 lets the server grant less than asked, saying so).
    pub fn client_credentials(&self, client: &Client) -> Result<Issued, GrantError> {
        let now = self.clock.now().timestamp();
        let scope = Scope::default();
        let mut claims = client_claims(&client.client_id, &scope);
        claims.insert("sub".into(), client.client_id.clone().into());
        // simplejwt's access token carrying these claims: `access_from_refresh` copies every
        // claim but the four it sets, which these are not.
        let template = Token { claims };
        let access = self
            .tokens
            .rules
            .access_from_refresh(&template, now, &mut self.random.rng());
        let access_token = self.tokens.encode(&access).map_err(FlowError::Signing)?;
        Ok(Issued {
            access_token,
            refresh_token: None,
            id_token: None,
            expires_in: self.tokens.rules.access_lifetime,
            scope: scope.as_string(),
        })
    }

    /// The user a grant is for: still there and active.
    async fn grant_user(&self, user_id: i64) -> Result<User, GrantError> {
        let user = self
            .store
            .user_by_id(user_id)
            .await
            .map_err(FlowError::from)?;
        match user {
            Some(user) if user.is_active || !self.jwt.check_user_is_active => Ok(user),
            _ => Err(GrantError::invalid_grant("the user is inactive or gone")),
        }
    }

    fn id_token(
        &self,
        provider: Provider<'_>,
        client: &Client,
        user: &User,
        record: &CodeRecord,
        now: DateTime<Utc>,
    ) -> Result<String, GrantError> {
        let alg = client
            .id_token_alg
            .unwrap_or(provider.settings.id_token_signing_alg);
        let key = provider
            .keys
            .signer(alg, now)
            .ok_or(GrantError::NoSigningKey(alg.name()))?;
        let claims = id_token_claims(IdTokenInput {
            issuer: provider.issuer,
            client_id: &client.client_id,
            user,
            scope: &record.scope,
            nonce: record.nonce.as_deref(),
            auth_time: record.auth_time,
            now,
            lifetime_secs: provider.settings.id_token_lifetime,
            email_verified: provider.settings.email_verified,
        });
        Ok(key.sign(&claims)?)
    }

    /// A reused code: the refresh token issued from it, and every token of its family, are
    /// blacklisted.
    async fn revoke_code_family(
        &self,
        record: &CodeRecord,
        refresh_jti: Option<&str>,
        ip: IpAddr,
    ) -> Result<(), GrantError> {
        let now = self.clock.now();
        let mut revoked = 0;
        if let Some(jti) = refresh_jti {
            let token = OutstandingToken {
                user_id: Some(record.user_id),
                jti: jti.to_string(),
                token: String::new(),
                created_at: None,
                expires_at: now,
            };
            revoked = self
                .store
                .revoke_family(&token, now)
                .await
                .map_err(FlowError::from)?;
        }
        tracing::warn!(
            client_id = record.client_id,
            user_id = record.user_id,
            revoked,
            "authorization code reused; the tokens issued from it are revoked"
        );
        audit::record(
            Event::ReuseDetected,
            Subject {
                user_id: Some(record.user_id),
                client: Some(ip),
                reason: Some("code_reused"),
                ..Subject::default()
            },
        );
        Ok(())
    }
}

fn jti_of(flows: &Flows<'_>, raw: &str) -> Option<String> {
    let token = flows
        .tokens
        .decode(raw, flows.clock.now().timestamp())
        .ok()?;
    token.jti(&flows.tokens.rules).map(str::to_string)
}

fn unknown(value: &str) -> bool {
    !value.is_empty() && !crate::oidc::scope::SUPPORTED.contains(&value)
}

fn redeem_description(e: RedeemError) -> &'static str {
    match e {
        RedeemError::NotFound | RedeemError::Reused | RedeemError::Expired => {
            "the authorization code is invalid, expired or already used"
        }
        RedeemError::WrongClient => "the authorization code was issued to another client",
        RedeemError::WrongRedirectUri => "redirect_uri does not match the authorization request",
        RedeemError::VerifierMissing => "code_verifier is required",
        RedeemError::VerifierMismatch => "code_verifier does not match the code_challenge",
        RedeemError::VerifierUnexpected => "code_verifier sent for a code issued without PKCE",
    }
}
