//! The OpenID Connect repositories on this backend: the shared statements of `sqlx_oidc.rs`
//! (keys, clients) and `sqlx_oidc_sessions.rs` (codes, login sessions, consents).

mod registry {
    use super::super::{codec, PostgresStore};

    crate::storage::sqlx_oidc::sqlx_oidc_registry!(
        store: PostgresStore,
        conn: sqlx::PgConnection,
        row: sqlx::postgres::PgRow,
    );
}

mod sessions {
    use super::super::{codec, users, PostgresStore};

    crate::storage::sqlx_oidc_sessions::sqlx_oidc_sessions!(
        store: PostgresStore,
        conn: sqlx::PgConnection,
        row: sqlx::postgres::PgRow,
    );
}
