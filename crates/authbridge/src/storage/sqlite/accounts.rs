//! External accounts linked to Django users, on SQLite. `BEGIN IMMEDIATE` makes each sync one
//! serialized transaction, so concurrent syncs of one new account create one user.

use super::{time, users, SqliteStore};
use crate::storage::user_model::UserModel;
use crate::storage::{AccountRepository, ExternalAccount, NewUser, Result, SyncOutcome, User};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

async fn linked_id(
    conn: &mut SqliteConnection,
    provider: &str,
    account_id: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT \"user_id\" FROM \"authbridge_social_account\" \
         WHERE \"provider\" = ? AND \"provider_account_id\" = ?",
    )
    .bind(provider)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?)
}

async fn link(
    conn: &mut SqliteConnection,
    account: &ExternalAccount,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO \"authbridge_social_account\" (\"provider\", \"provider_account_id\", \
         \"user_id\", \"created_at\") VALUES (?, ?, ?, ?)",
    )
    .bind(&account.provider)
    .bind(&account.provider_account_id)
    .bind(user_id)
    .bind(time::format(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

crate::storage::sqlx_tokens::sqlx_account_user!(SqliteConnection);

async fn sync(
    conn: &mut SqliteConnection,
    model: &UserModel,
    account: &ExternalAccount,
    new_user: &NewUser,
    now: DateTime<Utc>,
) -> Result<SyncOutcome> {
    if let Some(user_id) = linked_id(conn, &account.provider, &account.provider_account_id).await? {
        if let Some(user) = users::by_id(conn, model, user_id).await? {
            if !user.is_active {
                return Ok(SyncOutcome::Inactive(user));
            }
            return Ok(SyncOutcome::Existing(user));
        }
        // Django deleted the user: forget the link and sign the account in afresh.
        sqlx::query(
            "DELETE FROM \"authbridge_social_account\" \
             WHERE \"provider\" = ? AND \"provider_account_id\" = ?",
        )
        .bind(&account.provider)
        .bind(&account.provider_account_id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(email) = account.email.as_deref().filter(|e| !e.is_empty()) {
        if let Some(user) = users::by_email(conn, model, email)
            .await?
            .into_iter()
            .next()
        {
            if !account.email_verified {
                return Ok(SyncOutcome::EmailNotVerified);
            }
            // Auth.js links by email only with `allowDangerousEmailAccountLinking`; a privileged
            // account is never taken over through an email address.
            if !account.email_linking || user.is_staff || user.is_superuser {
                return Ok(SyncOutcome::EmailLinkingRefused);
            }
            if !user.is_active {
                return Ok(SyncOutcome::Inactive(user));
            }
            link(conn, account, user.id, now).await?;
            return Ok(SyncOutcome::LinkedByEmail(user));
        }
    }
    let user = create_user(conn, model, account, new_user, now).await?;
    link(conn, account, user.id, now).await?;
    Ok(SyncOutcome::Created(user))
}

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
