//! Login attempt counters on PostgreSQL: each operation is one statement. `INSERT ... ON CONFLICT
//! DO UPDATE` takes the row lock, so concurrent attempts on one key are applied one after the
//! other, each to the row the previous one committed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::PostgresStore;
use crate::storage::attempts as statements;
use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result};

#[async_trait]
impl LoginAttemptRepository for PostgresStore {
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount> {
        let row = sqlx::query(statements::COUNT)
            .bind(key)
            .bind((now + rule.period).timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(rule.limit)
            .fetch_one(&self.pool)
            .await?;
        Ok(AttemptCount {
            attempts: row.try_get("attempts")?,
            reset_at: statements::from_millis(row.try_get("reset_at")?)?,
        })
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        sqlx::query(statements::UNCOUNT)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        sqlx::query(statements::CLEAR)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(statements::PURGE)
            .bind(now.timestamp_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
