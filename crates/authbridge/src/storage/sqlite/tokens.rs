//! Tokens on SQLite: the shared statements (`sqlx_tokens.rs`). Each write runs in the store's
//! write queue under `BEGIN IMMEDIATE`, so concurrent rotations of one token queue and the later
//! ones find the first one's rotation row; no lock beyond that is needed. On a file database a
//! rotation runs in one hop on the rusqlite writer thread (`writer.rs`), in the same queue.

use super::{codec, SqliteStore};
use crate::storage::{OutstandingToken, Result, RotateOutcome, Rotation};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// simplejwt's get-or-create by jti in one statement: the no-op update on conflict makes
/// RETURNING give the existing row's id. (Also run by the writer thread.)
pub(super) const ENSURE_OUTSTANDING: &str =
    "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
     \"created_at\", \"expires_at\") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (\"jti\") DO UPDATE \
     SET \"jti\" = \"excluded\".\"jti\" RETURNING \"id\"";

/// simplejwt's get-or-create by jti; returns the row's id.
async fn ensure_outstanding(conn: &mut SqliteConnection, token: &OutstandingToken) -> Result<i64> {
    let id = sqlx::query_scalar(ENSURE_OUTSTANDING)
        .bind(token.user_id)
        .bind(&token.jti)
        .bind(&token.token)
        .bind(token.created_at.map(codec::encode))
        .bind(codec::encode(token.expires_at))
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}

async fn lock_family(_conn: &mut SqliteConnection, _family: &str) -> Result<()> {
    Ok(())
}

async fn lock_user(_conn: &mut SqliteConnection, _user_id: i64) -> Result<()> {
    Ok(())
}

async fn lock_user_families(
    _conn: &mut SqliteConnection,
    _user_id: i64,
    _now: DateTime<Utc>,
) -> Result<()> {
    Ok(())
}

impl SqliteStore {
    /// On a file, the writer thread runs the rotation, after its turn in the write queue (the
    /// next writer waits for it); `:memory:`'s single connection only sqlx holds.
    async fn rotate_elsewhere(&self, rotation: &Rotation) -> Result<Option<RotateOutcome>> {
        let Some(rotations) = &self.rotations else {
            return Ok(None);
        };
        let _writer = self.write_queue.lock().await;
        rotations.rotate(rotation.clone()).await.map(Some)
    }
}

crate::storage::sqlx_tokens::sqlx_tokens!(
    store: SqliteStore,
    conn: SqliteConnection,
    row: sqlx::sqlite::SqliteRow,
);
