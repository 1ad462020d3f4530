//! The store-level shell of the two sqlx backends, written once: `sqlx_store!` expands the user
//! model cache and `Store` (migrate, ping, inspect) in `sqlite.rs` and `postgres.rs`. What differs
//! lives in each backend's `dialect` module (DDL files, table introspection, the migration lock,
//! the clock and the password-prefix expression) and `codec` module (Django's encodings).

use super::Result;
use async_trait::async_trait;

/// Ends a write: commits a transaction, or does nothing for a single autocommitted statement on
/// a plain connection (PostgreSQL's one-statement writes).
#[async_trait]
pub(crate) trait Commit {
    async fn commit(self) -> Result<()>;
}

#[async_trait]
impl<DB: sqlx::Database> Commit for sqlx::Transaction<'static, DB> {
    async fn commit(self) -> Result<()> {
        sqlx::Transaction::commit(self).await?;
        Ok(())
    }
}

#[async_trait]
impl Commit for sqlx::pool::PoolConnection<sqlx::Postgres> {
    async fn commit(self) -> Result<()> {
        Ok(())
    }
}

macro_rules! sqlx_store {
    (store: $store:ty, conn: $conn:ty, backend: $backend:literal $(,)?) => {
        impl $store {
            /// The user table's shape. Call before starting a transaction: reading it may need a
            /// connection of its own (and SQLite's `:memory:` has only one).
            pub(crate) async fn model(
                &self,
            ) -> $crate::storage::Result<std::sync::Arc<$crate::storage::user_model::UserModel>>
            {
                if let Some(model) = self
                    .model
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                {
                    return Ok(model.clone());
                }
                let mut conn = self.pool.acquire().await?;
                self.load_model(&mut conn).await
            }

            async fn load_model(
                &self,
                conn: &mut $conn,
            ) -> $crate::storage::Result<std::sync::Arc<$crate::storage::user_model::UserModel>>
            {
                let model = std::sync::Arc::new(dialect::read_model(conn, &self.users).await?);
                *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(model.clone());
                Ok(model)
            }
        }

        #[async_trait::async_trait]
        impl $crate::storage::Store for $store {
            async fn migrate(&self) -> $crate::storage::Result<$crate::storage::MigrationReport> {
                use $crate::storage::migrate::{self, DjangoApp};
                let now = codec::encode(chrono::Utc::now());
                let mut report = $crate::storage::MigrationReport::default();
                // Two instances starting at once: the second waits here, then finds the tables.
                let (_lock, mut tx) = self.begin_migration().await?;
                let existing = dialect::table_names(&mut tx).await?;
                let plan = migrate::plan_django(&existing, &self.users)?;
                if plan.create_migrations_table {
                    run_script(&mut tx, dialect::DDL.django_migrations).await?;
                }
                for app in &plan.apps {
                    let ddl = match app {
                        DjangoApp::TokenBlacklist if self.users.table != "auth_user" => {
                            let id_type = dialect::user_fk_type(&mut tx, &self.users).await?;
                            migrate::token_blacklist_ddl(
                                dialect::DDL.django(*app),
                                &self.users,
                                &id_type,
                            )
                        }
                        _ => dialect::DDL.django(*app).to_string(),
                    };
                    run_script(&mut tx, &ddl).await?;
                }
                for (app, name) in plan.migration_rows() {
                    sqlx::query(
                        "INSERT INTO \"django_migrations\" (\"app\", \"name\", \"applied\") \
                         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM \"django_migrations\" \
                         WHERE \"app\" = $1 AND \"name\" = $2)",
                    )
                    .bind(app)
                    .bind(name)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                report.created_django_tables = !plan.apps.is_empty();

                run_script(&mut tx, dialect::DDL.authbridge_migrations).await?;
                let applied: Vec<String> =
                    sqlx::query_scalar("SELECT \"name\" FROM \"authbridge_migrations\"")
                        .fetch_all(&mut *tx)
                        .await?;
                for migration in migrate::DjangoPlan::pending(&applied) {
                    run_script(&mut tx, dialect::own_ddl(migration)).await?;
                    sqlx::query(
                        "INSERT INTO \"authbridge_migrations\" (\"name\", \"applied_at\") \
                         VALUES ($1, $2)",
                    )
                    .bind(migration.name)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                    report.applied.push(migration.name.to_string());
                }
                tx.commit().await?;
                let mut conn = self.pool.acquire().await?;
                self.load_model(&mut conn).await?;
                Ok(report)
            }

            async fn ping(&self) -> $crate::storage::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn inspect(&self) -> $crate::storage::Result<$crate::storage::Inspection> {
                let mut conn = self.pool.acquire().await?;
                let mut tables: Vec<String> =
                    dialect::table_names(&mut conn).await?.into_iter().collect();
                tables.sort();
                let own_migrations_applied = if tables.iter().any(|t| t == "authbridge_migrations")
                {
                    sqlx::query_scalar(
                        "SELECT \"name\" FROM \"authbridge_migrations\" ORDER BY \"name\"",
                    )
                    .fetch_all(&mut *conn)
                    .await?
                } else {
                    Vec::new()
                };
                let password_algorithms = if tables.contains(&self.users.table) {
                    let sql = format!(
                        "SELECT {} AS \"algorithm\", COUNT(*) AS \"n\" FROM {} GROUP BY 1 ORDER BY 1",
                        dialect::PASSWORD_ALGORITHM,
                        $crate::storage::migrate::quote_ident(&self.users.table)
                    );
                    sqlx::query_as::<_, (String, i64)>(&sql)
                        .fetch_all(&mut *conn)
                        .await?
                } else {
                    Vec::new()
                };
                Ok($crate::storage::Inspection {
                    tables,
                    own_migrations_applied,
                    password_algorithms,
                    now: dialect::clock(&mut conn).await?,
                })
            }

            fn backend(&self) -> &'static str {
                $backend
            }
        }

        /// Runs a multi-statement script (a DDL file) on the migration's connection. A query
        /// without arguments runs every statement of the string.
        async fn run_script(conn: &mut $conn, sql: &str) -> $crate::storage::Result<()> {
            sqlx::Executor::execute(conn, sql).await?;
            Ok(())
        }
    };
}

pub(crate) use sqlx_store;
