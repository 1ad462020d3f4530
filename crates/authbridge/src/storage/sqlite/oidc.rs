//! The OpenID Connect repositories on this backend: the shared statements of `sqlx_oidc.rs`
//! (keys, clients) and `sqlx_oidc_sessions.rs` (codes, login sessions, consents).

mod registry {
    use super::super::{codec, SqliteStore};

    crate::storage::sqlx_oidc::sqlx_oidc_registry!(
        store: SqliteStore,
        conn: sqlx::SqliteConnection,
        row: sqlx::sqlite::SqliteRow,
    );
}

mod sessions {
    use super::super::{codec, users, SqliteStore};

    crate::storage::sqlx_oidc_sessions::sqlx_oidc_sessions!(
        store: SqliteStore,
        conn: sqlx::SqliteConnection,
        row: sqlx::sqlite::SqliteRow,
    );
}
