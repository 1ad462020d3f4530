//! The crate's error type.

/// Why a hasher operation failed.
///
/// [`crate::Hashers::check_password`] never returns these: every failure there is a
/// `valid: false` verdict. They come from configuration ([`crate::Algorithm::from_setting`],
/// [`crate::Hashers::new`]), from hashing with an explicit salt, and from the `try_*`
/// variants that surface the one error Django itself raises on a login path (a plain
/// `bcrypt` password longer than 72 bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HasherError {
    /// A `PASSWORD_HASHERS` entry that names no hasher this crate (or Django 5.2) provides.
    #[error("unknown password hasher {0:?}")]
    UnknownHasher(String),
    /// A hasher Django removed (`sha1`, `unsalted_sha1` and `unsalted_md5` in 5.1, `crypt` in 5.0).
    #[error("password hasher {0:?} was removed from Django and is not supported by Django 5.2")]
    RemovedHasher(String),
    /// `PASSWORD_HASHERS` must name at least one hasher.
    #[error("PASSWORD_HASHERS must not be empty")]
    EmptyHasherList,
    /// The same algorithm appears twice in the hasher list.
    #[error("password hasher {0:?} is listed more than once")]
    DuplicateHasher(&'static str),
    /// The salt cannot be used by this hasher (empty, contains `$`, too short for Argon2,
    /// or not a bcrypt salt).
    #[error("invalid salt: {0}")]
    InvalidSalt(&'static str),
    /// bcrypt 5.0 refuses passwords longer than 72 bytes (plain `bcrypt` hasher only;
    /// `bcrypt_sha256` pre-hashes and has no limit). Django lets this `ValueError` escape,
    /// which is an HTTP 500 on login.
    #[error(
        "password cannot be longer than 72 bytes, truncate manually if necessary (e.g. my_password[:72])"
    )]
    PasswordTooLong,
    /// The encoded password is not in the hasher's format.
    #[error("malformed encoded password")]
    Malformed,
    /// The encoded password's cost parameters are above this crate's caps (see [`crate::limits`]).
    #[error("encoded password's cost parameters exceed the configured limits")]
    CostTooHigh,
}
