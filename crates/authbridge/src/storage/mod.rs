//! Storage: Django's own tables (`auth_user` or a custom user table, `token_blacklist_*`) read and
//! written exactly as Django does, plus authbridge's own `authbridge_*` tables.
//!
//! Handlers only see these traits; `sqlite` and `postgres` implement them and pass one shared
//! conformance suite (`tests/it/storage.rs`). No SQL lives outside this module.

mod attempts;
mod detached;
mod migrate;
pub mod postgres;
mod rotation;
pub mod sqlite;
mod sqlx_accounts;
mod sqlx_tokens;
mod sqlx_users;
mod user_model;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use detached::Detached;
pub use migrate::MigrationReport;
// The nouns live in `model`; storage speaks them.
pub use crate::model::{
    BlacklistOutcome, ExternalAccount, FamilyState, NewUser, OutstandingToken, PasswordCheck,
    RotateOutcome, Rotation, SyncOutcome, User,
};

/// Which table holds users and which column is Django's `USERNAME_FIELD`.
/// Django's default is `auth_user` / `username`; a custom model is e.g. `accounts_user` / `email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTable {
    pub table: String,
    pub username_field: String,
}

impl Default for UserTable {
    fn default() -> Self {
        Self {
            table: "auth_user".into(),
            username_field: "username".into(),
        }
    }
}

/// Read-only facts about a database for `authbridge doctor` (nothing is created or changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// Every table present (PostgreSQL: in the current schema), sorted.
    pub tables: Vec<String>,
    /// Names in `authbridge_migrations` (empty when that table is absent).
    pub own_migrations_applied: Vec<String>,
    /// Distinct algorithm prefixes of the user table's `password` column (the text before the
    /// first `$`), with their row counts, sorted by prefix. `"!"` counts unusable passwords;
    /// `""` counts values without a `$` (empty, legacy unsalted MD5, or not a Django hash).
    /// Empty when the user table is absent. Never a password hash itself.
    pub password_algorithms: Vec<(String, i64)>,
    /// The database's own clock (`CURRENT_TIMESTAMP` / `clock_timestamp()`).
    pub now: DateTime<Utc>,
}

impl Inspection {
    /// authbridge's migrations this build knows, in order.
    pub fn own_migrations_known() -> Vec<&'static str> {
        migrate::OWN_MIGRATIONS.iter().map(|m| m.name).collect()
    }
}

