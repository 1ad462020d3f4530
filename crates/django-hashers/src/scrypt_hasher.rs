//! `ScryptPasswordHasher` (`scrypt`).
//!
//! Format: `scrypt$<N>$<salt>$<r>$<p>$<std-base64(64-byte dk)>`. Django 5.2 uses
//! N = 2¹⁴, r = 8, p = 5 (p was 1 before 5.1) and calls `hashlib.scrypt(..., maxmem=0,
//! dklen=64)`, whose parameter checks (OpenSSL's) are reproduced here.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::limits::{SCRYPT_MAX_MEMORY_BYTES, SCRYPT_MAX_WORK};
use crate::util::{check_salt, ct_eq, parse_canonical_u32, parse_canonical_u64};
use crate::HasherError;

/// Django 5.2's `work_factor`, `block_size` and `parallelism`.
pub(crate) const WORK_FACTOR: u64 = 1 << 14;
pub(crate) const BLOCK_SIZE: u32 = 8;
pub(crate) const PARALLELISM: u32 = 5;
const DKLEN: usize = 64;

/// Django's `decode()`: `encoded.split("$", 6)` unpacked into exactly six fields.
pub(crate) struct Decoded<'a> {
    n: u64,
    salt: &'a str,
    r: u32,
    p: u32,
}

pub(crate) fn decode(encoded: &str) -> Result<Decoded<'_>, HasherError> {
    let mut parts = encoded.split('$');
    let (Some(algorithm), Some(n), Some(salt), Some(r), Some(p), Some(_hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(HasherError::Malformed);
    };
    if algorithm != "scrypt" || salt.is_empty() {
        return Err(HasherError::Malformed);
    }
    // A zero would make Django substitute its default and re-encode a different string.
    let n = parse_canonical_u64(n)
        .filter(|&n| n > 0)
        .ok_or(HasherError::Malformed)?;
    let r = parse_canonical_u32(r)
        .filter(|&r| r > 0)
        .ok_or(HasherError::Malformed)?;
    let p = parse_canonical_u32(p)
        .filter(|&p| p > 0)
        .ok_or(HasherError::Malformed)?;
    Ok(Decoded { n, salt, r, p })
}

/// `hashlib.scrypt`'s (OpenSSL's) parameter checks, then this crate's work cap.
/// Returns log2(N).
fn check_params(n: u64, r: u32, p: u32) -> Result<u8, HasherError> {
    // Python: n must be a power of 2 greater than 1.
    if n < 2 || !n.is_power_of_two() {
        return Err(HasherError::Malformed);
    }
    let (n128, r, p) = (u128::from(n), u128::from(r), u128::from(p));
    // OpenSSL: p * r < 2^30, N < 2^(16 r), 128 r p ≤ INT_MAX, and
    // 128 r p + 128 r (N + 2) ≤ maxmem (32 MiB by default).
    if p * r > (1 << 30) - 1 {
        return Err(HasherError::Malformed);
    }
    let log_n = n.trailing_zeros();
    if u128::from(log_n) >= 16 * r {
        return Err(HasherError::Malformed);
    }
    let b_len = 128 * r * p;
    let v_len = 128 * r * (n128 + 2);
    if b_len > i32::MAX as u128 || b_len + v_len > u128::from(SCRYPT_MAX_MEMORY_BYTES) {
        return Err(HasherError::Malformed);
    }
    if n128 * r * p > u128::from(SCRYPT_MAX_WORK) {
        return Err(HasherError::CostTooHigh);
    }
    u8::try_from(log_n).map_err(|_| HasherError::Malformed)
}

/// Django's `encode(password, salt, n, r, p)`.
pub(crate) fn encode_with(
    password: &str,
    salt: &str,
    n: u64,
    r: u32,
    p: u32,
) -> Result<String, HasherError> {
    check_salt(salt)?;
    let log_n = check_params(n, r, p)?;
    let params = scrypt::Params::new(log_n, r, p, DKLEN).map_err(|_| HasherError::Malformed)?;
    let mut dk = Zeroizing::new([0u8; DKLEN]);
    scrypt::scrypt(
        password.as_bytes(),
        salt.as_bytes(),
        &params,
        dk.as_mut_slice(),
    )
    .map_err(|_| HasherError::Malformed)?;
    Ok(format!(
        "scrypt${n}${salt}${r}${p}${}",
        STANDARD.encode(dk.as_slice())
    ))
}

/// Django's `encode(password, salt)` with the current parameters.
pub(crate) fn encode(password: &str, salt: &str) -> Result<String, HasherError> {
    encode_with(password, salt, WORK_FACTOR, BLOCK_SIZE, PARALLELISM)
}

/// Django's `verify()`: re-encode with the stored parameters, compare the strings.
pub(crate) fn verify(password: &str, encoded: &str) -> Result<bool, HasherError> {
    let d = decode(encoded)?;
    let encoded_2 = encode_with(password, d.salt, d.n, d.r, d.p)?;
    Ok(ct_eq(encoded.as_bytes(), encoded_2.as_bytes()))
}

/// Django's `must_update()`: N, r or p differ from the current ones (the salt is not checked).
pub(crate) fn must_update(encoded: &str) -> Result<bool, HasherError> {
    let d = decode(encoded)?;
    Ok(d.n != WORK_FACTOR || d.r != BLOCK_SIZE || d.p != PARALLELISM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_parameter_checks() {
        // Django 5.2's parameters and 4.x's p=1 fit OpenSSL's default 32 MiB.
        assert_eq!(check_params(1 << 14, 8, 5), Ok(14));
        assert_eq!(check_params(1 << 14, 8, 1), Ok(14));
        // 128·r·(N+2) + 128·r·p above 32 MiB: hashlib raises ValueError.
        assert_eq!(check_params(1 << 15, 8, 1), Err(HasherError::Malformed));
        assert_eq!(check_params(1 << 14, 16, 1), Err(HasherError::Malformed));
        assert_eq!(check_params(1 << 16, 2, 1), Ok(16));
        assert_eq!(check_params(1 << 17, 2, 1), Err(HasherError::Malformed));
        // N must be a power of two above 1; N < 2^(16·r).
        assert_eq!(check_params(1, 8, 1), Err(HasherError::Malformed));
        assert_eq!(check_params(3, 8, 1), Err(HasherError::Malformed));
        assert_eq!(check_params(2, 1, 1), Ok(1));
        assert_eq!(check_params(1 << 15, 1, 1), Ok(15));
        assert_eq!(check_params(1 << 16, 1, 1), Err(HasherError::Malformed));
        // p·r < 2^30.
        assert_eq!(check_params(2, 1, 1 << 30), Err(HasherError::Malformed));
        // Within OpenSSL's limits but above this crate's work cap.
        assert_eq!(
            check_params(1 << 10, 8, 1025),
            Err(HasherError::CostTooHigh)
        );
        assert_eq!(check_params(1 << 10, 8, 1024), Ok(10));
    }
}
