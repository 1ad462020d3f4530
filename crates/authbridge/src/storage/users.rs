//! The user repository: Django's user table, read and written as Django's ORM does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{NewUser, Result, User};

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Exact match on `USERNAME_FIELD` (Django's `get_by_natural_key`).
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    /// Case-insensitive match on the `email` column (empty when the table has none).
    async fn users_by_email(&self, email: &str) -> Result<Vec<User>>;
    /// `StorageError::Conflict` when the username is taken.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User>;
    /// `UPDATE <table> SET password = ? WHERE id = ?` (only that column, as Django's upgrade does).
    async fn set_password(&self, id: i64, encoded: &str) -> Result<()>;
    async fn set_last_login(&self, id: i64, at: DateTime<Utc>) -> Result<()>;
}
