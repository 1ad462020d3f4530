//! dj-rest-auth's `PasswordChangeView` (`OLD_PASSWORD_FIELD_ENABLED` off, as its default): the
//! new password is set, and — beyond the anchor — the user's refresh tokens issued before it are
//! refused from then on.

use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows};
use crate::model::User;

impl AccountFlows<'_> {
    /// Set `user`'s password (already validated against Django's validators with the user).
    pub async fn change_password(
        &self,
        user: &User,
        new_password: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        let _ = (user, new_password, client);
        todo!()
    }
}
