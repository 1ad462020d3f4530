//! The user statements both sqlx backends run the same way, written once: `sqlx_users!` expands
//! them in `sqlite/users.rs` and `postgres/users.rs` over that backend's connection and `decode`
//! (Django's encodings of flags and times differ: 0/1 and TEXT on SQLite, bool and timestamptz
//! on PostgreSQL). The SQL itself comes from `UserModel`.

macro_rules! sqlx_users {
    (conn: $conn:ty) => {
        pub(super) async fn by_id(
            conn: &mut $conn,
            model: &$crate::storage::user_model::UserModel,
            id: i64,
        ) -> $crate::storage::Result<Option<$crate::storage::User>> {
            let row = sqlx::query(&model.by_id_sql())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| decode(model, &r)).transpose()
        }

        /// Django's `get_by_natural_key`.
        async fn by_username(
            conn: &mut $conn,
            model: &$crate::storage::user_model::UserModel,
            username: &str,
        ) -> $crate::storage::Result<Option<$crate::storage::User>> {
            let row = sqlx::query(&model.by_username_sql())
                .bind(username)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| decode(model, &r)).transpose()
        }

        /// The taken values among `candidates` for `USERNAME_FIELD`.
        pub(super) async fn taken(
            conn: &mut $conn,
            model: &$crate::storage::user_model::UserModel,
            candidates: &[String],
        ) -> $crate::storage::Result<Vec<String>> {
            let sql = model.taken_sql(candidates.len());
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for c in candidates {
                query = query.bind(c);
            }
            Ok(query.fetch_all(&mut *conn).await?)
        }
    };
}

pub(crate) use sqlx_users;
