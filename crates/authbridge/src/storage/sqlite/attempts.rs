//! Login attempt counters on SQLite: each operation is one statement inside a `BEGIN IMMEDIATE`
//! transaction, so concurrent attempts are serialized by SQLite's write lock and each sees the
//! count the previous one left.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::SqliteStore;
use crate::storage::attempts as statements;
use crate::storage::{AttemptCount, AttemptRule, LoginAttemptRepository, Result};

fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
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
        let row = sqlx::query(statements::COUNT)
            .bind(key)
            .bind(to_millis(now + rule.period))
            .bind(to_millis(now))
            .bind(rule.limit)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptCount {
            attempts: row.try_get("attempts")?,
            reset_at: statements::from_millis(row.try_get("reset_at")?)?,
        })
    }

    async fn uncount_attempt(&self, key: &str) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(statements::UNCOUNT)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_attempts(&self, key: &str) -> Result<()> {
        let (_guard, mut tx) = self.begin_write().await?;
        sqlx::query(statements::CLEAR)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64> {
        let (_guard, mut tx) = self.begin_write().await?;
        let done = sqlx::query(statements::PURGE)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
