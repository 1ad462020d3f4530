//! simplejwt's outstanding/blacklisted rows, and authbridge's refresh families and rotations, on
//! SQLite. Each write runs under `BEGIN IMMEDIATE`, so concurrent rotations of one token queue and
//! the later ones find the first one's rotation row.

use super::{time, SqliteStore};
use crate::storage::rotation;
use crate::storage::{
    password_fingerprint, BlacklistOutcome, FamilyState, OutstandingToken, PasswordCheck, Result,
    RotateOutcome, Rotation, TokenRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

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
        .bind(token.created_at.map(time::format))
        .bind(time::format(token.expires_at))
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}

fn decode_time(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>> {
    time::parse(&row.try_get::<String, _>(column)?)
}

/// The transaction holds SQLite's write lock: rotations and revocations are already serialized.
async fn no_lock(_conn: &mut SqliteConnection, _family: &str) -> Result<()> {
    Ok(())
}

crate::storage::sqlx_tokens::sqlx_tokens!(
    conn: SqliteConnection,
    row: SqliteRow,
    encode_time: time::format,
    decode_time: decode_time,
    lock_family: no_lock,
);

/// Blacklist every unexpired, not yet blacklisted refresh token of a user and record the
/// revocation; returns how many tokens.
async fn revoke_user(conn: &mut SqliteConnection, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
    let at = time::format(now);
    let revoked = sqlx::query(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         SELECT o.\"id\", ? FROM \"token_blacklist_outstandingtoken\" o WHERE o.\"user_id\" = ? \
         AND o.\"expires_at\" > ? \
         AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
         ON CONFLICT (\"token_id\") DO NOTHING",
    )
    .bind(&at)
    .bind(user_id)
    .bind(&at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE \"authbridge_user_state\" SET \"revoked_at\" = ?, \"updated_at\" = ? \
         WHERE \"user_id\" = ?",
    )
    .bind(&at)
    .bind(&at)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(revoked)
}

/// The recorded fingerprint and revocation time of a user.
async fn user_state(
    conn: &mut SqliteConnection,
    user_id: i64,
) -> Result<Option<(String, Option<DateTime<Utc>>)>> {
    let row = sqlx::query(
        "SELECT \"password_fp\", \"revoked_at\" FROM \"authbridge_user_state\" WHERE \"user_id\" = ?",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let revoked_at = match row.try_get::<Option<String>, _>("revoked_at")? {
        Some(text) => Some(time::parse(&text)?),
        None => None,
    };
    Ok(Some((row.try_get("password_fp")?, revoked_at)))
}

#[async_trait]
impl TokenRepository for SqliteStore {
    async fn outstand(&self, token: &OutstandingToken, family: Option<&str>) -> Result<()> {
        let (_writer, mut tx) = self.begin_write().await?;
        outstand(&mut tx, token, family).await?;
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
        let outcome = blacklist(&mut tx, token, at).await?;
        tx.commit().await?;
        Ok(outcome)
    }
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome> {
        // Same queue as every other write: the writer thread's transaction starts only once
        // the previous writer is done, and the next one waits for it.
        let (_writer, mut tx) = match &self.rotations {
            Some(rotations) => {
                let _writer = self.write_queue.lock().await;
                return rotations.rotate(rotation.clone()).await;
            }
            None => self.begin_write().await?,
        };
        let outcome = rotation::rotate(&mut Steps(&mut tx), rotation).await?;
        if rotation::writes(&outcome) {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn flush_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let (_writer, mut tx) = self.begin_write().await?;
        let deleted = flush_expired(&mut tx, now).await?;
        tx.commit().await?;
        Ok(deleted)
    }
    async fn family_state(&self, jti: &str, now: DateTime<Utc>) -> Result<FamilyState> {
        let mut conn = self.pool.acquire().await?;
        family_state(&mut conn, jti, now).await
    }
    async fn revoke_family(&self, token: &OutstandingToken, now: DateTime<Utc>) -> Result<u64> {
        let (_writer, mut tx) = self.begin_write().await?;
        let id = ensure_outstanding(&mut tx, token).await?;
        let mut revoked = u64::from(blacklist_id(&mut tx, id, now).await?);
        let family = family_of(&mut tx, &token.jti).await?;
        if let Some(family) = family {
            revoked += blacklist_family(&mut tx, &family, now).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn revoke_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let (_writer, mut tx) = self.begin_write().await?;
        let revoked = revoke_user(&mut tx, user_id, now).await?;
        // A user authbridge never saw gets a row, so the revocation time is kept.
        sqlx::query(
            "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \"revoked_at\", \
             \"updated_at\") VALUES (?, '', ?, ?) ON CONFLICT (\"user_id\") DO NOTHING",
        )
        .bind(user_id)
        .bind(time::format(now))
        .bind(time::format(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn check_password(
        &self,
        user_id: i64,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<PasswordCheck> {
        {
            let mut conn = self.pool.acquire().await?;
            if let Some((fp, revoked_at)) = user_state(&mut conn, user_id).await? {
                if fp == fingerprint {
                    return Ok(PasswordCheck::Unchanged { revoked_at });
                }
            }
        }
        let (_writer, mut tx) = self.begin_write().await?;
        let check = match user_state(&mut tx, user_id).await? {
            Some((fp, revoked_at)) if fp == fingerprint => PasswordCheck::Unchanged { revoked_at },
            // Recorded by a "log out everywhere" before authbridge saw the password.
            Some((fp, revoked_at)) if fp.is_empty() => {
                sqlx::query(
                    "UPDATE \"authbridge_user_state\" SET \"password_fp\" = ?, \"updated_at\" = ? \
                     WHERE \"user_id\" = ?",
                )
                .bind(fingerprint)
                .bind(time::format(now))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                PasswordCheck::Unchanged { revoked_at }
            }
            Some(_) => {
                let revoked = revoke_user(&mut tx, user_id, now).await?;
                sqlx::query(
                    "UPDATE \"authbridge_user_state\" SET \"password_fp\" = ?, \"updated_at\" = ? \
                     WHERE \"user_id\" = ?",
                )
                .bind(fingerprint)
                .bind(time::format(now))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                PasswordCheck::Changed { revoked }
            }
            None => {
                sqlx::query(
                    "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \
                     \"revoked_at\", \"updated_at\") VALUES (?, ?, NULL, ?)",
                )
                .bind(user_id)
                .bind(fingerprint)
                .bind(time::format(now))
                .execute(&mut *tx)
                .await?;
                PasswordCheck::Unchanged { revoked_at: None }
            }
        };
        tx.commit().await?;
        Ok(check)
    }

    async fn upgrade_password(&self, id: i64, old: &str, new: &str) -> Result<()> {
        let model = self.model().await?;
        let (_writer, mut tx) = self.begin_write().await?;
        let updated = sqlx::query(&format!(
            "{} AND \"password\" = ?",
            model.set_password_sql()
        ))
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 1 {
            sqlx::query(
                "UPDATE \"authbridge_user_state\" SET \"password_fp\" = ? \
                 WHERE \"user_id\" = ? AND \"password_fp\" = ?",
            )
            .bind(password_fingerprint(new))
            .bind(id)
            .bind(password_fingerprint(old))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
