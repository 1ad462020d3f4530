//! dj-rest-auth's `LoginView` with allauth installed: Django's `ModelBackend` (exact username),
//! then allauth's `AuthenticationBackend` (the value as an email, then as a username, iexact, one
//! match only), inactive users refused by both, the mandatory-verification check, a pair issued
//! (`jwt_encode`), then `last_login` (Django's `login()`; it also invalidates reset tokens).
//! The login throttle of `/api/token/` counts the attempt first.

use std::collections::HashMap;
use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows, MissingCredentials};
use crate::audit::{self, Event, Subject};
use crate::config::EmailVerification;
use crate::flows::TokenPair;
use crate::limits::Decision;
use crate::model::User;
use crate::passwords::PasswordError;

/// The login body: blank fields count as absent (dj-rest-auth tests truthiness).
pub struct Credentials {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Zeroizing<String>,
}

/// 200 `{"access","refresh","user"}`.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub tokens: TokenPair,
}

/// What `authenticate(**credentials)` was called with.
enum Lookup {
    Username(String),
    Email(String),
}

/// Password checks of one login, each user checked once (a second check of the same user and
/// password would give the same answer).
struct Checked {
    verdicts: HashMap<i64, bool>,
}

impl AccountFlows<'_> {
    pub async fn login(
        &self,
        credentials: Credentials,
        client: Option<IpAddr>,
    ) -> Result<LoggedIn, AccountError> {
        let methods = self.settings().login_methods;
        let username = credentials.username.filter(|u| !u.is_empty());
        let email = credentials.email.filter(|e| !e.is_empty());
        let password = credentials.password;
        let has_password = !password.is_empty();
        // `get_auth_user_using_allauth`: which fields the methods ask for.
        let lookup = match (methods.username, methods.email) {
            (false, _) => match email {
                Some(e) if has_password => Lookup::Email(e),
                _ => return Err(AccountError::MissingCredentials(MissingCredentials::Email)),
            },
            (true, false) => match username {
                Some(u) if has_password => Lookup::Username(u),
                _ => {
                    return Err(AccountError::MissingCredentials(
                        MissingCredentials::Username,
                    ))
                }
            },
            (true, true) => match (email, username) {
                (Some(e), _) if has_password => Lookup::Email(e),
                (None, Some(u)) if has_password => Lookup::Username(u),
                _ => {
                    return Err(AccountError::MissingCredentials(
                        MissingCredentials::UsernameOrEmail,
                    ))
                }
            },
        };
        let identifier = match &lookup {
            Lookup::Username(u) | Lookup::Email(u) => u.clone(),
        };
        let subject = Subject {
            username: Some(&identifier),
            client,
            ..Subject::default()
        };
        let now = self.flows.clock.now();
        let admission = match self.login_limiter.admit(&identifier, client, now).await {
            Err(e) => {
                tracing::error!(error = %e, "login limiter unavailable; login refused");
                return Err(AccountError::Busy);
            }
            Ok(Decision::Refused { scope, wait }) => {
                let event = if scope.is_lockout() {
                    Event::LoginLocked
                } else {
                    Event::LoginThrottled
                };
                audit::record(event, subject);
                return Err(AccountError::Throttled { wait });
            }
            Ok(Decision::Admitted(admission)) => admission,
        };
        let user = match self.authenticate(&lookup, &password).await {
            Ok(user) => user,
            Err(e) => {
                if let Err(undo) = self.login_limiter.abandoned(admission).await {
                    tracing::warn!("login counter not settled: {undo}");
                }
                if matches!(e, AccountError::Busy) {
                    audit::record(Event::LoginQueueFull, subject);
                }
                return Err(e);
            }
        };
        let Some(user) = user else {
            audit::record(
                Event::LoginFailed,
                Subject {
                    reason: Some("invalid_credentials"),
                    ..subject
                },
            );
            return Err(AccountError::InvalidCredentials);
        };
        if let Err(e) = self.login_limiter.succeeded(admission).await {
            tracing::warn!("login counter not cleared: {e}");
        }
        if self.settings().email_verification == EmailVerification::Mandatory {
            let email = user.email.as_deref().unwrap_or_default();
            let verified = self
                .flows
                .store
                .email_addresses_of(user.id)
                .await?
                .iter()
                .any(|a| a.verified && a.email == email);
            if !verified {
                audit::record(
                    Event::LoginFailed,
                    Subject {
                        user_id: Some(user.id),
                        reason: Some("email_not_verified"),
                        ..subject
                    },
                );
                return Err(AccountError::EmailNotVerified);
            }
        }
        let tokens = self.flows.issue_pair(&user, None).await?;
        self.flows.store.set_last_login(user.id, now).await?;
        audit::record(
            Event::LoginOk,
            Subject {
                user_id: Some(user.id),
                ..subject
            },
        );
        Ok(LoggedIn {
            user: User {
                last_login: Some(now),
                ..user
            },
            tokens,
        })
    }

    /// Django's `authenticate()` over `ModelBackend` then allauth's backend: the first active user
    /// whose password matches.
    async fn authenticate(
        &self,
        lookup: &Lookup,
        password: &Zeroizing<String>,
    ) -> Result<Option<User>, AccountError> {
        let methods = self.settings().login_methods;
        let store = self.flows.store;
        let mut checked = Checked {
            verdicts: HashMap::new(),
        };
        let mut candidates: Vec<User> = Vec::new();
        match lookup {
            Lookup::Username(username) => {
                // ModelBackend: `get_by_natural_key` (exact).
                if let Some(user) = store.user_by_username(username).await? {
                    if let Some(found) = self.try_user(&mut checked, user, password).await? {
                        return Ok(Some(found));
                    }
                }
                if methods.email {
                    candidates.extend(
                        store
                            .users_by_email_address(&username.to_lowercase(), true)
                            .await?,
                    );
                }
                if methods.username {
                    // `get_user_by_username`: one user whose username equals, ignoring case.
                    let lower = username.to_lowercase();
                    let matching: Vec<User> = store
                        .users_by_username_iexact(username)
                        .await?
                        .into_iter()
                        .filter(|u| u.username.to_lowercase() == lower)
                        .collect();
                    if matching.len() == 1 {
                        candidates.extend(matching);
                    }
                }
            }
            Lookup::Email(email) => {
                if methods.email {
                    candidates.extend(
                        store
                            .users_by_email_address(&email.to_lowercase(), true)
                            .await?,
                    );
                }
            }
        }
        for user in candidates {
            if let Some(found) = self.try_user(&mut checked, user, password).await? {
                return Ok(Some(found));
            }
        }
        if checked.verdicts.is_empty() {
            // No password was checked: hash anyway, so an unknown login takes as long.
            self.passwords
                .check(password.clone(), None)
                .await
                .map_err(AccountError::from)?;
        }
        Ok(None)
    }

    /// `check_password` then `user_can_authenticate` (active), upgrading an outdated hash as
    /// Django's `check_password` setter does.
    async fn try_user(
        &self,
        checked: &mut Checked,
        mut user: User,
        password: &Zeroizing<String>,
    ) -> Result<Option<User>, AccountError> {
        let valid = match checked.verdicts.get(&user.id) {
            Some(valid) => *valid,
            None => {
                let verdict = self
                    .passwords
                    .check(password.clone(), Some(user.password.clone()))
                    .await?;
                checked.verdicts.insert(user.id, verdict.valid);
                if verdict.valid && verdict.must_update {
                    match self.passwords.make(password.clone()).await {
                        Ok(encoded) => {
                            self.flows
                                .store
                                .upgrade_password(user.id, &user.password, &encoded)
                                .await?;
                            user.password = encoded;
                        }
                        Err(PasswordError::QueueFull) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                verdict.valid
            }
        };
        Ok((valid && user.is_active).then_some(user))
    }
}
