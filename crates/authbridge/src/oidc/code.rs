//! Authorization codes: random, single use, short-lived, stored only as a SHA-256 hash (a
//! database leak yields no redeemable code; 256 random bits make a slow hash pointless, as for
//! client secrets), and the token endpoint's checks in the order RFC 6749 §4.1.3, RFC 7636 §4.6
//! and RFC 9700 §4.2.4 give them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::CryptoRng;
use sha2::{Digest, Sha256};

use super::pkce::CodeChallenge;
use super::Scope;

/// The longest a code may live (RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10
/// minutes is RECOMMENDED").
pub const MAX_LIFETIME_SECS: i64 = 600;

/// SHA-256 of a code: the storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeHash(pub [u8; 32]);

impl CodeHash {
    pub fn of(code: &str) -> Self {
        Self(Sha256::digest(code.as_bytes()).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A new code (32 random bytes, base64url): the text for the redirect, the hash for storage.
pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> (String, CodeHash) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let code = URL_SAFE_NO_PAD.encode(bytes);
    let hash = CodeHash::of(&code);
    (code, hash)
}

/// What a code stands for, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub hash: CodeHash,
    pub client_id: String,
    pub user_id: i64,
    /// The redirect_uri of the authorization request, byte for byte.
    pub redirect_uri: String,
    pub scope: Scope,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    /// When the user last entered their password (the ID token's `auth_time`).
    pub auth_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set, atomically with the lookup, by the first redemption.
    pub used_at: Option<DateTime<Utc>>,
}

/// What the authorization endpoint knows when it issues a code.
#[derive(Debug, Clone)]
pub struct NewCode {
    pub client_id: String,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scope: Scope,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub auth_time: DateTime<Utc>,
}

impl CodeRecord {
    /// The record for a new code; `lifetime_secs` is capped at [`MAX_LIFETIME_SECS`].
    pub fn new(hash: CodeHash, code: NewCode, now: DateTime<Utc>, lifetime_secs: i64) -> Self {
        let lifetime = lifetime_secs.clamp(1, MAX_LIFETIME_SECS);
        Self {
            hash,
            client_id: code.client_id,
            user_id: code.user_id,
            redirect_uri: code.redirect_uri,
            scope: code.scope,
            nonce: code.nonce,
            code_challenge: code.code_challenge,
            auth_time: code.auth_time,
            created_at: now,
            expires_at: now + Duration::seconds(lifetime),
            used_at: None,
        }
    }
}

/// The token request's parts that concern the code; `client_id` is the *authenticated* client.
#[derive(Debug, Clone, Copy)]
pub struct Redemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// Why a code is refused. Every one is `invalid_grant` on the wire (RFC 6749 §5.2); the variants
/// are for logs, audit, and [`RedeemError::Reused`]'s revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedeemError {
    #[error("unknown authorization code")]
    NotFound,
    /// RFC 6749 §4.1.2: the code leaked. The caller revokes every token issued from it.
    #[error("authorization code already used")]
    Reused,
    #[error("authorization code expired")]
    Expired,
    #[error("authorization code was issued to another client")]
    WrongClient,
    #[error("redirect_uri does not match the authorization request")]
    WrongRedirectUri,
    #[error("code_verifier missing")]
    VerifierMissing,
    #[error("code_verifier does not match the code_challenge")]
    VerifierMismatch,
    /// RFC 9700 §4.8.2: a verifier for a code issued without a challenge is a downgrade attempt.
    #[error("code_verifier sent for a code issued without code_challenge")]
    VerifierUnexpected,
}

impl RedeemError {
    pub fn code(self) -> super::ErrorCode {
        super::ErrorCode::InvalidGrant
    }
}

