//! dj-rest-auth's serializers (7.2.0, with django-allauth 65 and Django's `SetPasswordForm`), as
//! far as they are about the request: which fields, which checks, in which order, with which
//! messages. What needs the database (is this username taken? is this key valid?) is asked by
//! the handler between the two halves of a check, so the errors still come out in DRF's field
//! order.
//!
//! The order DRF follows, and so do these: every field in declaration order (its own checks,
//! then its `validate_<field>`), all reported together; then `validate()` only if no field
//! failed; then what `save()` checks.

mod email;
mod field;
#[cfg(test)]
mod tests;

pub use email::is_valid_email;
pub use field::{non_field_errors, python_strip, CharField, Cleaned, Errors};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::flows::account::Credentials;
use crate::http::DrfError;
use crate::validation::{validate_username, PasswordValidators, UserAttribute};

/// `auth_user.username`'s `max_length`.
pub const USERNAME_MAX_LENGTH: usize = 150;
/// `first_name` and `last_name`'s `max_length`.
pub const NAME_MAX_LENGTH: usize = 150;
/// dj-rest-auth's `max_length` of the new-password fields.
const PASSWORD_MAX_LENGTH: usize = 128;

pub const USERNAME_TAKEN: &str = "A user with that username already exists.";
pub const EMAIL_TAKEN: &str = "User is already registered with this e-mail address.";
const REGISTER_MISMATCH: &str = "The two password fields didn't match.";
/// Django's `SetPasswordMixin` message (U+2019, unlike allauth's ASCII apostrophe above).
const FORM_MISMATCH: &str = "The two password fields didn\u{2019}t match.";
pub const INVALID_VALUE: &str = "Invalid value";

/// allauth's `clean_username` validators (`UnicodeUsernameValidator` first; the length was
/// checked by the field): its message, if the username has a character it refuses.
fn username_characters(username: &str) -> Option<String> {
    // `validate_username` reports the character rule first and the length second.
    validate_username(username)
        .into_iter()
        .next()
        .filter(|m| m.starts_with("Enter a valid username"))
}

/// `adapter.clean_password(password)` without a user: with no `AUTH_PASSWORD_VALIDATORS`
/// allauth applies its own 6-character minimum.
fn clean_password(password: &str, validators: &PasswordValidators) -> Vec<String> {
    if validators.0.is_empty() {
        return PasswordValidators(vec![crate::validation::PasswordValidator::MinimumLength {
            min_length: 6,
        }])
        .validate(password, None);
    }
    validators.validate(password, None)
}

/// A sign-up that passed every check.
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: Zeroizing<String>,
}

/// `RegisterSerializer` (username, email, password1, password2), in two halves around the
/// database: `new` runs the fields' own checks; the handler then asks about `username()` and
/// `email()` and reports what it found; `finish` runs `validate()` and `save()`'s check.
pub struct RegisterCheck {
    errors: Errors,
    username: Option<String>,
    email: Option<String>,
    password1: Option<Zeroizing<String>>,
    password2: Option<Zeroizing<String>>,
}

const REGISTER_FIELDS: &[&str] = &["username", "email", "password1", "password2"];

impl RegisterCheck {
    pub fn new(data: &Map<String, Value>, validators: &PasswordValidators) -> Self {
        let mut errors = Errors::new(REGISTER_FIELDS);
        let username_field = CharField::required()
            .max_length(USERNAME_MAX_LENGTH)
            .min_length(1);
        let username = match errors.clean(data, "username", username_field, false) {
            Cleaned::Value(u) => match username_characters(&u) {
                Some(message) => {
                    errors.add("username", vec![message]);
                    None
                }
                None => Some(u),
            },
            _ => None,
        };
        let email = errors
            .clean(data, "email", CharField::required().email(), false)
            .value()
            .map(str::to_string);
        let password1 = match errors.clean(data, "password1", CharField::required(), false) {
            Cleaned::Value(p) => {
                let p = Zeroizing::new(p);
                let messages = clean_password(&p, validators);
                if messages.is_empty() {
                    Some(p)
                } else {
                    errors.add("password1", messages);
                    None
                }
            }
            _ => None,
        };
        let password2 = match errors.clean(data, "password2", CharField::required(), false) {
            Cleaned::Value(p) => Some(Zeroizing::new(p)),
            _ => None,
        };
        Self {
            errors,
            username,
            email,
            password1,
            password2,
        }
    }

