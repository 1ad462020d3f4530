//! Login attempt counters on PostgreSQL: each operation is one statement. `INSERT ... ON CONFLICT
//! DO UPDATE` takes the row lock, so concurrent attempts on one key are applied one after the
//! other, each to the row the previous one committed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::PostgresStore;
use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result, StorageError};

const COUNT_SQL: &str =
    "INSERT INTO \"authbridge_login_attempt\" (\"key\", \"attempts\", \"reset_at\") \
     VALUES ($1, 1, $2) ON CONFLICT (\"key\") DO UPDATE SET \
     \"attempts\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= $3 THEN 1 \
         ELSE \"authbridge_login_attempt\".\"attempts\" + 1 END, \
     \"reset_at\" = CASE WHEN \"authbridge_login_attempt\".\"reset_at\" <= $3 \
         OR \"authbridge_login_attempt\".\"attempts\" + 1 = $4 THEN $2 \
         ELSE \"authbridge_login_attempt\".\"reset_at\" END \
     RETURNING \"attempts\", \"reset_at\"";

fn from_millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StorageError::Schema(format!("reset_at out of range: {ms}")))
}

#[async_trait]
impl LoginAttemptRepository for PostgresStore {
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount> {
        let row = sqlx::query(COUNT_SQL)
            .bind(key)
            .bind((now + rule.period).timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(rule.limit)
            .fetch_one(&self.pool)
            .await?;
        Ok(AttemptCount {
            attempts: row.try_get("attempts")?,
            reset_at: from_millis(row.try_get("reset_at")?)?,
        })
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        sqlx::query(
            "UPDATE \"authbridge_login_attempt\" SET \"attempts\" = \"attempts\" - 1 \
             WHERE \"key\" = $1 AND \"attempts\" > 0",
        )
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM \"authbridge_login_attempt\" WHERE \"key\" = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM \"authbridge_login_attempt\" WHERE \"reset_at\" <= $1")
            .bind(now.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
