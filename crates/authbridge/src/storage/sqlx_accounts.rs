//! External accounts on the two sqlx backends, written once: `sqlx_accounts!` expands the sync
//! and `AccountRepository` in `sqlite/accounts.rs` and `postgres/accounts.rs` with that backend's
//! connection type and `codec`, over its `users::{by_id, by_email, insert, taken}`. The expanding
//! module provides what differs: `lock_sync` (PostgreSQL's advisory locks on the account and its
//! email; SQLite's write transaction already serializes syncs) and `SYNC_ATTEMPTS` (how often a
//! sync that met a conflict is tried in all).

macro_rules! sqlx_accounts {
    (store: $store:ty, conn: $conn:ty $(,)?) => {
        async fn linked_id(
            conn: &mut $conn,
            provider: &str,
            account_id: &str,
        ) -> $crate::storage::Result<Option<i64>> {
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
            conn: &mut $conn,
            account: &$crate::storage::ExternalAccount,
            user_id: i64,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<()> {
            let done = sqlx::query(
                "INSERT INTO \"authbridge_social_account\" (\"provider\", \"provider_account_id\", \
                 \"user_id\", \"created_at\") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&account.provider)
            .bind(&account.provider_account_id)
            .bind(user_id)
            .bind(codec::encode(now))
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Err($crate::storage::StorageError::Conflict(
                    "the account was linked concurrently".into(),
                ));
            }
            Ok(())
        }

        /// Creates the account's user, numbering the username until one is free.
        async fn create_user(
            conn: &mut $conn,
            model: &$crate::storage::user_model::UserModel,
            account: &$crate::storage::ExternalAccount,
            new_user: &$crate::storage::NewUser,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<$crate::storage::User> {
            use $crate::storage::user_model::{CANDIDATE_BATCH, MAX_CANDIDATES};
            use $crate::storage::StorageError;
            let (mut user, numbered) = model.account_user(account, new_user)?;
            if !numbered {
                return users::insert(conn, model, &user, now)
                    .await?
                    .ok_or_else(|| {
                        StorageError::Conflict(format!(
                            "{} {:?} is taken",
                            model.username_field, user.username
                        ))
                    });
            }
            let base = user.username.clone();
            let mut tried = 0;
            while tried < MAX_CANDIDATES {
                let batch = model.candidates(&base, tried);
                let taken = users::taken(conn, model, &batch).await?;
                for candidate in batch.into_iter().filter(|c| !taken.contains(c)) {
                    user.username = candidate;
                    if let Some(created) = users::insert(conn, model, &user, now).await? {
                        return Ok(created);
                    }
                }
                tried += CANDIDATE_BATCH;
            }
            Err(StorageError::Conflict(format!(
                "no free username for {base:?}"
            )))
        }

        async fn sync(
            conn: &mut $conn,
            model: &$crate::storage::user_model::UserModel,
            account: &$crate::storage::ExternalAccount,
            new_user: &$crate::storage::NewUser,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::storage::Result<$crate::storage::SyncOutcome> {
            use $crate::storage::SyncOutcome;
            let email = account.email.as_deref().filter(|e| !e.is_empty());
            lock_sync(conn, account, email).await?;
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
        #[async_trait::async_trait]
        impl $crate::storage::AccountRepository for $store {
            async fn sync_account(
                &self,
                account: &$crate::storage::ExternalAccount,
                new_user: &$crate::storage::NewUser,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::storage::Result<$crate::storage::SyncOutcome> {
                let model = self.model().await?;
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let (_writer, mut tx) = self.begin_write().await?;
                    match sync(&mut tx, &model, account, new_user, now).await {
                        // A refusal writes nothing (not even the removal of a link to a deleted
                        // user): the transaction rolls back on drop.
                        Ok(outcome) if !outcome.is_success() => return Ok(outcome),
                        Ok(outcome) => {
                            tx.commit().await?;
                            return Ok(outcome);
                        }
                        Err($crate::storage::StorageError::Conflict(_))
                            if attempt < SYNC_ATTEMPTS =>
                        {
                            continue
                        }
                        Err(e) => return Err(e),
                    }
                }
            }

            async fn linked_user(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> $crate::storage::Result<Option<$crate::storage::User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                match linked_id(&mut conn, provider, provider_account_id).await? {
                    Some(id) => users::by_id(&mut conn, &model, id).await,
                    None => Ok(None),
                }
            }
        }
    };
}

pub(crate) use sqlx_accounts;
