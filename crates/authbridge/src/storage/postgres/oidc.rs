//! The OpenID Connect repositories on this backend: the shared statements (`sqlx_oidc.rs`).

use super::{codec, users, PostgresStore};

crate::storage::sqlx_oidc::sqlx_oidc!(
    store: PostgresStore,
    conn: sqlx::PgConnection,
    row: sqlx::postgres::PgRow,
);
