//! Small helpers shared by the hashers.

use rand::distr::{Alphanumeric, Distribution};
use subtle::ConstantTimeEq;

/// Length of Django's `BasePasswordHasher.salt()`: `get_random_string(22)`, ≥ 128 bits.
pub(crate) const SALT_LEN: usize = 22;

/// Length of the random suffix of an unusable password (`UNUSABLE_PASSWORD_SUFFIX_LENGTH`).
pub(crate) const UNUSABLE_SUFFIX_LEN: usize = 40;

/// `get_random_string(len)` over Django's `RANDOM_STRING_CHARS` (`[a-zA-Z0-9]`, uniform).
pub(crate) fn random_string<R: rand::CryptoRng + ?Sized>(rng: &mut R, len: usize) -> String {
    (0..len)
        .map(|_| char::from(Alphanumeric.sample(rng)))
        .collect()
}

/// Django's `must_update_salt(salt, 128)`: `len(salt) * log2(62) < 128`, i.e. fewer than
/// 22 characters (128 / log2(62) ≈ 21.5). `len` counts characters, as Python's `len(str)`.
pub(crate) fn salt_too_short(salt_chars: usize) -> bool {
    salt_chars < SALT_LEN
}

/// Constant-time equality (`hmac.compare_digest`). Lengths are not secret.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Parses a decimal integer written the way Python's `"%d"` writes it: ASCII digits only,
/// no sign, no leading zero (except `"0"` itself), no whitespace or underscores.
///
/// Django re-encodes the parsed numbers with `%d` and compares the whole string, so a
/// number written any other way can never verify; rejecting it up front gives the same
/// verdict without doing the (possibly huge) work.
pub(crate) fn parse_canonical_u64(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    s.parse().ok()
}

/// [`parse_canonical_u64`] restricted to `u32`.
pub(crate) fn parse_canonical_u32(s: &str) -> Option<u32> {
    parse_canonical_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Checks the salt the way Django's `_check_encode_args` does.
pub(crate) fn check_salt(salt: &str) -> Result<(), crate::HasherError> {
    if salt.is_empty() {
        return Err(crate::HasherError::InvalidSalt("salt must be provided"));
    }
    if salt.contains('$') {
        return Err(crate::HasherError::InvalidSalt("salt cannot contain $"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_decimals() {
        assert_eq!(parse_canonical_u64("0"), Some(0));
        assert_eq!(parse_canonical_u64("1000000"), Some(1_000_000));
        assert_eq!(parse_canonical_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1_000",
            "١",
            "18446744073709551616",
            "123456789012345678901",
        ] {
            assert_eq!(parse_canonical_u64(bad), None, "{bad:?}");
        }
        assert_eq!(parse_canonical_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_canonical_u32("4294967296"), None);
    }

    #[test]
    fn salt_entropy_threshold() {
        // len(salt) * log2(62) < 128
        for len in 0..40usize {
            let python = (len as f64) * 62f64.log2() < 128.0;
            assert_eq!(salt_too_short(len), python, "{len}");
        }
    }

    #[test]
    fn random_strings() {
        let mut rng = rand::rng();
        let s = random_string(&mut rng, SALT_LEN);
        assert_eq!(s.len(), 22);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
