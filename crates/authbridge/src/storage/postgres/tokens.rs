//! Tokens on PostgreSQL: the shared statements (`sqlx_tokens.rs`), and what READ COMMITTED needs
//! besides. A rotation claims its token by inserting the rotation row: concurrent rotations of the
//! same token wait on that primary key and then replay the winner's committed pair. Advisory locks
//! serialize what no row settles: a family's rotations and revocations, a user's token state.

use super::dialect::{lock, FAMILY_LOCK, USER_LOCK};
use super::{codec, PostgresStore};
use crate::storage::{OutstandingToken, Result, RotateOutcome, Rotation};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// simplejwt's get-or-create by jti; returns the row's id. (Not an upsert: `DO UPDATE` would lock
/// and rewrite an existing row.)
async fn ensure_outstanding(conn: &mut PgConnection, token: &OutstandingToken) -> Result<i64> {
    sqlx::query(
        "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
         \"created_at\", \"expires_at\") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (\"jti\") DO NOTHING",
    )
    .bind(token.user_id)
    .bind(&token.jti)
    .bind(&token.token)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(&mut *conn)
    .await?;
    let row =
        sqlx::query("SELECT \"id\" FROM \"token_blacklist_outstandingtoken\" WHERE \"jti\" = $1")
            .bind(&token.jti)
            .fetch_one(&mut *conn)
            .await?;
    codec::id(&row, "id")
}

async fn lock_family(conn: &mut PgConnection, family: &str) -> Result<()> {
    lock(conn, FAMILY_LOCK, family).await
}

async fn lock_user(conn: &mut PgConnection, user_id: i64) -> Result<()> {
    lock(conn, USER_LOCK, &user_id.to_string()).await
}

/// Take the locks of the user's live logins (in one order) before revoking them: a rotation in
/// progress finishes first and its successor is revoked; a later one finds its token blacklisted.
async fn lock_user_families(
    conn: &mut PgConnection,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock($1, hashtext(l.\"family_id\")) FROM (SELECT DISTINCT \
         f.\"family_id\" FROM \"authbridge_refresh_family\" f INNER JOIN \
         \"token_blacklist_outstandingtoken\" o ON (o.\"jti\" = f.\"jti\") WHERE o.\"user_id\" = $2 \
         AND o.\"expires_at\" > $3 ORDER BY f.\"family_id\") l",
    )
    .bind(FAMILY_LOCK)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl PostgresStore {
    /// Every rotation runs through sqlx here.
    async fn rotate_elsewhere(&self, _rotation: &Rotation) -> Result<Option<RotateOutcome>> {
        Ok(None)
    }
}

crate::storage::sqlx_tokens::sqlx_tokens!(
    store: PostgresStore,
    conn: PgConnection,
    row: sqlx::postgres::PgRow,
);
