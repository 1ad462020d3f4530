//! Django 5.2's password hashers in pure Rust, with no I/O.
//!
//! This crate reads and writes the `auth_user.password` column exactly as
//! `django.contrib.auth.hashers` does (Django 5.2.x, with bcrypt 5.0 and argon2-cffi 25.1):
//!
//! | algorithm | Django class | encoded form |
//! |---|---|---|
//! | `pbkdf2_sha256` | `PBKDF2PasswordHasher` | `pbkdf2_sha256$1000000$<salt>$<b64(32 bytes)>` |
//! | `pbkdf2_sha1` | `PBKDF2SHA1PasswordHasher` | `pbkdf2_sha1$1000000$<salt>$<b64(20 bytes)>` |
//! | `argon2` | `Argon2PasswordHasher` | `argon2$argon2id$v=19$m=102400,t=2,p=8$<b64 salt>$<b64 hash>` |
//! | `bcrypt_sha256` | `BCryptSHA256PasswordHasher` | `bcrypt_sha256$$2b$12$<53 chars>` |
//! | `bcrypt` | `BCryptPasswordHasher` | `bcrypt$$2b$12$<53 chars>` |
//! | `scrypt` | `ScryptPasswordHasher` | `scrypt$16384$<salt>$8$5$<b64(64 bytes)>` |
//! | `md5` | `MD5PasswordHasher` | `md5$<salt>$<32 hex>` |
//!
//! [`Hashers`] is Django's `PASSWORD_HASHERS`: an ordered list whose first entry is the
//! preferred hasher. [`Hashers::check_password`] is `verify_password` (what
//! `AbstractBaseUser.check_password` runs): only configured algorithms verify, the verdict
//! says whether the stored hash must be upgraded, and the timing countermeasures
//! (`harden_runtime`, the fake-runtime hash for unusable or unidentifiable hashes) are
//! reproduced. Hashes of Django's removed hashers (`sha1`, `unsalted_sha1`,
//! `unsalted_md5`, `crypt`) never verify, as in Django 5.2.
//!
//! Malformed hashes never panic and never verify; hashes asking for absurd work are
//! refused without doing it (see [`limits`]).
//!
//! ```
//! use django_hashers::Hashers;
//!
//! let hashers = Hashers::django_default().with_pbkdf2_iterations(1000); // fast, for the example
//! let encoded = hashers.make_password("s3cret", &mut rand::rng());
//! assert!(encoded.starts_with("pbkdf2_sha256$1000$"));
//! let verdict = hashers.check_password("s3cret", &encoded);
//! assert!(verdict.valid && !verdict.must_update);
//! assert!(!hashers.check_password("wrong", &encoded).valid);
//! ```
//!
//! # Random numbers
//!
//! Salts are drawn from a caller-supplied `R: rand::CryptoRng + ?Sized` (rand 0.9, where
//! `CryptoRng` is a marker trait over `RngCore`), e.g. `&mut rand::rng()` or
//! `&mut rand::rngs::OsRng.unwrap_err()`. Internal dummy hashes use `rand::rng()`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod argon2_hasher;
mod bcrypt_hasher;
mod error;
pub mod limits;
mod md5_hasher;
mod pbkdf2_hasher;
mod scrypt_hasher;
mod util;

use std::fmt;
use std::str::FromStr;

pub use error::HasherError;

use bcrypt_hasher::Flavor;
use pbkdf2_hasher::Prf;

/// Prefix of an unusable password (`UNUSABLE_PASSWORD_PREFIX`).
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";

/// Django 5.2's PBKDF2 iteration count.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// The longest password (in UTF-8 bytes) plain `bcrypt` accepts; see [`HasherError::PasswordTooLong`].
pub const BCRYPT_MAX_PASSWORD_BYTES: usize = bcrypt_hasher::MAX_PASSWORD_BYTES;

