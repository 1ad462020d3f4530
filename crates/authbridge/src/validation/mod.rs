//! Django's validators for what people type (pure): the username rule of `auth_user.username`
//! (`UnicodeUsernameValidator` + `max_length=150`) and `AUTH_PASSWORD_VALIDATORS`
//! (`django.contrib.auth.password_validation`), with Django 5.2's own English messages.
//!
//! Used by `createuser` and `changepassword` as Django's `createsuperuser` and `changepassword`
//! use them; reusable by any flow that sets a password: `PasswordValidators::validate(password,
//! user attributes)` returns Django's messages (empty = valid).

mod password;
mod username;

pub use password::{
    PasswordValidator, PasswordValidators, UserAttribute, ValidatorConfigError,
    AUTH_USER_ATTRIBUTES,
};
pub use username::{validate_username, USERNAME_MAX_LENGTH};

/// Python's `\w` in a `str` pattern (Unicode): letters (`L*`), numbers (`N*`, which is what
/// `str.isalnum()` adds) and `_`. Not combining marks, unlike the regex crate's `\w`.
pub(crate) const PY_WORD: &str = r"\p{L}\p{N}_";
