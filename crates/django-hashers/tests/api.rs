//! make_password formats and round trips, configuration, upgrades and hardening.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use django_hashers::{
    is_password_usable, make_unusable_password, Algorithm, HasherError, Hashers, Verdict,
};

const OK: Verdict = Verdict {
    valid: true,
    must_update: false,
};
const UPGRADE: Verdict = Verdict {
    valid: true,
    must_update: true,
};

fn is_django_salt(s: &str) -> bool {
    s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_bcrypt_b64(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// Checks the exact shape Django 5.2 writes for `alg` with its default parameters.
fn assert_django_format(alg: Algorithm, encoded: &str) {
    let f: Vec<&str> = encoded.split('$').collect();
    match alg {
        Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
            let (len, b64_len) = if alg == Algorithm::Pbkdf2Sha256 {
                (32, 44)
            } else {
                (20, 28)
            };
            assert_eq!(f.len(), 4, "{encoded}");
            assert_eq!(f[0], alg.name());
            assert_eq!(f[1], "1000000");
            assert!(is_django_salt(f[2]), "{encoded}");
            assert_eq!(f[3].len(), b64_len);
            assert!(f[3].ends_with('='));
            assert_eq!(STANDARD.decode(f[3]).expect("std base64").len(), len);
        }
        Algorithm::Argon2 => {
            assert_eq!(f.len(), 6, "{encoded}");
            assert_eq!(&f[..4], ["argon2", "argon2id", "v=19", "m=102400,t=2,p=8"]);
            let salt = STANDARD_NO_PAD.decode(f[4]).expect("salt b64");
            assert!(is_django_salt(std::str::from_utf8(&salt).expect("ASCII")));
            assert_eq!(STANDARD_NO_PAD.decode(f[5]).expect("hash b64").len(), 32);
        }
        Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
            assert_eq!(f.len(), 5, "{encoded}");
            assert_eq!(&f[..4], [alg.name(), "", "2b", "12"]);
            assert_eq!(f[4].len(), 53);
            assert!(is_bcrypt_b64(f[4]));
        }
        Algorithm::Scrypt => {
            assert_eq!(f.len(), 6, "{encoded}");
            assert_eq!(f[0], "scrypt");
            assert_eq!(f[1], "16384");
            assert!(is_django_salt(f[2]));
            assert_eq!((f[3], f[4]), ("8", "5"));
            assert_eq!(f[5].len(), 88);
            assert_eq!(STANDARD.decode(f[5]).expect("std base64").len(), 64);
        }
        Algorithm::Md5 => {
            assert_eq!(f.len(), 3, "{encoded}");
            assert_eq!(f[0], "md5");
            assert!(is_django_salt(f[1]));
            assert_eq!(f[2].len(), 32);
            assert!(f[2].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
    }
}

#[test]
fn make_password_round_trips_in_djangos_format_for_every_algorithm() {
    let mut rng = rand::rng();
    for alg in Algorithm::ALL {
        let hashers = Hashers::new(vec![alg]).expect("valid");
        let password = "pässwörd-ünïcöde-🔑";
        let a = hashers.make_password(password, &mut rng);
        assert_django_format(alg, &a);
        assert_eq!(hashers.check_password(password, &a), OK, "{a}");
        assert!(!hashers.check_password("pässwörd", &a).valid);
        // The hash verifies under Django's default list too, if the algorithm is in it.
        let default = Hashers::django_default();
        let expected = if default.accepts(alg) {
            Verdict {
                valid: true,
                must_update: alg != Algorithm::Pbkdf2Sha256,
            }
        } else {
            Verdict::INVALID
        };
        assert_eq!(default.check_password(password, &a), expected, "{a}");
        if alg != Algorithm::Md5 {
            // Fresh salt each time.
            let b = hashers.make_password(password, &mut rng);
            assert_ne!(a, b);
        }
    }
}

#[test]
fn try_make_password_matches_make_password() {
    let hashers = Hashers::django_default().with_pbkdf2_iterations(1000);
    let encoded = hashers
        .try_make_password("x", &mut rand::rng())
        .expect("hashes");
    assert!(encoded.starts_with("pbkdf2_sha256$1000$"));
    assert_eq!(hashers.check_password("x", &encoded), OK);
}

#[test]
fn empty_password_is_hashed_and_verified_like_django() {
    // Django hashes "" like any other string (only None gives an unusable password).
    let hashers = Hashers::new(vec![Algorithm::Md5]).expect("valid");
    let encoded = hashers.make_password("", &mut rand::rng());
    assert_eq!(hashers.check_password("", &encoded), OK);
    assert!(!hashers.check_password(" ", &encoded).valid);
}

#[test]
fn algorithm_from_setting() {
    let cases = [
        (
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            Algorithm::Pbkdf2Sha256,
        ),
        (
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            Algorithm::Pbkdf2Sha1,
        ),
        (
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            Algorithm::Argon2,
        ),
        (
            "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
            Algorithm::BcryptSha256,
        ),
        (
            "django.contrib.auth.hashers.BCryptPasswordHasher",
            Algorithm::Bcrypt,
        ),
        (
            "django.contrib.auth.hashers.ScryptPasswordHasher",
            Algorithm::Scrypt,
        ),
        (
            "django.contrib.auth.hashers.MD5PasswordHasher",
            Algorithm::Md5,
        ),
        ("PBKDF2PasswordHasher", Algorithm::Pbkdf2Sha256),
        ("pbkdf2_sha256", Algorithm::Pbkdf2Sha256),
        ("pbkdf2_sha1", Algorithm::Pbkdf2Sha1),
        ("argon2", Algorithm::Argon2),
        ("bcrypt_sha256", Algorithm::BcryptSha256),
        ("bcrypt", Algorithm::Bcrypt),
        ("scrypt", Algorithm::Scrypt),
        ("md5", Algorithm::Md5),
        (" md5 ", Algorithm::Md5),
    ];
    for (s, alg) in cases {
        assert_eq!(Algorithm::from_setting(s), Ok(alg), "{s}");
        assert_eq!(s.parse::<Algorithm>(), Ok(alg));
    }
    for alg in Algorithm::ALL {
        assert_eq!(Algorithm::from_setting(&alg.django_setting()), Ok(alg));
        assert_eq!(Algorithm::from_setting(alg.name()), Ok(alg));
        assert_eq!(alg.to_string(), alg.name());
    }
    for removed in [
        "django.contrib.auth.hashers.SHA1PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
        "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
        "django.contrib.auth.hashers.CryptPasswordHasher",
        "unsalted_md5",
        "crypt",
    ] {
        assert!(
            matches!(
                Algorithm::from_setting(removed),
                Err(HasherError::RemovedHasher(_))
            ),
            "{removed}"
        );
    }
    for unknown in [
        "",
        "PBKDF2",
        "myapp.hashers.MyPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.pbkdf2_sha256",
        "django.contrib.auth.hashers.pbkdf2passwordhasher",
        "Pbkdf2_sha256",
    ] {
        assert!(
            matches!(
                Algorithm::from_setting(unknown),
                Err(HasherError::UnknownHasher(_))
            ),
            "{unknown}"
        );
    }
}

#[test]
fn hashers_configuration() {
    let d = Hashers::django_default();
    assert_eq!(
        d.algorithms(),
        [
            Algorithm::Pbkdf2Sha256,
            Algorithm::Pbkdf2Sha1,
            Algorithm::Argon2,
            Algorithm::BcryptSha256,
            Algorithm::Scrypt
        ]
    );
    assert_eq!(d.preferred(), Algorithm::Pbkdf2Sha256);
    assert_eq!(d.pbkdf2_iterations(), 1_000_000);
    assert!(!d.accepts(Algorithm::Bcrypt) && !d.accepts(Algorithm::Md5));
    assert_eq!(Hashers::default(), d);
    assert_eq!(Hashers::new(vec![]), Err(HasherError::EmptyHasherList));
    assert_eq!(
        Hashers::new(vec![Algorithm::Md5, Algorithm::Argon2, Algorithm::Md5]),
        Err(HasherError::DuplicateHasher("md5"))
    );
    assert_eq!(
        Hashers::new(vec![Algorithm::Scrypt])
            .expect("valid")
            .preferred(),
        Algorithm::Scrypt
    );
    assert_eq!(d.clone().with_pbkdf2_iterations(0).pbkdf2_iterations(), 1);
    let from = Hashers::from_settings(&[
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ])
    .expect("valid");
    assert_eq!(
        from.algorithms(),
        [Algorithm::Argon2, Algorithm::Pbkdf2Sha256]
    );
}

#[test]
fn unusable_passwords() {
    let mut rng = rand::rng();
    let u = make_unusable_password(&mut rng);
    assert_eq!(u.len(), 41);
    assert!(u.starts_with('!'));
    assert!(u[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(u, make_unusable_password(&mut rng));
    assert!(!is_password_usable(&u));
    assert!(!is_password_usable("!"));
    assert!(is_password_usable(""));
    assert!(is_password_usable("pbkdf2_sha256$1$a$b"));
    let h = Hashers::django_default().with_pbkdf2_iterations(10);
    assert_eq!(h.check_password("", &u), Verdict::INVALID);
    assert_eq!(h.check_password("", ""), Verdict::INVALID);
    // An unusable password never verifies, even if the rest looks like a valid hash.
    let md5 = Hashers::new(vec![Algorithm::Md5]).expect("valid");
    let encoded = md5
        .make_password_with_salt("pw", "seasalt1234567890abcde")
        .expect("md5");
    assert_eq!(md5.check_password("pw", &encoded), OK);
    assert_eq!(
        md5.check_password("pw", &format!("!{encoded}")),
        Verdict::INVALID
    );
}

#[test]
fn pbkdf2_upgrade_and_harden_runtime() {
    let h = Hashers::django_default().with_pbkdf2_iterations(2000);
    let salt = "seasalt1234567890abcde";
    let old = h
        .clone()
        .with_pbkdf2_iterations(1000)
        .make_password_with_salt("pw", salt)
        .expect("hash");
    assert_eq!(h.check_password("pw", &old), UPGRADE);
    // Wrong password on an outdated hash: harden_runtime runs, must_update is still reported.
    assert_eq!(
        h.check_password("nope", &old),
        Verdict {
            valid: false,
            must_update: true
        }
    );
    // More iterations than current also means must_update (no hardening needed).
    let newer = h
        .clone()
        .with_pbkdf2_iterations(3000)
        .make_password_with_salt("pw", salt)
        .expect("hash");
    assert_eq!(h.check_password("pw", &newer), UPGRADE);
    // A salt shorter than 22 characters means must_update; 22 does not.
    let short = h
        .make_password_with_salt("pw", "seasalt1234567890abcd")
        .expect("hash");
    assert_eq!(h.check_password("pw", &short), UPGRADE);
    let exact = h.make_password_with_salt("pw", salt).expect("hash");
    assert_eq!(h.check_password("pw", &exact), OK);
    // Salt length counts characters, not bytes (Python's len).
    let unicode = h
        .make_password_with_salt("pw", "ßßßßßßßßßßßßßßßßßßßßßß")
        .expect("hash");
    assert_eq!(h.check_password("pw", &unicode), OK);
    // pbkdf2_sha1 shares the iteration count.
    let sha1 = Hashers::new(vec![Algorithm::Pbkdf2Sha1])
        .expect("valid")
        .with_pbkdf2_iterations(2000);
    let s = sha1.make_password_with_salt("pw", salt).expect("hash");
    assert!(s.starts_with("pbkdf2_sha1$2000$"));
    assert_eq!(sha1.check_password("pw", &s), OK);
    assert_eq!(h.check_password("pw", &s), UPGRADE);
}

#[test]
fn other_algorithms_must_update_rules() {
    // md5: salt shorter than 22 characters.
    let md5 = Hashers::new(vec![Algorithm::Md5]).expect("valid");
    let short = md5.make_password_with_salt("pw", "abc").expect("md5");
    // Python: hashlib.md5(b"abcpw").hexdigest()
    assert_eq!(short, "md5$abc$71605ab39e19fe87034aee29cf2957e4");
    assert_eq!(md5.check_password("pw", &short), UPGRADE);
    // Not preferred: always must_update.
    let both = Hashers::new(vec![Algorithm::Pbkdf2Sha256, Algorithm::Md5]).expect("valid");
    let good = md5
        .make_password_with_salt("pw", "seasalt1234567890abcde")
        .expect("md5");
    assert_eq!(md5.check_password("pw", &good), OK);
    assert_eq!(both.check_password("pw", &good), UPGRADE);

    // argon2: a short salt, or any parameter different.
    let argon2 = Hashers::new(vec![Algorithm::Argon2]).expect("valid");
    let short_salt = argon2
        .make_password_with_salt("pw", "12345678")
        .expect("argon2");
    assert_eq!(argon2.check_password("pw", &short_salt), UPGRADE);
    assert_eq!(
        argon2.make_password_with_salt("pw", "1234567"),
        Err(HasherError::InvalidSalt(
            "Argon2 needs a salt of at least 8 bytes"
        ))
    );

    // scrypt: the salt length is not checked.
    let scrypt = Hashers::new(vec![Algorithm::Scrypt]).expect("valid");
    let s = scrypt.make_password_with_salt("pw", "abc").expect("scrypt");
    assert_eq!(scrypt.check_password("pw", &s), OK);
}

/// libargon2's reference test vectors (`src/test.c`), wrapped in Django's `argon2$` prefix.
/// The first has no `$v=` field (version 0x10), which libargon2 and argon2-cffi accept.
#[test]
fn argon2_reference_vectors_and_old_versions() {
    let h = Hashers::new(vec![Algorithm::Pbkdf2Sha256, Algorithm::Argon2])
        .expect("valid")
        .with_pbkdf2_iterations(10);
    for encoded in [
        "argon2$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
        "argon2$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
    ] {
        assert_eq!(h.check_password("password", encoded), UPGRADE, "{encoded}");
        assert!(!h.check_password("passwore", encoded).valid);
        // Preferred argon2: an argon2i / 0x10 / m=65536 hash is outdated.
        let a = Hashers::new(vec![Algorithm::Argon2]).expect("valid");
        assert_eq!(a.check_password("password", encoded), UPGRADE, "{encoded}");
    }
}

#[test]
fn bcrypt_upgrade_and_harden_runtime() {
    let h = Hashers::new(vec![Algorithm::BcryptSha256]).expect("valid");
    let cost10 = h
        .make_password_with_salt("pw", "$2b$10$pHODSxCMs7Cofp4eU4.7O.")
        .expect("bcrypt");
    assert!(cost10.starts_with("bcrypt_sha256$$2b$10$pHODSxCMs7Cofp4eU4.7O."));
    assert_eq!(h.check_password("pw", &cost10), UPGRADE);
    // Wrong password: 2^(12-10) - 1 = 3 extra hashes, verdict unchanged.
    assert_eq!(
        h.check_password("nope", &cost10),
        Verdict {
            valid: false,
            must_update: true
        }
    );
    // 2a/2x/2y prefixes are accepted by pyca/bcrypt's hashpw and keep their prefix.
    for version in ["2a", "2x", "2y"] {
        let e = h
            .make_password_with_salt("pw", &format!("${version}$12$pHODSxCMs7Cofp4eU4.7O."))
            .expect("bcrypt");
        assert!(e.starts_with(&format!("bcrypt_sha256$${version}$12$")));
        assert_eq!(h.check_password("pw", &e), OK);
    }
    // Bare 22-character salt = "$2b$12$" + salt.
    assert_eq!(
        h.make_password_with_salt("pw", "pHODSxCMs7Cofp4eU4.7O."),
        h.make_password_with_salt("pw", "$2b$12$pHODSxCMs7Cofp4eU4.7O.")
    );
    for bad in [
        "",
        "$2b$12$short",
        "$2c$12$pHODSxCMs7Cofp4eU4.7O.",
        "$2b$03$pHODSxCMs7Cofp4eU4.7O.",
    ] {
        assert!(h.make_password_with_salt("pw", bad).is_err(), "{bad}");
    }
}

#[test]
fn plain_bcrypt_password_length_limit() {
    let mut rng = rand::rng();
    let long = "é".repeat(40); // 80 bytes
    let bcrypt = Hashers::new(vec![Algorithm::Bcrypt, Algorithm::Pbkdf2Sha256])
        .expect("valid")
        .with_pbkdf2_iterations(10);
    // Django raises; make_password degrades to an unusable password, try_ gives the error.
    assert_eq!(
        bcrypt.try_make_password(&long, &mut rng),
        Err(HasherError::PasswordTooLong)
    );
    assert!(!is_password_usable(&bcrypt.make_password(&long, &mut rng)));
    // A correct long password on an outdated (pbkdf2) hash: Django's upgrade would raise.
    let pbkdf2 = Hashers::django_default().with_pbkdf2_iterations(10);
    let old = pbkdf2.make_password(&long, &mut rng);
    assert_eq!(bcrypt.check_password(&long, &old), OK);
    assert_eq!(
        bcrypt.try_check_password(&long, &old),
        Err(HasherError::PasswordTooLong)
    );
    // 72 bytes exactly is fine; bcrypt then hashes without the NUL terminator.
    let p72 = "a".repeat(72);
    let e72 = bcrypt.make_password(&p72, &mut rng);
    assert_eq!(bcrypt.check_password(&p72, &e72), OK);
    assert!(!bcrypt.check_password(&"a".repeat(71), &e72).valid);
    // bcrypt_sha256 has no limit.
    let sha = Hashers::new(vec![Algorithm::BcryptSha256]).expect("valid");
    let e = sha.make_password(&long, &mut rng);
    assert_eq!(sha.check_password(&long, &e), OK);
    // run_dummy never fails.
    bcrypt.run_dummy(&long);
    pbkdf2.run_dummy("whatever");
}
