//! Key derivation (HKDF-SHA-256, as `@panva/hkdf` does for Auth.js) and the
//! RFC 7638 JWK thumbprint Auth.js v5 puts in `kid`.

use crate::jwe::Enc;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// HKDF-SHA-256 with a UTF-8 salt and info, `len` bytes (at most 8160).
fn hkdf_sha256(secret: &[u8], salt: &str, info: &str, len: usize) -> Zeroizing<Vec<u8>> {
    let mut okm = Zeroizing::new(vec![0u8; len]);
    let hk = Hkdf::<Sha256>::new(Some(salt.as_bytes()), secret);
    // Only lengths over 255 * 32 bytes fail; callers pass 32 or 64.
    if hk.expand(info.as_bytes(), &mut okm).is_err() {
        okm.clear();
    }
    okm
}

/// The Auth.js v5 session key: HKDF-SHA-256(ikm = `secret`, salt = `salt`
/// (the session cookie name), info = `Auth.js Generated Encryption Key (<salt>)`),
/// 64 bytes for A256CBC-HS512 and 32 for A256GCM.
pub fn derive_v5_key(secret: &[u8], salt: &str, enc: Enc) -> Zeroizing<Vec<u8>> {
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    hkdf_sha256(secret, salt, &info, enc.key_len())
}

/// The next-auth v4 session key: HKDF-SHA-256(ikm = `secret`, salt = "",
/// info = `NextAuth.js Generated Encryption Key`), 32 bytes (A256GCM).
pub fn derive_v4_key(secret: &[u8]) -> Zeroizing<Vec<u8>> {
    hkdf_sha256(secret, "", "NextAuth.js Generated Encryption Key", 32)
}

/// RFC 7638 thumbprint of the symmetric JWK `{"k":"<b64url(key)>","kty":"oct"}`,
/// base64url without padding — the `kid` Auth.js v5 writes.
///
/// The hash is SHA-(8 × key length) as in Auth.js: SHA-512 for a 64-byte
/// (A256CBC-HS512) key, SHA-384 for 48 bytes, SHA-256 for a 32-byte (A256GCM)
/// key. Other lengths, which Auth.js never uses, get SHA-256.
pub fn key_thumbprint(key: &[u8]) -> String {
    let mut jwk = Zeroizing::new(String::with_capacity(key.len() * 4 / 3 + 24));
    jwk.push_str(r#"{"k":""#);
    URL_SAFE_NO_PAD.encode_string(key, &mut jwk);
    jwk.push_str(r#"","kty":"oct"}"#);
    let bytes = jwk.as_bytes();
    match key.len() {
        64 => URL_SAFE_NO_PAD.encode(Sha512::digest(bytes)),
        48 => URL_SAFE_NO_PAD.encode(Sha384::digest(bytes)),
        _ => URL_SAFE_NO_PAD.encode(Sha256::digest(bytes)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Known answers from the shared Auth.js facts (checked independently).
    const SECRET: &[u8] = b"test-secret-change-me";

    #[test]
    fn v5_known_answer() {
        let key = derive_v5_key(SECRET, "authjs.session-token", Enc::A256CbcHs512);
        assert_eq!(
            hex::encode(&key[..]),
            "d71545bd465d3cf882cb09ebcee4f8d76f54eb38c159ce1742c126f5a2a510c6\
             388783ebe8e3fb5c0fbb61a586832ddb9258c9e025a8a01258e96452fa570195"
        );
        assert_eq!(
            key_thumbprint(&key),
            "voCYauxeOACs9tLRkge0pAIgAtLA085_kG5hxQzaxyE9rBVl8ov5Crtkt9avr-yk7551LWkXDiuK9tNv6oh5Pg"
        );
        // HKDF-Expand: the 32-byte (A256GCM) key is the first half.
        let gcm = derive_v5_key(SECRET, "authjs.session-token", Enc::A256Gcm);
        assert_eq!(&gcm[..], &key[..32]);
    }

    #[test]
    fn v4_known_answer() {
        let key = derive_v4_key(SECRET);
        assert_eq!(
            hex::encode(&key[..]),
            "29958bb4f9e23b65d38e6c0b16cfc2febbc5a3699cbf42d9a3af57d1948d5cc8"
        );
    }

    /// RFC 7638 §3.1's example uses an RSA key; for `oct` check the member
    /// order and encoding against a hand-built JWK.
    #[test]
    fn thumbprint_shape() {
        let key = [0u8; 32];
        let jwk = r#"{"k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kty":"oct"}"#;
        assert_eq!(
            key_thumbprint(&key),
            URL_SAFE_NO_PAD.encode(Sha256::digest(jwk))
        );
        assert_eq!(key_thumbprint(&key).len(), 43);
        assert_eq!(key_thumbprint(&[0u8; 64]).len(), 86);
    }

    /// RFC 5869 test case 1 (HKDF-SHA-256), to pin the HKDF wiring.
    #[test]
    fn rfc5869_case1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let mut okm = [0u8; 42];
        Hkdf::<Sha256>::new(Some(&salt), &ikm)
            .expand(&info, &mut okm)
            .unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }
}
