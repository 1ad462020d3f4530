//! Differential vectors from the real stack (`drf_vectors.json`: DRF 3.18.3, dj-rest-auth 7.2.0,
//! django-allauth 65.21.1, Django 5.2.19): each serializer's `errors` for several hundred inputs
//! (missing, null, blank, whitespace, numbers, booleans, lists, objects, null characters, long
//! and non-ASCII strings, and mixes), on a database holding one user `alice` (pk 1), with no
//! valid reset token; plus `EmailValidator` and `base36_to_int` on edge cases.

#![allow(clippy::unwrap_used)]

use serde_json::{json, Map, Value};

use super::*;
use crate::http::DrfError;
use crate::storage::User;
use crate::validation::PasswordValidators;

fn vectors() -> Value {
    serde_json::from_str(include_str!("drf_vectors.json")).unwrap()
}

fn cases(name: &str) -> Vec<(Map<String, Value>, Value)> {
    vectors()[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_object().unwrap().clone(), c[1].clone()))
        .collect()
}

fn errors_of(e: DrfError) -> Value {
    match e {
        DrfError::Fields(m) => Value::Object(m),
        DrfError::NonField(m) => json!({ "non_field_errors": [m] }),
        other => panic!("not a validation error: {other:?}"),
    }
}

fn outcome<T>(r: Result<T, DrfError>) -> Value {
    match r {
        Ok(_) => Value::Null,
        Err(e) => errors_of(e),
    }
}

/// Byte-for-byte, so key order counts.
fn same(name: &str, input: &Map<String, Value>, got: Value, want: &Value) {
    assert_eq!(
        got.to_string(),
        want.to_string(),
        "{name}: {}",
        Value::Object(input.clone())
    );
}

fn alice() -> User {
    User {
        id: 1,
        username: "alice".into(),
        password: "!".into(),
        email: Some("alice@example.com".into()),
        first_name: Some(String::new()),
        last_name: Some(String::new()),
        is_active: true,
        is_staff: false,
        is_superuser: false,
        last_login: None,
        date_joined: None,
    }
}

#[test]
fn email_validator() {
    let v = vectors();
    let list = v["email_validator"].as_array().unwrap();
    assert!(list.len() > 80);
    for case in list {
        let email = case[0].as_str().unwrap();
        assert_eq!(
            email::is_valid_email(email),
            case[1].as_bool().unwrap(),
            "{email:?}"
        );
    }
}

/// The reset link's uid (`account_tokens::base36`, branch `accounts`) on the cases it shares with
/// Python's `int(s, 36)`: it refuses non-ASCII decimal digits, which Python reads.
#[test]
fn base36() {
    for case in vectors()["base36"].as_array().unwrap() {
        let s = case[0].as_str().unwrap();
        if !s.is_ascii() {
            continue;
        }
        let want = case[1].as_str().map(|n| n.parse::<i128>().unwrap());
        assert_eq!(decode_uid(s), want, "{s:?}");
    }
}

fn decode_uid(s: &str) -> Option<i128> {
    crate::account_tokens::base36::decode(s)
}

#[test]
fn register() {
    let validators = PasswordValidators::default();
    let list = cases("register");
    assert!(list.len() > 300);
    for (input, want) in &list {
        // An empty database: no lookup finds anything.
        let got = outcome(RegisterCheck::new(input, &validators).finish(&validators));
        // `save()`'s similarity check is not part of `is_valid()`: skip cases where it is the
        // only refusal (the recorded probe covers it).
        if want.is_null() && !got.is_null() && got.get("non_field_errors").is_some() {
            continue;
        }
        same("register", input, got, want);
    }
}

#[test]
fn password_change_form() {
    let validators = PasswordValidators::default();
    let user = alice();
    for (input, want) in &cases("password_change") {
        let got = outcome(
            super::password_change(input)
                .and_then(|new| set_password_form(&new, &user, &validators)),
        );
        same("password_change", input, got, want);
    }
}

#[test]
fn reset_confirm_order() {
    for (input, want) in &cases("reset_confirm") {
        // alice is pk 1; no token in the vectors is valid.
        let got = outcome(
            reset_confirm(input).and_then(|fields| match decode_uid(&fields.uid) {
                Some(1) => Err::<(), _>(invalid_token()),
                _ => Err(invalid_uid()),
            }),
        );
        same("reset_confirm", input, got, want);
    }
}

fn user_update(input: &Map<String, Value>, partial: bool) -> Value {
    let mut check = UserUpdateCheck::new(input, partial);
    if let Some((name, failed)) = check.username() {
        // The only user is alice (the one updating): `UniqueValidator` excludes her;
        // allauth's case-insensitive lookup finds her.
        if !failed && name.to_lowercase() == "alice" {
            check.username_taken();
        }
    }
    outcome(check.finish())
}

#[test]
fn user_put_and_patch() {
    for (input, want) in &cases("user_put") {
        same("user_put", input, user_update(input, false), want);
    }
    for (input, want) in &cases("user_patch") {
        same("user_patch", input, user_update(input, true), want);
    }
}

#[test]
fn one_field_serializers() {
    for (input, want) in &cases("verify_email") {
        same("verify_email", input, outcome(verify_email(input)), want);
    }
    for name in ["resend_email", "password_reset"] {
        for (input, want) in &cases(name) {
            same(name, input, outcome(email(input)), want);
        }
    }
}

#[test]
fn login_fields() {
    let fields = |v: Value| login(v.as_object().unwrap()).map(|c| (c.username, c.email));
    assert_eq!(
        fields(json!({"username": " a ", "email": "", "password": "p"})).ok(),
        Some((Some("a".into()), None))
    );
    assert_eq!(
        fields(json!({"username": 12, "email": "a@b.co", "password": "p"})).ok(),
        Some((Some("12".into()), Some("a@b.co".into())))
    );
    assert_eq!(
        outcome(fields(
            json!({"email": "alice", "username": [], "password": null})
        ))
        .to_string(),
        r#"{"username":["Not a valid string."],"email":["Enter a valid email address."],"password":["This field may not be null."]}"#
    );
}

/// `LoginSerializer` on a database without users: its field errors exactly; past them, the
/// flow decides (`Must include …` when neither username nor email is given, else the refused
/// credentials).
#[test]
fn login_vectors() {
    let list = cases("login");
    assert!(list.len() > 200);
    for (input, want) in &list {
        let got = login(input);
        match want["non_field_errors"][0].as_str() {
            Some(m) if m.starts_with("Must include") => {
                let c = got.unwrap_or_else(|_| panic!("{}", Value::Object(input.clone())));
                assert!(c.username.is_none() && c.email.is_none(), "{input:?}");
            }
            Some(_) => {
                let c = got.unwrap_or_else(|_| panic!("{}", Value::Object(input.clone())));
                assert!(c.username.is_some() || c.email.is_some(), "{input:?}");
            }
            None => same("login", input, outcome(got), want),
        }
    }
}
