//! Django's user, as its table holds it.

use chrono::{DateTime, Utc};

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

impl User {
    /// simplejwt's `CHECK_REVOKE_TOKEN` claim: `md5(user.password).hexdigest().upper()`.
    pub fn password_hash_claim(&self) -> String {
        password_hash_claim(&self.password)
    }
}

/// simplejwt's `CHECK_REVOKE_TOKEN` claim for an encoded password.
pub fn password_hash_claim(encoded: &str) -> String {
    use md5::Digest;
    hex::encode_upper(md5::Md5::digest(encoded.as_bytes()))
}
