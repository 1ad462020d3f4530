//! Auth.js / next-auth session tokens: which key, which salt, which secret,
//! expiry with Auth.js's 15 s clock tolerance, and cookie chunk reassembly.

use crate::jwe::{encrypt_compact, Enc, JweError, Parsed, MAX_TOKEN_LEN};
use crate::keys::{derive_v4_key, derive_v5_key, key_thumbprint};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Auth.js v5 session cookie names (plain, and with secure cookies). The
/// token's HKDF salt is the name it was set under.
pub const V5_COOKIE_NAMES: [&str; 2] = ["authjs.session-token", "__Secure-authjs.session-token"];

/// next-auth v4 session cookie names. v4 session tokens use the salt "".
pub const V4_COOKIE_NAMES: [&str; 2] = [
    "next-auth.session-token",
    "__Secure-next-auth.session-token",
];

/// `clockTolerance` both Auth.js versions pass to `jwtDecrypt`, in seconds.
pub const CLOCK_TOLERANCE_SECS: i64 = 15;

/// Default session lifetime of both versions (`session.maxAge`): 30 days.
pub const DEFAULT_MAX_AGE_SECS: i64 = 30 * 24 * 60 * 60;

/// Why a session token was refused.
///
/// Every variant displays the same generic message, so nothing about which
/// step failed reaches a client through `Display`; match on the variant (or
/// use [`SessionError::reason`]) for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Refused before any cryptography: not a compact JWE of the supported
    /// profile (parts, base64url, header, `alg`/`enc`/`zip`/`crit`, lengths).
    #[error("invalid session token")]
    Malformed,
    /// Over 64 KiB (the token, or the reassembled cookie chunks).
    #[error("invalid session token")]
    TooLarge,
    /// No configured secret authenticates it: wrong secret, wrong salt
    /// (cookie name), no secret whose thumbprint matches `kid`, tampering.
    #[error("invalid session token")]
    Undecryptable,
    /// Decrypted, but the payload is not a JSON object, or `iat`/`nbf`/`exp`
    /// is present and not a number.
    #[error("invalid session token")]
    InvalidClaims,
    /// `exp` is at least 15 s in the past.
    #[error("invalid session token")]
    Expired,
    /// `nbf` is more than 15 s in the future.
    #[error("invalid session token")]
    NotYetValid,
    /// `decode_cookie` was given a name that is not an Auth.js or next-auth
    /// session cookie name.
    #[error("invalid session token")]
    UnknownCookieName,
}

impl SessionError {
    /// A short, fixed label for logs (never token content).
    pub const fn reason(self) -> &'static str {
        match self {
            SessionError::Malformed => "malformed",
            SessionError::TooLarge => "too_large",
            SessionError::Undecryptable => "undecryptable",
            SessionError::InvalidClaims => "invalid_claims",
            SessionError::Expired => "expired",
            SessionError::NotYetValid => "not_yet_valid",
            SessionError::UnknownCookieName => "unknown_cookie_name",
        }
    }

    /// True for [`SessionError::Expired`].
    pub const fn is_expired(self) -> bool {
        matches!(self, SessionError::Expired)
    }
}

impl From<JweError> for SessionError {
    fn from(e: JweError) -> Self {
        match e {
            JweError::TooLarge => SessionError::TooLarge,
            JweError::DecryptionFailed => SessionError::Undecryptable,
            _ => SessionError::Malformed,
        }
    }
}

/// Which library's format a token was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Auth.js v5, minted for this session cookie name (its HKDF salt).
    V5 {
        /// One of [`V5_COOKIE_NAMES`].
        cookie_name: &'static str,
    },
    /// next-auth v4.
    V4,
}

impl Flavor {
    /// The flavor of a session cookie name, if it is one of the four known.
    pub fn of_cookie(name: &str) -> Option<Flavor> {
        if let Some(n) = V5_COOKIE_NAMES.iter().find(|n| **n == name) {
            Some(Flavor::V5 { cookie_name: n })
        } else if V4_COOKIE_NAMES.contains(&name) {
            Some(Flavor::V4)
        } else {
            None
        }
    }
}

