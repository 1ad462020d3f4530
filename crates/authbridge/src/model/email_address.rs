//! allauth's `EmailAddress` (`account_emailaddress`) and what writing one can come to.

use super::User;

/// One row of `account_emailaddress`. allauth stores the email lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    pub id: i64,
    pub user_id: i64,
    pub email: String,
    pub verified: bool,
    pub primary: bool,
}

/// A sign-up's user and address row, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupOutcome {
    Created {
        user: Box<User>,
        /// `None` when no row was written: no address given, or a row holds it already.
        address: Option<EmailAddress>,
    },
    /// A user has this username, in any case (allauth's `filter_users_by_username`, iexact).
    UsernameTaken,
    /// A verified address row has this email, in any case (`EmailAddress.objects.is_verified`).
    EmailRegistered,
}

/// Confirming an address (`mark_email_address_as_verified`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// Marked verified; `made_primary` when the user had no primary address (the user's email
    /// then became this one, as `set_as_primary` does).
    Verified {
        address: EmailAddress,
        made_primary: bool,
    },
    /// No such row, or already verified (a used key): allauth's 404.
    NotFound,
    /// Another row with this email is verified already (`can_set_verified` is false under
    /// `ACCOUNT_UNIQUE_EMAIL`): nothing is written, and dj-rest-auth still answers "ok".
    Conflict,
}
