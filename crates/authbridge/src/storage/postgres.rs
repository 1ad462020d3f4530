//! PostgreSQL implementation of the storage traits, on Django's own database.
//!
//! Transactions run at READ COMMITTED (Django's default). Races are settled by primary keys and
//! unique constraints (`INSERT ... ON CONFLICT`, which waits for the concurrent inserter and then
//! sees its committed row) and by transaction-scoped advisory locks where no row exists yet.

mod accounts;
mod attempts;
mod tokens;
mod users;

use super::migrate::{self, DjangoApp, MigrationReport};
use super::user_model::{ColumnInfo, Dialect, UserModel};
use super::{Result, Store, UserTable};
use async_trait::async_trait;
use chrono::Utc;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{PgConnection, Row};
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Enough for a 2-core box; PostgreSQL's default max_connections is 100.
const POOL_SIZE: u32 = 8;
/// Advisory lock held by `migrate` so that two instances starting at once do not both create.
const MIGRATE_LOCK: i64 = 0x6175_7468_6272_0001;

pub struct PostgresStore {
    pool: PgPool,
    users: UserTable,
    /// The user table's columns, read on first use and again after `migrate`.
    model: RwLock<Option<Arc<UserModel>>>,
}

impl PostgresStore {
    /// Connects (and checks the connection) with a pool sized for a small box.
    pub async fn connect(url: &str, users: UserTable) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            users,
            model: RwLock::new(None),
        })
    }

    /// The underlying pool (tests and maintenance commands).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn model(&self) -> Result<Arc<UserModel>> {
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

    async fn load_model(&self, conn: &mut PgConnection) -> Result<Arc<UserModel>> {
        let model = Arc::new(Self::read_model(conn, &self.users).await?);
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(model.clone());
        Ok(model)
    }

    async fn read_model(conn: &mut PgConnection, users: &UserTable) -> Result<UserModel> {
        let rows = sqlx::query(
            "SELECT \"column_name\"::text AS \"name\", \"data_type\"::text AS \"data_type\", \
             (\"is_nullable\" = 'NO') AS \"not_null\", \
             (\"column_default\" IS NOT NULL OR \"is_identity\" = 'YES') AS \"has_default\", \
             \"character_maximum_length\"::int4 AS \"max_len\" \
             FROM \"information_schema\".\"columns\" \
             WHERE \"table_schema\" = current_schema() AND \"table_name\" = $1 \
             ORDER BY \"ordinal_position\"",
        )
        .bind(&users.table)
        .fetch_all(&mut *conn)
        .await?;
        let mut columns = Vec::with_capacity(rows.len());
        for row in rows {
            columns.push(ColumnInfo {
                name: row.try_get("name")?,
                data_type: row.try_get::<String, _>("data_type")?.to_lowercase(),
                not_null: row.try_get("not_null")?,
                has_default: row.try_get("has_default")?,
                max_len: row
                    .try_get::<Option<i32>, _>("max_len")?
                    .and_then(|n| usize::try_from(n).ok()),
            });
        }
        UserModel::new(users, columns, Dialect::Postgres)
    }

    async fn table_names(conn: &mut PgConnection) -> Result<HashSet<String>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT \"table_name\"::text FROM \"information_schema\".\"tables\" \
             WHERE \"table_schema\" = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(names.into_iter().collect())
    }
}

/// Reads an `id`-like column whether Django made it `integer` (AutoField) or `bigint`.
pub(crate) fn get_id(row: &PgRow, column: &str) -> Result<i64> {
    match row.try_get::<i64, _>(column) {
        Ok(id) => Ok(id),
        Err(_) => Ok(i64::from(row.try_get::<i32, _>(column)?)),
    }
}

/// Runs a multi-statement script (a DDL file) on the migration's connection. A query without
/// arguments runs every statement of the string (PostgreSQL's simple query protocol).
async fn run_script(conn: &mut PgConnection, sql: &str) -> Result<()> {
    sqlx::Executor::execute(conn, sql).await?;
    Ok(())
}

