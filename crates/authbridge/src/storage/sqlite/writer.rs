//! The refresh rotation on SQLite, run whole on one dedicated thread with its own connection.
//!
//! Through sqlx every statement is a round trip to sqlx's connection thread (~40 µs here), and a
//! rotation is a dozen statements: about 0.75 ms, all under SQLite's single write lock. Here the
//! transaction runs as one synchronous job (one round trip), which is what lets a file database
//! rotate thousands of tokens per second. Same SQL, same rows as the sqlx code it replaces.
//!
//! It is not a second write path: `SqliteStore` hands it a rotation only once the rotation's turn
//! in the store's one write queue has come, and holds the queue until the job answers.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::Path;
use std::sync::mpsc;
use tokio::sync::oneshot;

use super::time;
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
        self.run(move |conn| rotate(conn, &rotation).map_err(db_err))
            .await
    }
}

fn ensure_outstanding(conn: &Connection, token: &OutstandingToken) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
         \"created_at\", \"expires_at\") VALUES (?, ?, ?, ?, ?) ON CONFLICT (\"jti\") DO UPDATE \
         SET \"jti\" = \"excluded\".\"jti\" RETURNING \"id\"",
    )?
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
}

fn add_to_family(
    conn: &Connection,
    jti: &str,
    family: &str,
    expires_at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO \"authbridge_refresh_family\" (\"jti\", \"family_id\", \"expires_at\") \
         VALUES (?, ?, ?) ON CONFLICT (\"jti\") DO NOTHING",
    )?
    .execute(params![jti, family, time::format(expires_at)])?;
    Ok(())
}

fn blacklist_id(conn: &Connection, token_id: i64, at: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         VALUES (?, ?) ON CONFLICT (\"token_id\") DO NOTHING",
    )?
    .execute(params![token_id, time::format(at)])?;
    Ok(())
}

fn rotate(conn: &mut Connection, rotation: &Rotation) -> rusqlite::Result<RotateOutcome> {
    let (old, new) = (&rotation.old, &rotation.new);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // What is known about the presented token, in one statement.
    let (previous, blacklisted, family) = tx
        .prepare_cached(
            "SELECT \
               (SELECT json_array(r.\"family_id\", r.\"new_refresh\", r.\"new_access\", r.\"rotated_at\", \
                  EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \"token_blacklist_outstandingtoken\" o \
                  ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = r.\"new_jti\")) \
                  FROM \"authbridge_refresh_rotation\" r WHERE r.\"old_jti\" = ?1), \
               EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \
                  \"token_blacklist_outstandingtoken\" o ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = ?1), \
               (SELECT f.\"family_id\" FROM \"authbridge_refresh_family\" f WHERE f.\"jti\" = ?1)",
        )?
        .query_row(params![old.jti], |row| {
            Ok((row.get::<_, Option<String>>(0)?, row.get::<_, bool>(1)?, row.get::<_, Option<String>>(2)?))
        })?;
    if let Some(previous) = previous {
        let (family, refresh, access, rotated_at, successor_blacklisted): (
            String,
            String,
            String,
            String,
            i64,
        ) = serde_json::from_str(&previous)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        let rotated_at = time::parse(&rotated_at)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        if rotation.now.signed_duration_since(rotated_at) <= rotation.grace {
            // A successor already logged out stays logged out: no replay of it.
            if successor_blacklisted != 0 {
                return Ok(RotateOutcome::Blacklisted);
            }
            return Ok(RotateOutcome::Replayed { refresh, access });
        }
        revoke_family(&tx, &family, rotation)?;
        tx.commit()?;
        return Ok(RotateOutcome::ReuseDetected);
    }
    if blacklisted {
        return Ok(RotateOutcome::Blacklisted);
    }
    let family = family.unwrap_or_else(|| old.jti.clone());
    add_to_family(&tx, &old.jti, &family, old.expires_at)?;
    if rotation.blacklist_old {
        let id = ensure_outstanding(&tx, old)?;
        blacklist_id(&tx, id, rotation.now)?;
    }
    ensure_outstanding(&tx, new)?;
    add_to_family(&tx, &new.jti, &family, new.expires_at)?;
    tx.prepare_cached(
        "INSERT INTO \"authbridge_refresh_rotation\" (\"old_jti\", \"family_id\", \"new_jti\", \
         \"new_refresh\", \"new_access\", \"rotated_at\", \"expires_at\") VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        old.jti,
        family,
        new.jti,
        new.token,
        rotation.new_access,
        time::format(rotation.now),
        time::format(old.expires_at)
    ])?;
    tx.commit()?;
    Ok(RotateOutcome::Rotated)
}

/// Reuse of a rotated token: blacklist every token of its family (creating the outstanding rows
/// of successors Django never saw, from the rotation rows that issued them).
fn revoke_family(conn: &Connection, family: &str, rotation: &Rotation) -> rusqlite::Result<()> {
    ensure_outstanding(conn, &rotation.old)?;
    conn.execute(
        "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
         \"created_at\", \"expires_at\") SELECT ?, r.\"new_jti\", r.\"new_refresh\", \
         r.\"rotated_at\", f.\"expires_at\" FROM \"authbridge_refresh_rotation\" r INNER JOIN \
         \"authbridge_refresh_family\" f ON (f.\"jti\" = r.\"new_jti\") WHERE r.\"family_id\" = ? \
         ON CONFLICT (\"jti\") DO NOTHING",
        params![rotation.old.user_id, family],
    )?;
    conn.execute(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         SELECT o.\"id\", ? FROM \"token_blacklist_outstandingtoken\" o INNER JOIN \
         \"authbridge_refresh_family\" f ON (f.\"jti\" = o.\"jti\") WHERE f.\"family_id\" = ? \
         AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
         ON CONFLICT (\"token_id\") DO NOTHING",
        params![time::format(rotation.now), family],
    )?;
    Ok(())
}
