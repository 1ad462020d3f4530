//! Fuzzing on the stable toolchain: the JWE decrypter and the cookie-chunk reassembly get the
//! committed corpus (`fuzz/corpus/`) and proptest's random inputs and mutations. Properties: no
//! panic; no mutation of a real session token decrypts; reassembly never exceeds its cap.
#![allow(clippy::unwrap_used)]

use authjs_jwe::{reassemble_chunks, stamp_claims, SessionDecoder, V5_COOKIE_NAMES};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const SECRET: &str = "a-fuzzing-secret-that-is-long-enough-0123456789";
const NOW: i64 = 1_800_000_000;

fn corpus(target: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

fn decoder() -> SessionDecoder {
    SessionDecoder::new(&[SECRET.as_bytes()])
}

fn token() -> String {
    let mut c: Map<String, Value> = json!({"sub": "1", "name": "Ada"})
        .as_object()
        .unwrap()
        .clone();
    stamp_claims(&mut c, NOW, 3600, "00000000-0000-4000-8000-000000000000");
    decoder()
        .encode_v5(&c, V5_COOKIE_NAMES[1], &[7u8; 16])
        .unwrap()
}

fn cookie_pairs(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .collect()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

#[test]
fn corpus_replays() {
    let d = decoder();
    for t in corpus("jwe") {
        assert!(d.decode_cookie(t.trim(), V5_COOKIE_NAMES[1], NOW).is_err());
        assert!(d.decode_bearer(t.trim(), NOW).is_err());
    }
    for header in corpus("chunks") {
        for name in V5_COOKIE_NAMES {
            if let Ok(Some(joined)) = reassemble_chunks(cookie_pairs(&header), name) {
                assert!(joined.len() <= header.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_tokens_never_decrypt(t in "[A-Za-z0-9_.=-]{0,400}") {
        prop_assert!(decoder().decode_cookie(&t, V5_COOKIE_NAMES[1], NOW).is_err());
        prop_assert!(decoder().decode_bearer(&t, NOW).is_err());
    }

    #[test]
    fn mutations_of_a_session_never_decrypt(
        edits in prop::collection::vec((any::<prop::sample::Index>(), "[A-Za-z0-9_.=-]", 0u8..3), 1..4)
    ) {
        let original = token();
        let mut t: Vec<char> = original.chars().collect();
        for (at, c, kind) in edits {
            let i = at.index(t.len());
            let c = c.chars().next().unwrap();
            match kind {
                0 => t[i] = c,
                1 => { t.remove(i); }
                _ => t.insert(i, c),
            }
        }
        let mutated: String = t.into_iter().collect();
        let ok = decoder().decode_cookie(&mutated, V5_COOKIE_NAMES[1], NOW).is_ok();
        // Base64url's last character may carry unused bits: a change there that decodes to the
        // same bytes is the same token. Anything else must fail.
        if ok && mutated != original {
            let strip = |s: &str| s.split('.').map(|p| p.len()).collect::<Vec<_>>();
            prop_assert_eq!(strip(&mutated), strip(&original), "{}", mutated);
        }
    }

    #[test]
    fn chunk_reassembly(pairs in prop::collection::vec(("authjs\\.session-token(\\.[0-9]{1,3})?", "[a-z]{0,40}"), 0..40)) {
        let header: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let total: usize = pairs.iter().map(|(_, v)| v.len()).sum();
        if let Ok(Some(joined)) = reassemble_chunks(header, V5_COOKIE_NAMES[1]) {
            prop_assert!(joined.len() <= total);
        }
    }
}