/// The token endpoint's checks, in order: exists, not used, not expired, same client, same
/// redirect_uri, PKCE. `record` is the stored code as it was *before* this redemption marked it
/// used (the storage marks it in the same statement that reads it, so two racing redemptions
/// cannot both see it unused).
pub fn redeem(
    record: Option<&CodeRecord>,
    request: Redemption<'_>,
    now: DateTime<Utc>,
) -> Result<(), RedeemError> {
    let record = record.ok_or(RedeemError::NotFound)?;
    if record.used_at.is_some() {
        return Err(RedeemError::Reused);
    }
    if now >= record.expires_at {
        return Err(RedeemError::Expired);
    }
    if record.client_id != request.client_id {
        return Err(RedeemError::WrongClient);
    }
    // OpenID Connect always sends redirect_uri at authorize (we require it), so it is required
    // here too (RFC 6749 §4.1.3) and compared byte for byte.
    if request.redirect_uri != Some(record.redirect_uri.as_str()) {
        return Err(RedeemError::WrongRedirectUri);
    }
    match (&record.code_challenge, request.code_verifier) {
        (Some(challenge), Some(verifier)) => match challenge.verify(verifier) {
            Ok(true) => Ok(()),
            _ => Err(RedeemError::VerifierMismatch),
        },
        (Some(_), None) => Err(RedeemError::VerifierMissing),
        (None, Some(_)) => Err(RedeemError::VerifierUnexpected),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "https://app.test/cb";

    fn t0() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    fn record(challenge: bool) -> CodeRecord {
        let (_, hash) = generate(&mut StdRng::seed_from_u64(9));
        CodeRecord::new(
            hash,
            NewCode {
                client_id: "c".into(),
                user_id: 7,
                redirect_uri: REDIRECT.into(),
                scope: Scope::parse("openid"),
                nonce: Some("n".into()),
                code_challenge: challenge
                    .then(|| CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap()),
                auth_time: t0(),
            },
            t0(),
            60,
        )
    }

    fn ok_request() -> Redemption<'static> {
        Redemption {
            client_id: "c",
            redirect_uri: Some(REDIRECT),
            code_verifier: Some(VERIFIER),
        }
    }

    #[test]
    fn codes_are_random_and_hashed() {
        let mut rng = StdRng::seed_from_u64(1);
        let (a, ha) = generate(&mut rng);
        let (b, hb) = generate(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(CodeHash::of(&a), ha);
        assert_ne!(ha, hb);
        assert_eq!(ha.to_hex().len(), 64);
    }

    #[test]
    fn lifetime_is_capped_at_ten_minutes() {
        let (_, hash) = generate(&mut StdRng::seed_from_u64(2));
        let mut r = record(false);
        r = CodeRecord::new(
            hash,
            NewCode {
                client_id: r.client_id,
                user_id: r.user_id,
                redirect_uri: r.redirect_uri,
                scope: r.scope,
                nonce: None,
                code_challenge: None,
                auth_time: r.auth_time,
            },
            t0(),
            86_400,
        );
        assert_eq!(r.expires_at - r.created_at, Duration::seconds(600));
    }

    #[test]
    fn checks_in_order() {
        let now = t0() + Duration::seconds(10);
        let r = record(true);
        assert_eq!(redeem(Some(&r), ok_request(), now), Ok(()));
        assert_eq!(redeem(None, ok_request(), now), Err(RedeemError::NotFound));

        let mut used = r.clone();
        used.used_at = Some(now);
        // Reuse wins over every later check, even when the code has expired since.
        assert_eq!(
            redeem(Some(&used), ok_request(), t0() + Duration::days(1)),
            Err(RedeemError::Reused)
        );
        assert_eq!(
            redeem(Some(&r), ok_request(), t0() + Duration::seconds(60)),
            Err(RedeemError::Expired)
        );
        let wrong = |f: fn(&mut Redemption<'static>)| {
            let mut req = ok_request();
            f(&mut req);
            redeem(Some(&r), req, now)
        };
        assert_eq!(wrong(|q| q.client_id = "d"), Err(RedeemError::WrongClient));
        for uri in [
            None,
            Some("https://app.test/cb/"),
            Some("https://app.test/cb?x"),
        ] {
            let mut req = ok_request();
            req.redirect_uri = uri;
            assert_eq!(
                redeem(Some(&r), req, now),
                Err(RedeemError::WrongRedirectUri)
            );
        }
        assert_eq!(
            wrong(|q| q.code_verifier = None),
            Err(RedeemError::VerifierMissing)
        );
        assert_eq!(
            wrong(|q| q.code_verifier = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK")),
            Err(RedeemError::VerifierMismatch)
        );
        assert_eq!(
            wrong(|q| q.code_verifier = Some(CHALLENGE)),
            Err(RedeemError::VerifierMismatch),
            "the challenge itself is not the verifier"
        );
        assert_eq!(
            wrong(|q| q.code_verifier = Some("short")),
            Err(RedeemError::VerifierMismatch)
        );

        // A confidential client without PKCE: no verifier expected, none accepted.
        let plain = record(false);
        let mut req = ok_request();
        req.code_verifier = None;
        assert_eq!(redeem(Some(&plain), req, now), Ok(()));
        assert_eq!(
            redeem(Some(&plain), ok_request(), now),
            Err(RedeemError::VerifierUnexpected)
        );
        assert_eq!(RedeemError::Reused.code().as_str(), "invalid_grant");
    }
}
