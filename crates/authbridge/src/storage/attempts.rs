//! Login attempt counters: the repository trait, and the statements both dialects run (`$N` placeholders; sqlx runs them
//! on SQLite and PostgreSQL alike). Times are Unix milliseconds on both.

use super::{AttemptCount, AttemptRule, Result, StorageError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Counts one attempt and returns the new count and reset time, in one statement (the row's old
/// values on the right-hand side of `SET`): `$1` key, `$2` new reset time, `$3` now, `$4` limit.
pub(crate) const COUNT: &str =
    "INSERT INTO \"authbridge_login_attempt\" (\"key\", \"attempts\", \"reset_at\") \
     VALUES ($1, 1, $2) ON CONFLICT (\"key\") DO UPDATE SET \
     \"attempts\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= $3 THEN 1 \
         ELSE \"authbridge_login_attempt\".\"attempts\" + 1 END, \
     \"reset_at\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= $3 \
         OR \"authbridge_login_attempt\".\"attempts\" + 1 = $4 THEN $2 \
         ELSE \"authbridge_login_attempt\".\"reset_at\" END \
     RETURNING \"attempts\", \"reset_at\"";

pub(crate) const UNCOUNT: &str =
    "UPDATE \"authbridge_login_attempt\" SET \"attempts\" = \"attempts\" - 1 \
     WHERE \"key\" = $1 AND \"attempts\" > 0";

pub(crate) const CLEAR: &str = "DELETE FROM \"authbridge_login_attempt\" WHERE \"key\" = $1";

pub(crate) const PURGE: &str = "DELETE FROM \"authbridge_login_attempt\" WHERE \"reset_at\" <= $1";

pub(crate) fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StorageError::Schema(format!("reset_at out of range: {ms}")))
}

/// Login attempt counters (`authbridge_login_attempt`), shared by every instance on the database.
/// Every method is one atomic statement: concurrent attempts each get their own, distinct count.
#[async_trait]
pub trait LoginAttemptRepository: Send + Sync {
    /// Count one attempt under `key` and return the count including it. When the period has
    /// ended the count restarts at 1 with a new period; the attempt whose count equals
    /// `rule.limit` restarts the period (the lockout starts there).
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount>;
    /// Take one attempt back (a login that succeeded, or that was never judged).
    async fn uncount_attempt(&self, key: &str) -> Result<()>;
    /// Forget the key (a successful login).
    async fn clear_attempts(&self, key: &str) -> Result<()>;
    /// Delete the counters whose period ended before `now`; returns how many.
    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// `LoginAttemptRepository` on a sqlx store: each operation is one statement, run as the store
/// runs one-statement writes (`begin_single`: SQLite's write queue and `BEGIN IMMEDIATE`, so each
/// attempt sees the count the previous one left; autocommit on PostgreSQL, where `INSERT ... ON
/// CONFLICT DO UPDATE` takes the row lock). Times are Unix milliseconds on both.
macro_rules! sqlx_attempts {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::LoginAttemptRepository for $store {
            async fn count_attempt(
                &self,
                key: &str,
                rule: $crate::storage::AttemptRule,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<$crate::storage::AttemptCount> {
                use sqlx::Row as _;
                let (_writer, mut tx) = self.begin_single().await?;
                let row = sqlx::query($crate::storage::attempts::COUNT)
                    .bind(key)
                    .bind((now + rule.period).timestamp_millis())
                    .bind(now.timestamp_millis())
                    .bind(rule.limit)
                    .fetch_one(&mut *tx)
                    .await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await?;
                Ok($crate::storage::AttemptCount {
                    attempts: row.try_get("attempts")?,
                    reset_at: $crate::storage::attempts::from_millis(row.try_get("reset_at")?)?,
                })
            }

            async fn uncount_attempt(&self, key: &str) -> $crate::storage::Result<()> {
                self.one_key(key, $crate::storage::attempts::UNCOUNT).await
            }

            async fn clear_attempts(&self, key: &str) -> $crate::storage::Result<()> {
                self.one_key(key, $crate::storage::attempts::CLEAR).await
            }

            async fn purge_attempts(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<u64> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query($crate::storage::attempts::PURGE)
                    .bind(now.timestamp_millis())
                    .execute(&mut *tx)
                    .await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await?;
                Ok(done.rows_affected())
            }
        }

        impl $store {
            /// Runs one of the statements whose only argument is the key.
            async fn one_key(&self, key: &str, sql: &'static str) -> $crate::storage::Result<()> {
                let (_writer, mut tx) = self.begin_single().await?;
                sqlx::query(sql).bind(key).execute(&mut *tx).await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await
            }
        }
    };
}

pub(crate) use sqlx_attempts;
