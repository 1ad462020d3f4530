//! `Argon2PasswordHasher` (`argon2`).
//!
//! Format: `argon2` + the PHC string argon2-cffi produces,
//! `$argon2id$v=19$m=102400,t=2,p=8$<b64(salt)>$<b64(hash)>` (standard alphabet, no
//! padding). Django verifies with `argon2.PasswordHasher().verify("$" + rest, password)`,
//! i.e. libargon2's `argon2_verify`; the parser below follows libargon2's `decode_string`
//! (optional `$v=`, defaulting to version 0x10; minimal decimals; strict base64; nothing
//! after the hash) and its `validate_inputs`.

use ::argon2::{Algorithm as Variant, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::limits::{
    ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_PARALLELISM, ARGON2_MAX_TIME_COST, ARGON2_MAX_WORK_KIB,
};
use crate::util::{ct_eq, salt_too_short};
use crate::HasherError;

/// Django 5.2's `Argon2PasswordHasher` parameters.
pub(crate) const TIME_COST: u32 = 2;
pub(crate) const MEMORY_COST_KIB: u32 = 102_400;
pub(crate) const PARALLELISM: u32 = 8;
pub(crate) const HASH_LEN: usize = 32;

/// libargon2's minimum salt length.
const MIN_SALT_LEN: usize = 8;
/// libargon2's minimum output length.
const MIN_OUTPUT_LEN: usize = 4;

/// A decoded PHC string.
pub(crate) struct Decoded {
    variant: Variant,
    version: u32,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::Argon2d => "argon2d",
        Variant::Argon2i => "argon2i",
        Variant::Argon2id => "argon2id",
    }
}

/// A tiny cursor over the PHC string, mirroring libargon2's `CC`/`DECIMAL_U32`/`BIN` macros.
struct Cursor<'a>(&'a str);

impl<'a> Cursor<'a> {
    fn eat(&mut self, prefix: &str) -> Result<(), HasherError> {
        self.0 = self.0.strip_prefix(prefix).ok_or(HasherError::Malformed)?;
        Ok(())
    }

    fn eat_opt(&mut self, prefix: &str) -> bool {
        match self.0.strip_prefix(prefix) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// `decode_decimal` + the `UINT32_MAX` check: at least one digit, no leading zero.
    fn decimal_u32(&mut self) -> Result<u32, HasherError> {
        let end = self
            .0
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.0.len());
        let (digits, rest) = self.0.split_at(end);
        let value = crate::util::parse_canonical_u32(digits).ok_or(HasherError::Malformed)?;
        self.0 = rest;
        Ok(value)
    }

    /// `from_base64`: the longest run of standard base64 characters, decoded strictly
    /// (no padding, a length ≢ 1 mod 4, zero trailing bits).
    fn base64(&mut self) -> Result<Vec<u8>, HasherError> {
        let end = self
            .0
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
            .unwrap_or(self.0.len());
        let (b64, rest) = self.0.split_at(end);
        let bytes = STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| HasherError::Malformed)?;
        self.0 = rest;
        Ok(bytes)
    }
}

/// Decodes the Django string (`argon2$argon2id$v=19$...`).
pub(crate) fn decode(encoded: &str) -> Result<Decoded, HasherError> {
    // Django: `algorithm, rest = encoded.split("$", 1)`, then verifies "$" + rest.
    let phc = encoded
        .strip_prefix("argon2")
        .filter(|rest| rest.starts_with('$'))
        .ok_or(HasherError::Malformed)?;
    // argon2-cffi encodes the hash as ASCII and picks the type from its first 9 bytes.
    if !phc.is_ascii() {
        return Err(HasherError::Malformed);
    }
    let variant = match phc.get(..9) {
        Some("$argon2i$") => Variant::Argon2i,
        Some("$argon2d$") => Variant::Argon2d,
        Some("$argon2id") => Variant::Argon2id,
        _ => return Err(HasherError::Malformed),
    };
    let mut cur = Cursor(phc);
    cur.eat("$")?;
    cur.eat(variant_name(variant))?;
    let version = if cur.eat_opt("$v=") {
        cur.decimal_u32()?
    } else {
        0x10
    };
    cur.eat("$m=")?;
    let m_cost = cur.decimal_u32()?;
    cur.eat(",t=")?;
    let t_cost = cur.decimal_u32()?;
    cur.eat(",p=")?;
    let p_cost = cur.decimal_u32()?;
    cur.eat("$")?;
    let salt = cur.base64()?;
    cur.eat("$")?;
    let hash = cur.base64()?;
    if !cur.0.is_empty() {
        return Err(HasherError::Malformed);
    }
    Ok(Decoded {
        variant,
        version,
        m_cost,
        t_cost,
        p_cost,
        salt,
        hash,
    })
}

