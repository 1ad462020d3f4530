//! What PostgreSQL does its own way: its DDL files, table introspection through
//! `information_schema`, the advisory locks that serialize what READ COMMITTED does not, the
//! statement that reads a password's algorithm prefix, and the database clock.

use crate::storage::migrate::{self, Ddl, OwnMigration};
use crate::storage::user_model::{ColumnInfo, Dialect, UserModel};
use crate::storage::{Result, StorageError, UserTable};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use std::collections::HashSet;

pub(super) const DDL: &Ddl = &migrate::POSTGRES_DDL;

pub(super) fn own_ddl(migration: &OwnMigration) -> &'static str {
    migration.postgres
}

/// The text before a password's first `$` (`!` for unusable passwords, `''` without a `$`).
pub(super) const PASSWORD_ALGORITHM: &str = "CASE WHEN left(\"password\", 1) = '!' THEN '!' \
     WHEN strpos(\"password\", '$') > 0 THEN split_part(\"password\", '$', 1) ELSE '' END::text";

/// Advisory lock held by `migrate` so that two instances starting at once do not both create.
const MIGRATE_LOCK: i64 = 0x6175_7468_6272_0001;
/// Advisory lock classes (first key); the second key hashes the family, account, email or user.
pub(super) const FAMILY_LOCK: i32 = 0x6162_0001;
pub(super) const ACCOUNT_LOCK: i32 = 0x6162_0002;
pub(super) const EMAIL_LOCK: i32 = 0x6162_0003;
pub(super) const USER_LOCK: i32 = 0x6162_0004;

pub(super) async fn lock_migration(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATE_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A transaction-scoped advisory lock on (`class`, `hashtext(key)`).
pub(super) async fn lock(conn: &mut PgConnection, class: i32, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(class)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn read_model(conn: &mut PgConnection, users: &UserTable) -> Result<UserModel> {
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

/// Django gives a foreign key to the user table the type of that table's id.
pub(super) async fn user_fk_type(conn: &mut PgConnection, users: &UserTable) -> Result<String> {
    Ok(read_model(conn, users).await?.id_type().to_string())
}

pub(super) async fn table_names(conn: &mut PgConnection) -> Result<HashSet<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT \"table_name\"::text FROM \"information_schema\".\"tables\" \
         WHERE \"table_schema\" = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(names.into_iter().collect())
}

/// clock_timestamp(), not now(): now() is the transaction's start.
pub(super) async fn clock(conn: &mut PgConnection) -> Result<DateTime<Utc>> {
    let micros: i64 =
        sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint")
            .fetch_one(&mut *conn)
            .await?;
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::Schema("the database clock is out of range".into()))
}
