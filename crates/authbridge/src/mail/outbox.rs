//! The outbox worker: claims due emails in small batches, sends each through a
//! [`Mailer`], marks it sent, or schedules the next attempt with exponential backoff and jitter;
//! after `AUTHBRIDGE_OUTBOX_MAX_ATTEMPTS` the row is marked dead (kept, shown by
//! `authbridge outbox`, sent again after `authbridge outbox retry <id>`). Woken by each
//! `Mail::send` and by a periodic poll; sent rows are pruned after the retention period.
//!
//! Several instances on one PostgreSQL share the table: a claim leases its rows (see
//! `storage::OutboxRepository`), so each email is sent by one worker. The guarantee is
//! at-least-once, not exactly-once: an email goes out twice only when a worker hands it to the
//! mail server and then cannot record that it did (it crashed, the database failed, or the send
//! outlived its time budget after the server had accepted it); the lease then ends and another
//! attempt sends it again. A worker never starts a send that could outlive its lease.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, Notify};

use super::transport::Mailer;
use super::MailError;
use crate::clock::DynClock;
use crate::config::EmailSettings;
use crate::random::DynRandom;
use crate::storage::{OutboxEntry, OutboxRepository};

/// How the worker retries, batches, leases and prunes (from the `AUTHBRIDGE_OUTBOX_*` settings).
#[derive(Debug, Clone)]
pub struct OutboxPolicy {
    pub max_attempts: i64,
    pub retry_base: chrono::Duration,
    pub retry_max: chrono::Duration,
    pub poll: Duration,
    pub batch: i64,
    pub lease: chrono::Duration,
    pub retention: chrono::Duration,
    /// The most one send may take, all commands included (three times `EMAIL_TIMEOUT`).
    pub send_timeout: Duration,
}

impl From<&EmailSettings> for OutboxPolicy {
    fn from(s: &EmailSettings) -> Self {
        Self {
            max_attempts: s.max_attempts,
            retry_base: chrono::Duration::seconds(s.retry_base_secs),
            retry_max: chrono::Duration::seconds(s.retry_max_secs),
            poll: Duration::from_secs(s.poll_secs.unsigned_abs()),
            batch: s.batch,
            lease: chrono::Duration::seconds(s.lease_secs),
            retention: chrono::Duration::seconds(s.retention_secs),
            send_timeout: Duration::from_secs(s.timeout_secs.saturating_mul(3)),
        }
    }
}

impl Default for OutboxPolicy {
    fn default() -> Self {
        Self::from(&EmailSettings::default())
    }
}

/// The delay before attempt `attempts + 1`, after `attempts` failures: `retry_base` doubled per
/// failure, capped at `retry_max`, then drawn uniformly from its upper half (so that emails that
/// failed together do not all come back at once).
pub fn retry_delay(
    attempts: i64,
    policy: &OutboxPolicy,
    random: &dyn crate::random::Random,
) -> chrono::Duration {
    let base = policy.retry_base.num_milliseconds().max(1);
    let cap = policy.retry_max.num_milliseconds().max(base);
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
    let full = base.saturating_mul(1_i64 << doublings).min(cap);
    let jittered = random.rng().random_range(full / 2..=full);
    chrono::Duration::milliseconds(jittered)
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    /// Failed for the last time, or could never be sent.
    pub dead: usize,
    /// Claimed but not attempted (shutting down, or too little lease left): due again at once.
    pub released: usize,
}

pub struct OutboxWorker {
    outbox: Arc<dyn OutboxRepository>,
    mailer: Arc<dyn Mailer>,
    clock: DynClock,
    random: DynRandom,
    policy: OutboxPolicy,
    id: String,
    wake: Arc<Notify>,
}

impl OutboxWorker {
    /// `wake` is `Mail::wake_handle()`: each queued email wakes the worker.
    pub fn new(
        outbox: Arc<dyn OutboxRepository>,
        mailer: Arc<dyn Mailer>,
        clock: DynClock,
        random: DynRandom,
        policy: OutboxPolicy,
        wake: Arc<Notify>,
    ) -> Self {
        let mut tag = [0u8; 6];
        random.fill_bytes(&mut tag);
        let id = format!("{}-{}", std::process::id(), hex::encode(tag));
        Self {
            outbox,
            mailer,
            clock,
            random,
            policy,
            id,
            wake,
        }
    }