fn hash_raw(
    variant: Variant,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
) -> Result<Zeroizing<Vec<u8>>, HasherError> {
    let out_len = params.output_len().ok_or(HasherError::Malformed)?;
    let mut out = Zeroizing::new(vec![0u8; out_len]);
    Argon2::new(variant, version, params)
        .hash_password_into(password, salt, &mut out)
        .map_err(|_| HasherError::Malformed)?;
    Ok(out)
}

fn params(m_cost: u32, t_cost: u32, p_cost: u32, out_len: usize) -> Result<Params, HasherError> {
    Params::new(m_cost, t_cost, p_cost, Some(out_len)).map_err(|_| HasherError::Malformed)
}

/// argon2-cffi's `verify` (libargon2 `argon2_verify`), with this crate's caps.
pub(crate) fn verify(password: &str, encoded: &str) -> Result<bool, HasherError> {
    let d = decode(encoded)?;
    // libargon2's validate_inputs (a failure is a VerificationError: Django returns False).
    if d.hash.len() < MIN_OUTPUT_LEN
        || d.salt.len() < MIN_SALT_LEN
        || d.t_cost < 1
        || d.p_cost < 1
        || d.p_cost > 0x00FF_FFFF
        || u64::from(d.m_cost) < 8 * u64::from(d.p_cost)
    {
        return Err(HasherError::Malformed);
    }
    let version = match d.version {
        0x10 => Version::V0x10,
        0x13 => Version::V0x13,
        _ => return Err(HasherError::Malformed),
    };
    if d.m_cost > ARGON2_MAX_MEMORY_KIB
        || d.t_cost > ARGON2_MAX_TIME_COST
        || u64::from(d.m_cost) * u64::from(d.t_cost) > ARGON2_MAX_WORK_KIB
        || d.p_cost > ARGON2_MAX_PARALLELISM
    {
        return Err(HasherError::CostTooHigh);
    }
    let params = params(d.m_cost, d.t_cost, d.p_cost, d.hash.len())?;
    let computed = hash_raw(d.variant, version, params, password.as_bytes(), &d.salt)?;
    Ok(ct_eq(&computed, &d.hash))
}

/// Django's `must_update()`: any parameter (type, version, m, t, p, hash length) differs
/// from the current ones, or the salt is shorter than 22 characters (bytes, as Django
/// decodes the salt as latin-1).
pub(crate) fn must_update(encoded: &str) -> Result<bool, HasherError> {
    let d = decode(encoded)?;
    let same = d.variant == Variant::Argon2id
        && d.version == 0x13
        && d.m_cost == MEMORY_COST_KIB
        && d.t_cost == TIME_COST
        && d.p_cost == PARALLELISM
        && d.hash.len() == HASH_LEN;
    Ok(!same || salt_too_short(d.salt.len()))
}

/// Django's `encode(password, salt)`: Argon2id v19, the salt string's UTF-8 bytes.
pub(crate) fn encode(password: &str, salt: &str) -> Result<String, HasherError> {
    if salt.len() < MIN_SALT_LEN {
        return Err(HasherError::InvalidSalt(
            "Argon2 needs a salt of at least 8 bytes",
        ));
    }
    let params = params(MEMORY_COST_KIB, TIME_COST, PARALLELISM, HASH_LEN)?;
    let hash = hash_raw(
        Variant::Argon2id,
        Version::V0x13,
        params,
        password.as_bytes(),
        salt.as_bytes(),
    )?;
    Ok(format!(
        "argon2$argon2id$v=19$m={MEMORY_COST_KIB},t={TIME_COST},p={PARALLELISM}${}${}",
        STANDARD_NO_PAD.encode(salt.as_bytes()),
        STANDARD_NO_PAD.encode(hash.as_slice()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_libargon2() {
        let d = decode("argon2$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ")
            .expect("valid");
        assert_eq!(d.variant, Variant::Argon2i);
        assert_eq!(d.version, 0x10);
        assert_eq!((d.m_cost, d.t_cost, d.p_cost), (65536, 2, 1));
        assert_eq!(d.salt, b"somesalt");
        assert_eq!(d.hash.len(), 32);
        let d = decode("argon2$argon2d$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA").expect("valid");
        assert_eq!(
            (d.variant, d.version, d.hash.as_slice()),
            (Variant::Argon2d, 19, &b"hash"[..])
        );
        for bad in [
            "argon2",
            "argon2$",
            "argon2$argon2$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA",
            "argon2$argon2id$v=19$m=08,t=1,p=1$c29tZXNhbHQ$aGFzaA",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA==",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaB",
            "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA$",
            "argon2$argon2id$v=19$m=8,p=1,t=1$c29tZXNhbHQ$aGFzaA",
            "argon2$argon2id$v=19$m=8,t=1,p=1,keyid=AA$c29tZXNhbHQ$aGFzaA",
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