/// A short fingerprint of an encoded Django password (`sha256(encoded)`, 32 hex digits): enough
/// to notice a change, kept in `authbridge_user_state` instead of the hash itself.
pub fn password_fingerprint(encoded: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(encoded.as_bytes());
    hex::encode(&digest[..16])
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    #[error("database URL or setting is invalid: {0}")]
    Config(String),
    #[error("database schema: {0}")]
    Schema(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("storage task failed: {0}")]
    Task(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

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

#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// simplejwt's `outstand()`: get-or-create the outstanding row by jti. `family` links the token
    /// to its login for reuse detection (`None` starts a new family named by this jti).
    async fn outstand(&self, token: &OutstandingToken, family: Option<&str>) -> Result<()>;
    /// simplejwt's `check_blacklist()`: is there a blacklisted row for this jti?
    async fn is_blacklisted(&self, jti: &str) -> Result<bool>;
    /// simplejwt's `blacklist()`: get-or-create the outstanding row, then the blacklisted row.
    async fn blacklist(
        &self,
        token: &OutstandingToken,
        at: DateTime<Utc>,
    ) -> Result<BlacklistOutcome>;
    /// Refresh rotation in one transaction, with replay within the grace window and reuse detection.
    async fn rotate(&self, rotation: &Rotation) -> Result<RotateOutcome>;
    /// Delete authbridge's own rows about tokens that expired before `now` (Django's
    /// `flushexpiredtokens` deletes the outstanding/blacklisted rows; this cleans our side).
    async fn flush_expired(&self, now: DateTime<Utc>) -> Result<u64>;
    /// The state of `jti`'s login: live while any token of its family is neither blacklisted nor
    /// expired at `now`. A token authbridge has no family row for is its own family.
    async fn family_state(&self, jti: &str, now: DateTime<Utc>) -> Result<FamilyState>;
    /// Logout of one login: blacklist `token` and every token of its family (one transaction,
    /// serialized with rotations of that family). Returns how many tokens were newly blacklisted.
    async fn revoke_family(&self, token: &OutstandingToken, now: DateTime<Utc>) -> Result<u64>;
    /// Log out everywhere: blacklist every unexpired refresh token of the user and record `now` as
    /// the user's `revoked_at`. Returns how many tokens were newly blacklisted.
    async fn revoke_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<u64>;
    /// Compare the user's password fingerprint with the one recorded (recording it on first
    /// sight); on a change, revoke the user's tokens as `revoke_user` does, in one transaction.
    async fn check_password(
        &self,
        user_id: i64,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<PasswordCheck>;
    /// A password-hash upgrade on login (same password, new hash): sets the password only if it
    /// is still `old` and carries the user's password fingerprint over, so that the upgrade is not
    /// taken for a password change (which would log the user out everywhere).
    /// (A token-state method: it keeps `check_password`'s record consistent.)
    async fn upgrade_password(&self, id: i64, old: &str, new: &str) -> Result<()>;
}

#[async_trait]
pub trait AccountRepository: Send + Sync {
    /// Find or create the Django user for an external account, in one transaction; idempotent and
    /// safe under concurrency (two syncs of one new account create exactly one user).
    /// `new_user` is used when a user must be created; its `username` is a base that the store
    /// makes unique by appending a number (`alice`, `alice2`, ...) within the column's 150 chars.
    async fn sync_account(
        &self,
        account: &ExternalAccount,
        new_user: &NewUser,
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome>;
    /// The user an external account is linked to.
    async fn linked_user(&self, provider: &str, provider_account_id: &str) -> Result<Option<User>>;
}

/// How many login attempts a key has made in its current period (see `LoginAttemptRepository`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted in the current period, this one included.
    pub attempts: i64,
    /// When the count starts again from zero.
    pub reset_at: DateTime<Utc>,
}

/// The rule a key is counted under: `limit` attempts per `period`; the attempt that reaches the
/// limit restarts the period, so a key that used its attempts waits one whole period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRule {
    pub limit: i64,
    pub period: chrono::Duration,
}

/// Login attempt counters (`authbridge_login_attempt`), shared by every instance on the database.
/// Every method is one atomic statement: concurrent attempts each get their own, distinct count.
#[async_trait]
pub trait LoginAttemptRepository: Send + Sync {
    /// Count one attempt under `key` and return the count including it. When the period has
    /// ended the count restarts at 1 with a new period; the attempt whose count equals
    /// `rule.limit` restarts the period (the lockout starts there).
    async fn count_attempt(
        &self,
        key: &str,
        rule: AttemptRule,
        now: DateTime<Utc>,
    ) -> Result<AttemptCount>;
    /// Take one attempt back (a login that succeeded, or that was never judged).
    async fn uncount_attempt(&self, key: &str) -> Result<()>;
    /// Forget the key (a successful login).
    async fn clear_attempts(&self, key: &str) -> Result<()>;
    /// Delete the counters whose period ended before `now`; returns how many.
    async fn purge_attempts(&self, now: DateTime<Utc>) -> Result<u64>;
}

/// Everything the server needs from one database.
#[async_trait]
pub trait Store:
    UserRepository + TokenRepository + AccountRepository + LoginAttemptRepository + Send + Sync
{
    /// Idempotent: create Django's tables when absent (as Django 5.2's `migrate` leaves them, with
    /// their `django_migrations` rows), then authbridge's own tables. Never alters Django's tables.
    async fn migrate(&self) -> Result<MigrationReport>;
    /// `true` once the database answers.
    async fn ping(&self) -> Result<()>;
    /// Read-only facts for `authbridge doctor`; works on a database that was never migrated.
    async fn inspect(&self) -> Result<Inspection>;
    fn backend(&self) -> &'static str;
}

pub type DynStore = Arc<dyn Store>;

/// Open a store from a dj-database-url style URL (`sqlite:///rel.db`, `sqlite:////abs.db`,
/// `postgres://...`).
pub async fn connect(database_url: &str, users: UserTable) -> Result<DynStore> {
    match crate::config::DatabaseUrl::parse(database_url)
        .map_err(|e| StorageError::Config(e.to_string()))?
    {
        crate::config::DatabaseUrl::Sqlite(path) => Ok(Arc::new(Detached(Arc::new(
            sqlite::SqliteStore::open(&path, users).await?,
        )))),
        crate::config::DatabaseUrl::Postgres(url) => Ok(Arc::new(Detached(Arc::new(
            postgres::PostgresStore::connect(&url, users).await?,
        )))),
    }
}
