//! External accounts on PostgreSQL: the shared sync (`sqlx_accounts.rs`) under advisory locks on
//! the account (and its email), so one new account creates one user; a conflict left over (a user
//! created outside a sync) retries the whole transaction.

use super::dialect::{lock, ACCOUNT_LOCK, EMAIL_LOCK};
use super::{codec, users, PostgresStore};
use crate::storage::{ExternalAccount, Result};
use sqlx::PgConnection;

const SYNC_ATTEMPTS: usize = 3;

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

crate::storage::sqlx_accounts::sqlx_accounts!(store: PostgresStore, conn: PgConnection);
