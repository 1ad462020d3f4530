//! dj-rest-auth's `LoginView` with allauth installed: Django's `ModelBackend` (exact username),
//! then allauth's `AuthenticationBackend` (email, then username iexact), inactive users refused,
//! the mandatory-verification check, `last_login` updated, a pair issued.

use std::net::IpAddr;
use zeroize::Zeroizing;

use super::{AccountError, AccountFlows};
use crate::flows::TokenPair;
use crate::model::User;

/// The login body: blank fields count as absent (dj-rest-auth tests truthiness).
pub struct Credentials {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Zeroizing<String>,
}

/// 200 `{"access","refresh","user"}`.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub tokens: TokenPair,
}

impl AccountFlows<'_> {
    pub async fn login(
        &self,
        credentials: Credentials,
        client: Option<IpAddr>,
    ) -> Result<LoggedIn, AccountError> {
        let _ = (credentials, client);
        todo!()
    }
}
