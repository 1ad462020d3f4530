//! Users on PostgreSQL: the statements Django's ORM issues, on the columns the table has.

use super::{get_id, PostgresStore};
use crate::storage::user_model::{UserModel, Value};
use crate::storage::{NewUser, Result, StorageError, User, UserRepository};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

fn decode(model: &UserModel, row: &PgRow) -> Result<User> {
    let text = |c: &str| -> Result<Option<String>> {
        Ok(if model.has(c) {
            row.try_get::<Option<String>, _>(c)?
        } else {
            None
        })
    };
    let flag = |c: &str, default: bool| -> Result<bool> {
        Ok(if model.has(c) {
            row.try_get::<bool, _>(c)?
        } else {
            default
        })
    };
    let at = |c: &str| -> Result<Option<DateTime<Utc>>> {
        Ok(if model.has(c) {
            row.try_get::<Option<DateTime<Utc>>, _>(c)?
        } else {
            None
        })
    };
    Ok(User {
        id: get_id(row, "id")?,
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

crate::storage::sqlx_users::sqlx_users!(conn: PgConnection);

pub(super) async fn by_email(
    conn: &mut PgConnection,
    model: &UserModel,
    email: &str,
) -> Result<Vec<User>> {
    let Some(sql) = model.by_email_sql() else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(&sql).bind(email).fetch_all(&mut *conn).await?;
    rows.iter().map(|r| decode(model, r)).collect()
}

/// Inserts the user; `None` when a unique column (the username) is taken.
pub(super) async fn insert(
    conn: &mut PgConnection,
    model: &UserModel,
    user: &NewUser,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let (sql, values) = model.insert(user);
    let mut query = sqlx::query(&sql);
    for value in values {
        query = match value {
            Value::Text(s) => query.bind(s),
            Value::Bool(b) => query.bind(b),
            Value::Now => query.bind(now),
            Value::NullTime => query.bind(None::<DateTime<Utc>>),
        };
    }
    match query.fetch_optional(&mut *conn).await? {
        Some(row) => by_id(conn, model, get_id(&row, "id")?).await,
        None => Ok(None),
    }
}

#[async_trait]
impl UserRepository for PostgresStore {
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
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, &model, user, now).await?.ok_or_else(|| {
            StorageError::Conflict(format!(
                "{} {:?} is taken",
                model.username_field, user.username
            ))
        })
    }

    async fn set_password(&self, id: i64, encoded: &str) -> Result<()> {
        let model = self.model().await?;
        sqlx::query(&model.set_password_sql())
            .bind(encoded)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_last_login(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        let model = self.model().await?;
        if let Some(sql) = model.set_last_login_sql() {
            sqlx::query(&sql)
                .bind(at)
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}
