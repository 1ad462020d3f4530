//! Login attempt counters on SQLite: each operation is one statement inside a `BEGIN IMMEDIATE`
//! transaction, so concurrent attempts are serialized by SQLite's write lock and each sees the
//! count the previous one left.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::SqliteStore;
use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result, StorageError};

/// Counts one attempt and returns the new count and reset time, in one statement (the row's old
/// values on the right-hand side of `SET`).
const COUNT_SQL: &str =
    "INSERT INTO \"authbridge_login_attempt\" (\"key\", \"attempts\", \"reset_at\") \
     VALUES (?1, 1, ?2) ON CONFLICT (\"key\") DO UPDATE SET \
     \"attempts\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= ?3 THEN 1 \
         ELSE \"authbridge_login_attempt\".\"attempts\" + 1 END, \
     \"reset_at\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= ?3 \
         OR \"authbridge_login_attempt\".\"attempts\" + 1 = ?4 THEN ?2 \
         ELSE \"authbridge_login_attempt\".\"reset_at\" END \
     RETURNING \"attempts\", \"reset_at\"";

fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StorageError::Schema(format!("reset_at out of range: {ms}")))
}

#[async_trait]
impl LoginAttemptRepository for SqliteStore {
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount> {
        let (_guard, mut tx) = self.begin_write().await?;
        let row = sqlx::query(COUNT_SQL)
            .bind(key)
            .bind(to_millis(now + rule.period))
            .bind(to_millis(now))
            .bind(rule.limit)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptCount {
            attempts: row.try_get("attempts")?,
            reset_at: from_millis(row.try_get("reset_at")?)?,
        })
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(
            "UPDATE \"authbridge_login_attempt\" SET \"attempts\" = \"attempts\" - 1 \
             WHERE \"key\" = ?1 AND \"attempts\" > 0",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query("DELETE FROM \"authbridge_login_attempt\" WHERE \"key\" = ?1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64> {
        let (_guard, mut tx) = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM \"authbridge_login_attempt\" WHERE \"reset_at\" <= ?1")
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
