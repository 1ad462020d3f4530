//! How an email leaves: the [`Mailer`] trait and its transports (SMTP with Django's settings, the
//! console for development).

use async_trait::async_trait;

use super::{MailError, OutgoingEmail};

/// Sends one email. An `Err` means "not delivered, try again later"; its text is kept in the
/// outbox, so it never holds the body or a secret.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn deliver(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}
