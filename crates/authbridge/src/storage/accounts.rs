//! The account repository: external (OAuth/OIDC) accounts linked to Django users.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ExternalAccount, NewUser, Result, SyncOutcome, User};

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
