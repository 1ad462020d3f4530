//! Sign-up: dj-rest-auth's `RegisterView` with allauth's `RegisterSerializer.save` and
//! `complete_signup`: the user and its address row in one transaction, a pair issued before the
//! confirmation email in optional/none mode (`jwt_encode`), then the email (with allauth's
//! cooldown per lower-cased address) and the login (`last_login`).

use std::net::IpAddr;
use zeroize::Zeroizing;

use super::mail::{AccountEmail, AccountEmailContext};
use super::{AccountError, AccountFlows, AccountServices};
use crate::account_tokens::confirmation_key;
use crate::audit::{self, Event, Subject};
use crate::config::EmailVerification;
use crate::flows::TokenPair;
use crate::limits::AccountAction;
use crate::model::{EmailAddress, NewUser, SignupOutcome, User};

/// The database checks among the sign-up's field errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignupChecks {
    /// `{"username":["A user with that username already exists."]}` (iexact).
    pub username_taken: bool,
    /// `{"email":["User is already registered with this e-mail address."]}` (a verified row,
    /// iexact).
    pub email_registered: bool,
}

/// A sign-up whose fields passed every validator (including the similarity check).
pub struct NewAccount {
    /// As typed (allauth preserves the case).
    pub username: String,
    /// As typed; stored lower-cased and cut to 254 characters (allauth's `user_email`).
    pub email: String,
    pub password: Zeroizing<String>,
    /// The serializer's email validator (Django's `EmailValidator`), which allauth's
    /// `setup_user_email` runs again on the stored (lower-cased, cut) address.
    pub is_valid_email: fn(&str) -> bool,
}

/// `auth_user.email`'s `max_length`: allauth's `user_field` cuts the value to it.
const EMAIL_MAX_CHARS: usize = 254;

/// allauth's `user_email(user, email)`: lower-cased, then cut to the column's length in
/// characters (Python's slicing).
pub(super) fn stored_email(email: &str) -> String {
    email.to_lowercase().chars().take(EMAIL_MAX_CHARS).collect()
}

/// What sign-up answers.
#[derive(Debug)]
pub enum Registered {
    /// Mandatory verification: 201 `{"detail":"Verification e-mail sent."}`.
    VerificationSent { user: User },
    /// Optional or none: 201 `{"access","refresh","user"}`.
    LoggedIn { user: User, tokens: TokenPair },
}

impl AccountFlows<'_> {
    /// Count a sign-up attempt (per email address and per client) and answer the field checks
    /// that need the database. Call once the body is parsed, before reporting field errors:
    /// `Throttled` first, as DRF's throttles run before validation.
    pub async fn signup_checks(
        &self,
        username: Option<&str>,
        email: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<SignupChecks, AccountError> {
        self.admit(AccountAction::Signup, email, client).await?;
        let store = self.flows.store;
        let username_taken = match username.filter(|u| !u.is_empty()) {
            Some(u) => !store.users_by_username_iexact(u).await?.is_empty(),
            None => false,
        };
        let email_registered = match email.filter(|e| !e.is_empty()) {
            Some(e) => store.verified_email_exists(e).await?,
            None => false,
        };
        Ok(SignupChecks {
            username_taken,
            email_registered,
        })
    }

    /// Create the user and its address row in one transaction (re-checking both uniqueness
    /// rules), send the confirmation email (cooldown per lower-cased address) unless
    /// verification is `none`, and in optional/none mode issue a pair and log the user in.
    /// `origin` is the request's scheme and host, for the default link.
    pub async fn register(
        &self,
        account: NewAccount,
        origin: &str,
        client: Option<IpAddr>,
    ) -> Result<Registered, AccountError> {
        let encoded = self.passwords.make(account.password).await?;
        let email = stored_email(&account.email);
        let new_user = NewUser {
            username: account.username,
            password: encoded,
            email: email.clone(),
            is_active: true,
            ..NewUser::default()
        };
        let now = self.flows.clock.now();
        // setup_user_email's candidate: `valid_email_or_none(user.email)`.
        let candidate = (!email.is_empty() && (account.is_valid_email)(&email)).then_some(&*email);
        let (mut user, address) = match self
            .flows
            .store
            .create_user_with_email(&new_user, candidate, now)
            .await?
        {
            SignupOutcome::Created { user, address } => (*user, address),
            SignupOutcome::UsernameTaken => return Err(AccountError::UsernameTaken),
            SignupOutcome::EmailRegistered => return Err(AccountError::EmailRegistered),
        };
        audit::record(
            Event::Signup,
            Subject {
                username: Some(&user.username),
                user_id: Some(user.id),
                client,
                ..Subject::default()
            },
        );
        let verification = self.settings().email_verification;
        let tokens = if verification == EmailVerification::Mandatory {
            None
        } else {
            Some(self.flows.issue_pair(&user, None).await?)
        };
        if verification != EmailVerification::None {
            // No row from setup_user_email: the login's `get_address_for_user` syncs one
            // (`sync_user_email_address`: verified 0, primary 0).
            let address = match address {
                Some(address) => Some(address),
                None if !email.is_empty() => {
                    let store = self.flows.store;
                    store.ensure_email_address(user.id, &email).await?;
                    store
                        .email_addresses_of(user.id)
                        .await?
                        .into_iter()
                        .find(|a| a.email == email)
                }
                None => None,
            };
            let services = self.services;
            if let Some(address) = address {
                if services
                    .limits
                    .confirmation_may_send(&address.email, now)
                    .await?
                {
                    send_confirmation(services, &user, &address, origin, true).await;
                } else {
                    tracing::debug!(user_id = user.id, "confirmation email in its cooldown");
                }
            }
        }
        Ok(match tokens {
            None => Registered::VerificationSent { user },
            Some(tokens) => {
                // complete_signup logs the new user in.
                self.flows.store.set_last_login(user.id, now).await?;
                user.last_login = Some(now);
                Registered::LoggedIn { user, tokens }
            }
        })
    }
}

/// allauth's `send_confirmation_mail` for `address` of `user`; a mail service that cannot take
/// the message is logged, never the caller's failure (the user can ask for a resend).
pub(super) async fn send_confirmation(
    services: &AccountServices,
    user: &User,
    address: &EmailAddress,
    origin: &str,
    signup: bool,
) {
    let now = services.clock.now();
    let key = confirmation_key(address.id, &services.keys, now.timestamp());
    let link = match &services.settings.confirmation_url {
        Some(template) => template.replace("{key}", &key),
        None => format!(
            "{}/api/auth/registration/account-confirm-email/{key}/",
            super::origin(origin)
        ),
    };
    let context = AccountEmailContext {
        site_name: services.settings.site_name.clone(),
        site_domain: services.settings.site_domain.clone(),
        username: Some(user.username.clone()),
        link,
        key,
        uid: None,
    };
    let email = if signup {
        AccountEmail::ConfirmationSignup
    } else {
        AccountEmail::Confirmation
    };
    if let Err(e) = services.mail.send(email, &address.email, &context).await {
        tracing::error!(user_id = user.id, error = %e, "confirmation email not accepted");
    }
}
