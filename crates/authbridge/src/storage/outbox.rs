//! The durable email outbox (`authbridge_email_outbox`, migration `0005_email_outbox`): an email
//! is written here in the request that causes it and sent later by `mail::outbox`'s worker, so a
//! sign-up or reset succeeds while the mail server is down.
//!
//! A row is `pending` until sent (`sent`) or given up (`dead`). A worker claims due rows with a
//! lease: the claim moves `next_attempt_at` to the lease's end and counts the attempt, so no other
//! worker (on any instance) takes the row while the lease runs, and a crashed worker's row becomes
//! due again when it ends. PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite through its one
//! writer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Result;
use crate::mail::OutgoingEmail;

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its first or next attempt (or being sent under a lease).
    Pending,
    Sent,
    /// Given up after the last attempt; `authbridge outbox retry <id>` makes it pending again.
    Dead,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [OutboxState::Pending, OutboxState::Sent, OutboxState::Dead]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One stored email and its delivery record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub email: OutgoingEmail,
    pub state: OutboxState,
    /// Attempts started (a claim counts one, whether or not it ended).
    pub attempts: i64,
    /// When the row is next due: its next attempt, or the end of the running lease.
    pub next_attempt_at: DateTime<Utc>,
    /// The worker holding (or that last held) the row.
    pub claimed_by: Option<String>,
    /// The last failure, short and without the body or any secret.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// Store an email, due at once. Returns its id.
    async fn enqueue_email(&self, email: &OutgoingEmail, now: DateTime<Utc>) -> Result<i64>;
    /// Claim up to `limit` pending rows due at `now` (oldest due first) for `worker`: each gets
    /// `attempts + 1` and is not due again before `lease_until`. Two concurrent claimers never get
    /// the same row.
    async fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
        worker: &str,
    ) -> Result<Vec<OutboxEntry>>;
    /// Mark a pending row sent. `false` when it was not pending (already sent by a worker whose
    /// lease had expired, or retried by hand).
    async fn mark_email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Record a failed attempt: pending again at `retry_at`, or `dead` when `retry_at` is `None`.
    /// `false` when the row was not pending.
    async fn mark_email_failed(
        &self,
        id: i64,
        retry_at: Option<DateTime<Utc>>,
        error: &str,
    ) -> Result<bool>;
    /// The rows for `authbridge outbox`: pending and dead ones, or every row with `all`, oldest
    /// first, at most `limit`.
    async fn list_outbox(&self, all: bool, limit: i64) -> Result<Vec<OutboxEntry>>;
    /// A dead row pending again, due at `now`, its attempts counted from zero. `false` when no
    /// dead row has that id.
    async fn retry_email(&self, id: i64, now: DateTime<Utc>) -> Result<bool>;
    /// Delete the rows sent before `before`. Returns how many.
    async fn prune_sent_emails(&self, before: DateTime<Utc>) -> Result<u64>;
}
