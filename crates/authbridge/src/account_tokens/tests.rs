//! Known answers minted by the real Django 5.2.19 + django-allauth 65.21.1
//! (`fixtures/mint_vectors.py`), and the refusals around them.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde_json::Value;

use super::reset::{num_seconds, ResetTokenUser, ResetTokens};
use super::signing::{dumps, loads, ACCOUNT_SALT};
use super::{base36, confirmation_key, read_confirmation_key, SecretKeys, SigningError};

const VECTORS: &str = include_str!("fixtures/account_tokens.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn secret(v: &Value, name: &str) -> SecretString {
    SecretString::from(v[name].as_str().unwrap().to_string())
}

fn keys(v: &Value) -> SecretKeys {
    SecretKeys::new(secret(v, "secret_key"), Vec::new())
}

fn with_fallback(v: &Value) -> SecretKeys {
    SecretKeys::new(secret(v, "secret_key"), vec![secret(v, "fallback_key")])
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const THREE_DAYS: i64 = 3 * 86_400;

#[test]
fn confirmation_keys_match_allauth() {
    let v = vectors();
    for case in v["confirmation_keys"].as_array().unwrap() {
        let id = case["id"].as_i64().unwrap();
        let now = case["now"].as_i64().unwrap();
        let key = case["key"].as_str().unwrap();
        assert_eq!(confirmation_key(id, &keys(&v), now), key);
        assert_eq!(
            read_confirmation_key(key, &keys(&v), THREE_DAYS, now as f64 + 1.0),
            Ok(id)
        );
    }
}

#[test]
fn confirmation_keys_expire_after_max_age() {
    let v = vectors();
    let key = confirmation_key(9, &keys(&v), 1_000_000);
    let edge = 1_000_000.0 + THREE_DAYS as f64;
    assert_eq!(
        read_confirmation_key(&key, &keys(&v), THREE_DAYS, edge),
        Ok(9)
    );
    assert_eq!(
        read_confirmation_key(&key, &keys(&v), THREE_DAYS, edge + 0.001),
        Err(SigningError::Expired)
    );
}

#[test]
fn tampered_and_foreign_keys_are_refused() {
    let v = vectors();
    let key = v["confirmation_keys"][0]["key"].as_str().unwrap();
    let now = 1_764_500_001.0;
    let mut refused = vec![
        String::new(),
        "MQ".into(),
        format!("{key}x"),
        key.replacen("MQ", "Mg", 1),
        key.replacen(":1vPf3Q:", ":1vPf3R:", 1),
        key.chars().rev().collect(),
        "x".repeat(5000),
    ];
    // The same id signed with another salt, and a signature by an unknown key.
    refused.push(v["signing"][0]["value"].as_str().unwrap().to_string());
    refused.push(dumps(
        &Value::from(1),
        ACCOUNT_SALT,
        &SecretKeys::new(SecretString::from("another-key".to_string()), Vec::new()),
        1_764_500_000,
    ));
    for bad in refused {
        assert_eq!(
            read_confirmation_key(&bad, &keys(&v), THREE_DAYS, now),
            Err(SigningError::BadSignature),
            "{bad:?}"
        );
    }
    // Signed by us but not an id.
    let list = v["signing"][2]["value"].as_str().unwrap();
    assert_eq!(
        read_confirmation_key(list, &keys(&v), THREE_DAYS, now),
        Err(SigningError::BadPayload)
    );
    // A string id is looked up as Django would (`get(pk="12")`).
    let text = v["signing"][1]["value"].as_str().unwrap();
    assert_eq!(
        read_confirmation_key(text, &keys(&v), THREE_DAYS, now),
        Ok(12)
    );
}

#[test]
fn fallback_keys_are_accepted_never_used() {
    let v = vectors();
    let old = &v["confirmation_keys_old_secret"][0];
    let key = old["key"].as_str().unwrap();
    let now = old["now"].as_f64().unwrap();
    assert_eq!(
        read_confirmation_key(key, &keys(&v), THREE_DAYS, now),
        Err(SigningError::BadSignature)
    );
    assert_eq!(
        read_confirmation_key(key, &with_fallback(&v), THREE_DAYS, now),
        Ok(5)
    );
    // New keys are signed with the current key only.
    assert_eq!(
        confirmation_key(1, &with_fallback(&v), 1_764_500_000),
        v["confirmation_keys"][0]["key"].as_str().unwrap()
    );
}

#[test]
fn other_salts_round_trip_and_stay_apart() {
    let v = vectors();
    let case = &v["signing"][0];
    let signed = case["value"].as_str().unwrap();
    assert_eq!(
        dumps(&Value::from(5), "other", &keys(&v), 1_764_500_000),
        signed
    );
    assert_eq!(
        loads(signed, "other", &keys(&v), None, 0.0),
        Ok(Value::from(5))
    );
    assert_eq!(
        loads(signed, ACCOUNT_SALT, &keys(&v), None, 0.0),
        Err(SigningError::BadSignature)
    );
}

struct Owned {
    id: i64,
    password: String,
    email: String,
    last_login: Option<DateTime<Utc>>,
    addresses: Vec<String>,
}

impl Owned {
    fn from(case: &Value) -> Self {
        let user = &case["user"];
        Self {
            id: user["id"].as_i64().unwrap(),
            password: user["password"].as_str().unwrap().into(),
            email: user["email"].as_str().unwrap().into(),
            last_login: user["last_login"].as_str().map(at),
            addresses: case["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect(),
        }
    }

    fn user(&self) -> ResetTokenUser<'_> {
        ResetTokenUser {
            id: self.id,
            password: &self.password,
            last_login: self.last_login,
            email: &self.email,
            addresses: &self.addresses,
        }
    }
}

#[test]
fn reset_tokens_match_allauth() {
    let v = vectors();
    let keys = keys(&v);
    let tokens = ResetTokens {
        keys: &keys,
        timeout: 259_200,
    };
    for case in v["reset_tokens"].as_array().unwrap() {
        let owned = Owned::from(case);
        let now = at(case["now"].as_str().unwrap());
        let token = case["token"].as_str().unwrap();
        assert_eq!(tokens.make(&owned.user(), now), token, "{case}");
        assert!(tokens.check(&owned.user(), token, now));
    }
}

#[test]
fn reset_tokens_expire_at_django_boundary() {
    let v = vectors();
    let keys = keys(&v);
    let case = &v["timeout_checks"];
    let tokens = ResetTokens {
        keys: &keys,
        timeout: case["timeout"].as_i64().unwrap(),
    };
    let owned = Owned::from(&v["reset_tokens"][0]);
    let token = case["token"].as_str().unwrap();
    for check in case["checks"].as_array().unwrap() {
        assert_eq!(
            tokens.check(&owned.user(), token, at(check["now"].as_str().unwrap())),
            check["accepted"].as_bool().unwrap(),
            "{check}"
        );
    }
}

#[test]
fn reset_tokens_die_with_the_user_state() {
    let v = vectors();
    let keys = keys(&v);
    let tokens = ResetTokens {
        keys: &keys,
        timeout: 259_200,
    };
    let case = &v["reset_tokens"][2];
    let now = at(case["now"].as_str().unwrap());
    let token = case["token"].as_str().unwrap();
    let base = Owned::from(case);
    assert!(tokens.check(&base.user(), token, now));
    type Change<'a> = Box<dyn Fn(&mut Owned) + 'a>;
    let changes: Vec<Change> = vec![
        Box::new(|u| u.password.push('x')),
        Box::new(|u| u.last_login = Some(now + Duration::seconds(1))),
        Box::new(|u| u.last_login = None),
        Box::new(|u| u.addresses.push("new@example.net".into())),
        Box::new(|u| u.email = "other@example.com".into()),
        Box::new(|u| u.id += 1),
    ];
    for change in changes {
        let mut user = Owned::from(case);
        change(&mut user);
        assert!(!tokens.check(&user.user(), token, now));
    }
    // Microseconds of last_login are not part of the hash.
    let mut same_second = Owned::from(case);
    same_second.last_login = same_second
        .last_login
        .map(|t| t - Duration::microseconds(789_000));
    assert!(tokens.check(&same_second.user(), token, now));
}

#[test]
fn malformed_and_foreign_reset_tokens_are_refused() {
    let v = vectors();
    let keys = keys(&v);
    let tokens = ResetTokens {
        keys: &keys,
        timeout: 259_200,
    };
    let case = &v["reset_tokens"][0];
    let user = Owned::from(case);
    let now = at(case["now"].as_str().unwrap());
    let token = case["token"].as_str().unwrap();
    let (ts, hash) = token.split_once('-').unwrap();
    for bad in [
        String::new(),
        ts.to_string(),
        format!("{ts}-{hash}-x"),
        format!("{}-{hash}", ts.to_uppercase()),
        format!("+{ts}-{hash}"),
        format!(" {ts}-{hash}"),
        format!("{ts}-{}", hash.to_uppercase()),
        format!("{ts}-{}", &hash[1..]),
        format!("zzzzzzzzzzzzzz-{hash}"),
        format!("{}{token}", "0".repeat(300)),
    ] {
        assert!(!tokens.check(&user.user(), &bad, now), "{bad:?}");
    }
    // Django's own generator's token is not allauth's (no email suffix).
    let django_like = ResetTokenUser {
        addresses: &[],
        email: "",
        ..user.user()
    };
    let other = tokens.make(&django_like, now);
    assert!(!tokens.check(&user.user(), &other, now));
}

#[test]
fn reset_fallback_secret() {
    let v = vectors();
    let case = &v["reset_token_old_secret"];
    let user = Owned::from(case);
    let now = at(case["now"].as_str().unwrap());
    let token = case["token"].as_str().unwrap();
    let current = keys(&v);
    let both = with_fallback(&v);
    let strict = ResetTokens {
        keys: &current,
        timeout: 259_200,
    };
    let lenient = ResetTokens {
        keys: &both,
        timeout: 259_200,
    };
    assert!(!strict.check(&user.user(), token, now));
    assert!(lenient.check(&user.user(), token, now));
    assert_ne!(lenient.make(&user.user(), now), token);
}

#[test]
fn uids_match_allauth() {
    for case in vectors()["uids"].as_array().unwrap() {
        let pk = case["pk"].as_u64().unwrap();
        assert_eq!(
            base36::encode(u128::from(pk)),
            case["uid"].as_str().unwrap()
        );
        assert_eq!(
            base36::decode(case["uid"].as_str().unwrap()),
            Some(i128::from(pk))
        );
    }
    assert_eq!(num_seconds(at("2001-01-01T00:00:00Z")), 0);
}
