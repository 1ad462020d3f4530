//! allauth's `account_emailaddress` on SQLite: the shared statements
//! (`sqlx_email_addresses.rs`). The write transaction (`BEGIN IMMEDIATE`, after the store's write
//! queue) serializes sign-ups, so the uniqueness checks and the insert cannot interleave.

use super::{codec, dialect, users, SqliteStore};
use sqlx::SqliteConnection;

/// Django's `email__iexact` on SQLite (bind `codec::email_arg`).
const EMAIL_IEXACT: &str = "\"email\" LIKE $1 ESCAPE '\\'";

async fn lock_signup(_: &mut SqliteConnection, _: &str, _: &str) -> crate::storage::Result<()> {
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

crate::storage::sqlx_email_addresses::sqlx_email_addresses!(
    store: SqliteStore,
    conn: SqliteConnection,
    row: sqlx::sqlite::SqliteRow,
);
