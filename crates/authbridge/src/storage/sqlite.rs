//! SQLite implementation of the storage traits, on Django's own database file.
//!
//! Connections enable foreign keys as Django's SQLite backend does. File databases use WAL and a
//! 5 s busy timeout. Every write takes one path: its turn in the store's write queue (arrival
//! order), then one `BEGIN IMMEDIATE` transaction, through sqlx or, for a refresh rotation on a
//! file, on the rusqlite writer thread (`writer.rs`). Only Django's own writes to the same file
//! still meet authbridge's in SQLite's busy handler.

mod accounts;
mod attempts;
pub(crate) mod time;
mod tokens;
mod users;
mod writer;

use super::migrate::{self, DjangoApp, MigrationReport};
use super::user_model::{declared_len, ColumnInfo, Dialect, UserModel};
use super::{Result, Store, UserTable};
use async_trait::async_trait;
use chrono::Utc;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers run in parallel under WAL; writers queue on the busy timeout.
const FILE_POOL_SIZE: u32 = 4;

pub struct SqliteStore {
    pool: SqlitePool,
    users: UserTable,
    /// The user table's columns, read on first use and again after `migrate`.
    model: RwLock<Option<Arc<UserModel>>>,
    /// The one path of every write: one writer at a time, queued here in arrival order (tokio's
    /// mutex is fair), whether it then runs through sqlx or on the rotation writer thread. Left
    /// to SQLite, concurrent writers wait in its busy handler, whose growing sleeps turn
    /// contention into long tail latencies (only Django's own writes to the file still meet
    /// authbridge's there).
    write_queue: tokio::sync::Mutex<()>,
    /// Runs refresh rotations in one hop on a file database (`None` for `:memory:`, whose single
    /// connection only sqlx holds), after taking its turn in `write_queue`.
    rotations: Option<writer::Writer>,
}

impl SqliteStore {
    /// Opens (creating the file if missing) a Django SQLite database. `:memory:` keeps one
    /// connection for the store's lifetime, so the schema lives as long as the store.
    pub async fn open(path: &Path, users: UserTable) -> Result<Self> {
        let memory = path == Path::new(":memory:");
        let options = if memory {
            SqliteConnectOptions::new().in_memory(true)
        } else {
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // In WAL mode NORMAL syncs at checkpoints instead of at every commit: the database
                // cannot be corrupted, and an application crash loses nothing; only a power or OS
                // failure can roll back the last commits. It halves the cost of a refresh.
                .synchronous(SqliteSynchronous::Normal)
        }
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true);
        let pool = if memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(FILE_POOL_SIZE)
        }
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await?;
        Ok(Self {
            pool,
            users,
            model: RwLock::new(None),
            write_queue: tokio::sync::Mutex::new(()),
            rotations: if memory {
                None
            } else {
                Some(writer::Writer::open(path, BUSY_TIMEOUT)?)
            },
        })
    }

    /// Start a write transaction (`BEGIN IMMEDIATE`) once this store's previous writer is done.
    /// Keep the guard until the transaction ends.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(
        tokio::sync::MutexGuard<'_, ()>,
        sqlx::Transaction<'static, sqlx::Sqlite>,
    )> {
        let guard = self.write_queue.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((guard, tx))
    }

    /// The underlying pool (tests and maintenance commands).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The user table's shape. Call before starting a transaction: reading it may need a
    /// connection of its own (and `:memory:` has only one).
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

    async fn load_model(&self, conn: &mut SqliteConnection) -> Result<Arc<UserModel>> {
        let rows = sqlx::query(
            "SELECT \"name\", \"type\", \"notnull\", \"dflt_value\" IS NOT NULL AS \"has_default\" \
             FROM pragma_table_info(?)",
        )
        .bind(&self.users.table)
        .fetch_all(&mut *conn)
        .await?;
        let mut columns = Vec::with_capacity(rows.len());
        for row in rows {
            let data_type = row.try_get::<String, _>("type")?.to_lowercase();
            columns.push(ColumnInfo {
                name: row.try_get("name")?,
                max_len: declared_len(&data_type),
                data_type,
                not_null: row.try_get::<i64, _>("notnull")? != 0,
                has_default: row.try_get::<i64, _>("has_default")? != 0,
            });
        }
        let model = Arc::new(UserModel::new(&self.users, columns, Dialect::Sqlite)?);
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = Some(model.clone());
        Ok(model)
    }

    /// The type Django declares for a foreign key to the user table. On SQLite AutoField and
    /// BigAutoField ids are both `integer`, but the columns referring to them say `integer` or
    /// `bigint`: take it from an existing one (the user model's M2M tables), else `integer`.
    async fn user_fk_type(conn: &mut SqliteConnection, user_table: &str) -> Result<String> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT c.\"type\" FROM \"sqlite_master\" m \
             JOIN pragma_foreign_key_list(m.\"name\") f \
             JOIN pragma_table_info(m.\"name\") c ON c.\"name\" = f.\"from\" \
             WHERE m.\"type\" = 'table' AND f.\"table\" = ? ORDER BY m.\"name\" LIMIT 1",
        )
        .bind(user_table)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match found.map(|t| t.to_lowercase()).as_deref() {
            Some("bigint") => "bigint".into(),
            _ => "integer".into(),
        })
    }

    async fn table_names(conn: &mut SqliteConnection) -> Result<HashSet<String>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT \"name\" FROM \"sqlite_master\" WHERE \"type\" = 'table'")
                .fetch_all(&mut *conn)
                .await?;
        Ok(names.into_iter().collect())
    }
}

