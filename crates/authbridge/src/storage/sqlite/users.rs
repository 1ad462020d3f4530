//! Users on SQLite: the statements Django's ORM issues, on the columns the table has.

use super::{time, SqliteStore};
use crate::storage::user_model::{like_escape, UserModel, Value};
use crate::storage::{NewUser, Result, StorageError, User, UserRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

fn decode(model: &UserModel, row: &SqliteRow) -> Result<User> {
    let text = |c: &str| -> Result<Option<String>> {
        Ok(if model.has(c) {
            row.try_get::<Option<String>, _>(c)?
        } else {
            None
        })
    };
    // Django writes 0/1; read any integer the way Python's bool() would.
    let flag = |c: &str, default: bool| -> Result<bool> {
        Ok(if model.has(c) {
            row.try_get::<i64, _>(c)? != 0
        } else {
            default
        })
    };
    let at = |c: &str| -> Result<Option<DateTime<Utc>>> {
        text(c)?.map(|s| time::parse(&s)).transpose()
    };
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get(model.username_field.as_str())?,
        password: row.try_get("password")?,
        email: text("email")?,
        first_name: text("first_name")?,
        last_name: text("last_name")?,
        is_active: flag("is_active", true)?,
        is_staff: flag("is_staff", false)?,
        is_superuser: flag("is_superuser", false)?,
        last_login: at("last_login")?,
        date_joined: at("date_joined")?,
    })
}

crate::storage::sqlx_users::sqlx_users!(conn: SqliteConnection);

pub(super) async fn by_email(
    conn: &mut SqliteConnection,
    model: &UserModel,
    email: &str,
) -> Result<Vec<User>> {
    let Some(sql) = model.by_email_sql() else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(&sql)
        .bind(like_escape(email))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| decode(model, r)).collect()
}

/// Inserts the user; `None` when a unique column (the username) is taken.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    model: &UserModel,
    user: &NewUser,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let (sql, values) = model.insert(user);
    let mut query = sqlx::query_scalar::<_, i64>(&sql);
    for value in values {
        query = match value {
            Value::Text(s) => query.bind(s),
            Value::Bool(b) => query.bind(b),
            Value::Now => query.bind(time::format(now)),
            Value::NullTime => query.bind(None::<String>),
        };
    }
    match query.fetch_optional(&mut *conn).await? {
        Some(id) => by_id(conn, model, id).await,
        None => Ok(None),
    }
}

#[async_trait]
impl UserRepository for SqliteStore {
    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let model = self.model().await?;
        let mut conn = self.pool.acquire().await?;
        by_username(&mut conn, &model, username).await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let model = self.model().await?;
        let mut conn = self.pool.acquire().await?;
        by_id(&mut conn, &model, id).await
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        let model = self.model().await?;
        let mut conn = self.pool.acquire().await?;
        by_email(&mut conn, &model, email).await
    }

    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User> {
        let model = self.model().await?;
        let (_writer, mut tx) = self.begin_write().await?;
        let created = insert(&mut tx, &model, user, now).await?;
        tx.commit().await?;
        created.ok_or_else(|| {
            StorageError::Conflict(format!(
                "{} {:?} is taken",
                model.username_field, user.username
            ))
        })
    }

    async fn set_password(&self, id: i64, encoded: &str) -> Result<()> {
        let model = self.model().await?;
        let (_writer, mut tx) = self.begin_write().await?;
        sqlx::query(&model.set_password_sql())
            .bind(encoded)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_last_login(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let model = self.model().await?;
        if let Some(sql) = model.set_last_login_sql() {
            let (_writer, mut tx) = self.begin_write().await?;
            sqlx::query(&sql)
                .bind(time::format(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
