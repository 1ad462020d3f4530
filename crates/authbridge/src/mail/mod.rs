//! Email, for real: allauth's account emails rendered from templates (`templates`), kept in a
//! durable outbox in the database (`storage::OutboxRepository`) and sent by a worker
//! (`outbox`) through a transport (`transport`: SMTP with Django's settings, or the console).
//!
//! A caller only calls [`Mail::send`]: the email is rendered, written to the outbox and the worker
//! is woken; the caller's request succeeds even when the mail server is down, and the worker
//! retries with backoff. No HTTP and no SQL here.

mod error;
mod message;
pub mod outbox;
mod templates;
pub mod transport;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::DynClock;
use crate::storage::OutboxRepository;

pub use error::MailError;
pub use message::{check_address, check_mailbox, one_line_subject, OutgoingEmail};
pub use templates::{EmailContext, EmailTemplate, Templates};

/// Renders and queues emails. Built once at start (`app.rs`), shared as `Arc<Mail>` in the
/// application state.
pub struct Mail {
    templates: Templates,
    from: String,
    outbox: Arc<dyn OutboxRepository>,
    clock: DynClock,
    wake: Arc<Notify>,
}

impl Mail {
    /// `from` is `DEFAULT_FROM_EMAIL` (`addr` or `Name <addr>`), checked here.
    pub fn new(
        templates: Templates,
        from: impl Into<String>,
        outbox: Arc<dyn OutboxRepository>,
        clock: DynClock,
    ) -> Result<Self, MailError> {
        let from = from.into();
        check_mailbox(&from)?;
        Ok(Self {
            templates,
            from,
            outbox,
            clock,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Render `template` for `to` and queue it durably; the worker sends it. Fails only when the
    /// address is refused (a line break, no `@`: nothing is queued) or the database cannot store
    /// it; a mail server that is down is not an error here.
    pub async fn send(
        &self,
        template: EmailTemplate,
        to: &str,
        ctx: &EmailContext,
    ) -> Result<(), MailError> {
        let email = self.render(template, to, ctx)?;
        let id = self.outbox.enqueue_email(&email, self.clock.now()).await?;
        tracing::info!(id, template = template.name(), "email queued");
        self.wake.notify_one();
        Ok(())
    }

    /// The email `send` would queue (for tests and previews).
    pub fn render(
        &self,
        template: EmailTemplate,
        to: &str,
        ctx: &EmailContext,
    ) -> Result<OutgoingEmail, MailError> {
        self.templates.render(template, to, &self.from, ctx)
    }

    /// `DEFAULT_FROM_EMAIL`.
    pub fn from_address(&self) -> &str {
        &self.from
    }

    /// The notification the outbox worker waits on (one per `send`).
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}
