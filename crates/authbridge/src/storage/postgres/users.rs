//! Users on PostgreSQL: the shared statements (`sqlx_users.rs`) with this backend's codec.

use super::{codec, PostgresStore};

crate::storage::sqlx_users::sqlx_users!(
    store: PostgresStore,
    conn: sqlx::PgConnection,
    row: sqlx::postgres::PgRow,
);
