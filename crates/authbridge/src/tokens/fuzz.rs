//! The JWT decoder under fuzzing (see `http::fuzz` for the approach): the corpus and random
//! inputs never panic, and no mutation of a validly signed token verifies, except the one
//! alternative spelling PyJWT also accepts (one `=` completing the last quartet).

use proptest::prelude::*;
use secrecy::SecretString;
use std::path::PathBuf;

use super::jws::{ClaimRules, Keys};
use crate::config::Algorithm;

const KEY: &str = "a-fuzzing-key-that-is-long-enough-for-hs256-0123456789";
const VALID: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjo0MDAwMDAwMDAwLCJpYXQiOjEsImp0aSI6ImoiLCJ1c2VyX2lkIjoiMSJ9";

fn keys() -> Keys {
    Keys::new(
        Algorithm::HS256,
        &SecretString::from(KEY.to_string()),
        None,
        None,
    )
    .unwrap()
}

fn valid_token(keys: &Keys) -> String {
    let payload: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"token_type":"access","exp":4000000000,"iat":1,"jti":"j","user_id":"1"}"#,
    )
    .unwrap();
    let token = keys.encode(&payload).unwrap();
    assert!(token.starts_with(VALID));
    assert!(keys.decode(&token, &ClaimRules::default(), 1_000).is_ok());
    token
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/jwt");
    let keys = keys();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(keys.decode(text.trim(), &ClaimRules::default(), 0).is_err());
        n += 1;
    }
    assert!(n > 0);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_text_never_verifies(text in ".{0,300}") {
        prop_assert!(keys().decode(&text, &ClaimRules::default(), 0).is_err());
    }

    #[test]
    fn mutations_of_a_valid_token_never_verify(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4)
    ) {
        let keys = keys();
        let original = valid_token(&keys);
        let mut bytes = original.clone().into_bytes();
        for (at, byte, kind) in edits {
            let i = at.index(bytes.len().max(1)).min(bytes.len().saturating_sub(1));
            match kind {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let Ok(mutated) = String::from_utf8(bytes) else { return Ok(()); };
        let verified = keys.decode(&mutated, &ClaimRules::default(), 1_000).is_ok();
        let same = mutated == original || mutated == format!("{original}=");
        prop_assert_eq!(verified, same, "{}", mutated);
    }
}