    /// The username to look up (case-insensitively), once it passed its own checks.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The email to look up among verified addresses, once it passed its own checks.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    pub fn username_taken(&mut self) {
        self.username = None;
        self.errors.add("username", vec![USERNAME_TAKEN.into()]);
    }

    pub fn email_taken(&mut self) {
        self.email = None;
        self.errors.add("email", vec![EMAIL_TAKEN.into()]);
    }

    /// The field errors; then the mismatch; then `save()`'s check of the password against the
    /// new user (similarity to the username or the email).
    pub fn finish(self, validators: &PasswordValidators) -> Result<Registration, DrfError> {
        self.errors.finish()?;
        let (Some(username), Some(email), Some(password1), Some(password2)) =
            (self.username, self.email, self.password1, self.password2)
        else {
            return Err(DrfError::internal(
                "a registration field passed without a value",
            ));
        };
        if *password1 != *password2 {
            return Err(DrfError::NonField(REGISTER_MISMATCH.into()));
        }
        // The user as `save_user` builds it: the email lowercased, no names.
        let lowered = email.to_lowercase();
        let user = [
            UserAttribute::new("username", &username),
            UserAttribute::new("first_name", ""),
            UserAttribute::new("last_name", ""),
            UserAttribute::new("email", &lowered),
        ];
        let messages = validators.validate(&password1, Some(&user));
        if !messages.is_empty() {
            return Err(non_field_errors(messages));
        }
        Ok(Registration {
            username,
            email,
            password: password1,
        })
    }
}

/// `LoginSerializer`'s fields: `username` (optional, blank allowed), `email` (optional email,
/// blank allowed), `password`. Blank counts as absent (dj-rest-auth tests truthiness); which one
/// is used, and what is missing, is the login flow's (`ACCOUNT_LOGIN_METHODS`).
pub fn login(data: &Map<String, Value>) -> Result<Credentials, DrfError> {
    let mut errors = Errors::new(&["username", "email", "password"]);
    let optional = CharField::required().optional().allow_blank();
    let given = |c: Cleaned| c.value().filter(|v| !v.is_empty()).map(str::to_string);
    let username = given(errors.clean(data, "username", optional, false));
    let email = given(errors.clean(data, "email", optional.email(), false));
    let password = errors.clean(data, "password", CharField::required(), false);
    errors.finish()?;
    Ok(Credentials {
        username,
        email,
        password: Zeroizing::new(password.value().unwrap_or_default().to_string()),
    })
}

/// The two new-password fields of `PasswordChangeSerializer` and
/// `PasswordResetConfirmSerializer` (`CharField(max_length=128)`).
pub struct NewPassword {
    pub password1: Zeroizing<String>,
    pub password2: Zeroizing<String>,
}

fn new_password_fields(
    data: &Map<String, Value>,
    errors: &mut Errors,
) -> (Option<Zeroizing<String>>, Option<Zeroizing<String>>) {
    let spec = CharField::required().max_length(PASSWORD_MAX_LENGTH);
    let p1 = errors.clean(data, "new_password1", spec, false);
    let p2 = errors.clean(data, "new_password2", spec, false);
    let take = |c: Cleaned| match c {
        Cleaned::Value(v) => Some(Zeroizing::new(v)),
        _ => None,
    };
    (take(p1), take(p2))
}

/// `PasswordChangeSerializer`'s fields (`old_password` is not one: `OLD_PASSWORD_FIELD_ENABLED`
/// is off by default, so it is ignored).
pub fn password_change(data: &Map<String, Value>) -> Result<NewPassword, DrfError> {
    let mut errors = Errors::new(&["new_password1", "new_password2"]);
    let (p1, p2) = new_password_fields(data, &mut errors);
    errors.finish()?;
    match (p1, p2) {
        (Some(password1), Some(password2)) => Ok(NewPassword {
            password1,
            password2,
        }),
        _ => Err(DrfError::internal(
            "a password field passed without a value",
        )),
    }
}

/// `PasswordResetConfirmSerializer`'s fields, before `validate()` looks at uid and token.
pub struct ResetConfirm {
    pub new: NewPassword,
    pub uid: String,
    pub token: String,
}

pub fn reset_confirm(data: &Map<String, Value>) -> Result<ResetConfirm, DrfError> {
    let mut errors = Errors::new(&["new_password1", "new_password2", "uid", "token"]);
    let (p1, p2) = new_password_fields(data, &mut errors);
    let uid = errors.clean(data, "uid", CharField::required(), false);
    let token = errors.clean(data, "token", CharField::required(), false);
    errors.finish()?;
    match (p1, p2, uid, token) {
        (Some(password1), Some(password2), Cleaned::Value(uid), Cleaned::Value(token)) => {
            Ok(ResetConfirm {
                new: NewPassword {
                    password1,
                    password2,
                },
                uid,
                token,
            })
        }
        _ => Err(DrfError::internal("a reset field passed without a value")),
    }
}

pub fn invalid_uid() -> DrfError {
    DrfError::field("uid", INVALID_VALUE)
}

pub fn invalid_token() -> DrfError {
    DrfError::field("token", INVALID_VALUE)
}

