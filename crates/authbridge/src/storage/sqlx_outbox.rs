//! The email outbox on the two sqlx backends, written once: `sqlx_outbox!` expands it in
//! `sqlite.rs` and `postgres.rs` with that backend's connection, row, `codec` and row-lock clause
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers on several instances pass each
//! other's rows; nothing on SQLite, whose claims run one at a time on its single writer).

use super::{OutboxState, Result, StorageError};
use crate::mail::{EmailTemplate, OutgoingEmail};

pub(crate) const COLUMNS: &str = "\"id\", \"to_address\", \"from_address\", \"subject\", \
     \"body_text\", \"body_html\", \"template\", \"state\", \"attempts\", \"next_attempt_at\", \
     \"claimed_by\", \"last_error\", \"created_at\", \"sent_at\"";

/// The longest `last_error` kept (a transport's message, cut on a character boundary).
pub(crate) const MAX_ERROR_LEN: usize = 500;

pub(crate) fn state(text: &str) -> Result<OutboxState> {
    OutboxState::parse(text)
        .ok_or_else(|| StorageError::Schema(format!("unknown outbox state {text:?}")))
}

pub(crate) fn template(name: &str) -> Result<EmailTemplate> {
    EmailTemplate::from_name(name)
        .ok_or_else(|| StorageError::Schema(format!("unknown email template {name:?}")))
}

pub(crate) fn cut_error(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_LEN) {
        Some((at, _)) => error[..at].to_string(),
        None => error.to_string(),
    }
}

pub(crate) fn email(
    to: String,
    from: String,
    subject: String,
    text: String,
    html: Option<String>,
    template_name: &str,
) -> Result<OutgoingEmail> {
    Ok(OutgoingEmail {
        to,
        from,
        subject,
        text,
        html,
        template: template(template_name)?,
    })
}

macro_rules! sqlx_outbox {
    (store: $store:ty, row: $row:ty, lock: $lock:literal $(,)?) => {
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;
        use $crate::mail::OutgoingEmail;
        use $crate::storage::sqlx_outbox as shared;
        use $crate::storage::sqlx_store::Commit;
        use $crate::storage::{OutboxEntry, Result};

        fn entry(row: &$row) -> Result<OutboxEntry> {
            Ok(OutboxEntry {
                id: codec::id(row, "id")?,
                email: shared::email(
                    row.try_get("to_address")?,
                    row.try_get("from_address")?,
                    row.try_get("subject")?,
                    row.try_get("body_text")?,
                    row.try_get("body_html")?,
                    &row.try_get::<String, _>("template")?,
                )?,
                state: shared::state(&row.try_get::<String, _>("state")?)?,
                attempts: row.try_get("attempts")?,
                next_attempt_at: codec::time(row, "next_attempt_at")?,
                claimed_by: row.try_get("claimed_by")?,
                last_error: row.try_get("last_error")?,
                created_at: codec::time(row, "created_at")?,
                sent_at: codec::opt_time(row, "sent_at")?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::storage::OutboxRepository for $store {
            async fn enqueue_email(&self, email: &OutgoingEmail, now: DateTime<Utc>) -> Result<i64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let row = sqlx::query(
                    "INSERT INTO \"authbridge_email_outbox\" (\"to_address\", \"from_address\", \
                     \"subject\", \"body_text\", \"body_html\", \"template\", \"state\", \
                     \"attempts\", \"next_attempt_at\", \"created_at\") \
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) RETURNING \"id\"",
                )
                .bind(&email.to)
                .bind(&email.from)
                .bind(&email.subject)
                .bind(&email.text)
                .bind(email.html.as_deref())
                .bind(email.template.name())
                .bind(codec::encode(now))
                .fetch_one(&mut *tx)
                .await?;
                let id = codec::id(&row, "id")?;
                Commit::commit(tx).await?;
                Ok(id)
            }

            async fn claim_due_emails(
                &self,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: i64,
                worker: &str,
            ) -> Result<Vec<OutboxEntry>> {
                let (_writer, mut tx) = self.begin_write().await?;
                let rows = sqlx::query(&format!(
                    "UPDATE \"authbridge_email_outbox\" SET \"attempts\" = \"attempts\" + 1, \
                     \"next_attempt_at\" = $2, \"claimed_by\" = $4 \
                     WHERE \"id\" IN (SELECT \"id\" FROM \"authbridge_email_outbox\" \
                     WHERE \"state\" = 'pending' AND \"next_attempt_at\" <= $1 \
                     ORDER BY \"next_attempt_at\", \"id\" LIMIT $3{}) \
                     RETURNING {}",
                    $lock,
                    shared::COLUMNS
                ))
                .bind(codec::encode(now))
                .bind(codec::encode(lease_until))
                .bind(limit)
                .bind(worker)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                let mut claimed = rows.iter().map(entry).collect::<Result<Vec<_>>>()?;
                claimed.sort_by_key(|e| e.id);
                Ok(claimed)
            }

            async fn mark_email_sent(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "UPDATE \"authbridge_email_outbox\" SET \"state\" = 'sent', \"sent_at\" = $2, \
                     \"last_error\" = NULL WHERE \"id\" = $1 AND \"state\" = 'pending'",
                )
                .bind(id)
                .bind(codec::encode(now))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mark_email_failed(
                &self,
                id: i64,
                retry_at: Option<DateTime<Utc>>,
                error: &str,
            ) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = match retry_at {
                    Some(at) => sqlx::query(
                        "UPDATE \"authbridge_email_outbox\" SET \"next_attempt_at\" = $2, \
                         \"last_error\" = $3 WHERE \"id\" = $1 AND \"state\" = 'pending'",
                    )
                    .bind(id)
                    .bind(codec::encode(at))
                    .bind(shared::cut_error(error))
                    .execute(&mut *tx)
                    .await?,
                    None => sqlx::query(
                        "UPDATE \"authbridge_email_outbox\" SET \"state\" = 'dead', \
                         \"last_error\" = $2 WHERE \"id\" = $1 AND \"state\" = 'pending'",
                    )
                    .bind(id)
                    .bind(shared::cut_error(error))
                    .execute(&mut *tx)
                    .await?,
                };
                Commit::commit(tx).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn list_outbox(&self, all: bool, limit: i64) -> Result<Vec<OutboxEntry>> {
                let filter = if all {
                    ""
                } else {
                    "WHERE \"state\" <> 'sent' "
                };
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM \"authbridge_email_outbox\" {filter}ORDER BY \"id\" LIMIT $1",
                    shared::COLUMNS
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(entry).collect()
            }

            async fn retry_email(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "UPDATE \"authbridge_email_outbox\" SET \"state\" = 'pending', \
                     \"attempts\" = 0, \"next_attempt_at\" = $2 \
                     WHERE \"id\" = $1 AND \"state\" = 'dead'",
                )
                .bind(id)
                .bind(codec::encode(now))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn prune_sent_emails(&self, before: DateTime<Utc>) -> Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "DELETE FROM \"authbridge_email_outbox\" \
                     WHERE \"state\" = 'sent' AND \"sent_at\" < $1",
                )
                .bind(codec::encode(before))
                .execute(&mut *tx)
                .await?;
                Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use sqlx_outbox;
