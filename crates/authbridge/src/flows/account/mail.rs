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

/// The mail service's template and context for an account email to `to`.
pub fn mail_context(
    email: AccountEmail,
    to: &str,
    context: &AccountEmailContext,
) -> (crate::mail::EmailTemplate, crate::mail::EmailContext) {
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
    (template, ctx)
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
        let (template, ctx) = mail_context(email, to, context);
        crate::mail::Mail::send(self, template, to, &ctx)
            .await
            .map_err(|e| MailError(e.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mail::Templates;

    /// The reset email of the recorded probe (server O, `password_reset_backend_link`), rendered
    /// from the context the reset flow builds.
    #[test]
    fn a_reset_context_renders_allauths_email() {
        let link = "http://127.0.0.1:33999/password-reset/confirm/7/ditv9b-0c6bfa1962957249d4341df49771a68b/";
        let context = AccountEmailContext {
            site_name: "example.com".into(),
            site_domain: "example.com".into(),
            username: Some("olga".into()),
            link: link.into(),
            key: "ditv9b-0c6bfa1962957249d4341df49771a68b".into(),
            uid: Some("7".into()),
        };
        let (template, ctx) =
            mail_context(AccountEmail::PasswordReset, "olga@example.com", &context);
        let email = Templates::defaults(None)
            .unwrap()
            .render(template, "olga@example.com", "noreply@example.com", &ctx)
            .unwrap();
        assert_eq!(email.subject, "[example.com] Password Reset Email");
        assert_eq!(
            email.text,
            format!(
                "Hello from example.com!\n\nYou're receiving this email because you or someone else \
                 has requested a password reset for your user account.\nIt can be safely ignored if \
                 you did not request a password reset. Click the link below to reset your \
                 password.\n\n{link}\n\nIn case you forgot, your username is olga.\n\nThank you \
                 for using example.com!\nexample.com\n"
            )
        );
    }
}