/// Django's `SetPasswordForm.clean()` for `user`: the mismatch, else every validator's message
/// (similarity to this user's attributes included), all under `new_password2`.
pub fn set_password_form(
    new: &NewPassword,
    user: &crate::storage::User,
    validators: &PasswordValidators,
) -> Result<(), DrfError> {
    if *new.password1 != *new.password2 {
        return Err(DrfError::field("new_password2", FORM_MISMATCH));
    }
    let attrs = [
        UserAttribute::new("username", &user.username),
        UserAttribute::new("first_name", user.first_name.as_deref().unwrap_or("")),
        UserAttribute::new("last_name", user.last_name.as_deref().unwrap_or("")),
        UserAttribute::new("email", user.email.as_deref().unwrap_or("")),
    ];
    let messages = validators.validate(&new.password2, Some(&attrs));
    if messages.is_empty() {
        Ok(())
    } else {
        let mut map = Map::new();
        map.insert("new_password2".into(), Value::from(messages));
        Err(DrfError::Fields(map))
    }
}

/// One field of a one-field serializer (`key`, `email`).
pub fn single(
    data: &Map<String, Value>,
    name: &'static str,
    spec: CharField,
) -> Result<String, DrfError> {
    const ORDER: &[&str] = &["key", "email", "refresh"];
    let mut errors = Errors::new(ORDER);
    let cleaned = errors.clean(data, name, spec, false);
    errors.finish()?;
    Ok(cleaned.value().unwrap_or_default().to_string())
}

/// `VerifyEmailSerializer`: `key = CharField()`.
pub fn verify_email(data: &Map<String, Value>) -> Result<String, DrfError> {
    single(data, "key", CharField::required())
}

/// `ResendEmailVerificationSerializer` and `PasswordResetSerializer`: `email = EmailField()`.
pub fn email(data: &Map<String, Value>) -> Result<String, DrfError> {
    single(data, "email", CharField::required().email())
}

/// `UserDetailsSerializer` (a `ModelSerializer` of `pk`, `username`, `email`, `first_name`,
/// `last_name`; `pk` and `email` read-only and ignored). PUT needs `username`; PATCH
/// (`partial`) takes what is given.
///
/// The username field's validators, all reported: the character rule, DRF's `UniqueValidator`
/// (another user with exactly this name), the length, null characters. Only when they pass does
/// `validate_username` run allauth's `clean_username`, whose case-insensitive lookup also finds
/// the user itself: a PUT that keeps one's own username is refused, as dj-rest-auth does.
pub struct UserUpdateCheck {
    errors: Errors,
    username: Option<String>,
    /// The username field's own messages: the character rule's, then the length's and null
    /// characters' (DRF's `UniqueValidator` goes between them).
    username_characters: Option<String>,
    username_rest: Vec<String>,
    username_taken: bool,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Debug, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

const USER_FIELDS: &[&str] = &["username", "first_name", "last_name"];

impl UserUpdateCheck {
    pub fn new(data: &Map<String, Value>, partial: bool) -> Self {
        let mut errors = Errors::new(USER_FIELDS);
        let mut username = None;
        let mut username_characters = None;
        let mut username_rest = Vec::new();
        let spec = CharField::required().max_length(USERNAME_MAX_LENGTH);
        match spec.to_internal(data.get("username"), partial) {
            Ok(Some(u)) => {
                username_characters = self::username_characters(&u);
                username_rest = spec.run_validators(&u);
                username = Some(u);
            }
            Ok(None) => {}
            Err(messages) => errors.add("username", messages),
        }
        let name_field = CharField::required()
            .optional()
            .allow_blank()
            .max_length(NAME_MAX_LENGTH);
        let first_name = errors
            .clean(data, "first_name", name_field, partial)
            .value()
            .map(str::to_string);
        let last_name = errors
            .clean(data, "last_name", name_field, partial)
            .value()
            .map(str::to_string);
        Self {
            errors,
            username,
            username_characters,
            username_rest,
            username_taken: false,
            first_name,
            last_name,
        }
    }

    /// The username to look up, and whether its own validators already failed. When they did,
    /// only DRF's `UniqueValidator` is left to ask (another user with exactly this name);
    /// otherwise allauth's case-insensitive lookup, which finds the user too.
    pub fn username(&self) -> Option<(&str, bool)> {
        let failed = self.username_characters.is_some() || !self.username_rest.is_empty();
        self.username.as_deref().map(|u| (u, failed))
    }

    /// The lookup found someone.
    pub fn username_taken(&mut self) {
        self.username_taken = true;
    }

    pub fn finish(mut self) -> Result<UserUpdate, DrfError> {
        let mut messages: Vec<String> = self.username_characters.take().into_iter().collect();
        if self.username_taken {
            messages.push(USERNAME_TAKEN.into());
        }
        messages.append(&mut self.username_rest);
        self.errors.add("username", messages);
        self.errors.finish()?;
        Ok(UserUpdate {
            username: self.username,
            first_name: self.first_name,
            last_name: self.last_name,
        })
    }
}
