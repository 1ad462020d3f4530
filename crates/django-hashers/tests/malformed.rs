//! Malformed and hostile encoded passwords: never a panic, never `valid`, bounded work.

use std::time::{Duration, Instant};

use django_hashers::{Algorithm, Hashers, Verdict};
use rand::Rng;

/// Every algorithm accepted; PBKDF2 cheap so that the dummy hash costs nothing.
fn all() -> Hashers {
    Hashers::new(Algorithm::ALL.to_vec())
        .expect("valid")
        .with_pbkdf2_iterations(10)
}

const PBKDF2_HASH: &str = "iJXqWb58pYVmtwDUMmjHYocr95POBFCKvDBnKmocqUU=";

fn malformed() -> Vec<String> {
    let salt = "seasalt1234567890abcde";
    let scrypt_hash =
        "4Obsn3McwAAFrXPc7NAXFXNV2D8hZC10npsRQ6YHB+zeaTA8c0hVaDIsjv5XvY3gH9j7dnvTz/TXOjODPVWsgw==";
    let argon_tail = "c2Vhc2FsdDEyMzQ1Njc4OTBhYmNkZQ$nQ/875Voa4W7MYiY0wepjM1VWwhqVwe9hUCAhosjd5k";
    let bcrypt_tail = "pHODSxCMs7Cofp4eU4.7O.s7ZcmDQazYUVt9AnJu28k2.AT/4NKB2";
    let mut v: Vec<String> = [
        // Generic garbage.
        "",
        "$",
        "$$$$$$$$",
        "!",
        "!pbkdf2_sha256$1000000$salt$hash",
        "pbkdf2_sha256",
        "argon2",
        "bcrypt",
        "bcrypt_sha256",
        "scrypt",
        "md5",
        "PBKDF2_SHA256$10$salt$hash",
        "🔑$🔑$🔑$🔑",
        // md5
        "md5$",
        "md5$$",
        "md5$$abc",
        "md5$salt",
        "md5$salt$",
        "md5$salt$zzzz",
        // pbkdf2
        "pbkdf2_sha256$",
        "pbkdf2_sha256$10",
        "pbkdf2_sha256$10$salt",
        "pbkdf2_sha256$abc$salt$hash",
        "pbkdf2_sha256$$salt$hash",
        "pbkdf2_sha256$10$$hash",
        "pbkdf2_sha256$0$salt$hash",
        "pbkdf2_sha256$-10$salt$hash",
        "pbkdf2_sha256$+10$salt$hash",
        "pbkdf2_sha256$ 10$salt$hash",
        "pbkdf2_sha256$1_0$salt$hash",
        "pbkdf2_sha256$٣$salt$hash",
        "pbkdf2_sha256$99999999999999999999999$salt$hash",
        "pbkdf2_sha1$10$salt$not base64!",
        // argon2
        "argon2$",
        "argon2$argon2id",
        "argon2$argon2id$v=19",
        "argon2$argon2x$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ=$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g=",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2gx",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g$extra",
        "argon2$argon2id$v=019$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=18$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$t=2,m=102400,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=0,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=0$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=7,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=63,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ$aGFz",
        "argon2$argon2id$v=19$m=4294967295,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=4294967296,t=2,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=4294967295,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=40,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=1048576,t=1,p=8$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=16777215$c2FsdHNhbHQ$aGFzaGhhc2g",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$c2Fsd\u{e9}NhbHQ$aGFzaGhhc2g",
        // bcrypt
        "bcrypt$",
        "bcrypt$$",
        "bcrypt$$2b$",
        "bcrypt$$2b$12$",
        "bcrypt$$2b$12$short",
        "bcrypt$$2c$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$03$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$32$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$31$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$99999999999$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$1x$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQ",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQuu",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7O/f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7O!f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7Oéf/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$2b$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu",
        "bcrypt$$2b$12$pHODSxCMs7Cofp4eU4.7O.f/qla0Pa4xuJbsOIK.Bbvq1EuaLZbQu$",
        // scrypt
        "scrypt$",
        "scrypt$16384$salt$8$5",
        "scrypt$16384$salt$8$5$hash$extra",
        "scrypt$16384$$8$5$hash",
        "scrypt$0$salt$8$5$hash",
        "scrypt$1$salt$8$5$hash",
        "scrypt$3$salt$8$5$hash",
        "scrypt$16385$salt$8$5$hash",
        "scrypt$16384$salt$0$5$hash",
        "scrypt$16384$salt$8$0$hash",
        "scrypt$16384$salt$-8$5$hash",
        "scrypt$1099511627776$salt$8$5$hash",
        "scrypt$18446744073709551616$salt$8$5$hash",
        "scrypt$32768$salt$8$5$hash",
        "scrypt$16384$salt$16$1$hash",
        "scrypt$2$salt$1$4294967295$hash",
        "scrypt$2$salt$4294967295$1$hash",
        "scrypt$1024$salt$8$2000$hash",
        "scrypt$65536$salt$1$1$hash",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Right shape, absurd cost, plausible salt and hash.
    v.push(format!("pbkdf2_sha256$1099511627776${salt}${PBKDF2_HASH}"));
    v.push(format!("pbkdf2_sha256$4294967295${salt}${PBKDF2_HASH}"));
    v.push(format!("pbkdf2_sha256$4294967296${salt}${PBKDF2_HASH}"));
    v.push(format!("pbkdf2_sha256$10000001${salt}${PBKDF2_HASH}"));
    v.push(format!("pbkdf2_sha256$01000000${salt}${PBKDF2_HASH}"));
    v.push(format!("pbkdf2_sha256$1000000${salt}${PBKDF2_HASH}$"));
    v.push(format!("scrypt$1073741824${salt}$8$5${scrypt_hash}"));
    v.push(format!("scrypt$16384${salt}$8$1000000${scrypt_hash}"));
    v.push(format!("scrypt$016384${salt}$8$5${scrypt_hash}"));
    v.push(format!(
        "argon2$argon2id$v=19$m=102400,t=1000000,p=8${argon_tail}"
    ));
    v.push(format!(
        "argon2$argon2id$v=19$m=102400,t=2,p=8${argon_tail}x"
    ));
    v.push(format!(
        "argon2$argon2id$v=19$m=102400,t=2,p=8,data=abc${argon_tail}"
    ));
    v.push(format!(
        "argon2$argon2id$v=19$m=102400,t=02,p=8${argon_tail}"
    ));
    v.push(format!("bcrypt_sha256$$2b$31${bcrypt_tail}"));
    v.push(format!("bcrypt_sha256$$2b$17${bcrypt_tail}"));
    v.push(format!("bcrypt_sha256$$2b$012${bcrypt_tail}"));
    v.push(format!("bcrypt_sha256$$2b$+12${bcrypt_tail}"));
    v.push(format!("bcrypt_sha256$$2b$12${bcrypt_tail} "));
    // Oversized values.
    v.push("x".repeat(100_000));
    v.push(format!(
        "pbkdf2_sha256$10${}${PBKDF2_HASH}",
        "s".repeat(10_000)
    ));
    v.push(format!("md5${}$0", "s".repeat(1_000_000)));
    v.push("$".repeat(10_000));
    v
}

#[test]
fn malformed_encoded_passwords_never_verify_nor_panic() {
    let hashers = all();
    let started = Instant::now();
    for encoded in malformed() {
        for password in ["", "x".repeat(100).as_str()] {
            let t = Instant::now();
            // (must_update may be set: some of these are well-formed wrong hashes, and
            // Django reports must_update for them too.)
            assert!(
                !hashers.check_password(password, &encoded).valid,
                "{encoded:?}"
            );
            // Django would raise ValueError on some of these; only the bcrypt length error
            // is surfaced by try_check_password.
            let r = hashers.try_check_password(password, &encoded);
            assert!(r.map(|v| !v.valid).unwrap_or(true));
            // A bound on work (capped hashes take seconds, uncapped ones days), not a speed
            // test: generous enough for a busy 2-core machine.
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "{encoded:?} took {:?}",
                t.elapsed()
            );
        }
    }
    assert!(started.elapsed() < Duration::from_secs(120));
}

