//! What SQLite does its own way: its DDL files, table introspection through `sqlite_master` and
//! the table-valued pragmas, the statement that reads a password's algorithm prefix, and the
//! database clock.

use crate::storage::migrate::{self, Ddl, OwnMigration};
use crate::storage::user_model::{declared_len, ColumnInfo, Dialect, UserModel};
use crate::storage::{Result, StorageError, UserTable};
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};
use std::collections::HashSet;

pub(super) const DDL: &Ddl = &migrate::SQLITE_DDL;

pub(super) fn own_ddl(migration: &OwnMigration) -> &'static str {
    migration.sqlite
}

/// The text before a password's first `$` (`!` for unusable passwords, `''` without a `$`).
pub(super) const PASSWORD_ALGORITHM: &str = "CASE WHEN substr(\"password\", 1, 1) = '!' THEN '!' \
     WHEN instr(\"password\", '$') > 0 THEN substr(\"password\", 1, instr(\"password\", '$') - 1) \
     ELSE '' END";

pub(super) async fn read_model(
    conn: &mut SqliteConnection,
    users: &UserTable,
) -> Result<UserModel> {
    let rows = sqlx::query(
        "SELECT \"name\", \"type\", \"notnull\", \"dflt_value\" IS NOT NULL AS \"has_default\" \
         FROM pragma_table_info($1)",
    )
    .bind(&users.table)
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
    UserModel::new(users, columns, Dialect::Sqlite)
}

/// The type Django declares for a foreign key to the user table. On SQLite AutoField and
/// BigAutoField ids are both `integer`, but the columns referring to them say `integer` or
/// `bigint`: take it from an existing one (the user model's M2M tables), else `integer`.
pub(super) async fn user_fk_type(conn: &mut SqliteConnection, users: &UserTable) -> Result<String> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT c.\"type\" FROM \"sqlite_master\" m \
         JOIN pragma_foreign_key_list(m.\"name\") f \
         JOIN pragma_table_info(m.\"name\") c ON c.\"name\" = f.\"from\" \
         WHERE m.\"type\" = 'table' AND f.\"table\" = $1 ORDER BY m.\"name\" LIMIT 1",
    )
    .bind(&users.table)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match found.map(|t| t.to_lowercase()).as_deref() {
        Some("bigint") => "bigint".into(),
        _ => "integer".into(),
    })
}

pub(super) async fn table_names(conn: &mut SqliteConnection) -> Result<HashSet<String>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT \"name\" FROM \"sqlite_master\" WHERE \"type\" = 'table'")
            .fetch_all(&mut *conn)
            .await?;
    Ok(names.into_iter().collect())
}

/// julianday('now') has millisecond precision; 2440587.5 is the Unix epoch's Julian day.
pub(super) async fn clock(conn: &mut SqliteConnection) -> Result<DateTime<Utc>> {
    let millis: i64 = sqlx::query_scalar(
        "SELECT CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
    )
    .fetch_one(&mut *conn)
    .await?;
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StorageError::Schema("the database clock is out of range".into()))
}
