//! External (OAuth/OIDC) sign-ins and what syncing one into Django's users found.

use super::User;

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
