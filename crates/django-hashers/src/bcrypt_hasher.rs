//! `BCryptSHA256PasswordHasher` (`bcrypt_sha256`) and `BCryptPasswordHasher` (`bcrypt`).
//!
//! Format: `<algorithm>$` + the modular-crypt string pyca/bcrypt's `hashpw` returns,
//! `$2b$12$<22-char salt><31-char hash>` (bcrypt's own base64 alphabet). `bcrypt_sha256`
//! feeds bcrypt the 64 lowercase hex digits of SHA-256(password) instead of the password.
//!
//! Verification is Django's: `hashpw(password, data)` re-encodes with the stored version,
//! cost and salt, and the whole string is compared. `hashpw` here follows pyca/bcrypt 5.0
//! (which itself runs Keats' `bcrypt` crate, used here too): it refuses passwords longer
//! than 72 bytes, parses the salt leniently (empty `$` fields skipped, any of 2a/2b/2x/2y),
//! and NUL-terminates passwords shorter than 72 bytes.

use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::limits::BCRYPT_MAX_COST;
use crate::util::{ct_eq, parse_canonical_u32};
use crate::HasherError;

/// Django 5.2's `rounds`.
pub(crate) const ROUNDS: u32 = 12;
/// bcrypt's input limit; pyca/bcrypt 5.0 raises `ValueError` above it.
pub(crate) const MAX_PASSWORD_BYTES: usize = 72;

const BASE64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// Which of the two Django hashers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Sha256,
    Plain,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::Sha256 => "bcrypt_sha256",
            Flavor::Plain => "bcrypt",
        }
    }
}

/// A parsed bcrypt salt (`$<version>$<cost>$<22 chars>`).
struct Salt {
    version: &'static str,
    cost: u32,
    salt: [u8; 16],
}

/// pyca/bcrypt `hashpw`'s salt parsing.
fn parse_salt(salt: &[u8]) -> Result<Salt, HasherError> {
    let mut fields = salt.split(|&b| b == b'$').filter(|f| !f.is_empty());
    let (Some(version), Some(cost), Some(rest), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(HasherError::InvalidSalt("not a bcrypt salt"));
    };
    let version = match version {
        b"2y" => "2y",
        b"2b" => "2b",
        b"2a" => "2a",
        b"2x" => "2x",
        _ => return Err(HasherError::InvalidSalt("unknown bcrypt version")),
    };
    let cost = std::str::from_utf8(cost)
        .ok()
        .and_then(|c| c.parse::<u32>().ok())
        .ok_or(HasherError::InvalidSalt("bad bcrypt cost"))?;
    let encoded_salt = rest
        .get(..22)
        .ok_or(HasherError::InvalidSalt("bcrypt salt too short"))?;
    let mut raw = [0u8; 16];
    match BASE64.decode_slice(encoded_salt, &mut raw) {
        Ok(16) => {}
        _ => return Err(HasherError::InvalidSalt("bad bcrypt salt encoding")),
    }
    Ok(Salt {
        version,
        cost,
        salt: raw,
    })
}

/// pyca/bcrypt 5.0 `hashpw(password, salt)`.
fn hashpw(password: &[u8], salt: &[u8]) -> Result<String, HasherError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(HasherError::PasswordTooLong);
    }
    let s = parse_salt(salt)?;
    if !(4..=31).contains(&s.cost) {
        return Err(HasherError::InvalidSalt("bcrypt cost must be 4..=31"));
    }
    if s.cost > BCRYPT_MAX_COST {
        return Err(HasherError::CostTooHigh);
    }
    // NUL-terminated, truncated to 72 bytes (so a 72-byte password loses its terminator).
    let mut buf = Zeroizing::new([0u8; MAX_PASSWORD_BYTES]);
    buf[..password.len()].copy_from_slice(password);
    let used = (password.len() + 1).min(MAX_PASSWORD_BYTES);
    let out = Zeroizing::new(bcrypt::bcrypt(s.cost, s.salt, &buf[..used]));
    Ok(format!(
        "${}${:02}${}{}",
        s.version,
        s.cost,
        BASE64.encode(s.salt),
        BASE64.encode(&out[..23])
    ))
}

