//! External accounts linked to Django users, on PostgreSQL. Advisory locks on the account (and
//! its email) serialize concurrent syncs, so one new account creates one user; a conflict left
//! over (a user created outside a sync) retries the whole transaction.

use super::{users, PostgresStore};
use crate::storage::user_model::UserModel;
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

async fn linked_id(
    conn: &mut PgConnection,
    provider: &str,
    account_id: &str,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT \"user_id\" FROM \"authbridge_social_account\" \
         WHERE \"provider\" = $1 AND \"provider_account_id\" = $2",
    )
    .bind(provider)
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await?)
}

async fn link(
    conn: &mut PgConnection,
    account: &ExternalAccount,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "INSERT INTO \"authbridge_social_account\" (\"provider\", \"provider_account_id\", \
         \"user_id\", \"created_at\") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&account.provider)
    .bind(&account.provider_account_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict(
            "the account was linked concurrently".into(),
        ));
    }
    Ok(())
}

crate::storage::sqlx_tokens::sqlx_account_user!(PgConnection);

async fn sync(
    conn: &mut PgConnection,
    model: &UserModel,
    account: &ExternalAccount,
    new_user: &NewUser,
    now: DateTime<Utc>,
) -> Result<SyncOutcome> {
    let email = account.email.as_deref().filter(|e| !e.is_empty());
    // Always the account first, then the email: no two syncs wait on each other in a cycle.
    let account_key = format!("{}\n{}", account.provider, account.provider_account_id);
    lock(conn, ACCOUNT_LOCK, &account_key).await?;
    if let Some(email) = email {
        lock(conn, EMAIL_LOCK, &email.to_uppercase()).await?;
    }
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
             WHERE \"provider\" = $1 AND \"provider_account_id\" = $2",
        )
        .bind(&account.provider)
        .bind(&account.provider_account_id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(email) = email {
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
