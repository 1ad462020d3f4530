//! Fuzzing on the stable toolchain: Django hash strings from the committed corpus
//! (`fuzz/corpus/encoded/`, including hashes whose cost parameters ask for days of work) and
//! proptest's mutations and random strings. Properties: no panic, never valid for a wrong
//! password, and bounded work (the caps in `limits`).
#![allow(clippy::unwrap_used)]

use django_hashers::Hashers;
use proptest::prelude::*;

fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/encoded");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

/// Unknown and malformed hashes run a dummy hash at the preferred cost; a low cost keeps each
/// case cheap without changing what is parsed.
fn cheap() -> Hashers {
    Hashers::django_default().with_pbkdf2_iterations(1_000)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

#[test]
fn corpus_replays_in_bounded_time() {
    let hashers = Hashers::django_default();
    for encoded in corpus() {
        let started = std::time::Instant::now();
        let verdict = hashers.check_password("not the password", encoded.trim());
        assert!(!verdict.valid, "{encoded}");
        // The caps bound the work; a generous ceiling so a loaded machine cannot flake this.
        assert!(started.elapsed().as_secs() < 30, "{encoded}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Structured like Django's hashes, with small cost fields so each check stays cheap.
    #[test]
    fn encoded_strings_never_panic(
        alg in prop::sample::select(vec!["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5", "sha1", "unsalted_md5", "x"]),
        fields in prop::collection::vec("[A-Za-z0-9$=+/,.-]{0,12}", 0..6),
        password in ".{0,20}",
    ) {
        let encoded = format!("{alg}${}", fields.join("$"));
        let verdict = cheap().check_password(&password, &encoded);
        // Random text is never the hash of the password.
        prop_assert!(!verdict.valid, "{}", encoded);
    }

    #[test]
    fn random_strings_never_panic(encoded in ".{0,200}") {
        let _ = cheap().check_password("pw", &encoded);
    }
}
