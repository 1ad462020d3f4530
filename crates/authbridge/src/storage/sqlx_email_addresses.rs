//! allauth's `account_emailaddress` on the two sqlx backends, written once: `sqlx_email_addresses!`
//! expands `EmailAddressRepository` in `sqlite/email_addresses.rs` and
//! `postgres/email_addresses.rs` with that backend's connection, row, `codec` and `users`. The
//! expanding module provides what differs: `EMAIL_IEXACT` (Django's `email__iexact` on the
//! `email` column, `$1`), `lock_signup` (PostgreSQL's advisory locks on the username and email
//! of a sign-up; SQLite's write transaction already serializes sign-ups) and `is_unique_violation`.

macro_rules! sqlx_email_addresses {
    (store: $store:ty, conn: $conn:ty, row: $row:ty $(,)?) => {
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;
        use $crate::storage::migrate;
        use $crate::storage::user_model::UserModel;
        use $crate::storage::{
            EmailAddress, NewUser, Result, SignupOutcome, StorageError, User, VerifyOutcome,
        };

        const COLUMNS: &str = "\"id\", \"user_id\", \"email\", \"verified\", \"primary\"";

        fn decode(row: &$row) -> Result<EmailAddress> {
            Ok(EmailAddress {
                id: codec::id(row, "id")?,
                user_id: codec::id(row, "user_id")?,
                email: row.try_get("email")?,
                verified: codec::flag(row, "verified")?,
                primary: codec::flag(row, "primary")?,
            })
        }

        /// Which rows `rows` reads.
        enum Filter<'a> {
            Id(i64),
            User(i64),
            Email(&'a str),
        }

        async fn rows(conn: &mut $conn, filter: Filter<'_>) -> Result<Vec<EmailAddress>> {
            let column = match filter {
                Filter::Id(_) => "id",
                Filter::User(_) => "user_id",
                Filter::Email(_) => "email",
            };
            let sql = format!(
                "SELECT {COLUMNS} FROM \"account_emailaddress\" WHERE \"{column}\" = $1 \
                 ORDER BY \"id\""
            );
            let query = sqlx::query(&sql);
            let query = match filter {
                Filter::Id(v) | Filter::User(v) => query.bind(v),
                Filter::Email(v) => query.bind(v),
            };
            let found = query.fetch_all(&mut *conn).await?;
            found.iter().map(decode).collect()
        }

        async fn verified_exists(conn: &mut $conn, email: &str) -> Result<bool> {
            let sql = format!(
                "SELECT 1 FROM \"account_emailaddress\" WHERE \"verified\" AND {EMAIL_IEXACT} LIMIT 1"
            );
            Ok(sqlx::query(&sql)
                .bind(codec::email_arg(email))
                .fetch_optional(&mut *conn)
                .await?
                .is_some())
        }

        async fn username_taken(conn: &mut $conn, model: &UserModel, username: &str) -> Result<bool> {
            Ok(!by_username_iexact(conn, model, username).await?.is_empty())
        }

        async fn by_username_iexact(
            conn: &mut $conn,
            model: &UserModel,
            username: &str,
        ) -> Result<Vec<User>> {
            let rows = sqlx::query(&model.by_username_iexact_sql())
                .bind(codec::email_arg(username))
                .fetch_all(&mut *conn)
                .await?;
            let mut users = Vec::with_capacity(rows.len());
            for row in rows {
                if let Some(user) = users::by_id(conn, model, codec::id(&row, "id")?).await? {
                    users.push(user);
                }
            }
            Ok(users)
        }

        async fn signup(
            conn: &mut $conn,
            model: &UserModel,
            user: &NewUser,
            email: Option<&str>,
            now: DateTime<Utc>,
        ) -> Result<SignupOutcome> {
            lock_signup(conn, &user.username, &user.email).await?;
            if username_taken(conn, model, &user.username).await? {
                return Ok(SignupOutcome::UsernameTaken);
            }
            if !user.email.is_empty() && verified_exists(conn, &user.email).await? {
                return Ok(SignupOutcome::EmailRegistered);
            }
            let Some(created) = users::insert(conn, model, user, now).await? else {
                return Ok(SignupOutcome::UsernameTaken);
            };
            // `cleanup_email_addresses`: an address some row holds (exact) is skipped.
            let email = match email {
                Some(email) if rows(conn, Filter::Email(email)).await?.is_empty() => email,
                _ => {
                    return Ok(SignupOutcome::Created {
                        user: Box::new(created),
                        address: None,
                    })
                }
            };
            let row = sqlx::query(&format!(
                "INSERT INTO \"account_emailaddress\" (\"email\", \"verified\", \"primary\", \
                 \"user_id\") VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            ))
            .bind(email)
            .bind(false)
            .bind(true)
            .bind(created.id)
            .fetch_one(&mut *conn)
            .await?;
            Ok(SignupOutcome::Created {
                user: Box::new(created),
                address: Some(decode(&row)?),
            })
        }

        async fn verify(conn: &mut $conn, model: &UserModel, id: i64) -> Result<VerifyOutcome> {
            let Some(address) = rows(conn, Filter::Id(id)).await?.into_iter().next()
            else {
                return Ok(VerifyOutcome::NotFound);
            };
            if address.verified {
                return Ok(VerifyOutcome::NotFound);
            }
            // allauth's `can_set_verified` under ACCOUNT_UNIQUE_EMAIL (exact email, as it asks).
            let other_verified = sqlx::query(
                "SELECT 1 FROM \"account_emailaddress\" WHERE \"verified\" AND \"email\" = $1 \
                 AND \"id\" <> $2 LIMIT 1",
            )
            .bind(&address.email)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if other_verified.is_some() {
                return Ok(VerifyOutcome::Conflict);
            }
            let done = sqlx::query(
                "UPDATE \"account_emailaddress\" SET \"verified\" = $1 WHERE \"id\" = $2 \
                 AND NOT \"verified\"",
            )
            .bind(true)
            .bind(id)
            .execute(&mut *conn)
            .await;
            match done {
                Ok(done) if done.rows_affected() == 0 => return Ok(VerifyOutcome::NotFound),
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Ok(VerifyOutcome::Conflict),
                Err(e) => return Err(e.into()),
            }
            let has_primary = sqlx::query(
                "SELECT 1 FROM \"account_emailaddress\" WHERE \"user_id\" = $1 AND \"primary\" \
                 LIMIT 1",
            )
            .bind(address.user_id)
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
            let made_primary = !has_primary;
            if made_primary {
                sqlx::query("UPDATE \"account_emailaddress\" SET \"primary\" = $1 WHERE \"id\" = $2")
                    .bind(true)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                // `set_as_primary` then sets the user's email to the address.
                if let Some(sql) = model.set_email_sql() {
                    sqlx::query(&sql)
                        .bind(&address.email)
                        .bind(address.user_id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            Ok(VerifyOutcome::Verified {
                address: EmailAddress {
                    verified: true,
                    primary: address.primary || made_primary,
                    ..address
                },
                made_primary,
            })
        }

        #[async_trait::async_trait]
        impl $crate::storage::EmailAddressRepository for $store {
            async fn migrate_email_addresses(&self) -> Result<bool> {
                let model = self.model().await?;
                let (_lock, mut tx) = self.begin_migration().await?;
                let existing = dialect::table_names(&mut tx).await?;
                if migrate::ACCOUNT_TABLES.iter().any(|t| existing.contains(*t)) {
                    return Ok(false);
                }
                let ddl = migrate::account_ddl(dialect::DDL.account, &self.users, model.id_type());
                sqlx::Executor::execute(&mut *tx, ddl.as_str()).await?;
                let now = codec::encode(Utc::now());
                for name in migrate::ACCOUNT_MIGRATIONS {
                    sqlx::query(
                        "INSERT INTO \"django_migrations\" (\"app\", \"name\", \"applied\") \
                         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM \"django_migrations\" \
                         WHERE \"app\" = $1 AND \"name\" = $2)",
                    )
                    .bind("account")
                    .bind(*name)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn create_user_with_email(
                &self,
                user: &NewUser,
                email: Option<&str>,
                now: DateTime<Utc>,
            ) -> Result<SignupOutcome> {
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_write().await?;
                let outcome = signup(&mut tx, &model, user, email, now).await?;
                if matches!(outcome, SignupOutcome::Created { .. }) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn verified_email_exists(&self, email: &str) -> Result<bool> {
                let mut conn = self.pool.acquire().await?;
                verified_exists(&mut conn, email).await
            }

            async fn email_address_by_id(&self, id: i64) -> Result<Option<EmailAddress>> {
                let mut conn = self.pool.acquire().await?;
                Ok(rows(&mut conn, Filter::Id(id)).await?.into_iter().next())
            }

            async fn first_email_address(&self, email: &str) -> Result<Option<EmailAddress>> {
                let mut conn = self.pool.acquire().await?;
                Ok(rows(&mut conn, Filter::Email(email))
                    .await?
                    .into_iter()
                    .next())
            }

            async fn email_addresses_of(&self, user_id: i64) -> Result<Vec<EmailAddress>> {
                let mut conn = self.pool.acquire().await?;
                rows(&mut conn, Filter::User(user_id)).await
            }

            async fn verify_email_address(&self, id: i64) -> Result<VerifyOutcome> {
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_write().await?;
                let outcome = verify(&mut tx, &model, id).await?;
                if matches!(outcome, VerifyOutcome::Verified { .. }) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn ensure_email_address(&self, user_id: i64, email: &str) -> Result<bool> {
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(
                    "INSERT INTO \"account_emailaddress\" (\"email\", \"verified\", \"primary\", \
                     \"user_id\") SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM \
                     \"account_emailaddress\" WHERE \"user_id\" = $4 AND \"email\" = $1) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(email)
                .bind(false)
                .bind(false)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn users_by_email_address(
                &self,
                email: &str,
                prefer_verified: bool,
            ) -> Result<Vec<User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                let found = rows(&mut conn, Filter::Email(email)).await?;
                let any_verified = prefer_verified && found.iter().any(|r| r.verified);
                let mut ids: Vec<i64> = found
                    .iter()
                    .filter(|r| r.verified || !any_verified)
                    .map(|r| r.user_id)
                    .collect();
                let mut users = Vec::new();
                if !any_verified {
                    if let Some(sql) = model.by_email_exact_sql() {
                        let found = sqlx::query(&sql).bind(email).fetch_all(&mut *conn).await?;
                        for row in found {
                            ids.push(codec::id(&row, "id")?);
                        }
                    }
                }
                ids.sort_unstable();
                ids.dedup();
                for id in ids {
                    if let Some(user) = users::by_id(&mut conn, &model, id).await? {
                        users.push(user);
                    }
                }
                Ok(users)
            }

            async fn users_by_username_iexact(&self, username: &str) -> Result<Vec<User>> {
                let model = self.model().await?;
                let mut conn = self.pool.acquire().await?;
                by_username_iexact(&mut conn, &model, username).await
            }

            async fn update_user_names(
                &self,
                id: i64,
                username: Option<&str>,
                first_name: Option<&str>,
                last_name: Option<&str>,
            ) -> Result<Option<User>> {
                let model = self.model().await?;
                let given: Vec<(&str, &str)> = [
                    ("username", username),
                    ("first_name", first_name),
                    ("last_name", last_name),
                ]
                .into_iter()
                .filter_map(|(c, v)| v.map(|v| (c, v)))
                .collect();
                let columns: Vec<&str> = given.iter().map(|(c, _)| *c).collect();
                let (_writer, mut tx) = self.begin_write().await?;
                if let Some((sql, kept)) = model.update_sql(&columns) {
                    let mut query = sqlx::query(&sql);
                    for column in kept {
                        let value = given
                            .iter()
                            .find(|(c, _)| *c == column)
                            .map(|(_, v)| *v)
                            .unwrap_or_default();
                        query = query.bind(value);
                    }
                    match query.bind(id).execute(&mut *tx).await {
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => {
                            return Err(StorageError::Conflict(format!(
                                "{} is taken",
                                model.username_field
                            )))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                let user = users::by_id(&mut tx, &model, id).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn replace_password(&self, id: i64, old: &str, new: &str) -> Result<bool> {
                let model = self.model().await?;
                let (_writer, mut tx) = self.begin_single().await?;
                let done = sqlx::query(&model.upgrade_password_sql())
                    .bind(new)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
                $crate::storage::sqlx_store::Commit::commit(tx).await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(crate) use sqlx_email_addresses;
