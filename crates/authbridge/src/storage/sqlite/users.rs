//! Users on SQLite: the shared statements (`sqlx_users.rs`) with this backend's codec.

use super::{codec, SqliteStore};

crate::storage::sqlx_users::sqlx_users!(
    store: SqliteStore,
    conn: sqlx::SqliteConnection,
    row: sqlx::sqlite::SqliteRow,
);