/// A password hashing algorithm of Django 5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `pbkdf2_sha256` (`PBKDF2PasswordHasher`), Django's default.
    Pbkdf2Sha256,
    /// `pbkdf2_sha1` (`PBKDF2SHA1PasswordHasher`).
    Pbkdf2Sha1,
    /// `argon2` (`Argon2PasswordHasher`), Argon2id.
    Argon2,
    /// `bcrypt_sha256` (`BCryptSHA256PasswordHasher`).
    BcryptSha256,
    /// `bcrypt` (`BCryptPasswordHasher`); not in the default list.
    Bcrypt,
    /// `scrypt` (`ScryptPasswordHasher`).
    Scrypt,
    /// `md5` (`MD5PasswordHasher`), salted; not in the default list.
    Md5,
}

impl Algorithm {
    /// Every algorithm, in the order of the enum.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Pbkdf2Sha256,
        Algorithm::Pbkdf2Sha1,
        Algorithm::Argon2,
        Algorithm::BcryptSha256,
        Algorithm::Bcrypt,
        Algorithm::Scrypt,
        Algorithm::Md5,
    ];

    /// The algorithm name, which is also the prefix of its encoded passwords
    /// (`"pbkdf2_sha256"`, `"argon2"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1",
            Algorithm::Argon2 => "argon2",
            Algorithm::BcryptSha256 => "bcrypt_sha256",
            Algorithm::Bcrypt => "bcrypt",
            Algorithm::Scrypt => "scrypt",
            Algorithm::Md5 => "md5",
        }
    }

    /// The Django class name (`"PBKDF2PasswordHasher"`, ...).
    pub fn class_name(self) -> &'static str {
        match self {
            Algorithm::Pbkdf2Sha256 => "PBKDF2PasswordHasher",
            Algorithm::Pbkdf2Sha1 => "PBKDF2SHA1PasswordHasher",
            Algorithm::Argon2 => "Argon2PasswordHasher",
            Algorithm::BcryptSha256 => "BCryptSHA256PasswordHasher",
            Algorithm::Bcrypt => "BCryptPasswordHasher",
            Algorithm::Scrypt => "ScryptPasswordHasher",
            Algorithm::Md5 => "MD5PasswordHasher",
        }
    }

    /// The `PASSWORD_HASHERS` entry (`"django.contrib.auth.hashers.PBKDF2PasswordHasher"`, ...).
    pub fn django_setting(self) -> String {
        format!("{DJANGO_MODULE}.{}", self.class_name())
    }

    /// Parses a `PASSWORD_HASHERS` entry.
    ///
    /// Accepts Django's dotted path (`"django.contrib.auth.hashers.BCryptSHA256PasswordHasher"`),
    /// the bare class name (`"BCryptSHA256PasswordHasher"`) and the algorithm name
    /// (`"bcrypt_sha256"`). Surrounding whitespace is ignored; everything else is exact
    /// (case-sensitive, as Python imports are). Hashers Django has removed give
    /// [`HasherError::RemovedHasher`]; anything else, including custom subclasses whose
    /// parameters this crate cannot know, gives [`HasherError::UnknownHasher`].
    pub fn from_setting(s: &str) -> Result<Self, HasherError> {
        let s = s.trim();
        let short = s
            .strip_prefix(DJANGO_MODULE)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(s);
        if let Some(alg) = Algorithm::ALL
            .into_iter()
            .find(|a| a.class_name() == short || (short == s && a.name() == s))
        {
            return Ok(alg);
        }
        const REMOVED: [&str; 8] = [
            "SHA1PasswordHasher",
            "UnsaltedSHA1PasswordHasher",
            "UnsaltedMD5PasswordHasher",
            "CryptPasswordHasher",
            "sha1",
            "unsalted_sha1",
            "unsalted_md5",
            "crypt",
        ];
        if REMOVED.contains(&short) {
            return Err(HasherError::RemovedHasher(s.to_owned()));
        }
        Err(HasherError::UnknownHasher(s.to_owned()))
    }

    /// The algorithm whose [`name`](Self::name) is exactly `name`.
    fn from_name(name: &str) -> Option<Self> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }
}

const DJANGO_MODULE: &str = "django.contrib.auth.hashers";

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = HasherError;

    /// Same as [`Algorithm::from_setting`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_setting(s)
    }
}

