//! Password reset: dj-rest-auth's `PasswordResetView` (allauth's `ResetPasswordForm`,
//! `filter_users_by_email(is_active=True)`, allauth's token generator, base36 uid) and
//! `PasswordResetConfirmView` (uid, then token, then the new password).

use std::net::IpAddr;
use std::sync::Arc;
use zeroize::Zeroizing;

use super::mail::{AccountEmail, AccountEmailContext};
use super::{AccountError, AccountFlows, AccountServices};
use crate::account_tokens::{base36, ResetTokenUser, ResetTokens};
use crate::audit::{self, Event, Subject};
use crate::limits::AccountAction;
use crate::model::User;
use crate::storage::{StorageError, Store};

impl AccountFlows<'_> {
    /// `POST password/reset/ {email}`: always `Ok` unless throttled; each active user matching
    /// the address gets an email, off the request path.
    pub async fn request_password_reset(
        &self,
        email: &str,
        origin: &str,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        self.admit(AccountAction::PasswordReset, Some(email), client)
            .await?;
        audit::record(
            Event::PasswordResetRequested,
            Subject {
                client,
                ..Subject::default()
            },
        );
        let services = self.services.clone();
        let (email, origin) = (email.to_string(), origin.to_string());
        self.services.background.spawn(Box::pin(async move {
            if let Err(e) = send_resets(&services, &email, &origin).await {
                tracing::error!(error = %e, "password reset emails failed");
            }
        }));
        Ok(())
    }

    /// The confirm's first checks, in dj-rest-auth's order: the uid (`InvalidUid`), then the
    /// token (`InvalidToken`). The user is what the password validators then need.
    pub async fn check_reset(&self, uid: &str, token: &str) -> Result<User, AccountError> {
        let services = self.services;
        let id = base36::decode(uid)
            .and_then(|pk| i64::try_from(pk).ok())
            .ok_or(AccountError::InvalidUid)?;
        let user = self
            .flows
            .store
            .user_by_id(id)
            .await?
            .ok_or(AccountError::InvalidUid)?;
        let now = self.flows.clock.now();
        if reset_token_valid(&*services.store, services, &user, token, now).await? {
            Ok(user)
        } else {
            Err(AccountError::InvalidToken)
        }
    }

    /// Set the new password (validated) if the token still holds; the token dies with it (a
    /// concurrent reset with the same token loses: `InvalidToken`). The user's older refresh
    /// tokens are refused from then on.
    pub async fn reset_password(
        &self,
        uid: &str,
        token: &str,
        new_password: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Result<User, AccountError> {
        let user = self.check_reset(uid, token).await?;
        let encoded = self.passwords.make(new_password).await?;
        if !self
            .flows
            .store
            .replace_password(user.id, &user.password, &encoded)
            .await?
        {
            return Err(AccountError::InvalidToken);
        }
        let now = self.flows.clock.now();
        audit::record(
            Event::PasswordReset,
            Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                client,
                ..Subject::default()
            },
        );
        self.revoke_after_password(&user, encoded.clone(), now, client, "password_reset")
            .await?;
        Ok(User {
            password: encoded,
            ..user
        })
    }
}

/// allauth's `_make_hash_value` reads: `sync_user_email_address(user)` first (a row for the
/// user's email when it has none), then the user's addresses.
async fn token_user_addresses(store: &dyn Store, user: &User) -> Result<Vec<String>, StorageError> {
    let email = user.email.as_deref().unwrap_or_default().to_lowercase();
    if !email.is_empty() {
        store.ensure_email_address(user.id, &email).await?;
    }
    Ok(store
        .email_addresses_of(user.id)
        .await?
        .into_iter()
        .map(|a| a.email)
        .collect())
}

fn token_user<'a>(user: &'a User, addresses: &'a [String]) -> ResetTokenUser<'a> {
    ResetTokenUser {
        id: user.id,
        password: &user.password,
        last_login: user.last_login,
        email: user.email.as_deref().unwrap_or_default(),
        addresses,
    }
}

async fn reset_token_valid(
    store: &dyn Store,
    services: &AccountServices,
    user: &User,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StorageError> {
    let addresses = token_user_addresses(store, user).await?;
    let tokens = ResetTokens {
        keys: &services.keys,
        timeout: services.settings.reset_timeout,
    };
    Ok(tokens.check(&token_user(user, &addresses), token, now))
}

/// `AllAuthPasswordResetForm.save`: one email per active user matching the address, to the
/// address lower-cased (allauth's form `EmailField` lower-cases what it cleans).
async fn send_resets(
    services: &Arc<AccountServices>,
    email: &str,
    origin: &str,
) -> Result<(), AccountError> {
    let store = &*services.store;
    let email = email.to_lowercase();
    // dj-rest-auth: `filter_users_by_email(email, is_active=True)`, without prefer_verified.
    let users = store.users_by_email_address(&email, false).await?;
    for user in users.into_iter().filter(|u| u.is_active) {
        let addresses = token_user_addresses(store, &user).await?;
        let now = services.clock.now();
        let tokens = ResetTokens {
            keys: &services.keys,
            timeout: services.settings.reset_timeout,
        };
        let token = tokens.make(&token_user(&user, &addresses), now);
        let uid = base36::encode(u128::from(user.id.unsigned_abs()));
        let link = match &services.settings.reset_confirm_url {
            Some(template) => template.replace("{uid}", &uid).replace("{token}", &token),
            None => format!(
                "{}/password-reset/confirm/{uid}/{token}/",
                super::origin(origin)
            ),
        };
        let methods = services.settings.login_methods;
        let context = AccountEmailContext {
            site_name: services.settings.site_name.clone(),
            site_domain: services.settings.site_domain.clone(),
            // allauth names the username unless email is the only login method.
            username: (methods.username).then(|| user.username.clone()),
            link,
            key: token,
            uid: Some(uid),
        };
        if let Err(e) = services
            .mail
            .send(AccountEmail::PasswordReset, &email, &context)
            .await
        {
            tracing::error!(user_id = user.id, error = %e, "reset email not accepted");
        }
    }
    Ok(())
}
