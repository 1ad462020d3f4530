//! Compact JWE with `alg: "dir"` and `enc` A256CBC-HS512 or A256GCM — the
//! only shapes Auth.js v5 and next-auth v4 produce or accept for sessions.
//!
//! Everything that can be checked without a key is checked before any
//! cryptographic work: the token size, the five-part layout, the empty
//! encrypted-key part, the header (`alg`, `enc`, no `zip`, no `crit`), and the
//! IV, tag and ciphertext lengths.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha512;
use std::borrow::Cow;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Largest compact token accepted (and produced), in bytes: 64 KiB.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Largest base64url protected-header segment accepted. Auth.js headers are
/// about 150 characters; anything near this limit is not one of theirs.
const MAX_HEADER_B64_LEN: usize = 2048;
/// Decoded size of a header segment at the limit above.
const MAX_HEADER_LEN: usize = MAX_HEADER_B64_LEN / 4 * 3;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// Content-encryption algorithm (`enc` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enc {
    /// `A256CBC-HS512` (RFC 7518 §5.2.5): Auth.js v5's choice. 64-byte key,
    /// 16-byte IV, 32-byte tag.
    A256CbcHs512,
    /// `A256GCM` (RFC 7518 §5.3): next-auth v4's choice, also accepted by v5.
    /// 32-byte key, 12-byte IV, 16-byte tag.
    A256Gcm,
}

impl Enc {
    /// The `enc` header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Enc::A256CbcHs512 => "A256CBC-HS512",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// Parse an `enc` header value; only the two supported names.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        }
    }

    /// Content-encryption key length in bytes (the HKDF output length).
    pub const fn key_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 64,
            Enc::A256Gcm => 32,
        }
    }

    /// Initialization-vector length in bytes.
    pub const fn iv_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 16,
            Enc::A256Gcm => 12,
        }
    }

    /// Authentication-tag length in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 32,
            Enc::A256Gcm => 16,
        }
    }
}