/// The outcome of [`Hashers::check_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The password matches the encoded hash.
    pub valid: bool,
    /// The stored hash should be replaced by `make_password(password)` with the preferred
    /// hasher (Django does this on a successful login: `UPDATE auth_user SET password`).
    /// Only meaningful when `valid`.
    pub must_update: bool,
}

impl Verdict {
    /// `(False, False)`: what Django returns for unusable, unknown or failed hashes.
    pub const INVALID: Verdict = Verdict {
        valid: false,
        must_update: false,
    };
}

/// Django's `PASSWORD_HASHERS`: the accepted algorithms, the first being preferred.
///
/// All parameters are Django 5.2's (PBKDF2 1,000,000 iterations; Argon2id t=2,
/// m=102400 KiB, p=8; bcrypt cost 12; scrypt N=2¹⁴, r=8, p=5), except that the PBKDF2
/// iteration count can be overridden with [`Hashers::with_pbkdf2_iterations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashers {
    list: Vec<Algorithm>,
    pbkdf2_iterations: u32,
}

impl Default for Hashers {
    fn default() -> Self {
        Hashers::django_default()
    }
}

impl Hashers {
    /// Django's default `PASSWORD_HASHERS`: `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2`,
    /// `bcrypt_sha256`, `scrypt` (plain `bcrypt` and `md5` are not accepted).
    pub fn django_default() -> Self {
        Hashers {
            list: vec![
                Algorithm::Pbkdf2Sha256,
                Algorithm::Pbkdf2Sha1,
                Algorithm::Argon2,
                Algorithm::BcryptSha256,
                Algorithm::Scrypt,
            ],
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// A custom list (first = preferred). It must be non-empty, without duplicates.
    pub fn new(list: Vec<Algorithm>) -> Result<Self, HasherError> {
        if list.is_empty() {
            return Err(HasherError::EmptyHasherList);
        }
        for (i, alg) in list.iter().enumerate() {
            if list[..i].contains(alg) {
                return Err(HasherError::DuplicateHasher(alg.name()));
            }
        }
        Ok(Hashers {
            list,
            pbkdf2_iterations: DEFAULT_PBKDF2_ITERATIONS,
        })
    }

    /// Parses `PASSWORD_HASHERS` entries with [`Algorithm::from_setting`], then [`Hashers::new`].
    pub fn from_settings<S: AsRef<str>>(settings: &[S]) -> Result<Self, HasherError> {
        let list = settings
            .iter()
            .map(|s| Algorithm::from_setting(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Hashers::new(list)
    }

    /// Overrides the PBKDF2 iteration count (both `pbkdf2_sha256` and `pbkdf2_sha1`, as
    /// `PBKDF2SHA1PasswordHasher` inherits `iterations`): used for new hashes, for
    /// `must_update` and for `harden_runtime`. Meant for tests and benchmarks; the default
    /// is Django 5.2's 1,000,000. A value of 0 is treated as 1.
    pub fn with_pbkdf2_iterations(mut self, iterations: u32) -> Self {
        self.pbkdf2_iterations = iterations.max(1);
        self
    }

    /// The preferred hasher (the first in the list), used for new hashes and upgrades.
    pub fn preferred(&self) -> Algorithm {
        // `new` and `django_default` guarantee a non-empty list.
        self.list
            .first()
            .copied()
            .unwrap_or(Algorithm::Pbkdf2Sha256)
    }

    /// The accepted algorithms, preferred first.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.list
    }

    /// The PBKDF2 iteration count in use.
    pub fn pbkdf2_iterations(&self) -> u32 {
        self.pbkdf2_iterations
    }

    /// Whether `alg` is configured (hashes of other algorithms never verify).
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.list.contains(&alg)
    }

    /// Django's `check_password` / `verify_password`: whether `password` matches `encoded`
    /// and whether the stored hash must be upgraded.
    ///
    /// Reproduces, as Django 5.2 does:
    /// - an unusable (`"!..."`), empty, unidentifiable or not-configured hash: one dummy
    ///   `make_password` with the preferred hasher, then `valid: false, must_update: false`;
    /// - `must_update = algorithm != preferred || preferred.must_update(encoded)`;
    /// - on a wrong password with an outdated hash of the preferred algorithm,
    ///   `harden_runtime` (the missing PBKDF2 iterations, or the missing bcrypt rounds).
    ///
    /// Never panics. Where Django would raise (a malformed hash, or a hash whose
    /// parameters its libraries reject) or where this crate's [`limits`] refuse the work,
    /// the verdict is `valid: false, must_update: false`, after the same dummy hash.
    ///
    /// Plain `bcrypt` and passwords longer than 72 bytes: Django 5.2 with bcrypt 5.0 raises
    /// `ValueError` (an HTTP 500). Here the verdict is `valid: false`. Likewise, when plain
    /// `bcrypt` is *preferred* and a correct password longer than 72 bytes matches an
    /// outdated hash, Django's upgrade raises; here the verdict is `valid: true,
    /// must_update: false` (keep the old hash). Use [`Hashers::try_check_password`] to get
    /// Django's error instead.
    pub fn check_password(&self, password: &str, encoded: &str) -> Verdict {
        match self.verify_password(password, encoded) {
            Ok(v) if v.valid && v.must_update && !self.can_hash(password) => Verdict {
                valid: true,
                must_update: false,
            },
            Ok(v) => v,
            Err(_) => Verdict::INVALID,
        }
    }

    /// [`Hashers::check_password`], but returning [`HasherError::PasswordTooLong`] exactly
    /// where Django 5.2's `user.check_password(password)` raises bcrypt 5.0's
    /// `ValueError`: verifying a plain `bcrypt` hash with a password longer than 72 bytes,
    /// or upgrading a matching hash when plain `bcrypt` is preferred and the password is
    /// that long. Every other outcome is `Ok`, identical to `check_password`.
    pub fn try_check_password(
        &self,
        password: &str,
        encoded: &str,
    ) -> Result<Verdict, HasherError> {
        let v = self.verify_password(password, encoded)?;
        if v.valid && v.must_update && !self.can_hash(password) {
            return Err(HasherError::PasswordTooLong);
        }
        Ok(v)
    }

    /// For an unknown user: hash the password once with the preferred hasher, as Django's
    /// `ModelBackend.authenticate` does (`UserModel().set_password(password)`), so that the
    /// response time does not reveal whether the user exists. The result is discarded.
    /// (With plain `bcrypt` preferred, a password over 72 bytes makes Django raise; here
    /// its first 72 bytes are hashed instead, which costs the same.)
    pub fn run_dummy(&self, password: &str) {
        let password = if self.can_hash(password) {
            password
        } else {
            truncate_at_char_boundary(password, BCRYPT_MAX_PASSWORD_BYTES)
        };
        std::hint::black_box(self.try_make_password(password, &mut rand::rng()).ok());
    }

    /// Django's `make_password(password)`: hash with the preferred hasher and a fresh salt
    /// (22 characters of `[a-zA-Z0-9]`; for bcrypt, `bcrypt.gensalt(12)`, 16 random bytes).
    ///
    /// The only failure is plain `bcrypt` preferred with a password longer than 72 bytes
    /// (Django raises `ValueError`). Rather than panic or store a hash Django could not
    /// verify, this then returns an **unusable** password (`"!"` + 40 characters); call
    /// [`Hashers::try_make_password`] to get the error instead.
    pub fn make_password<R: rand::CryptoRng + ?Sized>(
        &self,
        password: &str,
        rng: &mut R,
    ) -> String {
        match self.try_make_password(password, rng) {
            Ok(encoded) => encoded,
            Err(_) => make_unusable_password(rng),
        }
    }

    /// [`Hashers::make_password`], returning [`HasherError::PasswordTooLong`] where Django raises.
    pub fn try_make_password<R: rand::CryptoRng + ?Sized>(
        &self,
        password: &str,
        rng: &mut R,
    ) -> Result<String, HasherError> {
        let salt = match self.preferred() {
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => bcrypt_hasher::gensalt(rng),
            _ => util::random_string(rng, util::SALT_LEN),
        };
        self.make_password_with_salt(password, &salt)
    }

    /// Django's `make_password(password, salt)` with the preferred hasher (deterministic).
    ///
    /// For PBKDF2, scrypt and MD5 the salt must be non-empty and free of `$`; for Argon2 it
    /// must be at least 8 bytes (its UTF-8 bytes are the Argon2 salt). For bcrypt it is a
    /// bcrypt salt as `bcrypt.gensalt()` returns it (`"$2b$12$" + 22 characters`, cost
    /// 4..=16); a bare 22-character bcrypt-base64 salt is also accepted and means
    /// `"$2b$12$" + salt`. (Django would replace an empty salt with a random one; here an
    /// empty salt is an error.)
    pub fn make_password_with_salt(
        &self,
        password: &str,
        salt: &str,
    ) -> Result<String, HasherError> {
        match self.preferred() {
            Algorithm::Pbkdf2Sha256 => {
                pbkdf2_hasher::encode(Prf::Sha256, password, salt, self.pbkdf2_iterations)
            }
            Algorithm::Pbkdf2Sha1 => {
                pbkdf2_hasher::encode(Prf::Sha1, password, salt, self.pbkdf2_iterations)
            }
            Algorithm::Argon2 => argon2_hasher::encode(password, salt),
            alg @ (Algorithm::BcryptSha256 | Algorithm::Bcrypt) => {
                let flavor = bcrypt_flavor(alg);
                if salt.len() == 22 && !salt.contains('$') {
                    let full = format!("$2b${:02}${salt}", bcrypt_hasher::ROUNDS);
                    bcrypt_hasher::encode(flavor, password, &full)
                } else {
                    bcrypt_hasher::encode(flavor, password, salt)
                }
            }
            Algorithm::Scrypt => scrypt_hasher::encode(password, salt),
            Algorithm::Md5 => md5_hasher::encode(password, salt),
        }
    }

    /// Whether the preferred hasher can hash `password` (only plain bcrypt has a limit).
    fn can_hash(&self, password: &str) -> bool {
        self.preferred() != Algorithm::Bcrypt || password.len() <= BCRYPT_MAX_PASSWORD_BYTES
    }

    /// Django's `identify_hasher`, restricted to the configured list.
    fn identify(&self, encoded: &str) -> Option<Algorithm> {
        // Python's len() counts code points.
        let chars = encoded.chars().count();
        // The legacy shapes are unsalted_md5 / unsalted_sha1, which Django 5.2 no longer has.
        if (chars == 32 && !encoded.contains('$'))
            || (chars == 37 && encoded.starts_with("md5$$"))
            || (chars == 46 && encoded.starts_with("sha1$$"))
        {
            return None;
        }
        let name = encoded.split('$').next().unwrap_or_default();
        Algorithm::from_name(name).filter(|alg| self.accepts(*alg))
    }

    /// Django's `verify_password`; `Err` only for bcrypt's too-long password.
    fn verify_password(&self, password: &str, encoded: &str) -> Result<Verdict, HasherError> {
        let alg = match self.identify(encoded) {
            Some(alg)
                if is_password_usable(encoded) && encoded.len() <= limits::MAX_ENCODED_LEN =>
            {
                alg
            }
            _ => {
                self.fake_runtime();
                return Ok(Verdict::INVALID);
            }
        };
        let preferred = self.preferred();
        let hasher_changed = alg != preferred;
        let must_update = if hasher_changed {
            Ok(true)
        } else {
            self.must_update_same(alg, encoded)
        };
        let outcome = must_update.and_then(|must_update| {
            self.verify_with(alg, password, encoded)
                .map(|valid| (valid, must_update))
        });
        match outcome {
            Ok((valid, must_update)) => {
                if !valid && !hasher_changed && must_update {
                    self.harden_runtime(alg, password, encoded);
                }
                Ok(Verdict { valid, must_update })
            }
            Err(HasherError::PasswordTooLong) => Err(HasherError::PasswordTooLong),
            Err(_) => {
                // Django raises here (or returns False). Spend the usual time anyway.
                self.fake_runtime();
                Ok(Verdict::INVALID)
            }
        }
    }

    /// `preferred.must_update(encoded)`, where `encoded` is of the preferred algorithm.
    fn must_update_same(&self, alg: Algorithm, encoded: &str) -> Result<bool, HasherError> {
        match alg {
            Algorithm::Pbkdf2Sha256 => {
                pbkdf2_hasher::must_update(Prf::Sha256, encoded, self.pbkdf2_iterations)
            }
            Algorithm::Pbkdf2Sha1 => {
                pbkdf2_hasher::must_update(Prf::Sha1, encoded, self.pbkdf2_iterations)
            }
            Algorithm::Argon2 => argon2_hasher::must_update(encoded),
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
                bcrypt_hasher::must_update(bcrypt_flavor(alg), encoded)
            }
            Algorithm::Scrypt => scrypt_hasher::must_update(encoded),
            Algorithm::Md5 => md5_hasher::must_update(encoded),
        }
    }

    /// `hasher.verify(password, encoded)`.
    fn verify_with(
        &self,
        alg: Algorithm,
        password: &str,
        encoded: &str,
    ) -> Result<bool, HasherError> {
        let max_iterations = limits::PBKDF2_MAX_ITERATIONS.max(self.pbkdf2_iterations);
        match alg {
            Algorithm::Pbkdf2Sha256 => {
                pbkdf2_hasher::verify(Prf::Sha256, password, encoded, max_iterations)
            }
            Algorithm::Pbkdf2Sha1 => {
                pbkdf2_hasher::verify(Prf::Sha1, password, encoded, max_iterations)
            }
            Algorithm::Argon2 => argon2_hasher::verify(password, encoded),
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
                bcrypt_hasher::verify(bcrypt_flavor(alg), password, encoded)
            }
            Algorithm::Scrypt => scrypt_hasher::verify(password, encoded),
            Algorithm::Md5 => md5_hasher::verify(password, encoded),
        }
    }