/// The bytes given to bcrypt: the password, or hex(SHA-256(password)) for `bcrypt_sha256`.
fn prepare(flavor: Flavor, password: &str) -> Zeroizing<Vec<u8>> {
    match flavor {
        Flavor::Plain => Zeroizing::new(password.as_bytes().to_vec()),
        Flavor::Sha256 => {
            let digest: Zeroizing<[u8; 32]> =
                Zeroizing::new(Sha256::digest(password.as_bytes()).into());
            // `into_bytes` reuses the String's buffer, so no unzeroized copy is left.
            Zeroizing::new(hex::encode(digest.as_slice()).into_bytes())
        }
    }
}

/// Django's `encode(password, salt)`, `salt` being a bcrypt salt such as
/// `$2b$12$pHODSxCMs7Cofp4eU4.7O.` (what `bcrypt.gensalt(12)` returns).
pub(crate) fn encode(flavor: Flavor, password: &str, salt: &str) -> Result<String, HasherError> {
    let input = prepare(flavor, password);
    let data = hashpw(&input, salt.as_bytes())?;
    Ok(format!("{}${}", flavor.name(), data))
}

/// A fresh `bcrypt.gensalt(12)`: `$2b$12$` + 22 characters for 16 random bytes.
pub(crate) fn gensalt<R: rand::CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut raw = [0u8; 16];
    rng.fill_bytes(&mut raw);
    format!("$2b${ROUNDS:02}${}", BASE64.encode(raw))
}

/// Django's `verify()`: `encode(password, data)` compared with the stored string.
pub(crate) fn verify(flavor: Flavor, password: &str, encoded: &str) -> Result<bool, HasherError> {
    let input = prepare(flavor, password);
    if input.len() > MAX_PASSWORD_BYTES {
        return Err(HasherError::PasswordTooLong);
    }
    let data = encoded
        .strip_prefix(flavor.name())
        .and_then(|rest| rest.strip_prefix('$'))
        .ok_or(HasherError::Malformed)?;
    if !data.is_ascii() {
        return Err(HasherError::Malformed);
    }
    let recomputed = hashpw(&input, data.as_bytes()).map_err(|e| match e {
        HasherError::InvalidSalt(_) => HasherError::Malformed,
        other => other,
    })?;
    let encoded_2 = format!("{}${}", flavor.name(), recomputed);
    Ok(ct_eq(encoded.as_bytes(), encoded_2.as_bytes()))
}

/// Django's `decode()["work_factor"]`: `encoded.split("$", 4)` into five fields.
fn work_factor(flavor: Flavor, encoded: &str) -> Result<u32, HasherError> {
    let mut parts = encoded.splitn(5, '$');
    let (Some(algorithm), Some(_empty), Some(_algostr), Some(work_factor), Some(_data)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(HasherError::Malformed);
    };
    if algorithm != flavor.name() {
        return Err(HasherError::Malformed);
    }
    // Django formats the cost with "%02d"; int() accepts the leading zero of "04".."09".
    let digits = match work_factor.as_bytes() {
        [b'0', d] if d.is_ascii_digit() => &work_factor[1..],
        _ => work_factor,
    };
    parse_canonical_u32(digits).ok_or(HasherError::Malformed)
}

/// Django's `must_update()`: the cost differs from 12.
pub(crate) fn must_update(flavor: Flavor, encoded: &str) -> Result<bool, HasherError> {
    Ok(work_factor(flavor, encoded)? != ROUNDS)
}

/// Django's `harden_runtime()`: `2**(12 - cost) - 1` extra hashes at the stored cost.
pub(crate) fn harden_runtime(flavor: Flavor, password: &str, encoded: &str) {
    let Ok(cost) = work_factor(flavor, encoded) else {
        return;
    };
    let Some(data) = encoded.split_once('$').map(|(_, data)| data) else {
        return;
    };
    if cost >= ROUNDS || !(4..=31).contains(&cost) {
        return;
    }
    let Some(salt) = data.get(..29) else {
        return;
    };
    let input = prepare(flavor, password);
    let extra = (1u32 << (ROUNDS - cost)) - 1;
    for _ in 0..extra {
        std::hint::black_box(hashpw(&input, salt.as_bytes()).ok());
    }
}
