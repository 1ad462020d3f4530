//! dj-rest-auth's `UserDetailsView` writes: `username`, `first_name`, `last_name` (`pk` and
//! `email` are read-only).

use super::{AccountError, AccountFlows};
use crate::model::User;
use crate::storage::StorageError;

/// A validated change (PUT: every field; PATCH: those given).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl AccountFlows<'_> {
    /// allauth's `clean_username` database check: a user with this username in any case. The
    /// user being updated counts too (the anchor's quirk: a PUT keeping one's own username is
    /// refused).
    pub async fn username_taken(&self, username: &str) -> Result<bool, AccountError> {
        Ok(!self
            .flows
            .store
            .users_by_username_iexact(username)
            .await?
            .is_empty())
    }

    /// Apply `change` to `user`; `UsernameTaken` when another user took the username meanwhile,
    /// `NotFound` when the user is gone.
    pub async fn update_user(&self, user: &User, change: UserChange) -> Result<User, AccountError> {
        match self
            .flows
            .store
            .update_user_names(
                user.id,
                change.username.as_deref(),
                change.first_name.as_deref(),
                change.last_name.as_deref(),
            )
            .await
        {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(AccountError::NotFound),
            Err(StorageError::Conflict(_)) => Err(AccountError::UsernameTaken),
            Err(e) => Err(e.into()),
        }
    }
}
