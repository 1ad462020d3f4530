//! The one error type of the mail subsystem.

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template failed to load, parse or render (found at start-up: every template is rendered
    /// once with a sample context before the server listens).
    #[error("email template {name}: {reason}")]
    Template { name: String, reason: String },
    /// An address that cannot be put in a header as it is (no `@`, a line break, too long).
    #[error("invalid email address: {0}")]
    InvalidAddress(String),
    /// A mail setting that cannot work (`EMAIL_USE_TLS` with `EMAIL_USE_SSL`, an unknown
    /// `EMAIL_BACKEND`, ...).
    #[error("email settings: {0}")]
    Config(String),
    /// The transport refused or failed to deliver (the outbox retries later). Never holds the
    /// message's body nor the SMTP password.
    #[error("delivery failed: {0}")]
    Transport(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}
