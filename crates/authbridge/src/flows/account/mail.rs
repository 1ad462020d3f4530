//! The emails the account flows send, through the mail service (branch `mail`'s `Mail::send`,
//! which stores each message in the durable outbox before it answers). The flows see only this
//! trait; `app.rs` gives them the real mailer.

use async_trait::async_trait;

/// allauth's templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountEmail {
    /// `account/email/email_confirmation_signup` (at sign-up).
    ConfirmationSignup,
    /// `account/email/email_confirmation` (resend).
    Confirmation,
    /// `account/email/password_reset_key`.
    PasswordReset,
}

/// What the templates read (allauth's context names in the comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEmailContext {
    /// `current_site.name`: subject prefix `[<site_name>] `, greeting, signature.
    pub site_name: String,
    /// `current_site.domain`.
    pub site_domain: String,
    /// `user_display(user)` / `username`: the user's username. For a reset, `None` when the only
    /// login method is email (allauth then leaves it out of the email).
    pub username: Option<String>,
    /// `activate_url` (confirmation) or `password_reset_url` (reset).
    pub link: String,
    /// The confirmation key, or the reset token.
    pub key: String,
    /// The reset link's uid (`None` for a confirmation).
    pub uid: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

#[async_trait]
pub trait AccountMailer: Send + Sync {
    /// Accept one message for `to` (stored for delivery; it need not be delivered yet).
    async fn send(
        &self,
        email: AccountEmail,
        to: &str,
        context: &AccountEmailContext,
    ) -> Result<(), MailError>;
}

/// A mailer that keeps what it was given (tests, and a server without mail configured logs).
#[derive(Default)]
pub struct RecordingMailer {
    sent: std::sync::Mutex<Vec<(AccountEmail, String, AccountEmailContext)>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<(AccountEmail, String, AccountEmailContext)> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl AccountMailer for RecordingMailer {
    async fn send(
        &self,
        email: AccountEmail,
        to: &str,
        context: &AccountEmailContext,
    ) -> Result<(), MailError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((email, to.to_string(), context.clone()));
        }
        Ok(())
    }
}

/// The mail service (`crate::mail::Mail`): allauth's templates, queued in the durable outbox.
#[async_trait]
impl AccountMailer for crate::mail::Mail {
    async fn send(
        &self,
        email: AccountEmail,
        to: &str,
        context: &AccountEmailContext,
    ) -> Result<(), MailError> {
        use crate::mail::{EmailContext, EmailTemplate};
        let template = match email {
            AccountEmail::ConfirmationSignup => EmailTemplate::EmailConfirmationSignup,
            AccountEmail::Confirmation => EmailTemplate::EmailConfirmation,
            AccountEmail::PasswordReset => EmailTemplate::PasswordResetKey,
        };
        let ctx = EmailContext {
            site_name: context.site_name.clone(),
            site_domain: context.site_domain.clone(),
            username: context.username.clone().unwrap_or_default(),
            email: to.to_string(),
            link: context.link.clone(),
        };
        crate::mail::Mail::send(self, template, to, &ctx)
            .await
            .map_err(|e| MailError(e.to_string()))
    }
}