/// Runs a multi-statement script (a DDL file) on the migration's connection. A query without
/// arguments runs every statement of the string (PostgreSQL's simple query protocol).
async fn run_script(conn: &mut SqliteConnection, sql: &str) -> Result<()> {
    sqlx::Executor::execute(conn, sql).await?;
    Ok(())
}

fn django_ddl(app: DjangoApp) -> &'static str {
    match app {
        DjangoApp::ContentTypes => include_str!("sql/sqlite/contenttypes.sql"),
        DjangoApp::Auth => include_str!("sql/sqlite/auth.sql"),
        DjangoApp::TokenBlacklist => include_str!("sql/sqlite/token_blacklist.sql"),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<MigrationReport> {
        let now = time::format(Utc::now());
        let mut report = MigrationReport::default();
        // The write lock taken by BEGIN IMMEDIATE serializes concurrent migrations.
        let (_writer, mut tx) = self.begin_write().await?;
        let existing = Self::table_names(&mut tx).await?;
        let plan = migrate::plan_django(&existing, &self.users)?;
        if plan.create_migrations_table {
            run_script(&mut tx, include_str!("sql/sqlite/django_migrations.sql")).await?;
        }
        for app in &plan.apps {
            let ddl = match app {
                DjangoApp::TokenBlacklist if self.users.table != "auth_user" => {
                    let id_type = Self::user_fk_type(&mut tx, &self.users.table).await?;
                    migrate::token_blacklist_ddl(django_ddl(*app), &self.users, &id_type)
                }
                _ => django_ddl(*app).to_string(),
            };
            run_script(&mut tx, &ddl).await?;
        }
        for (app, name) in plan.migration_rows() {
            sqlx::query(
                "INSERT INTO \"django_migrations\" (\"app\", \"name\", \"applied\") SELECT ?, ?, ? \
                 WHERE NOT EXISTS (SELECT 1 FROM \"django_migrations\" WHERE \"app\" = ? AND \"name\" = ?)",
            )
            .bind(app)
            .bind(name)
            .bind(&now)
            .bind(app)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        report.created_django_tables = !plan.apps.is_empty();

        run_script(
            &mut tx,
            include_str!("sql/sqlite/authbridge_migrations.sql"),
        )
        .await?;
        let applied: Vec<String> =
            sqlx::query_scalar("SELECT \"name\" FROM \"authbridge_migrations\"")
                .fetch_all(&mut *tx)
                .await?;
        for migration in migrate::DjangoPlan::pending(&applied) {
            run_script(&mut tx, migration.sqlite).await?;
            sqlx::query(
                "INSERT INTO \"authbridge_migrations\" (\"name\", \"applied_at\") VALUES (?, ?)",
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

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn inspect(&self) -> Result<super::Inspection> {
        let mut conn = self.pool.acquire().await?;
        let mut tables: Vec<String> = Self::table_names(&mut conn).await?.into_iter().collect();
        tables.sort();
        let own_migrations_applied = if tables.iter().any(|t| t == "authbridge_migrations") {
            sqlx::query_scalar("SELECT \"name\" FROM \"authbridge_migrations\" ORDER BY \"name\"")
                .fetch_all(&mut *conn)
                .await?
        } else {
            Vec::new()
        };
        let password_algorithms = if tables.contains(&self.users.table) {
            let sql = format!(
                "SELECT CASE WHEN substr(\"password\", 1, 1) = '!' THEN '!' \
                 WHEN instr(\"password\", '$') > 0 \
                 THEN substr(\"password\", 1, instr(\"password\", '$') - 1) ELSE '' END \
                 AS \"algorithm\", COUNT(*) AS \"n\" FROM {} GROUP BY 1 ORDER BY 1",
                migrate::quote_ident(&self.users.table)
            );
            sqlx::query_as::<_, (String, i64)>(&sql)
                .fetch_all(&mut *conn)
                .await?
        } else {
            Vec::new()
        };
        // julianday('now') has millisecond precision; 2440587.5 is the Unix epoch's Julian day.
        let millis: i64 = sqlx::query_scalar(
            "SELECT CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
        )
        .fetch_one(&mut *conn)
        .await?;
        let now = chrono::DateTime::from_timestamp_millis(millis).ok_or_else(|| {
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
        "sqlite"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::storage::{OutstandingToken, Rotation, TokenRepository};

    fn token(jti: &str, now: chrono::DateTime<Utc>) -> OutstandingToken {
        OutstandingToken {
            user_id: None,
            jti: jti.into(),
            token: format!("token-{jti}"),
            created_at: Some(now),
            expires_at: now + chrono::Duration::days(1),
        }
    }

    /// A rotation on the writer thread waits for the write in progress through sqlx (one queue,
    /// in arrival order) instead of racing it into SQLite's busy handler.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rotations_queue_behind_other_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("db.sqlite3"), UserTable::default())
                .await
                .unwrap(),
        );
        store.migrate().await.unwrap();
        let now = Utc::now();
        let rotation = Rotation {
            old: token("old", now),
            new: token("new", now),
            new_access: "access".into(),
            blacklist_old: true,
            now,
            grace: chrono::Duration::zero(),
        };
        let held = store.write_queue.lock().await;
        let rotating = {
            let store = store.clone();
            tokio::spawn(async move { store.rotate(&rotation).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !rotating.is_finished(),
            "the rotation jumped the write queue"
        );
        drop(held);
        let outcome = tokio::time::timeout(Duration::from_secs(10), rotating)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(outcome, crate::storage::RotateOutcome::Rotated);
    }
}
