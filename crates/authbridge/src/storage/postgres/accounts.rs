//! External accounts linked to Django users, on PostgreSQL. Advisory locks on the account (and
//! its email) serialize concurrent syncs, so one new account creates one user; a conflict left
//! over (a user created outside a sync) retries the whole transaction.

use super::{users, PostgresStore};
use crate::storage::{
    AccountRepository, ExternalAccount, NewUser, Result, StorageError, SyncOutcome, User,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Advisory lock classes (first key); the second key hashes the account or the email.
const ACCOUNT_LOCK: i32 = 0x6162_0002;
const EMAIL_LOCK: i32 = 0x6162_0003;
const ATTEMPTS: usize = 3;

async fn lock(conn: &mut PgConnection, class: i32, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(class)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn encode_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

/// Always the account first, then the email: no two syncs wait on each other in a cycle.
async fn lock_sync(
    conn: &mut PgConnection,
    account: &ExternalAccount,
    email: Option<&str>,
) -> Result<()> {
    let account_key = format!("{}\n{}", account.provider, account.provider_account_id);
    lock(conn, ACCOUNT_LOCK, &account_key).await?;
    if let Some(email) = email {
        lock(conn, EMAIL_LOCK, &email.to_uppercase()).await?;
    }
    Ok(())
}

crate::storage::sqlx_accounts::sqlx_accounts!(
    conn: PgConnection,
    encode_time: encode_time,
    lock_sync: lock_sync,
);

#[async_trait]
impl AccountRepository for PostgresStore {
    async fn sync_account(
        &self,
        account: &ExternalAccount,
        new_user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome> {
        let model = self.model().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.pool.begin().await?;
            match sync(&mut tx, &model, account, new_user, now).await {
                // A refusal writes nothing (the transaction rolls back on drop).
                Ok(outcome) if !outcome.is_success() => return Ok(outcome),
                Ok(outcome) => {
                    tx.commit().await?;
                    return Ok(outcome);
                }
                Err(StorageError::Conflict(_)) if attempt < ATTEMPTS => continue,
                Err(e) => return Err(e),
            }
        }
    }

    async fn linked_user(&self, provider: &str, provider_account_id: &str) -> Result<Option<User>> {
        let model = self.model().await?;
        let mut conn = self.pool.acquire().await?;
        match linked_id(&mut conn, provider, provider_account_id).await? {
            Some(id) => users::by_id(&mut conn, &model, id).await,
            None => Ok(None),
        }
    }
}
