//! Django's encodings on SQLite: datetimes as TEXT (`time.rs`), booleans as 0/1, ids as integer.

use super::time;
use crate::storage::user_model::like_escape;
use crate::storage::Result;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

pub(crate) type Time = String;

pub(crate) fn encode(at: DateTime<Utc>) -> Time {
    time::format(at)
}

pub(crate) fn time(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>> {
    time::parse(&row.try_get::<String, _>(column)?)
}

pub(crate) fn opt_time(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    row.try_get::<Option<String>, _>(column)?
        .map(|text| time::parse(&text))
        .transpose()
}

/// Django writes 0/1; any integer reads the way Python's bool() would.
pub(crate) fn flag(row: &SqliteRow, column: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

pub(crate) fn id(row: &SqliteRow, column: &str) -> Result<i64> {
    Ok(row.try_get(column)?)
}

/// The argument of `UserModel::by_email_sql` (`LIKE ? ESCAPE '\'`).
pub(crate) fn email_arg(email: &str) -> String {
    like_escape(email)
}
