//! Storage: Django's own tables (`auth_user` or a custom user table, `token_blacklist_*`) read and
//! written exactly as Django does, plus authbridge's own `authbridge_*` tables.
//!
//! Handlers only see these traits; `sqlite` and `postgres` implement them and pass one shared
//! conformance suite (`tests/it/storage.rs`). No SQL lives outside this module.

mod accounts;
mod attempts;
mod detached;
mod email_addresses;
mod inspection;
mod migrate;
mod oidc;
mod outbox;
pub mod postgres;
mod rotation;
pub mod sqlite;
mod sqlx_accounts;
mod sqlx_email_addresses;
mod sqlx_oidc;
mod sqlx_oidc_sessions;
mod sqlx_outbox;
mod sqlx_store;
mod sqlx_token_repository;
mod sqlx_tokens;
mod sqlx_users;
mod tokens;
mod user_model;
mod users;

use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use accounts::AccountRepository;
pub use attempts::LoginAttemptRepository;
use detached::Detached;
pub use email_addresses::EmailAddressRepository;
pub use inspection::Store;
pub use migrate::MigrationReport;
pub use oidc::{
    AuthCodeRepository, ConsentRepository, LoginSessionRepository, OidcClientRepository,
    OidcKeyRepository,
};
pub use outbox::{OutboxEntry, OutboxRepository, OutboxState};
pub use tokens::TokenRepository;
pub use users::UserRepository;
// The nouns live in `model`; storage speaks them.
pub use crate::model::{
    BlacklistOutcome, Client, CodeHash, CodeRecord, Consent, EmailAddress, ExternalAccount,
    FamilyState, KeyRecord, KeyRotation, LoginSession, NewUser, OutstandingToken, PasswordCheck,
    RedeemedCode, RotateOutcome, Rotation, SessionHash, SignupOutcome, SyncOutcome, User,
    VerifyOutcome,
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
    /// The database cannot be reached or opened: where (never the password) and why.
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;

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
