//! External accounts on SQLite: the shared sync (`sqlx_accounts.rs`). The write transaction
//! (`BEGIN IMMEDIATE`, after the store's write queue) makes each sync one serialized transaction,
//! so concurrent syncs of one new account create one user.

use super::{codec, users, SqliteStore};
use crate::storage::{ExternalAccount, Result};
use sqlx::SqliteConnection;

/// Serialized syncs leave no conflict to retry.
const SYNC_ATTEMPTS: usize = 1;

/// The write transaction already serializes syncs.
async fn lock_sync(_: &mut SqliteConnection, _: &ExternalAccount, _: Option<&str>) -> Result<()> {
    Ok(())
}

crate::storage::sqlx_accounts::sqlx_accounts!(store: SqliteStore, conn: SqliteConnection);