/// One derived key and its `kid` (RFC 7638 thumbprint).
struct DerivedKey {
    key: Zeroizing<Vec<u8>>,
    kid: String,
}

impl DerivedKey {
    fn v5(secret: &[u8], salt: &str, enc: Enc) -> Self {
        let key = derive_v5_key(secret, salt, enc);
        let kid = key_thumbprint(&key);
        DerivedKey { key, kid }
    }
}

/// The v5 keys for one secret and one cookie name.
struct V5Keys {
    cbc: DerivedKey,
    gcm: DerivedKey,
}

impl V5Keys {
    fn for_enc(&self, enc: Enc) -> &DerivedKey {
        match enc {
            Enc::A256CbcHs512 => &self.cbc,
            Enc::A256Gcm => &self.gcm,
        }
    }
}

fn v5_key(s: &SecretKeys, idx: usize, enc: Enc) -> Option<&DerivedKey> {
    s.v5.get(idx).map(|k| k.for_enc(enc))
}

/// Every key one secret yields.
struct SecretKeys {
    /// Indexed like [`V5_COOKIE_NAMES`].
    v5: [V5Keys; 2],
    v4: Zeroizing<Vec<u8>>,
}

/// Decodes (and, with the first secret, encodes) session tokens. Build it
/// once at startup: every derived key and thumbprint is computed in `new`.
pub struct SessionDecoder {
    secrets: Vec<SecretKeys>,
    /// Per v5 cookie name, keys no token can be encrypted under (derived
    /// from the first secret with a label Auth.js never uses). Used to spend
    /// the same work when a `kid` matches no secret.
    decoys: Option<[V5Keys; 2]>,
}

