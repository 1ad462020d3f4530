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

/// Differential vectors from Django 5.2.19 itself (`django_vectors.json`, generated with a seeded
/// random mix of common, numeric, Unicode-digit, short, similar-to-an-attribute and random
/// passwords, and of usernames with every kind of character and length around 150).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod django_vectors {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("django_vectors.json")).unwrap()
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn passwords_get_djangos_messages() {
        let validators = PasswordValidators::default();
        let cases = vectors()["passwords"].as_array().unwrap().clone();
        assert!(cases.len() >= 400);
        for case in &cases {
            let s = |k: &str| case[k].as_str().unwrap();
            let user = [
                UserAttribute::new("username", s("username")),
                UserAttribute::new("first_name", s("first_name")),
                UserAttribute::new("last_name", s("last_name")),
                UserAttribute::new("email", s("email")),
            ];
            assert_eq!(
                validators.validate(s("password"), Some(&user)),
                strings(&case["messages"]),
                "{case}"
            );
        }
    }

    #[test]
    fn usernames_get_djangos_messages() {
        let cases = vectors()["usernames"].as_array().unwrap().clone();
        assert!(cases.len() >= 250);
        for case in &cases {
            let username = case["username"].as_str().unwrap();
            assert_eq!(
                validate_username(username),
                strings(&case["messages"]),
                "{case}"
            );
        }
    }
}
