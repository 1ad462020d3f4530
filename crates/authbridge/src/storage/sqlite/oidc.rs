//! The OpenID Connect repositories on this backend: the shared statements (`sqlx_oidc.rs`).

use super::{codec, users, SqliteStore};

crate::storage::sqlx_oidc::sqlx_oidc!(
    store: SqliteStore,
    conn: sqlx::SqliteConnection,
    row: sqlx::sqlite::SqliteRow,
);
