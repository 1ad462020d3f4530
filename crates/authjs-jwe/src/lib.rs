//! The Auth.js session-cookie JWE profile.
//!
//! Auth.js v5 (`@auth/core`) and next-auth v4 keep JWT sessions in a cookie
//! holding a compact JWE with `alg: "dir"`:
//!
//! | | v5 | v4 |
//! |---|---|---|
//! | `enc` | A256CBC-HS512 (A256GCM also accepted) | A256GCM |
//! | key | HKDF-SHA-256(secret, salt = cookie name, info = `Auth.js Generated Encryption Key (<salt>)`) | HKDF-SHA-256(secret, salt = "", info = `NextAuth.js Generated Encryption Key`) |
//! | `kid` | RFC 7638 thumbprint of the key | none |
//!
//! This crate decrypts and encrypts exactly that profile. It is pure: no I/O,
//! no clock (callers pass `now` in unix seconds), no randomness (callers pass
//! the IV when encrypting).
//!
//! Start with [`SessionDecoder`]; [`reassemble_chunks`] joins chunked cookies.
//!
//! ```
//! use authjs_jwe::{reassemble_chunks, stamp_claims, SessionDecoder, V5_COOKIE_NAMES};
//!
//! // Once, at startup: AUTH_SECRET first, then older secrets.
//! let decoder = SessionDecoder::new(&[b"test-secret-change-me".as_slice()]);
//!
//! let mut claims = serde_json::Map::new();
//! claims.insert("sub".into(), "1".into());
//! stamp_claims(&mut claims, 1_800_000_000, 3600, "a-random-uuid");
//! let iv = [0u8; 16]; // use fresh random bytes
//! let token = decoder.encode_v5(&claims, V5_COOKIE_NAMES[0], &iv)?;
//!
//! // Per request: the Cookie header's (name, value) pairs, already unquoted.
//! let jar = [("theme", "dark"), (V5_COOKIE_NAMES[0], token.as_str())];
//! let value = reassemble_chunks(jar, V5_COOKIE_NAMES[0])?.unwrap_or_default();
//! let session = decoder.decode_cookie(&value, V5_COOKIE_NAMES[0], 1_800_000_100)?;
//! assert_eq!(session["sub"], "1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Callers strip RFC 6265 quotes from cookie values and percent-decode a
//! `Bearer` token before passing them in (real tokens contain neither).

mod jwe;
mod keys;
mod session;

pub use jwe::{decrypt_compact, encrypt_compact, Enc, Header, JweError, MAX_TOKEN_LEN};
pub use keys::{derive_v4_key, derive_v5_key, key_thumbprint};
pub use session::{
    chunk_cookie, reassemble_chunks, stamp_claims, Flavor, SessionDecoder, SessionError,
    CLOCK_TOLERANCE_SECS, DEFAULT_MAX_AGE_SECS, MAX_CHUNKS, V4_CHUNK_SIZE, V4_COOKIE_NAMES,
    V5_CHUNK_SIZE, V5_COOKIE_NAMES,
};
