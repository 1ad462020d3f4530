//! Django's encodings on PostgreSQL: `timestamptz`, `boolean`, and ids that are `integer`
//! (AutoField) or `bigint` (BigAutoField).

use crate::storage::Result;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

pub(crate) type Time = DateTime<Utc>;

pub(crate) fn encode(at: DateTime<Utc>) -> Time {
    at
}

pub(crate) fn time(row: &PgRow, column: &str) -> Result<DateTime<Utc>> {
    Ok(row.try_get(column)?)
}

pub(crate) fn opt_time(row: &PgRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(row.try_get(column)?)
}

pub(crate) fn flag(row: &PgRow, column: &str) -> Result<bool> {
    Ok(row.try_get(column)?)
}

/// Reads an `id`-like column whether Django made it `integer` or `bigint`.
pub(crate) fn id(row: &PgRow, column: &str) -> Result<i64> {
    match row.try_get::<i64, _>(column) {
        Ok(id) => Ok(id),
        Err(_) => Ok(i64::from(row.try_get::<i32, _>(column)?)),
    }
}

/// The argument of `UserModel::by_email_sql` (`UPPER(email) = UPPER($1)`).
pub(crate) fn email_arg(email: &str) -> String {
    email.to_string()
}