impl std::fmt::Debug for SessionDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionDecoder")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl SessionDecoder {
    /// Secrets in try order: the server passes AUTH_SECRET, AUTH_SECRET_1..3,
    /// then NEXTAUTH_SECRET (those set). The first one encodes. Secrets are
    /// raw bytes (Auth.js uses the UTF-8 of the string, not base64-decoded).
    pub fn new(secrets: &[&[u8]]) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| SecretKeys {
                v5: V5_COOKIE_NAMES.map(|salt| V5Keys {
                    cbc: DerivedKey::v5(secret, salt, Enc::A256CbcHs512),
                    gcm: DerivedKey::v5(secret, salt, Enc::A256Gcm),
                }),
                v4: derive_v4_key(secret),
            })
            .collect();
        let decoys = secrets.first().map(|secret| {
            V5_COOKIE_NAMES.map(|salt| {
                let label = format!("authjs-jwe decoy ({salt})");
                V5Keys {
                    cbc: DerivedKey::v5(secret, &label, Enc::A256CbcHs512),
                    gcm: DerivedKey::v5(secret, &label, Enc::A256Gcm),
                }
            })
        });
        SessionDecoder {
            secrets: keys,
            decoys,
        }
    }

    /// Number of configured secrets.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Decode a session token that came in cookie `cookie_name` (after chunk
    /// reassembly, see [`reassemble_chunks`]). v5 names use that name as the
    /// salt, v4 names the salt "". With a `kid` (v5), only the secret whose
    /// key thumbprint matches is tried; without one, each secret in order.
    /// `exp` is checked against `now` (unix seconds) with 15 s tolerance; a
    /// token without `exp` is accepted, as Auth.js does. Returns the claims.
    pub fn decode_cookie(
        &self,
        token: &str,
        cookie_name: &str,
        now: i64,
    ) -> Result<Map<String, Value>, SessionError> {
        let flavor = Flavor::of_cookie(cookie_name).ok_or(SessionError::UnknownCookieName)?;
        let mut parsed = Parsed::parse(token)?;
        if self.try_open(&mut parsed, flavor) {
            validate_claims(&parsed.into_plaintext(), now)
        } else {
            Err(SessionError::Undecryptable)
        }
    }

    /// Decode a token from `Authorization: Bearer` (already percent-decoded,
    /// as Auth.js's `getToken` does), whose cookie name is unknown: try the
    /// v5 salts of both v5 cookie names, then v4.
    pub fn decode_bearer(
        &self,
        token: &str,
        now: i64,
    ) -> Result<(Flavor, Map<String, Value>), SessionError> {
        let mut parsed = Parsed::parse(token)?;
        let flavors = [
            Flavor::V5 {
                cookie_name: V5_COOKIE_NAMES[0],
            },
            Flavor::V5 {
                cookie_name: V5_COOKIE_NAMES[1],
            },
            Flavor::V4,
        ];
        for flavor in flavors {
            if self.try_open(&mut parsed, flavor) {
                let claims = validate_claims(&parsed.into_plaintext(), now)?;
                return Ok((flavor, claims));
            }
        }
        Err(SessionError::Undecryptable)
    }

    /// Try the keys `flavor` allows; true once one authenticates (the
    /// plaintext is then in `parsed`). A failed attempt leaves `parsed`
    /// as it was.
    fn try_open(&self, parsed: &mut Parsed<'_>, flavor: Flavor) -> bool {
        let enc = parsed.enc;
        match flavor {
            Flavor::V5 { cookie_name } => {
                let idx = usize::from(cookie_name != V5_COOKIE_NAMES[0]);
                let key_of = |s| v5_key(s, idx, enc);
                match parsed.kid().map(str::as_bytes) {
                    Some(kid) => {
                        // Compare against every secret's thumbprint, without
                        // stopping at the first match; pick the first match.
                        let mut chosen: Option<&DerivedKey> = None;
                        for s in &self.secrets {
                            if let Some(k) = key_of(s) {
                                let hit = bool::from(k.kid.as_bytes().ct_eq(kid));
                                if hit && chosen.is_none() {
                                    chosen = Some(k);
                                }
                            }
                        }
                        match chosen {
                            Some(k) => parsed.open(&k.key).is_ok(),
                            None => {
                                // Auth.js refuses here ("no matching decryption
                                // secret"); spend one attempt's work anyway.
                                if let Some(d) = self
                                    .decoys
                                    .as_ref()
                                    .and_then(|d| d.get(idx))
                                    .map(|d| d.for_enc(enc))
                                {
                                    let _ = parsed.open(&d.key);
                                }
                                false
                            }
                        }
                    }
                    None => self
                        .secrets
                        .iter()
                        .filter_map(key_of)
                        .any(|k| parsed.open(&k.key).is_ok()),
                }
            }
            // next-auth v4 derives a 32-byte key, so only A256GCM can work
            // (jose refuses a CBC-HS512 token for the key length); v4 ignores kid.
            Flavor::V4 => {
                enc == Enc::A256Gcm && self.secrets.iter().any(|s| parsed.open(&s.v4).is_ok())
            }
        }
    }

    /// Encode `claims` as Auth.js v5 would for `cookie_name` (one of
    /// [`V5_COOKIE_NAMES`]): the first secret's key, A256CBC-HS512, with its
    /// thumbprint as `kid`. The claims are written as given; use
    /// [`stamp_claims`] first to add `iat`, `exp` and `jti` as Auth.js does.
    /// `iv` must be fresh random bytes.
    pub fn encode_v5(
        &self,
        claims: &Map<String, Value>,
        cookie_name: &str,
        iv: &[u8; 16],
    ) -> Result<String, JweError> {
        let idx = V5_COOKIE_NAMES
            .iter()
            .position(|n| *n == cookie_name)
            .ok_or(JweError::UnknownCookieName)?;
        let first = self.secrets.first().ok_or(JweError::NoSecret)?;
        let key = &first.v5.get(idx).ok_or(JweError::UnknownCookieName)?.cbc;
        let plaintext =
            Zeroizing::new(serde_json::to_vec(claims).map_err(|_| JweError::Malformed)?);
        encrypt_compact(&plaintext, &key.key, Enc::A256CbcHs512, Some(&key.kid), iv)
    }

    /// Encode `claims` as next-auth v4 would: the first secret's v4 key,
    /// A256GCM, no `kid`. `iv` must be fresh random bytes.
    pub fn encode_v4(
        &self,
        claims: &Map<String, Value>,
        iv: &[u8; 12],
    ) -> Result<String, JweError> {
        let first = self.secrets.first().ok_or(JweError::NoSecret)?;
        let plaintext =
            Zeroizing::new(serde_json::to_vec(claims).map_err(|_| JweError::Malformed)?);
        encrypt_compact(&plaintext, &first.v4, Enc::A256Gcm, None, iv)
    }
}

