//! simplejwt's outstanding/blacklisted rows, and authbridge's refresh families and rotations, on
//! SQLite. Each write runs under `BEGIN IMMEDIATE`, so concurrent rotations of one token queue and
//! the later ones find the first one's rotation row.

use super::{time, SqliteStore};
use crate::storage::{
    BlacklistOutcome, OutstandingToken, Result, RotateOutcome, Rotation, TokenRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

/// simplejwt's get-or-create by jti; returns the row's id.
async fn ensure_outstanding(conn: &mut SqliteConnection, token: &OutstandingToken) -> Result<i64> {
    // One statement: the no-op update on conflict makes RETURNING give the existing row's id.
    let id = sqlx::query_scalar(
        "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
         \"created_at\", \"expires_at\") VALUES (?, ?, ?, ?, ?) ON CONFLICT (\"jti\") DO UPDATE \
         SET \"jti\" = \"excluded\".\"jti\" RETURNING \"id\"",
    )
    .bind(token.user_id)
    .bind(&token.jti)
    .bind(&token.token)
    .bind(token.created_at.map(time::format))
    .bind(time::format(token.expires_at))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Inserts the blacklisted row unless there is one; `true` when this call inserted it.
async fn blacklist_id(
    conn: &mut SqliteConnection,
    token_id: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         VALUES (?, ?) ON CONFLICT (\"token_id\") DO NOTHING",
    )
    .bind(token_id)
    .bind(time::format(at))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn is_blacklisted(conn: &mut SqliteConnection, jti: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 AS \"a\" FROM \"token_blacklist_blacklistedtoken\" INNER JOIN \
         \"token_blacklist_outstandingtoken\" ON (\"token_blacklist_blacklistedtoken\".\"token_id\" \
         = \"token_blacklist_outstandingtoken\".\"id\") WHERE \
         \"token_blacklist_outstandingtoken\".\"jti\" = ? LIMIT 1",
    )
    .bind(jti)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

async fn add_to_family(
    conn: &mut SqliteConnection,
    jti: &str,
    family: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO \"authbridge_refresh_family\" (\"jti\", \"family_id\", \"expires_at\") \
         VALUES (?, ?, ?) ON CONFLICT (\"jti\") DO NOTHING",
    )
    .bind(jti)
    .bind(family)
    .bind(time::format(expires_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Reuse of a rotated token: blacklist every token of its family (creating the outstanding rows
/// of successors Django never saw, from the rotation rows that issued them).
async fn revoke_family(
    conn: &mut SqliteConnection,
    family: &str,
    rotation: &Rotation,
) -> Result<()> {
    ensure_outstanding(conn, &rotation.old).await?;
    sqlx::query(
        "INSERT INTO \"token_blacklist_outstandingtoken\" (\"user_id\", \"jti\", \"token\", \
         \"created_at\", \"expires_at\") SELECT ?, r.\"new_jti\", r.\"new_refresh\", \
         r.\"rotated_at\", f.\"expires_at\" FROM \"authbridge_refresh_rotation\" r INNER JOIN \
         \"authbridge_refresh_family\" f ON (f.\"jti\" = r.\"new_jti\") WHERE r.\"family_id\" = ? \
         ON CONFLICT (\"jti\") DO NOTHING",
    )
    .bind(rotation.old.user_id)
    .bind(family)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         SELECT o.\"id\", ? FROM \"token_blacklist_outstandingtoken\" o INNER JOIN \
         \"authbridge_refresh_family\" f ON (f.\"jti\" = o.\"jti\") WHERE f.\"family_id\" = ? \
         AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
         ON CONFLICT (\"token_id\") DO NOTHING",
    )
    .bind(time::format(rotation.now))
    .bind(family)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TokenRepository for SqliteStore {
    async fn outstand(&self, token: &OutstandingToken, family: Option<&str>) -> Result<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        ensure_outstanding(&mut tx, token).await?;
        add_to_family(
            &mut tx,
            &token.jti,
            family.unwrap_or(&token.jti),
            token.expires_at,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_blacklisted(&self, jti: &str) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        is_blacklisted(&mut conn, jti).await
    }

    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: DateTime<Utc>,
    ) -> Result<BlacklistOutcome> {
        let (_writer, mut tx) = self.begin_write().await?;
        let id = ensure_outstanding(&mut tx, token).await?;
        let inserted = blacklist_id(&mut tx, id, at).await?;
        tx.commit().await?;
        Ok(if inserted {
            BlacklistOutcome::Blacklisted
        } else {
            BlacklistOutcome::AlreadyBlacklisted
        })
    }

    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome> {
        if let Some(rotations) = &self.rotations {
            return rotations.rotate(rotation.clone()).await;
        }
        let (old, new) = (&rotation.old, &rotation.new);
        let (_writer, mut tx) = self.begin_write().await?;
        let previous = sqlx::query(
            "SELECT r.\"family_id\", r.\"new_refresh\", r.\"new_access\", r.\"rotated_at\", \
             EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b INNER JOIN \"token_blacklist_outstandingtoken\" o ON (b.\"token_id\" = o.\"id\") WHERE o.\"jti\" = r.\"new_jti\") AS \"successor_blacklisted\" \
             FROM \"authbridge_refresh_rotation\" r WHERE r.\"old_jti\" = ?",
        )
        .bind(&old.jti)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = previous {
            let rotated_at = time::parse(&row.try_get::<String, _>("rotated_at")?)?;
            if rotation.now.signed_duration_since(rotated_at) <= rotation.grace {
                // A successor already logged out stays logged out: no replay of it.
                if row.try_get::<bool, _>("successor_blacklisted")? {
                    return Ok(RotateOutcome::Blacklisted);
                }
                return Ok(RotateOutcome::Replayed {
                    refresh: row.try_get("new_refresh")?,
                    access: row.try_get("new_access")?,
                });
            }
            let family: String = row.try_get("family_id")?;
            revoke_family(&mut tx, &family, rotation).await?;
            tx.commit().await?;
            return Ok(RotateOutcome::ReuseDetected);
        }
        if is_blacklisted(&mut tx, &old.jti).await? {
            return Ok(RotateOutcome::Blacklisted);
        }
        let family: String = sqlx::query_scalar(
            "SELECT \"family_id\" FROM \"authbridge_refresh_family\" WHERE \"jti\" = ?",
        )
        .bind(&old.jti)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_else(|| old.jti.clone());
        add_to_family(&mut tx, &old.jti, &family, old.expires_at).await?;
        if rotation.blacklist_old {
            let id = ensure_outstanding(&mut tx, old).await?;
            blacklist_id(&mut tx, id, rotation.now).await?;
        }
        ensure_outstanding(&mut tx, new).await?;
        add_to_family(&mut tx, &new.jti, &family, new.expires_at).await?;
        sqlx::query(
            "INSERT INTO \"authbridge_refresh_rotation\" (\"old_jti\", \"family_id\", \"new_jti\", \
             \"new_refresh\", \"new_access\", \"rotated_at\", \"expires_at\") VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&old.jti)
        .bind(&family)
        .bind(&new.jti)
        .bind(&new.token)
        .bind(&rotation.new_access)
        .bind(time::format(rotation.now))
        .bind(time::format(old.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RotateOutcome::Rotated)
    }

    async fn flush_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let now = time::format(now);
        let (_writer, mut tx) = self.begin_write().await?;
        let mut deleted = 0;
        for table in ["authbridge_refresh_family", "authbridge_refresh_rotation"] {
            deleted += sqlx::query(&format!("DELETE FROM \"{table}\" WHERE \"expires_at\" < ?"))
                .bind(&now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
