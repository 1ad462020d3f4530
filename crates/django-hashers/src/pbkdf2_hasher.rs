//! `PBKDF2PasswordHasher` (`pbkdf2_sha256`) and `PBKDF2SHA1PasswordHasher` (`pbkdf2_sha1`).
//!
//! Format: `<algorithm>$<iterations>$<salt>$<std-base64(dk)>`, where `dk` is
//! PBKDF2-HMAC-SHA256 (32 bytes) or PBKDF2-HMAC-SHA1 (20 bytes) of the UTF-8 password with
//! the salt string's UTF-8 bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::util::{check_salt, ct_eq, parse_canonical_u32, salt_too_short};
use crate::HasherError;

/// Which PRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prf {
    Sha256,
    Sha1,
}

impl Prf {
    fn name(self) -> &'static str {
        match self {
            Prf::Sha256 => "pbkdf2_sha256",
            Prf::Sha1 => "pbkdf2_sha1",
        }
    }
}

/// Django's `decode()`: `encoded.split("$", 3)`, `int(iterations)`.
pub(crate) struct Decoded<'a> {
    pub(crate) iterations: u32,
    pub(crate) salt: &'a str,
}

pub(crate) fn decode(prf: Prf, encoded: &str) -> Result<Decoded<'_>, HasherError> {
    let mut parts = encoded.splitn(4, '$');
    let (Some(algorithm), Some(iterations), Some(salt), Some(_hash)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HasherError::Malformed);
    };
    if algorithm != prf.name() {
        return Err(HasherError::Malformed);
    }
    // 0 would make Django use its default count and re-encode a different string.
    let iterations = parse_canonical_u32(iterations)
        .filter(|&n| n > 0)
        .ok_or(HasherError::Malformed)?;
    if salt.is_empty() {
        return Err(HasherError::Malformed);
    }
    Ok(Decoded { iterations, salt })
}

fn derive(prf: Prf, password: &str, salt: &str, iterations: u32) -> Zeroizing<Vec<u8>> {
    let (pw, salt) = (password.as_bytes(), salt.as_bytes());
    match prf {
        Prf::Sha256 => {
            let mut dk = Zeroizing::new(vec![0u8; 32]);
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw, salt, iterations, &mut dk);
            dk
        }
        Prf::Sha1 => {
            let mut dk = Zeroizing::new(vec![0u8; 20]);
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(pw, salt, iterations, &mut dk);
            dk
        }
    }
}

/// Django's `encode(password, salt, iterations)`.
pub(crate) fn encode(
    prf: Prf,
    password: &str,
    salt: &str,
    iterations: u32,
) -> Result<String, HasherError> {
    check_salt(salt)?;
    let iterations = iterations.max(1);
    let dk = derive(prf, password, salt, iterations);
    Ok(format!(
        "{}${}${}${}",
        prf.name(),
        iterations,
        salt,
        STANDARD.encode(dk.as_slice())
    ))
}

/// Django's `verify()`: re-encode with the stored salt and iterations, compare the strings.
pub(crate) fn verify(
    prf: Prf,
    password: &str,
    encoded: &str,
    max_iterations: u32,
) -> Result<bool, HasherError> {
    let decoded = decode(prf, encoded)?;
    if decoded.iterations > max_iterations {
        return Err(HasherError::CostTooHigh);
    }
    let encoded_2 = encode(prf, password, decoded.salt, decoded.iterations)?;
    Ok(ct_eq(encoded.as_bytes(), encoded_2.as_bytes()))
}

/// Django's `must_update()`: iterations differ from the current count, or the salt is short.
pub(crate) fn must_update(
    prf: Prf,
    encoded: &str,
    current_iterations: u32,
) -> Result<bool, HasherError> {
    let decoded = decode(prf, encoded)?;
    Ok(decoded.iterations != current_iterations || salt_too_short(decoded.salt.chars().count()))
}

/// Django's `harden_runtime()`: run the iterations the stored hash is missing.
pub(crate) fn harden_runtime(prf: Prf, password: &str, encoded: &str, current_iterations: u32) {
    if let Ok(decoded) = decode(prf, encoded) {
        let extra = current_iterations.saturating_sub(decoded.iterations);
        if extra > 0 {
            std::hint::black_box(derive(prf, password, decoded.salt, extra));
        }
    }
}
