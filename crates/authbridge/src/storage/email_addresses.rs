//! allauth's `account_emailaddress`, read and written as allauth does, and the user lookups of
//! its account flows. (`account_emailconfirmation` exists, as allauth creates it, but HMAC
//! confirmation keys never write to it.)

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{EmailAddress, NewUser, Result, SignupOutcome, User, VerifyOutcome};

#[async_trait]
pub trait EmailAddressRepository: Send + Sync {
    /// Create allauth's tables when absent, exactly as Django's `migrate` leaves them, with their
    /// `django_migrations` rows; `true` when created. Run after `Store::migrate`.
    async fn migrate_email_addresses(&self) -> Result<bool>;

    /// A sign-up in one transaction: refuse a username taken in any case or an email some
    /// verified row holds in any case (the user's email), else insert the user and, as
    /// allauth's `setup_user_email`, its address row for `email` (lower-cased and checked by
    /// the caller; verified 0, primary 1) unless a row (any user's) holds exactly this email.
    async fn create_user_with_email(
        &self,
        user: &NewUser,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SignupOutcome>;

    /// `EmailAddress.objects.is_verified(email)`: a verified row with this email, iexact.
    async fn verified_email_exists(&self, email: &str) -> Result<bool>;

    async fn email_address_by_id(&self, id: i64) -> Result<Option<EmailAddress>>;

    /// `EmailAddress.objects.filter(email=email).first()`: exact (case-sensitive), lowest id.
    async fn first_email_address(&self, email: &str) -> Result<Option<EmailAddress>>;

    /// The user's rows, by id.
    async fn email_addresses_of(&self, user_id: i64) -> Result<Vec<EmailAddress>>;

    /// Mark the row verified if it is not yet (one transaction, one winner), and primary (with
    /// the user's email set to it) when the user has no primary address.
    async fn verify_email_address(&self, id: i64) -> Result<VerifyOutcome>;

    /// allauth's `sync_email_address(user, email)`: a row (verified 0, primary 0) for the user
    /// and this exact email unless one exists. `true` when inserted.
    async fn ensure_email_address(&self, user_id: i64, email: &str) -> Result<bool>;

    /// allauth's `filter_users_by_email(email, prefer_verified=...)` for an email already
    /// lower-cased: the users of rows with exactly this email (with `prefer_verified`, only the
    /// verified rows' users if any is verified), else also users whose email column is exactly
    /// it; each user once, by id. Login prefers verified rows; dj-rest-auth's password reset
    /// does not.
    async fn users_by_email_address(&self, email: &str, prefer_verified: bool)
        -> Result<Vec<User>>;

    /// `USERNAME_FIELD__iexact` (allauth's `filter_users_by_username` with
    /// `PRESERVE_USERNAME_CASING`), by id.
    async fn users_by_username_iexact(&self, username: &str) -> Result<Vec<User>>;

    /// Set `USERNAME_FIELD`, `first_name` and `last_name` (those given, the columns present);
    /// `None` when the user is gone. `StorageError::Conflict` when the username is taken.
    async fn update_user_names(
        &self,
        id: i64,
        username: Option<&str>,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Result<Option<User>>;

    /// A password reset or change that wins only once: the new encoded password if the stored
    /// one is still `old`. `true` when written.
    async fn replace_password(&self, id: i64, old: &str, new: &str) -> Result<bool>;
}
