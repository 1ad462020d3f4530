//! `MD5PasswordHasher` (`md5`): `md5$<salt>$<hex(md5(salt + password))>`.

use md5::{Digest as _, Md5};

use crate::util::{check_salt, ct_eq, salt_too_short};
use crate::HasherError;

/// Django's `decode()`: `encoded.split("$", 2)`; returns the salt.
fn decode(encoded: &str) -> Result<&str, HasherError> {
    let mut parts = encoded.splitn(3, '$');
    let (Some("md5"), Some(salt), Some(_hash)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(HasherError::Malformed);
    };
    if salt.is_empty() {
        return Err(HasherError::Malformed);
    }
    Ok(salt)
}

/// Django's `encode(password, salt)`.
pub(crate) fn encode(password: &str, salt: &str) -> Result<String, HasherError> {
    check_salt(salt)?;
    let mut h = Md5::new();
    h.update(salt.as_bytes());
    h.update(password.as_bytes());
    Ok(format!("md5${salt}${}", hex::encode(h.finalize())))
}

/// Django's `verify()`.
pub(crate) fn verify(password: &str, encoded: &str) -> Result<bool, HasherError> {
    let salt = decode(encoded)?;
    let encoded_2 = encode(password, salt)?;
    Ok(ct_eq(encoded.as_bytes(), encoded_2.as_bytes()))
}

/// Django's `must_update()`: the salt is shorter than 22 characters.
pub(crate) fn must_update(encoded: &str) -> Result<bool, HasherError> {
    Ok(salt_too_short(decode(encoded)?.chars().count()))
}
