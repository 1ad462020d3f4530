//! Django's `django.core.signing` as allauth's HMAC confirmation keys use it:
//! `dumps(obj, salt)` = `b64(json(obj)) ":" b62(unix seconds) ":" b64(salted_hmac(salt + "signer",
//! value, SECRET_KEY))` (unpadded URL-safe base64), and `loads(key, salt, max_age)`, which accepts
//! the current key or any fallback and refuses a signature older than `max_age`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::{salted_hmac, same, SecretKeys};

/// allauth's `ACCOUNT_SALT` (the confirmation key's salt).
pub const ACCOUNT_SALT: &str = "account";

/// Why a signed value is refused (Django's `BadSignature` and `SignatureExpired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("bad signature")]
    BadSignature,
    #[error("signature expired")]
    Expired,
    /// Signed, but not JSON we can read (or compressed, which allauth never does).
    #[error("bad payload")]
    BadPayload,
}

/// Keys longer than this are refused before any work (a key is ~30 characters).
const MAX_SIGNED_LEN: usize = 1024;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `b62_encode`.
fn b62_encode(n: i64) -> String {
    if n == 0 {
        return "0".into();
    }
    let (sign, mut m) = if n < 0 {
        ("-", n.unsigned_abs())
    } else {
        ("", n.unsigned_abs())
    };
    let mut out = Vec::new();
    while m > 0 {
        out.push(BASE62[(m % 62) as usize]);
        m /= 62;
    }
    out.reverse();
    format!("{sign}{}", String::from_utf8(out).unwrap_or_default())
}

/// `b62_decode`; `None` for a character outside the alphabet (Django raises `ValueError`).
fn b62_decode(s: &str) -> Option<i128> {
    if s == "0" {
        return Some(0);
    }
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s),
    };
    let mut value: i128 = 0;
    for b in digits.bytes() {
        let d = BASE62.iter().position(|c| *c == b)?;
        value = value.checked_mul(62)?.checked_add(d as i128)?;
    }
    Some(sign * value)
}

fn signature(salt: &str, value: &str, key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(salted_hmac(&format!("{salt}signer"), value.as_bytes(), key))
}

/// `signing.dumps(obj, salt=salt)` at `now` (Unix seconds), signed with the current key. The JSON
/// is Python's compact form (`separators=(",", ":")`); for the integers allauth signs the two agree.
pub fn dumps(obj: &Value, salt: &str, keys: &SecretKeys, now: i64) -> String {
    let json = serde_json::to_string(obj).unwrap_or_default();
    let value = format!("{}:{}", URL_SAFE_NO_PAD.encode(json), b62_encode(now));
    let sig = signature(salt, &value, keys.current());
    format!("{value}:{sig}")
}

/// `signing.loads(signed, salt=salt, max_age=max_age)` at `now` (Unix seconds, with their
/// fraction: Django compares `time.time() - timestamp > max_age`).
pub fn loads(
    signed: &str,
    salt: &str,
    keys: &SecretKeys,
    max_age: Option<i64>,
    now: f64,
) -> Result<Value, SigningError> {
    if signed.len() > MAX_SIGNED_LEN {
        return Err(SigningError::BadSignature);
    }
    let (value, sig) = signed.rsplit_once(':').ok_or(SigningError::BadSignature)?;
    if !keys
        .all()
        .any(|key| same(sig.as_bytes(), signature(salt, value, key).as_bytes()))
    {
        return Err(SigningError::BadSignature);
    }
    let (payload, timestamp) = value.rsplit_once(':').ok_or(SigningError::BadSignature)?;
    let timestamp = b62_decode(timestamp).ok_or(SigningError::BadSignature)?;
    if let Some(max_age) = max_age {
        if now - timestamp as f64 > max_age as f64 {
            return Err(SigningError::Expired);
        }
    }
    if payload.starts_with('.') {
        // zlib-compressed (`dumps(compress=True)`): never what allauth signs.
        return Err(SigningError::BadPayload);
    }
    // Django's b64_decode pads and accepts both alphabets' URL-safe form only.
    let data = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| SigningError::BadPayload)?;
    serde_json::from_slice(&data).map_err(|_| SigningError::BadPayload)
}

/// allauth's `EmailConfirmationHMAC.key`: the email address row's id, signed with salt `account`.
pub fn confirmation_key(email_address_id: i64, keys: &SecretKeys, now: i64) -> String {
    dumps(&Value::from(email_address_id), ACCOUNT_SALT, keys, now)
}

/// allauth's `EmailConfirmationHMAC.from_key` up to the row lookup: the email address row's id,
/// if `key` is ours (any key), younger than `max_age` seconds and holds an id.
pub fn read_confirmation_key(
    key: &str,
    keys: &SecretKeys,
    max_age: i64,
    now: f64,
) -> Result<i64, SigningError> {
    match loads(key, ACCOUNT_SALT, keys, Some(max_age), now)? {
        Value::Number(n) => n.as_i64().ok_or(SigningError::BadPayload),
        // `EmailAddress.objects.get(pk="12")` finds row 12 in Django.
        Value::String(s) => s.trim().parse().map_err(|_| SigningError::BadPayload),
        _ => Err(SigningError::BadPayload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62() {
        for n in [0i64, 1, 61, 62, 1_764_500_000, -5] {
            assert_eq!(b62_decode(&b62_encode(n)), Some(i128::from(n)));
        }
        assert_eq!(b62_encode(62), "10");
        assert_eq!(b62_decode("z"), Some(61));
        assert_eq!(b62_decode("a-b"), None);
        assert_eq!(b62_decode("+1"), None);
    }
}
