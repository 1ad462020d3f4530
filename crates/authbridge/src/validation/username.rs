//! `auth_user.username`'s validators, in Django's order: `UnicodeUsernameValidator`
//! (`^[\w.@+-]+\Z`, Python's Unicode `\w`), then `MaxLengthValidator(150)`.

use regex::Regex;
use std::sync::OnceLock;

pub const USERNAME_MAX_LENGTH: usize = 150;

const INVALID: &str = "Enter a valid username. This value may contain only letters, numbers, and \
                       @/./+/-/_ characters.";

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `\z` is Python's `\Z`: the very end (no trailing newline allowed).
        Regex::new(&format!(r"^[{}.@+-]+\z", super::PY_WORD)).expect("static pattern")
    })
}

/// Django's messages for `username` (empty = valid), as `field.clean()` reports them; a blank
/// username is `"Username cannot be blank."` (createsuperuser's own check, made first).
pub fn validate_username(username: &str) -> Vec<String> {
    if username.is_empty() {
        return vec!["Username cannot be blank.".into()];
    }
    let mut errors = Vec::new();
    if !pattern().is_match(username) {
        errors.push(INVALID.to_string());
    }
    let chars = username.chars().count();
    if chars > USERNAME_MAX_LENGTH {
        errors.push(format!(
            "Ensure this value has at most {USERNAME_MAX_LENGTH} characters (it has {chars})."
        ));
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Cases and answers from Django 5.2.19's `User._meta.get_field("username").clean(u, None)`.
    #[test]
    fn matches_django() {
        let invalid = INVALID.to_string();
        assert_eq!(validate_username("bad user!<x>"), [INVALID]);
        assert!(validate_username("ok_user").is_empty());
        assert!(validate_username("a.b@c+d-e_f").is_empty());
        assert_eq!(
            validate_username(&"x".repeat(151)),
            ["Ensure this value has at most 150 characters (it has 151)."]
        );
        assert!(validate_username(&"x".repeat(150)).is_empty());
        assert_eq!(
            validate_username(&format!("a b{}", "x".repeat(150))),
            [
                invalid.clone(),
                "Ensure this value has at most 150 characters (it has 153).".into()
            ]
        );
        assert!(validate_username("ünïcødé").is_empty());
        assert!(validate_username("٣٤").is_empty());
        assert_eq!(validate_username("a\n"), [INVALID]);
        // A combining mark is not in Python's `\w` (it is in the regex crate's).
        assert_eq!(validate_username("a\u{301}"), [invalid]);
        assert_eq!(validate_username(""), ["Username cannot be blank."]);
    }
}