/// Set `iat` = `now`, `exp` = `now + max_age` and `jti` the way Auth.js's
/// `encode` does (existing members keep their position, new ones are
/// appended in that order).
pub fn stamp_claims(claims: &mut Map<String, Value>, now: i64, max_age: i64, jti: &str) {
    claims.insert("iat".to_owned(), Value::from(now));
    claims.insert("exp".to_owned(), Value::from(now.saturating_add(max_age)));
    claims.insert("jti".to_owned(), Value::from(jti));
}

/// jose's `jwtDecrypt` claim checks as Auth.js configures them: a JSON
/// object (UTF-8); `iat`, `nbf`, `exp` numbers when present; refused when
/// `nbf > now + 15` or `exp <= now - 15`.
fn validate_claims(plaintext: &[u8], now: i64) -> Result<Map<String, Value>, SessionError> {
    let claims: Map<String, Value> =
        serde_json::from_slice(plaintext).map_err(|_| SessionError::InvalidClaims)?;
    let numeric = |name: &str| -> Result<Option<f64>, SessionError> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(SessionError::InvalidClaims),
            Some(_) => Err(SessionError::InvalidClaims),
        }
    };
    // Exact for any realistic `now`; f64 matches JavaScript's numbers.
    let now = now as f64;
    let tolerance = CLOCK_TOLERANCE_SECS as f64;
    numeric("iat")?;
    if let Some(nbf) = numeric("nbf")? {
        if nbf > now + tolerance {
            return Err(SessionError::NotYetValid);
        }
    }
    if let Some(exp) = numeric("exp")? {
        if exp <= now - tolerance {
            return Err(SessionError::Expired);
        }
    }
    Ok(claims)
}

/// Reassemble a possibly chunked session cookie.
///
/// `cookies` are all (name, value) pairs of the request's `Cookie` headers,
/// in order; `name` the session cookie's base name. When a repeated name
/// occurs, the first value counts (as the `cookie` parser Auth.js uses), and
/// empty values are ignored (as Auth.js's `SessionStore`).
///
/// Returns the plain cookie's value when present; else the values of
/// `<name>.0`, `<name>.1`, … (decimal suffixes) concatenated in numeric
/// order, as `SessionStore` does; `None` when there is neither. Auth.js
/// writes either the plain cookie or chunks, and clears the other form, so
/// the plain cookie winning only matters for stale leftovers.
/// Errors with [`SessionError::TooLarge`] when the result would exceed
/// 64 KiB.
pub fn reassemble_chunks<'a>(
    cookies: impl IntoIterator<Item = (&'a str, &'a str)>,
    name: &str,
) -> Result<Option<String>, SessionError> {
    // (index, name, value), first occurrence of each name only.
    let mut chunks: Vec<(u32, &'a str, &'a str)> = Vec::new();
    let mut total = 0usize;
    let mut overflow = false;
    let mut plain: Option<&'a str> = None;
    for (cookie_name, value) in cookies {
        if value.is_empty() {
            continue;
        }
        if cookie_name == name {
            if plain.is_none() {
                plain = Some(value);
            }
            continue;
        }
        let Some(suffix) = cookie_name
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('.'))
        else {
            continue;
        };
        if suffix.is_empty() || suffix.len() > 9 || !suffix.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(index) = suffix.parse::<u32>() else {
            continue;
        };
        if overflow || chunks.iter().any(|(_, n, _)| *n == cookie_name) {
            continue;
        }
        total = total.saturating_add(value.len());
        if total > MAX_TOKEN_LEN || chunks.len() >= MAX_CHUNKS {
            overflow = true;
            continue;
        }
        chunks.push((index, cookie_name, value));
    }
    if let Some(value) = plain {
        if value.len() > MAX_TOKEN_LEN {
            return Err(SessionError::TooLarge);
        }
        return Ok(Some(value.to_owned()));
    }
    if overflow {
        return Err(SessionError::TooLarge);
    }
    if chunks.is_empty() {
        return Ok(None);
    }
    // Stable: equal indices (".1" and ".01") keep their request order.
    chunks.sort_by_key(|(index, _, _)| *index);
    let mut out = String::with_capacity(total);
    for (_, _, value) in chunks {
        out.push_str(value);
    }
    Ok(Some(out))
}

