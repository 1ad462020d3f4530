//! The refresh rotation on SQLite, run whole on one dedicated thread with its own connection.
//!
//! Through sqlx every statement is a round trip to sqlx's connection thread (~40 µs here), and a
//! rotation is a dozen statements: about 0.75 ms, all under SQLite's single write lock. Here the
//! transaction runs as one synchronous job (one round trip), which is what lets a file database
//! rotate thousands of tokens per second. Same SQL, same rows as the sqlx code it replaces.
//!
//! It is not a second write path: `SqliteStore` hands it a rotation only once the rotation's turn
//! in the store's one write queue has come, and holds the queue until the job answers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

use super::time;
use crate::storage::rotation::{self, Previous, RotationSteps};
use crate::storage::{OutstandingToken, Result, RotateOutcome, Rotation, StorageError};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

pub(crate) struct Writer {
    jobs: std::sync::Mutex<mpsc::Sender<Job>>,
}

fn db_err(e: rusqlite::Error) -> StorageError {
    StorageError::Task(format!("sqlite: {e}"))
}

impl Writer {
    /// Opens the writer's connection (the file must exist: sqlx created and migrated it).
    pub(crate) fn open(path: &Path, busy_timeout: std::time::Duration) -> Result<Self> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(busy_timeout).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "wal")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "normal")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "on")
            .map_err(db_err)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("authbridge-sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = rx.recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| StorageError::Task(e.to_string()))?;
        Ok(Self {
            jobs: std::sync::Mutex::new(tx),
        })
    }

    async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(job(conn));
        });
        self.jobs
            .lock()
            .map_err(|_| StorageError::Task("sqlite writer poisoned".into()))?
            .send(job)
            .map_err(|_| StorageError::Task("sqlite writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Task("sqlite writer dropped a job".into()))?
    }

    pub(crate) async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome> {
        self.run(move |conn| rotate(conn, &rotation)).await
    }
}

/// Rotation's statements on the writer's connection. Each runs synchronously: the futures of
/// [`RotationSteps`] are ready at their first poll ([`rotation::run_ready`]).
struct WriterSteps<'a>(&'a mut Connection);

fn rotate(conn: &mut Connection, rotation: &Rotation) -> Result<RotateOutcome> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
    let outcome = rotation::run_ready(rotation::rotate(&mut WriterSteps(conn), rotation));
    let end = match &outcome {
        Ok(outcome) if rotation::writes(outcome) => "COMMIT",
        _ => "ROLLBACK",
    };
    match conn.execute_batch(end) {
        Ok(()) => outcome,
        Err(e) => {
            if end == "COMMIT" {
                let _ = conn.execute_batch("ROLLBACK");
            }
            outcome.and(Err(db_err(e)))
        }
    }
}

#[async_trait]
impl RotationSteps for WriterSteps<'_> {
    async fn family_of(&mut self, jti: &str) -> Result<Option<String>> {
        self.0
            .prepare_cached(rotation::FAMILY_OF)
            .map_err(db_err)?
            .query_row(params![jti], |row| row.get(0))
            .optional()
            .map_err(db_err)
    }

    async fn lock_family(&mut self, _family: &str) -> Result<()> {
        Ok(()) // The transaction holds SQLite's write lock.
    }

    /// One statement: the previous rotation (folded into a JSON array) and the blacklist check.
    async fn facts(&mut self, jti: &str) -> Result<(Option<Previous>, bool)> {
        let (previous, blacklisted) = self
            .0
            .prepare_cached(
                "SELECT \
                   (SELECT json_array(r.\"family_id\", r.\"new_refresh\", r.\"new_access\", r.\"rotated_at\", \
                      EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \"token_blacklist_outstandingtoken\" o \
                      ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = r.\"new_jti\")) \
                      FROM \"authbridge_refresh_rotation\" r WHERE r.\"old_jti\" = ?1), \
                   EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \
                      \"token_blacklist_outstandingtoken\" o ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = ?1)",
            )
            .map_err(db_err)?
            .query_row(params![jti], |row| {
                Ok((row.get::<_, Option<String>>(0)?, row.get::<_, bool>(1)?))
            })
            .map_err(db_err)?;
        let Some(previous) = previous else {
            return Ok((None, blacklisted));
        };
        let (family, refresh, access, rotated_at, successor_blacklisted): (
            String,
            String,
            String,
            String,
            i64,
        ) = serde_json::from_str(&previous)
            .map_err(|e| StorageError::Task(format!("sqlite: rotation row: {e}")))?;
        let previous = Previous {
            family,
            refresh,
            access,
            rotated_at: time::parse(&rotated_at)?,
            successor_blacklisted: successor_blacklisted != 0,
        };
        Ok((Some(previous), blacklisted))
    }

    async fn claim(&mut self, rotation: &Rotation, family: &str) -> Result<bool> {
        let (old, new) = (&rotation.old, &rotation.new);
        Ok(self
            .0
            .prepare_cached(rotation::CLAIM)
            .map_err(db_err)?
            .execute(params![
                old.jti,
                family,
                new.jti,
                new.token,
                rotation.new_access,
                time::format(rotation.now),
                time::format(old.expires_at)
            ])
            .map_err(db_err)?
            == 1)
    }

    async fn add_to_family(
        &mut self,
        jti: &str,
        family: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.0
            .prepare_cached(rotation::ADD_TO_FAMILY)
            .map_err(db_err)?
            .execute(params![jti, family, time::format(expires_at)])
            .map_err(db_err)?;
        Ok(())
    }

    async fn ensure_outstanding(&mut self, token: &OutstandingToken) -> Result<i64> {
        self.0
            .prepare_cached(super::tokens::ENSURE_OUTSTANDING)
            .map_err(db_err)?
            .query_row(
                params![
                    token.user_id,
                    token.jti,
                    token.token,
                    token.created_at.map(time::format),
                    time::format(token.expires_at)
                ],
                |row| row.get(0),
            )
            .map_err(db_err)
    }

    async fn blacklist_id(&mut self, token_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.0
            .prepare_cached(rotation::BLACKLIST_ID)
            .map_err(db_err)?
            .execute(params![token_id, time::format(at)])
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_family(&mut self, family: &str, rotation: &Rotation) -> Result<()> {
        self.ensure_outstanding(&rotation.old).await?;
        self.0
            .execute(
                rotation::OUTSTAND_SUCCESSORS,
                params![rotation.old.user_id, family],
            )
            .map_err(db_err)?;
        self.0
            .execute(
                rotation::BLACKLIST_FAMILY,
                params![time::format(rotation.now), family],
            )
            .map_err(db_err)?;
        Ok(())
    }
}
