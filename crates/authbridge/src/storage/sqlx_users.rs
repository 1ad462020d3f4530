//! Users on the two sqlx backends, written once: `sqlx_users!` expands the statements and
//! `UserRepository` in `sqlite/users.rs` and `postgres/users.rs` over that backend's connection
//! and `codec` (Django's encodings of ids, flags and times differ: 0/1 and TEXT on SQLite, bool and
//! timestamptz on PostgreSQL). The SQL itself comes from `UserModel`.

macro_rules! sqlx_users {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;
        use $crate::storage::user_model::{UserModel, Value};
        use $crate::storage::{NewUser, Result, StorageError, User};

        /// A user row; columns a custom model lacks take Django's model defaults.
        fn decode(model: &UserModel, row: &$row) -> Result<User> {
            let text = |c: &str| -> Result<Option<String>> {
                Ok(if model.has(c) {
                    row.try_get::<Option<String>, _>(c)?
                } else {
                    None
                })
            };
            let flag = |c: &str, default: bool| -> Result<bool> {
                if model.has(c) {
                    codec::flag(row, c)
                } else {
                    Ok(default)
                }
            };
            let at = |c: &str| -> Result<Option<DateTime<Utc>>> {
                if model.has(c) {
                    codec::opt_time(row, c)
                } else {
                    Ok(None)
                }
            };
            Ok(User {
                id: codec::id(row, "id")?,
                username: row.try_get(model.username_field.as_str())?,
                password: row.try_get("password")?,
                email: text("email")?,
                first_name: text("first_name")?,
                last_name: text("last_name")?,
                is_active: flag("is_active", true)?,
                is_staff: flag("is_staff", false)?,
                is_superuser: flag("is_superuser", false)?,
                last_login: at("last_login")?,
                date_joined: at("date_joined")?,
            })
        }

        pub(super) async fn by_id(
            conn: &mut $conn,
            model: &UserModel,
            id: i64,
        ) -> Result<Option<User>> {
            let row = sqlx::query(&model.by_id_sql())
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| decode(model, &r)).transpose()
        }

        /// Django's `get_by_natural_key`.
        async fn by_username(
            conn: &mut $conn,
            model: &UserModel,
            username: &str,
        ) -> Result<Option<User>> {
            let row = sqlx::query(&model.by_username_sql())
                .bind(username)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| decode(model, &r)).transpose()
        }

        /// Django's `email__iexact`, in id order.
        pub(super) async fn by_email(
            conn: &mut $conn,
            model: &UserModel,
            email: &str,
        ) -> Result<Vec<User>> {
            let Some(sql) = model.by_email_sql() else {
                return Ok(Vec::new());
            };
            let rows = sqlx::query(&sql)
                .bind(codec::email_arg(email))
                .fetch_all(&mut *conn)
                .await?;
            rows.iter().map(|r| decode(model, r)).collect()
        }

        /// The taken values among `candidates` for `USERNAME_FIELD`.
        pub(super) async fn taken(
            conn: &mut $conn,
            model: &UserModel,
            candidates: &[String],
        ) -> Result<Vec<String>> {
            let sql = model.taken_sql(candidates.len());
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for c in candidates {
                query = query.bind(c);
            }
            Ok(query.fetch_all(&mut *conn).await?)
        }

        /// Inserts the user; `None` when a unique column (the username) is taken.
        pub(super) async fn insert(
            conn: &mut $conn,
            model: &UserModel,
            user: &NewUser,
            now: DateTime<Utc>,
        ) -> Result<Option<User>> {
            let (sql, values) = model.insert(user);
            let mut query = sqlx::query(&sql);
            for value in values {
                query = match value {
                    Value::Text(s) => query.bind(s),
                    Value::Bool(b) => query.bind(b),
                    Value::Now => query.bind(codec::encode(now)),
                    Value::NullTime => query.bind(None::<codec::Time>),
                };
            }
            match query.fetch_optional(&mut *conn).await? {
                Some(row) => by_id(conn, model, codec::id(&row, "id")?).await,
                None => Ok(None),
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::UserRepository for $store {
            async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                by_username(&mut conn, &model, username).await
            }

            async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                by_id(&mut conn, &model, id).await
            }

            async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                by_email(&mut conn, &model, email).await
            }

            async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_single().await?;
                let created = insert(&mut tx, &model, user, now).await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await?;
                created.ok_or_else(|| {
                    StorageError::Conflict(format!(
                        "{} {:?} is taken",
                        model.username_field, user.username
                    ))
                })
            }

            async fn set_password(&self, id: i64, encoded: &str) -> Result<()> {
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_single().await?;
                sqlx::query(&model.set_password_sql())
                    .bind(encoded)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await
            }

            async fn set_last_login(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
                let model = self.model().await?;
                if let Some(sql) = model.set_last_login_sql() {
                    let (_writer, mut tx) = self.begin_single().await?;
                    sqlx::query(&sql)
                        .bind(codec::encode(at))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    $crate::storage::sqlx_store::Commit::commit(tx).await?;
                }
                Ok(())
            }
        }
    };
}

pub(crate) use sqlx_users;
