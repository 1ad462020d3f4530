//! External accounts linked to Django users, on SQLite. `BEGIN IMMEDIATE` makes each sync one
//! serialized transaction, so concurrent syncs of one new account create one user.

use super::{time, users, SqliteStore};
use crate::storage::{AccountRepository, ExternalAccount, NewUser, Result, SyncOutcome, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// `BEGIN IMMEDIATE` already serializes syncs.
async fn no_lock(
    _conn: &mut SqliteConnection,
    _account: &ExternalAccount,
    _email: Option<&str>,
) -> Result<()> {
    Ok(())
}

crate::storage::sqlx_accounts::sqlx_accounts!(
    conn: SqliteConnection,
    encode_time: time::format,
    lock_sync: no_lock,
);

#[async_trait]
impl AccountRepository for SqliteStore {
    async fn sync_account(
        &self,
        account: &ExternalAccount,
        new_user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome> {
        let model = self.model().await?;
        let (_writer, mut tx) = self.begin_write().await?;
        let outcome = sync(&mut tx, &model, account, new_user, now).await?;
        // A refusal writes nothing (not even the removal of a link to a deleted user).
        if outcome.is_success() {
            tx.commit().await?;
        }
        Ok(outcome)
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
