//! SQLite implementation of the storage traits, on Django's own database file.
//!
//! Connections enable foreign keys as Django's SQLite backend does. File databases use WAL and a
//! 5 s busy timeout. Every write takes one path: its turn in the store's write queue (arrival
//! order), then one `BEGIN IMMEDIATE` transaction, through sqlx or, for a refresh rotation on a
//! file, on the rusqlite writer thread (`writer.rs`). Only Django's own writes to the same file
//! still meet authbridge's in SQLite's busy handler.

mod accounts;
pub(crate) mod codec;
mod dialect;
mod email_addresses;
mod oidc;
pub(crate) mod time;
mod tokens;
mod users;
mod writer;

use super::user_model::UserModel;
use super::{Result, StorageError, UserTable};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::SqliteConnection;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers run in parallel under WAL; writers queue on the busy timeout.
const FILE_POOL_SIZE: u32 = 4;

/// A write in progress: the store's turn in the write queue and its `BEGIN IMMEDIATE` transaction.
pub(crate) type Write<'a> = (
    tokio::sync::MutexGuard<'a, ()>,
    sqlx::Transaction<'static, sqlx::Sqlite>,
);

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
        .await
        .map_err(|e| cannot_open(path, &e))?;
        Ok(Self {
            pool,
            users,
            model: RwLock::new(None),
            write_queue: tokio::sync::Mutex::new(()),
            rotations: if memory {
                None
            } else {
                Some(writer::Writer::open(path, BUSY_TIMEOUT).map_err(|e| cannot_open(path, &e))?)
            },
        })
    }

    /// Start a write transaction (`BEGIN IMMEDIATE`) once this store's previous writer is done.
    /// Keep the guard until the transaction ends.
    pub(crate) async fn begin_write(&self) -> Result<Write<'_>> {
        let guard = self.write_queue.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((guard, tx))
    }

    /// The underlying pool (tests and maintenance commands).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write of one statement: on SQLite, a write like any other.
    pub(crate) async fn begin_single(&self) -> Result<Write<'_>> {
        self.begin_write().await
    }

    /// The write lock taken by `BEGIN IMMEDIATE` serializes concurrent migrations.
    async fn begin_migration(&self) -> Result<Write<'_>> {
        self.begin_write().await
    }
}

/// Names the file: SQLite's own message ("unable to open database file") does not.
fn cannot_open(path: &Path, cause: &dyn std::fmt::Display) -> StorageError {
    StorageError::Unavailable(format!(
        "cannot open the SQLite database {}: {cause}",
        path.display()
    ))
}

crate::storage::attempts::sqlx_attempts!(SqliteStore);

mod outbox {
    use super::{codec, SqliteStore};

    // Claims run one at a time on the store's single writer: no row lock to take.
    crate::storage::sqlx_outbox::sqlx_outbox!(
        store: SqliteStore,
        row: sqlx::sqlite::SqliteRow,
        lock: "",
    );
}

crate::storage::sqlx_store::sqlx_store!(
    store: SqliteStore,
    conn: SqliteConnection,
    backend: "sqlite",
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::storage::{OutstandingToken, Rotation, Store, TokenRepository};
    use chrono::Utc;

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
