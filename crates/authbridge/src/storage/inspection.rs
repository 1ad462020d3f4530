//! The store as a whole: migration, liveness and the read-only inspection of `authbridge doctor`.

use async_trait::async_trait;

use super::{
    AccountRepository, AuthCodeRepository, ConsentRepository, EmailAddressRepository, Inspection,
    LoginAttemptRepository, LoginSessionRepository, MigrationReport, OidcClientRepository,
    OidcKeyRepository, OutboxRepository, Result, TokenRepository, UserRepository,
};

/// Everything the server needs from one database.
#[async_trait]
pub trait Store:
    UserRepository
    + TokenRepository
    + AccountRepository
    + EmailAddressRepository
    + LoginAttemptRepository
    + OidcKeyRepository
    + OidcClientRepository
    + AuthCodeRepository
    + LoginSessionRepository
    + ConsentRepository
    + OutboxRepository
    + Send
    + Sync
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