fn django_ddl(app: DjangoApp) -> &'static str {
    match app {
        DjangoApp::ContentTypes => include_str!("sql/postgres/contenttypes.sql"),
        DjangoApp::Auth => include_str!("sql/postgres/auth.sql"),
        DjangoApp::TokenBlacklist => include_str!("sql/postgres/token_blacklist.sql"),
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<MigrationReport> {
        let now = Utc::now();
        let mut report = MigrationReport::default();
        // PostgreSQL's DDL is transactional: everything below commits at once, and the lock makes
        // a second instance wait here, then find the tables.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATE_LOCK)
            .execute(&mut *tx)
            .await?;
        let existing = Self::table_names(&mut tx).await?;
        let plan = migrate::plan_django(&existing, &self.users)?;
        if plan.create_migrations_table {
            run_script(&mut tx, include_str!("sql/postgres/django_migrations.sql")).await?;
        }
        for app in &plan.apps {
            let ddl = match app {
                DjangoApp::TokenBlacklist if self.users.table != "auth_user" => {
                    // Django gives the foreign key column the type of the user table's id.
                    let model = Self::read_model(&mut tx, &self.users).await?;
                    migrate::token_blacklist_ddl(django_ddl(*app), &self.users, model.id_type())
                }
                _ => django_ddl(*app).to_string(),
            };
            run_script(&mut tx, &ddl).await?;
        }
        for (app, name) in plan.migration_rows() {
            sqlx::query(
                "INSERT INTO \"django_migrations\" (\"app\", \"name\", \"applied\") SELECT $1, $2, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM \"django_migrations\" WHERE \"app\" = $1 AND \"name\" = $2)",
            )
            .bind(app)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        report.created_django_tables = !plan.apps.is_empty();

        run_script(
            &mut tx,
            include_str!("sql/postgres/authbridge_migrations.sql"),
        )
        .await?;
        let applied: Vec<String> =
            sqlx::query_scalar("SELECT \"name\"::text FROM \"authbridge_migrations\"")
                .fetch_all(&mut *tx)
                .await?;
        for migration in migrate::DjangoPlan::pending(&applied) {
            run_script(&mut tx, migration.postgres).await?;
            sqlx::query(
                "INSERT INTO \"authbridge_migrations\" (\"name\", \"applied_at\") VALUES ($1, $2)",
            )
            .bind(migration.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            report.applied.push(migration.name.to_string());
        }
        tx.commit().await?;
        let mut conn = self.pool.acquire().await?;
        self.load_model(&mut conn).await?;
        Ok(report)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn inspect(&self) -> Result<super::Inspection> {
        let mut conn = self.pool.acquire().await?;
        let mut tables: Vec<String> = Self::table_names(&mut conn).await?.into_iter().collect();
        tables.sort();
        let own_migrations_applied = if tables.iter().any(|t| t == "authbridge_migrations") {
            sqlx::query_scalar(
                "SELECT \"name\"::text FROM \"authbridge_migrations\" ORDER BY \"name\"",
            )
            .fetch_all(&mut *conn)
            .await?
        } else {
            Vec::new()
        };
        let password_algorithms = if tables.contains(&self.users.table) {
            let sql = format!(
                "SELECT CASE WHEN left(\"password\", 1) = '!' THEN '!' \
                 WHEN strpos(\"password\", '$') > 0 THEN split_part(\"password\", '$', 1) \
                 ELSE '' END::text AS \"algorithm\", COUNT(*)::bigint AS \"n\" FROM {} \
                 GROUP BY 1 ORDER BY 1",
                migrate::quote_ident(&self.users.table)
            );
            sqlx::query_as::<_, (String, i64)>(&sql)
                .fetch_all(&mut *conn)
                .await?
        } else {
            Vec::new()
        };
        // clock_timestamp(), not now(): now() is the transaction's start.
        let micros: i64 =
            sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint")
                .fetch_one(&mut *conn)
                .await?;
        let now = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(|| {
            super::StorageError::Schema("the database clock is out of range".into())
        })?;
        Ok(super::Inspection {
            tables,
            own_migrations_applied,
            password_algorithms,
            now,
        })
    }

    fn backend(&self) -> &'static str {
        "postgresql"
    }
}
