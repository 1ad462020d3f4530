//! simplejwt's outstanding/blacklisted rows, and authbridge's refresh families and rotations, on
//! PostgreSQL. A rotation claims its token by inserting the rotation row: concurrent rotations of
//! the same token wait on that primary key and then replay the winner's committed pair.

use super::{get_id, PostgresStore};
use crate::storage::rotation;
use crate::storage::{
    password_fingerprint, BlacklistOutcome, FamilyState, OutstandingToken, PasswordCheck, Result,
    RotateOutcome, Rotation, TokenRepository,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

/// Advisory lock class (first key) for refresh families; the second key hashes the family id.
const FAMILY_LOCK: i32 = 0x6162_0001;

/// simplejwt's get-or-create by jti; returns the row's id.
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
    get_id(&row, "id")
}

/// Advisory lock class (first key) for a user's token state; the second key is the user id.
const USER_LOCK: i32 = 0x6162_0004;

async fn lock_family(conn: &mut PgConnection, family: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(FAMILY_LOCK)
        .bind(family)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn lock_user(conn: &mut PgConnection, user_id: i64) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(USER_LOCK)
        .bind(user_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn encode_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

fn decode_time(row: &PgRow, column: &str) -> Result<DateTime<Utc>> {
    Ok(row.try_get(column)?)
}

crate::storage::sqlx_tokens::sqlx_tokens!(
    conn: PgConnection,
    row: PgRow,
    encode_time: encode_time,
    decode_time: decode_time,
    lock_family: lock_family,
);

/// Blacklist every unexpired, not yet blacklisted refresh token of a user and record the
/// revocation (creating the user's state row if needed); returns how many tokens.
async fn revoke_user(conn: &mut PgConnection, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
    // Take the locks of the user's live logins (in one order) before writing: a rotation in
    // progress finishes first and its successor is revoked below; a later one finds its token
    // blacklisted.
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
    let revoked = sqlx::query(
        "INSERT INTO \"token_blacklist_blacklistedtoken\" (\"token_id\", \"blacklisted_at\") \
         SELECT o.\"id\", $1 FROM \"token_blacklist_outstandingtoken\" o WHERE o.\"user_id\" = $2 \
         AND o.\"expires_at\" > $1 \
         AND NOT EXISTS (SELECT 1 FROM \"token_blacklist_blacklistedtoken\" b WHERE b.\"token_id\" = o.\"id\") \
         ON CONFLICT (\"token_id\") DO NOTHING",
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \"revoked_at\", \
         \"updated_at\") VALUES ($1, '', $2, $2) ON CONFLICT (\"user_id\") DO UPDATE SET \
         \"revoked_at\" = $2, \"updated_at\" = $2",
    )
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(revoked)
}

async fn user_state(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<(String, Option<DateTime<Utc>>)>> {
    let row = sqlx::query(
        "SELECT \"password_fp\", \"revoked_at\" FROM \"authbridge_user_state\" WHERE \"user_id\" = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(Some((
            row.try_get("password_fp")?,
            row.try_get("revoked_at")?,
        ))),
        None => Ok(None),
    }
}

async fn set_fingerprint(
    conn: &mut PgConnection,
    user_id: i64,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO \"authbridge_user_state\" (\"user_id\", \"password_fp\", \"revoked_at\", \
         \"updated_at\") VALUES ($1, $2, NULL, $3) ON CONFLICT (\"user_id\") DO UPDATE SET \
         \"password_fp\" = $2, \"updated_at\" = $3",
    )
    .bind(user_id)
    .bind(fingerprint)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TokenRepository for PostgresStore {
    async fn outstand(&self, token: &OutstandingToken, family: Option<&str>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
        let outcome = blacklist(&mut tx, token, at).await?;
        tx.commit().await?;
        Ok(outcome)
    }
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome> {
        let mut tx = self.pool.begin().await?;
        let outcome = rotation::rotate(&mut Steps(&mut tx), rotation).await?;
        if rotation::writes(&outcome) {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn flush_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let deleted = flush_expired(&mut tx, now).await?;
        tx.commit().await?;
        Ok(deleted)
    }
    async fn family_state(&self, jti: &str, now: DateTime<Utc>) -> Result<FamilyState> {
        let mut conn = self.pool.acquire().await?;
        family_state(&mut conn, jti, now).await
    }
    async fn revoke_family(&self, token: &OutstandingToken, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let family = family_of(&mut tx, &token.jti)
            .await?
            .unwrap_or_else(|| token.jti.clone());
        // Serialized with rotations of the family: no successor escapes the revocation.
        lock_family(&mut tx, &family).await?;
        let id = ensure_outstanding(&mut tx, token).await?;
        let mut revoked = u64::from(blacklist_id(&mut tx, id, now).await?);
        revoked += blacklist_family(&mut tx, &family, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn revoke_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let revoked = revoke_user(&mut tx, user_id, now).await?;
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
        let mut tx = self.pool.begin().await?;
        lock_user(&mut tx, user_id).await?;
        let check = match user_state(&mut tx, user_id).await? {
            Some((fp, revoked_at)) if fp == fingerprint => PasswordCheck::Unchanged { revoked_at },
            // Recorded by a "log out everywhere" before authbridge saw the password.
            Some((fp, revoked_at)) if fp.is_empty() => {
                set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                PasswordCheck::Unchanged { revoked_at }
            }
            Some(_) => {
                let revoked = revoke_user(&mut tx, user_id, now).await?;
                set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                PasswordCheck::Changed { revoked }
            }
            None => {
                set_fingerprint(&mut tx, user_id, fingerprint, now).await?;
                PasswordCheck::Unchanged { revoked_at: None }
            }
        };
        tx.commit().await?;
        Ok(check)
    }

    async fn upgrade_password(&self, id: i64, old: &str, new: &str) -> Result<()> {
        let model = self.model().await?;
        let mut tx = self.pool.begin().await?;
        lock_user(&mut tx, id).await?;
        let updated = sqlx::query(&format!(
            "{} AND \"password\" = $3",
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
                "UPDATE \"authbridge_user_state\" SET \"password_fp\" = $1 \
                 WHERE \"user_id\" = $2 AND \"password_fp\" = $3",
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