    /// This worker's name in `claimed_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claim one batch and send it. `stop` is checked between two emails: the rest of the batch
    /// is released, due at once, for the next worker.
    pub async fn run_once(&self, stop: &watch::Receiver<bool>) -> Result<Pass, MailError> {
        let now = self.clock.now();
        let lease_until = now + self.policy.lease;
        let claimed = self
            .outbox
            .claim_due_emails(now, lease_until, self.policy.batch, &self.id)
            .await?;
        let mut pass = Pass {
            claimed: claimed.len(),
            ..Pass::default()
        };
        let budget =
            chrono::Duration::from_std(self.policy.send_timeout).unwrap_or(chrono::Duration::MAX);
        for entry in claimed {
            let late = self.clock.now() + budget >= lease_until;
            if *stop.borrow() || late {
                let reason = if late {
                    "not attempted: the lease was running out"
                } else {
                    "not attempted: shutting down"
                };
                self.outbox
                    .mark_email_failed(entry.id, Some(self.clock.now()), reason)
                    .await?;
                pass.released += 1;
                continue;
            }
            self.attempt(&entry, &mut pass).await?;
        }
        Ok(pass)
    }

    async fn attempt(&self, entry: &OutboxEntry, pass: &mut Pass) -> Result<(), MailError> {
        if entry.attempts > self.policy.max_attempts {
            // Claimed again and again without an outcome (workers dying mid-send).
            self.give_up(entry, "gave up: too many attempts without an outcome", pass)
                .await?;
            return Ok(());
        }
        let result =
            match tokio::time::timeout(self.policy.send_timeout, self.mailer.deliver(&entry.email))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(MailError::Transport(format!(
                    "no outcome within {} s",
                    self.policy.send_timeout.as_secs()
                ))),
            };
        match result {
            Ok(()) => {
                self.outbox
                    .mark_email_sent(entry.id, self.clock.now())
                    .await?;
                tracing::info!(
                    id = entry.id,
                    template = entry.email.template.name(),
                    attempts = entry.attempts,
                    "email sent"
                );
                metrics::counter!("authbridge_email_outbox_total", "outcome" => "sent")
                    .increment(1);
                pass.sent += 1;
            }
            Err(error @ MailError::InvalidAddress(_)) => {
                self.give_up(entry, &error.to_string(), pass).await?;
            }
            Err(error) if entry.attempts >= self.policy.max_attempts => {
                self.give_up(entry, &error.to_string(), pass).await?;
            }
            Err(error) => {
                let delay = retry_delay(entry.attempts, &self.policy, &*self.random);
                let retry_at = self.clock.now() + delay;
                self.outbox
                    .mark_email_failed(entry.id, Some(retry_at), &error.to_string())
                    .await?;
                tracing::warn!(
                    id = entry.id,
                    attempts = entry.attempts,
                    retry_in_secs = delay.num_seconds(),
                    %error,
                    "email not sent; will retry"
                );
                metrics::counter!("authbridge_email_outbox_total", "outcome" => "retried")
                    .increment(1);
                pass.retried += 1;
            }
        }
        Ok(())
    }

    async fn give_up(
        &self,
        entry: &OutboxEntry,
        error: &str,
        pass: &mut Pass,
    ) -> Result<(), MailError> {
        self.outbox.mark_email_failed(entry.id, None, error).await?;
        tracing::error!(
            id = entry.id,
            attempts = entry.attempts,
            error,
            "email given up (dead): `authbridge outbox retry {}` sends it again",
            entry.id
        );
        metrics::counter!("authbridge_email_outbox_total", "outcome" => "dead").increment(1);
        pass.dead += 1;
        Ok(())
    }

    /// Delete the rows sent longer ago than the retention period.
    pub async fn prune(&self) -> Result<u64, MailError> {
        let before = self.clock.now() - self.policy.retention;
        Ok(self.outbox.prune_sent_emails(before).await?)
    }

    /// Send until `shutdown` turns true: drain what is due, then wait for a wake-up or the poll
    /// interval. Errors (a database that is down) are logged and retried at the next poll.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        const PRUNE_EVERY: Duration = Duration::from_secs(3600);
        let mut last_prune: Option<tokio::time::Instant> = None;
        tracing::debug!(worker = %self.id, "outbox worker started");
        loop {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                match self.run_once(&shutdown).await {
                    Ok(pass) if pass.claimed as i64 == self.policy.batch && pass.released == 0 => {}
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, "outbox: cannot claim or record emails");
                        break;
                    }
                }
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(tokio::time::Instant::now());
                match self.prune().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "outbox: pruned sent emails"),
                    Err(error) => tracing::warn!(%error, "outbox: cannot prune"),
                }
            }
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.policy.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::debug!(worker = %self.id, "outbox worker stopped");
    }
}

/// Starts the worker on a task of its own; send `true` on the returned channel to stop it, then
/// await the handle.
pub fn spawn(worker: OutboxWorker) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(worker.run(stopped)))
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