#[test]
fn default_hashers_also_survive_malformed_input() {
    // The default list (argon2 etc. accepted), with the real PBKDF2 cost for the dummy
    // hash: a modest number of runs.
    let hashers = Hashers::django_default().with_pbkdf2_iterations(1000);
    for encoded in malformed() {
        assert!(
            !hashers.check_password("password", &encoded).valid,
            "{encoded:?}"
        );
    }
}

#[test]
fn legacy_and_removed_formats_never_verify() {
    // Even with every algorithm configured, Django 5.2 has no unsalted_md5, unsalted_sha1,
    // sha1 or crypt hasher: these are "unknown algorithm" (fake runtime, False).
    let hashers = all();
    for encoded in [
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "md5$$5f4dcc3b5aa765d61d8327deb882cf99",
        "sha1$$5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",
        "sha1$seasalt1234567890abcde$8c4f3fb56573a732d823d3cd7b49aa28f220d102",
        "crypt$$abJnggxhB/yWI",
        "unsalted_md5$$5f4dcc3b5aa765d61d8327deb882cf99",
    ] {
        assert_eq!(
            hashers.check_password("password", encoded),
            Verdict::INVALID,
            "{encoded}"
        );
    }
}

/// Random corruptions of valid hashes: no panic, bounded time.
#[test]
fn mutated_hashes_never_panic() {
    let mut rng = rand::rng();
    let hashers = all();
    let seeds = [
        (
            Algorithm::Pbkdf2Sha256,
            "pbkdf2_sha256$10$seasalt1234567890abcde$".to_string(),
            400,
        ),
        (Algorithm::Md5, String::new(), 400),
        (Algorithm::Bcrypt, String::new(), 200),
        (Algorithm::BcryptSha256, String::new(), 200),
        (Algorithm::Scrypt, String::new(), 25),
        (Algorithm::Argon2, String::new(), 15),
    ];
    let alphabet: Vec<char> = "$=+/.,0123456789aAzZ_-!é🔑 mtpv".chars().collect();
    for (alg, _, rounds) in seeds {
        let maker = Hashers::new(vec![alg])
            .expect("valid")
            .with_pbkdf2_iterations(10);
        let salt = match alg {
            Algorithm::Bcrypt | Algorithm::BcryptSha256 => "$2b$04$pHODSxCMs7Cofp4eU4.7O.",
            _ => "seasalt1234567890abcde",
        };
        let valid = maker.make_password_with_salt("pw", salt).expect("hash");
        assert!(hashers.check_password("pw", &valid).valid);
        for _ in 0..rounds {
            let mut chars: Vec<char> = valid.chars().collect();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..chars.len());
                match rng.random_range(0..4) {
                    0 => chars[i] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        chars.remove(i);
                    }
                    2 => chars.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                    _ => chars.truncate(i),
                }
                if chars.is_empty() {
                    break;
                }
            }
            let mutated: String = chars.into_iter().collect();
            let t = Instant::now();
            let _ = hashers.check_password("pw", &mutated);
            // The caps bound the work to seconds, where an uncapped hash would take days: the
            // ceiling only has to tell those apart, and must not flake on a busy 2-core machine
            // (a mutated scrypt `p` of 55 legitimately costs ~3 s of CPU there).
            assert!(t.elapsed() < Duration::from_secs(60), "{mutated:?}");
        }
    }
}