impl std::fmt::Display for Enc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parts of a protected header this profile uses. `alg` is always `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// Content-encryption algorithm.
    pub enc: Enc,
    /// `kid`, when present (Auth.js v5 sets the key's JWK thumbprint).
    pub kid: Option<String>,
}

/// Errors of the JWE layer. Messages never contain key material or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    /// Over [`MAX_TOKEN_LEN`] (or a plaintext that would produce such a token).
    #[error("JWE exceeds the size limit")]
    TooLarge,
    /// Not five base64url parts, a non-empty encrypted-key part, a header that
    /// is not a JSON object of the expected shape, or bad base64url.
    #[error("malformed compact JWE")]
    Malformed,
    /// `alg` other than `dir`.
    #[error("unsupported JWE key management algorithm")]
    UnsupportedAlg,
    /// `enc` other than A256CBC-HS512 / A256GCM.
    #[error("unsupported JWE content encryption algorithm")]
    UnsupportedEnc,
    /// `zip` or `crit` present.
    #[error("unsupported JWE header parameter")]
    UnsupportedHeader,
    /// Key length does not match `enc`.
    #[error("invalid content encryption key length")]
    InvalidKeyLength,
    /// IV length does not match `enc`.
    #[error("invalid JWE initialization vector length")]
    InvalidIvLength,
    /// Tag length does not match `enc`.
    #[error("invalid JWE authentication tag length")]
    InvalidTagLength,
    /// A CBC ciphertext that is not a non-empty whole number of blocks.
    #[error("invalid JWE ciphertext length")]
    InvalidCiphertextLength,
    /// Authentication failed (or, after a valid tag, bad padding).
    #[error("JWE decryption failed")]
    DecryptionFailed,
    /// Encoding was asked of a decoder that has no secret.
    #[error("no secret configured")]
    NoSecret,
    /// A cookie name that is not one of the v5 session cookie names.
    #[error("unsupported session cookie name")]
    UnknownCookieName,
}

/// Borrowed view of a protected header, for validation without allocation.
/// Unknown members are ignored; a repeated known member is malformed.
#[derive(Deserialize)]
struct HeaderView<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    enc: Option<Cow<'a, str>>,
    /// `Some(None)` for `"kid": null`, which jose treats as a kid that
    /// matches nothing (so we refuse it), not as an absent kid.
    #[serde(default, deserialize_with = "present_value")]
    kid: Option<Option<String>>,
    #[serde(default)]
    zip: Present,
    #[serde(default)]
    crit: Present,
}

/// Deserialize a member that is present (even if `null`) as `Some`.
fn present_value<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Whether a member is present at all, whatever its value (`null` included:
/// jose refuses `"zip": null` too).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Present(true))
    }
}

/// A compact JWE whose structure and header passed every key-independent
/// check. The ciphertext is decoded into `buf`; a successful [`Self::open`]
/// replaces it with the plaintext.
pub(crate) struct Parsed<'t> {
    /// The ASCII header segment: the AAD.
    aad: &'t [u8],
    pub(crate) enc: Enc,
    kid: Option<String>,
    iv: [u8; 16],
    tag: [u8; 32],
    pub(crate) buf: Zeroizing<Vec<u8>>,
}

impl<'t> Parsed<'t> {
    /// Split and check a compact token. No cryptography happens here.
    pub(crate) fn parse(token: &'t str) -> Result<Self, JweError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JweError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(ek), Some(iv_b64), Some(ct_b64), Some(tag_b64), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(JweError::Malformed);
        };
        if h.is_empty() || !ek.is_empty() || h.len() > MAX_HEADER_B64_LEN {
            return Err(JweError::Malformed);
        }

        let mut header_buf = [0u8; MAX_HEADER_LEN];
        let header_len = URL_SAFE_NO_PAD
            .decode_slice(h, &mut header_buf)
            .map_err(|_| JweError::Malformed)?;
        let header_bytes = header_buf.get(..header_len).ok_or(JweError::Malformed)?;
        // A JSON object, not an array (serde would map an array onto the struct).
        if header_bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(JweError::Malformed);
        }
        let view: HeaderView<'_> =
            serde_json::from_slice(header_bytes).map_err(|_| JweError::Malformed)?;
        if view.zip.0 || view.crit.0 {
            return Err(JweError::UnsupportedHeader);
        }
        if view.alg.as_deref() != Some("dir") {
            return Err(JweError::UnsupportedAlg);
        }
        let enc = view
            .enc
            .as_deref()
            .and_then(Enc::from_name)
            .ok_or(JweError::UnsupportedEnc)?;
        let kid = match view.kid {
            None => None,
            Some(Some(kid)) => Some(kid),
            Some(None) => return Err(JweError::Malformed),
        };

        let mut iv = [0u8; 16];
        let iv_len = decode_exact(iv_b64, &mut iv).ok_or(JweError::InvalidIvLength)?;
        if iv_len != enc.iv_len() {
            return Err(JweError::InvalidIvLength);
        }
        let mut tag = [0u8; 32];
        let tag_len = decode_exact(tag_b64, &mut tag).ok_or(JweError::InvalidTagLength)?;
        if tag_len != enc.tag_len() {
            return Err(JweError::InvalidTagLength);
        }
        let buf = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(ct_b64)
                .map_err(|_| JweError::Malformed)?,
        );
        if enc == Enc::A256CbcHs512 && (buf.is_empty() || buf.len() % 16 != 0) {
            return Err(JweError::InvalidCiphertextLength);
        }

        Ok(Parsed {
            aad: h.as_bytes(),
            enc,
            kid,
            iv,
            tag,
            buf,
        })
    }

    /// The `kid` header, if any.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn header(&self) -> Header {
        Header {
            enc: self.enc,
            kid: self.kid.clone(),
        }
    }

    /// Authenticate with `key` and, on success, decrypt `buf` in place into
    /// the plaintext. On [`JweError::DecryptionFailed`] from a tag mismatch,
    /// `buf` is left untouched, so another key may be tried.
    pub(crate) fn open(&mut self, key: &[u8]) -> Result<(), JweError> {
        if key.len() != self.enc.key_len() {
            return Err(JweError::InvalidKeyLength);
        }
        match self.enc {
            Enc::A256CbcHs512 => {
                let (mac_key, enc_key) = key.split_at(32);
                let iv = &self.iv;
                let expected = cbc_hs512_tag(mac_key, self.aad, iv, &self.buf)?;
                // Verify before decrypting (RFC 7518 §5.2.2.2).
                if !bool::from(expected.as_slice().ct_eq(&self.tag[..])) {
                    return Err(JweError::DecryptionFailed);
                }
                let dec = Aes256CbcDec::new_from_slices(enc_key, iv)
                    .map_err(|_| JweError::InvalidKeyLength)?;
                let plain_len = dec
                    .decrypt_padded_mut::<Pkcs7>(&mut self.buf)
                    .map_err(|_| JweError::DecryptionFailed)?
                    .len();
                self.buf.truncate(plain_len);
                Ok(())
            }
            Enc::A256Gcm => {
                let cipher =
                    Aes256Gcm::new_from_slice(key).map_err(|_| JweError::InvalidKeyLength)?;
                let nonce = aes_gcm::Nonce::from_slice(&self.iv[..12]);
                let tag = aes_gcm::Tag::from_slice(&self.tag[..16]);
                // aes-gcm compares the tag in constant time and only then
                // decrypts; on failure the buffer is unchanged.
                cipher
                    .decrypt_in_place_detached(nonce, self.aad, &mut self.buf, tag)
                    .map_err(|_| JweError::DecryptionFailed)
            }
        }
    }

    /// The plaintext after a successful [`Self::open`].
    pub(crate) fn into_plaintext(self) -> Zeroizing<Vec<u8>> {
        self.buf
    }
}

/// Decode base64url into `out`, requiring it to fit. Returns the length.
fn decode_exact(b64: &str, out: &mut [u8]) -> Option<usize> {
    // A segment longer than `out` can hold is rejected before decoding.
    if b64.len() > (out.len() * 4).div_ceil(3) {
        return None;
    }
    URL_SAFE_NO_PAD.decode_slice(b64, out).ok()
}

/// RFC 7518 §5.2.2.1 step 5-6: HMAC-SHA-512 over AAD || IV || ciphertext ||
/// AL (AAD length in bits, 64-bit big-endian), truncated to 32 bytes.
fn cbc_hs512_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Result<[u8; 32], JweError> {
    let mut mac =
        <Hmac<Sha512> as Mac>::new_from_slice(mac_key).map_err(|_| JweError::InvalidKeyLength)?;
    mac.update(aad);
    mac.update(iv);
    mac.update(ct);
    let al = (aad.len() as u64).wrapping_mul(8);
    mac.update(&al.to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&full[..32]);
    Ok(tag)
}

/// Decrypt a compact JWE (`alg: "dir"`) with a raw content-encryption key
/// (64 bytes for A256CBC-HS512, 32 for A256GCM). Returns the header and the
/// plaintext. No claim checks happen here.
pub fn decrypt_compact(token: &str, key: &[u8]) -> Result<(Header, Vec<u8>), JweError> {
    let mut parsed = Parsed::parse(token)?;
    parsed.open(key)?;
    let header = parsed.header();
    let plaintext = std::mem::take(&mut *parsed.into_plaintext());
    Ok((header, plaintext))
}

/// Encrypt `plaintext` as a compact JWE with `alg: "dir"`.
///
/// The protected header is `{"alg":"dir","enc":"<enc>"}`, or with `kid` last
/// (`{"alg":"dir","enc":"<enc>","kid":"<kid>"}`, byte-for-byte what Auth.js
/// v5 writes). `iv` must be 16 bytes for A256CBC-HS512 and 12 for A256GCM,
/// and must be fresh random bytes for every token.
pub fn encrypt_compact(
    plaintext: &[u8],
    key: &[u8],
    enc: Enc,
    kid: Option<&str>,
    iv: &[u8],
) -> Result<String, JweError> {
    if key.len() != enc.key_len() {
        return Err(JweError::InvalidKeyLength);
    }
    if iv.len() != enc.iv_len() {
        return Err(JweError::InvalidIvLength);
    }
    // Base64 grows by 4/3; refuse early what could not fit in a token.
    if plaintext.len() > MAX_TOKEN_LEN / 4 * 3 {
        return Err(JweError::TooLarge);
    }
    let mut header = String::with_capacity(64);
    header.push_str(r#"{"alg":"dir","enc":""#);
    header.push_str(enc.as_str());
    header.push('"');
    if let Some(kid) = kid {
        header.push_str(r#","kid":"#);
        let quoted = serde_json::to_string(kid).map_err(|_| JweError::Malformed)?;
        header.push_str(&quoted);
    }
    header.push('}');
    let header_b64 = URL_SAFE_NO_PAD.encode(header.as_bytes());
    let aad = header_b64.as_bytes();

    let (ct, tag): (Zeroizing<Vec<u8>>, Vec<u8>) = match enc {
        Enc::A256CbcHs512 => {
            let (mac_key, enc_key) = key.split_at(32);
            let padded_len = (plaintext.len() / 16 + 1) * 16;
            let mut buf = Zeroizing::new(vec![0u8; padded_len]);
            buf.get_mut(..plaintext.len())
                .ok_or(JweError::Malformed)?
                .copy_from_slice(plaintext);
            let encryptor = Aes256CbcEnc::new_from_slices(enc_key, iv)
                .map_err(|_| JweError::InvalidKeyLength)?;
            let ct_len = encryptor
                .encrypt_padded_mut::<Pkcs7>(&mut buf, plaintext.len())
                .map_err(|_| JweError::Malformed)?
                .len();
            buf.truncate(ct_len);
            let tag = cbc_hs512_tag(mac_key, aad, iv, &buf)?;
            (buf, tag.to_vec())
        }
        Enc::A256Gcm => {
            let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| JweError::InvalidKeyLength)?;
            let mut buf = Zeroizing::new(plaintext.to_vec());
            let tag = cipher
                .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(iv), aad, &mut buf)
                .map_err(|_| JweError::TooLarge)?;
            (buf, tag.to_vec())
        }
    };

    let mut out =
        String::with_capacity(header_b64.len() + 4 + (iv.len() + ct.len() + tag.len()) * 4 / 3 + 4);
    out.push_str(&header_b64);
    out.push_str("..");
    URL_SAFE_NO_PAD.encode_string(iv, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&ct[..], &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&tag, &mut out);
    if out.len() > MAX_TOKEN_LEN {
        return Err(JweError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KERCKHOFFS_P: &[u8] = b"A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience";
    const KERCKHOFFS_A: &[u8] = b"The second principle of Auguste Kerckhoffs";

    /// RFC 7518 Appendix B.3 (AES_256_CBC_HMAC_SHA_512).
    #[test]
    fn rfc7518_b3_cbc_hs512() {
        let k: Vec<u8> = (0u8..64).collect();
        let iv = hex::decode("1af38c2dc2b96ffdd86694092341bc04").unwrap();
        let e = hex::decode(concat!(
            "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd",
            "822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b",
            "36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3",
            "a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950b",
            "be2638d09dd7a4930930806d0703b1f6",
        ))
        .unwrap();
        let t = hex::decode("4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5")
            .unwrap();

        // MAC_KEY = first 32 bytes, ENC_KEY = last 32 bytes.
        let (mac_key, enc_key) = k.split_at(32);
        let mut buf = vec![0u8; (KERCKHOFFS_P.len() / 16 + 1) * 16];
        buf[..KERCKHOFFS_P.len()].copy_from_slice(KERCKHOFFS_P);
        let ct = Aes256CbcEnc::new_from_slices(enc_key, &iv)
            .unwrap()
            .encrypt_padded_mut::<Pkcs7>(&mut buf, KERCKHOFFS_P.len())
            .unwrap()
            .to_vec();
        assert_eq!(ct, e);
        let tag = cbc_hs512_tag(mac_key, KERCKHOFFS_A, &iv, &ct).unwrap();
        assert_eq!(tag.to_vec(), t);

        // And the decrypt path, through `Parsed::open`, with the RFC's A as AAD.
        let mut p = Parsed {
            aad: KERCKHOFFS_A,
            enc: Enc::A256CbcHs512,
            kid: None,
            iv: iv.clone().try_into().unwrap(),
            tag: t.clone().try_into().unwrap(),
            buf: Zeroizing::new(e.clone()),
        };
        p.open(&k).unwrap();
        assert_eq!(&p.buf[..], KERCKHOFFS_P);

        // A flipped tag bit fails, and leaves the ciphertext untouched.
        let mut bad_tag: [u8; 32] = t.try_into().unwrap();
        bad_tag[31] ^= 1;
        let mut p = Parsed {
            tag: bad_tag,
            buf: Zeroizing::new(e.clone()),
            ..p
        };
        assert_eq!(p.open(&k), Err(JweError::DecryptionFailed));
        assert_eq!(&p.buf[..], &e[..]);
    }

    /// RFC 7516 Appendix A.1 content encryption (A256GCM): CEK, IV, AAD,
    /// plaintext, ciphertext and tag as published.
    #[test]
    fn rfc7516_a1_a256gcm() {
        let cek: [u8; 32] = [
            177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246, 138, 7,
            110, 91, 112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64, 252,
        ];
        let iv: [u8; 12] = [227, 197, 117, 252, 2, 219, 233, 68, 180, 225, 77, 219];
        let aad = b"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ";
        let plaintext = b"The true sign of intelligence is not knowledge but imagination.";
        let ct = URL_SAFE_NO_PAD
            .decode("5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A")
            .unwrap();
        let tag = URL_SAFE_NO_PAD.decode("XFBoMYUZodetZdvTiFvSkQ").unwrap();
        assert_eq!(
            tag,
            [92, 80, 104, 49, 133, 25, 161, 215, 173, 101, 219, 211, 136, 91, 210, 145]
        );

        let cipher = Aes256Gcm::new_from_slice(&cek).unwrap();
        let mut buf = plaintext.to_vec();
        let got_tag = cipher
            .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(&iv), aad, &mut buf)
            .unwrap();
        assert_eq!(buf, ct);
        assert_eq!(got_tag.to_vec(), tag);

        let mut tag32 = [0u8; 32];
        tag32[..16].copy_from_slice(&tag);
        let mut iv16 = [0u8; 16];
        iv16[..12].copy_from_slice(&iv);
        let mut p = Parsed {
            aad,
            enc: Enc::A256Gcm,
            kid: None,
            iv: iv16,
            tag: tag32,
            buf: Zeroizing::new(ct.clone()),
        };
        p.open(&cek).unwrap();
        assert_eq!(&p.buf[..], plaintext);

        let mut p = Parsed {
            aad: b"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifR",
            buf: Zeroizing::new(ct.clone()),
            ..p
        };
        assert_eq!(p.open(&cek), Err(JweError::DecryptionFailed));
        assert_eq!(&p.buf[..], &ct[..]);
    }

    #[test]
    fn kid_borrowed_and_escaped() {
        let key = [7u8; 64];
        let iv = [1u8; 16];
        let t = encrypt_compact(b"{}", &key, Enc::A256CbcHs512, Some("abc"), &iv).unwrap();
        let p = Parsed::parse(&t).unwrap();
        assert_eq!(p.kid(), Some("abc"));
        let t =
            encrypt_compact(b"{}", &key, Enc::A256CbcHs512, Some("a\"b\\c\u{e9}"), &iv).unwrap();
        let p = Parsed::parse(&t).unwrap();
        assert_eq!(p.kid(), Some("a\"b\\c\u{e9}"));
        let (h, pt) = decrypt_compact(&t, &key).unwrap();
        assert_eq!(h.kid.as_deref(), Some("a\"b\\c\u{e9}"));
        assert_eq!(pt, b"{}");
    }
}
