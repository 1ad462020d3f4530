//! Storage: Django's own tables (`auth_user` or a custom user table, `token_blacklist_*`) read and
//! written exactly as Django does, plus authbridge's own `authbridge_*` tables.
//!
//! Handlers only see these traits; `sqlite` and `postgres` implement them and pass one shared
//! conformance suite (`tests/it/storage.rs`). No SQL lives outside this module.

mod accounts;
mod attempts;
mod detached;
mod inspection;
mod migrate;
pub mod postgres;
mod rotation;
pub mod sqlite;
mod sqlx_accounts;
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
pub use inspection::Store;
pub use migrate::MigrationReport;
pub use tokens::TokenRepository;
pub use users::UserRepository;

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

/// A Django user row. Columns a custom user model does not have come back as `None` (texts) or as
/// Django's model defaults (`is_active` true, `is_staff`/`is_superuser` false).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    /// The value of `USERNAME_FIELD` (the `username` column for `auth_user`).
    pub username: String,
    /// Django's encoded password (`algorithm$...`).
    pub password: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub date_joined: Option<DateTime<Utc>>,
}

/// A user to insert. Django's non-null defaults (`''` names and email, flags) fill the rest.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    /// Already encoded (`make_password`) or unusable (`!` + 40 chars).
    pub password: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// A `token_blacklist_outstandingtoken` row as simplejwt writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingToken {
    pub user_id: Option<i64>,
    pub jti: String,
    /// The whole refresh JWT.
    pub token: String,
    pub created_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// One refresh rotation, written in one transaction.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The presented refresh token (its outstanding row is created if Django never stored it).
    pub old: OutstandingToken,
    /// The successor refresh token.
    pub new: OutstandingToken,
    /// The access token issued with `new`; replayed to concurrent callers within the grace window.
    pub new_access: String,
    /// Blacklist `old` (simplejwt's `BLACKLIST_AFTER_ROTATION`).
    pub blacklist_old: bool,
    pub now: DateTime<Utc>,
    /// `REFRESH_TOKEN_GRACE_PERIOD`: how long an already-rotated token still yields its successor.
    pub grace: chrono::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// `new` is stored, `old` blacklisted (if asked) and linked to `new` in the same family.
    Rotated,
    /// `old` was rotated less than `grace` ago: here is the successor pair it got then.
    Replayed { refresh: String, access: String },
    /// `old` was rotated more than `grace` ago: reuse. Every token of its family is now blacklisted.
    ReuseDetected,
    /// `old` was blacklisted by logout or by Django (not by a rotation we recorded).
    Blacklisted,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistOutcome {
    Blacklisted,
    AlreadyBlacklisted,
}

/// Where the login (refresh family) of a refresh token stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyState {
    /// At least one token of the family is neither blacklisted nor expired. `family` names it (the
    /// jti of the login's first refresh token, or the token's own jti when authbridge never saw
    /// its family).
    Live { family: String },
    /// Every token of the family is blacklisted or expired: logged out, revoked after reuse, or
    /// blacklisted by Django.
    Revoked,
}

/// What `check_password` found about a user's password since authbridge last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Same password as last time (or first sight, now recorded).
    Unchanged {
        /// When the user's tokens were last revoked ("log out everywhere", password change).
        revoked_at: Option<DateTime<Utc>>,
    },
    /// The password changed since authbridge last saw it: every refresh token of the user was
    /// blacklisted in the same transaction (`revoked` rows) and `revoked_at` set to `now`.
    Changed { revoked: u64 },
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

/// An OAuth/OIDC sign-in as Auth.js reports it (`account` + `profile`).
#[derive(Debug, Clone)]
pub struct ExternalAccount {
    pub provider: String,
    pub provider_account_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub image: Option<String>,
    /// The provider is allowed to link to an existing user by verified email (Auth.js's
    /// `allowDangerousEmailAccountLinking`, `AUTHBRIDGE_EMAIL_LINKING_PROVIDERS`). Never to a staff
    /// user or a superuser.
    pub email_linking: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The account was already linked to this user.
    Existing(User),
    /// A new user was created and linked.
    Created(User),
    /// The account was linked to the existing user with the same (verified) email.
    LinkedByEmail(User),
    /// A user with this email exists but the provider did not verify the email: not linked
    /// (Auth.js's `OAuthAccountNotLinked`). Nothing was written.
    EmailNotVerified,
    /// A user with this email exists and linking by email is not allowed: the provider did not opt
    /// in, or the user is staff or a superuser. Nothing was written.
    EmailLinkingRefused,
    /// The account's user (linked, or found by email) is inactive. Nothing was written.
    Inactive(User),
}

impl SyncOutcome {
    /// The account is linked to an active user (and the sync's writes are kept).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Self::Existing(_) | Self::Created(_) | Self::LinkedByEmail(_)
        )
    }
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
