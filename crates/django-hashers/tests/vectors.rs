//! Django 5.2.19's own verdicts on `tests/data/hash_vectors.json` (copied from the
//! reference capture; made with Django 5.2.19, bcrypt 5.0.0, argon2-cffi 25.1.0).
//!
//! How the file records verdicts: `django_check_password` / `django_must_update` were taken
//! with the vector's algorithm available; `accepted_by_default_PASSWORD_HASHERS` says
//! whether Django's default list contains it (if not, the default list gives
//! `(False, False)`). A string in `django_check_password` is the exception Django raised.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use django_hashers::{Algorithm, HasherError, Hashers, Verdict};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    django: String,
    bcrypt: String,
    argon2_cffi: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize, Debug)]
struct Vector {
    algorithm: String,
    password: Option<String>,
    encoded: String,
    note: String,
    django_check_password: serde_json::Value,
    #[serde(default)]
    django_must_update: Option<bool>,
    #[serde(default, rename = "accepted_by_default_PASSWORD_HASHERS")]
    accepted_by_default: Option<bool>,
    #[serde(default)]
    verifies_with_first_72_bytes: Option<bool>,
    #[serde(default)]
    also_verifies_with_first_72_bytes_plus_junk: Option<bool>,
}

/// What Django did with the algorithm available.
#[derive(Debug, PartialEq)]
enum Recorded {
    Verdict(Verdict),
    Raised,
}

impl Vector {
    fn password(&self) -> &str {
        // `None` is the unusable-password vector; any password must fail.
        self.password.as_deref().unwrap_or("password")
    }

    fn recorded(&self) -> Recorded {
        match &self.django_check_password {
            serde_json::Value::Bool(valid) => Recorded::Verdict(Verdict {
                valid: *valid,
                must_update: self.django_must_update.unwrap_or(false),
            }),
            serde_json::Value::String(err) => {
                assert!(err.starts_with("ValueError"), "{self:?}");
                Recorded::Raised
            }
            other => panic!("unexpected django_check_password {other:?}"),
        }
    }

    fn our_algorithm(&self) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == self.algorithm)
    }
}

fn load() -> File {
    let text = include_str!("data/hash_vectors.json");
    let file: File = serde_json::from_str(text).expect("valid vectors file");
    assert_eq!(file.django, "5.2.19");
    assert_eq!(file.bcrypt, "5.0.0");
    assert_eq!(file.argon2_cffi, "25.1.0");
    assert!(file.vectors.len() >= 40);
    file
}

fn default_plus(alg: Algorithm) -> Hashers {
    let mut list = Hashers::django_default().algorithms().to_vec();
    if !list.contains(&alg) {
        list.push(alg);
    }
    Hashers::new(list).expect("valid list")
}

#[test]
fn default_password_hashers_give_djangos_verdicts() {
    let hashers = Hashers::django_default();
    for v in load().vectors {
        let expected = if v.accepted_by_default == Some(true) {
            match v.recorded() {
                Recorded::Verdict(verdict) => verdict,
                Recorded::Raised => panic!("default hashers never raise: {v:?}"),
            }
        } else {
            Verdict::INVALID
        };
        let got = hashers.check_password(v.password(), &v.encoded);
        assert_eq!(
            got, expected,
            "{} {:?} ({})",
            v.algorithm, v.encoded, v.note
        );
        assert_eq!(
            hashers.try_check_password(v.password(), &v.encoded),
            Ok(expected),
            "{v:?}"
        );
    }
}