/// Split a token into the cookies Auth.js would set for it (`name` when it
/// fits, else `name.0`, `name.1`, … of `chunk_size` characters each). Use
/// [`V5_CHUNK_SIZE`] for v5 names and [`V4_CHUNK_SIZE`] for v4 names.
pub fn chunk_cookie(name: &str, value: &str, chunk_size: usize) -> Vec<(String, String)> {
    let chunk_size = chunk_size.max(1);
    if value.len() <= chunk_size {
        return vec![(name.to_owned(), value.to_owned())];
    }
    // Tokens are ASCII, so byte chunks are character chunks; for anything
    // else split on char boundaries.
    let mut out = Vec::new();
    let mut rest = value;
    let mut i = 0usize;
    while !rest.is_empty() {
        let mut cut = chunk_size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (head, tail) = rest.split_at(cut);
        out.push((format!("{name}.{i}"), head.to_owned()));
        rest = tail;
        i += 1;
    }
    out
}

/// Most chunks [`reassemble_chunks`] accepts: 64 KiB at Auth.js's chunk size
/// is 17 chunks; more is not a session cookie.
pub const MAX_CHUNKS: usize = 64;

/// Auth.js v5 chunk size: 4096 − 160 estimated empty-cookie bytes.
pub const V5_CHUNK_SIZE: usize = 3936;
/// next-auth v4 chunk size: 4096 − 163.
pub const V4_CHUNK_SIZE: usize = 3933;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chunking_round_trip() {
        let token: String = "abcdefghij".repeat(900);
        let parts = chunk_cookie("authjs.session-token", &token, V5_CHUNK_SIZE);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].1.len(), 3936);
        assert_eq!(parts[2].0, "authjs.session-token.2");
        let reversed: Vec<(&str, &str)> = parts
            .iter()
            .rev()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            reassemble_chunks(reversed, "authjs.session-token").unwrap(),
            Some(token.clone())
        );
        let single = chunk_cookie("authjs.session-token", "abc", V5_CHUNK_SIZE);
        assert_eq!(
            single,
            vec![("authjs.session-token".to_owned(), "abc".to_owned())]
        );
    }

    #[test]
    fn claims_checks() {
        let ok = |s: &str, now| validate_claims(s.as_bytes(), now);
        assert!(ok(r#"{"exp":100}"#, 114).is_ok());
        assert_eq!(ok(r#"{"exp":100}"#, 115), Err(SessionError::Expired));
        assert!(ok(r#"{"exp":100.5}"#, 115).is_ok());
        assert!(ok(r#"{"sub":"1"}"#, i64::MAX).is_ok());
        assert_eq!(ok(r#"{"exp":"100"}"#, 0), Err(SessionError::InvalidClaims));
        assert_eq!(ok(r#"{"iat":null}"#, 0), Err(SessionError::InvalidClaims));
        assert_eq!(ok(r#"{"nbf":116}"#, 100), Err(SessionError::NotYetValid));
        assert!(ok(r#"{"nbf":115}"#, 100).is_ok());
        assert_eq!(ok(r#"[1]"#, 0), Err(SessionError::InvalidClaims));
        assert_eq!(ok("\"x\"", 0), Err(SessionError::InvalidClaims));
        assert_eq!(ok("", 0), Err(SessionError::InvalidClaims));
        assert_eq!(
            validate_claims(b"{\"a\":\"\xff\"}", 0),
            Err(SessionError::InvalidClaims)
        );
    }
}