    /// `hasher.harden_runtime(password, encoded)` (a no-op for argon2, scrypt and md5).
    fn harden_runtime(&self, alg: Algorithm, password: &str, encoded: &str) {
        match alg {
            Algorithm::Pbkdf2Sha256 => pbkdf2_hasher::harden_runtime(
                Prf::Sha256,
                password,
                encoded,
                self.pbkdf2_iterations,
            ),
            Algorithm::Pbkdf2Sha1 => {
                pbkdf2_hasher::harden_runtime(Prf::Sha1, password, encoded, self.pbkdf2_iterations)
            }
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => {
                bcrypt_hasher::harden_runtime(bcrypt_flavor(alg), password, encoded)
            }
            Algorithm::Argon2 | Algorithm::Scrypt | Algorithm::Md5 => {}
        }
    }

    /// `make_password(get_random_string(40))` with the preferred hasher, result discarded.
    fn fake_runtime(&self) {
        let mut rng = rand::rng();
        let password = util::random_string(&mut rng, util::UNUSABLE_SUFFIX_LEN);
        std::hint::black_box(self.try_make_password(&password, &mut rng).ok());
    }
}

fn bcrypt_flavor(alg: Algorithm) -> Flavor {
    if alg == Algorithm::Bcrypt {
        Flavor::Plain
    } else {
        Flavor::Sha256
    }
}

fn truncate_at_char_boundary(s: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Django's `make_password(None)` (`set_unusable_password`): `"!"` followed by 40
/// random characters of `[a-zA-Z0-9]`. Such a value never verifies.
pub fn make_unusable_password<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut s = String::with_capacity(1 + util::UNUSABLE_SUFFIX_LEN);
    s.push_str(UNUSABLE_PASSWORD_PREFIX);
    s.push_str(&util::random_string(rng, util::UNUSABLE_SUFFIX_LEN));
    s
}

/// Django's `is_password_usable(encoded)`: false only for values starting with `"!"`.
/// (An empty string is "usable" by this definition, yet never verifies.)
pub fn is_password_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PASSWORD_PREFIX)
}