#[test]
fn non_default_algorithms_verify_when_configured() {
    let mut checked = 0;
    for v in load().vectors {
        if v.accepted_by_default != Some(false) {
            continue;
        }
        match v.our_algorithm() {
            None => {
                // Removed hashers (sha1, unsalted_*, crypt): no configuration makes them verify.
                assert_eq!(v.recorded(), Recorded::Verdict(Verdict::INVALID), "{v:?}");
                let all = Hashers::new(Algorithm::ALL.to_vec()).expect("valid");
                assert_eq!(
                    all.check_password(v.password(), &v.encoded),
                    Verdict::INVALID
                );
            }
            Some(alg) => {
                let hashers = default_plus(alg);
                match v.recorded() {
                    Recorded::Verdict(expected) => {
                        assert_eq!(hashers.check_password(v.password(), &v.encoded), expected);
                        assert_eq!(
                            hashers.try_check_password(v.password(), &v.encoded),
                            Ok(expected)
                        );
                    }
                    Recorded::Raised => {
                        // bcrypt 5.0 + a password over 72 bytes: Django raises ValueError.
                        assert_eq!(
                            hashers.try_check_password(v.password(), &v.encoded),
                            Err(HasherError::PasswordTooLong),
                            "{v:?}"
                        );
                        assert_eq!(
                            hashers.check_password(v.password(), &v.encoded),
                            Verdict::INVALID
                        );
                    }
                }
                if let Some(expected) = v.verifies_with_first_72_bytes {
                    let short = &v.password()[..72];
                    assert_eq!(
                        hashers.check_password(short, &v.encoded).valid,
                        expected,
                        "{v:?}"
                    );
                }
                // Not configured: never verifies.
                assert_eq!(
                    Hashers::django_default().check_password(v.password(), &v.encoded),
                    Verdict::INVALID
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7, "4 bcrypt + 3 md5 vectors");
}

#[test]
fn bcrypt_sha256_does_not_truncate() {
    for v in load().vectors {
        if let Some(expected) = v.also_verifies_with_first_72_bytes_plus_junk {
            let password = format!("{}junk", &v.password()[..72]);
            let verdict = Hashers::django_default().check_password(&password, &v.encoded);
            assert_eq!(verdict.valid, expected, "{v:?}");
            assert!(
                Hashers::django_default()
                    .check_password(v.password(), &v.encoded)
                    .valid
            );
        }
    }
}

#[test]
fn must_update_when_the_vectors_algorithm_is_preferred() {
    for v in load().vectors {
        let Some(alg) = v.our_algorithm() else {
            continue;
        };
        if v.recorded() == Recorded::Raised {
            continue;
        }
        let hashers = Hashers::new(vec![alg]).expect("valid");
        // Django 5.2's parameters: only outdated PBKDF2 iteration counts and the
        // scrypt p=1 vector are outdated; every salt in the file has 22 characters.
        let outdated = match alg {
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => !v.encoded.contains("$1000000$"),
            Algorithm::Scrypt => !v.encoded.contains("$8$5$"),
            _ => false,
        };
        let verdict = hashers.check_password(v.password(), &v.encoded);
        assert_eq!(
            verdict,
            Verdict {
                valid: true,
                must_update: outdated
            },
            "{v:?}"
        );
    }
}

#[test]
fn make_password_with_salt_reproduces_the_vectors() {
    let mut reproduced = 0;
    for v in load().vectors {
        let Some(alg) = v.our_algorithm() else {
            continue;
        };
        let mut hashers = Hashers::new(vec![alg]).expect("valid");
        let fields: Vec<&str> = v.encoded.split('$').collect();
        let salt = match alg {
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => {
                let iterations: u32 = fields[1].parse().expect("iterations");
                hashers = hashers.with_pbkdf2_iterations(iterations);
                fields[2].to_owned()
            }
            Algorithm::Scrypt => {
                if fields[4] != "5" {
                    continue; // p=1 is not Django 5.2's parameter set
                }
                fields[2].to_owned()
            }
            Algorithm::Md5 => fields[1].to_owned(),
            Algorithm::Argon2 => {
                let raw = STANDARD_NO_PAD.decode(fields[4]).expect("b64 salt");
                String::from_utf8(raw).expect("ASCII salt")
            }
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
                // "$2b$12$" + the 22-character salt
                format!("$2b$12${}", &fields[4][..22])
            }
        };
        let password = match v.recorded() {
            // The >72-byte plain bcrypt vector was made from pw[:72] (bcrypt < 5 truncation).
            Recorded::Raised => {
                assert_eq!(
                    hashers.make_password_with_salt(v.password(), &salt),
                    Err(HasherError::PasswordTooLong)
                );
                &v.password()[..72]
            }
            Recorded::Verdict(_) => v.password(),
        };
        assert_eq!(
            hashers.make_password_with_salt(password, &salt).as_deref(),
            Ok(v.encoded.as_str()),
            "{v:?}"
        );
        reproduced += 1;
    }
    // 8 pbkdf2_sha256 + 3 pbkdf2_sha1 + 3 argon2 + 4 bcrypt_sha256 + 4 bcrypt + 3 scrypt + 3 md5
    assert_eq!(reproduced, 28);
}
