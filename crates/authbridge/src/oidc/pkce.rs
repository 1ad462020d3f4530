//! PKCE (RFC 7636), S256 only: `plain` sends the verifier itself through the browser, so it
//! protects nothing OAuth 2.1 and RFC 9700 care about, and it is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method must be S256")]
    UnsupportedMethod,
    #[error("code_challenge must be 43 base64url characters (S256)")]
    InvalidChallenge,
    #[error("code_verifier must be 43 to 128 unreserved characters")]
    InvalidVerifier,
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`, 43 to 128 of them (RFC 7636 §4.1).
fn is_verifier_syntax(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A challenge as received at the authorization endpoint, method checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// `method`: the `code_challenge_method` parameter. Absent means `plain` (RFC 7636 §4.3),
    /// which is refused like an explicit `plain`.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, PkceError> {
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        // An S256 challenge is BASE64URL(SHA-256(verifier)): exactly 43 characters, canonical.
        let canonical = challenge.len() == 43
            && URL_SAFE_NO_PAD
                .decode(challenge)
                .is_ok_and(|d| d.len() == 32);
        if !canonical {
            return Err(PkceError::InvalidChallenge);
        }
        Ok(Self(challenge.to_string()))
    }

    /// A challenge read back from storage (already checked when it was received).
    pub fn from_stored(challenge: String) -> Self {
        Self(challenge)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` (from the token request) hashes to this challenge, compared in
    /// constant time.
    pub fn verify(&self, verifier: &str) -> Result<bool, PkceError> {
        if !is_verifier_syntax(verifier) {
            return Err(PkceError::InvalidVerifier);
        }
        let computed = s256(verifier);
        Ok(computed.as_bytes().ct_eq(self.0.as_bytes()).into())
    }
}

/// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert_eq!(c.verify(VERIFIER), Ok(true));
        let other = format!("{}A", &VERIFIER[..42]);
        assert_eq!(c.verify(&other), Ok(false));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        for method in [None, Some("plain"), Some("s256"), Some("S512")] {
            assert_eq!(
                CodeChallenge::parse(CHALLENGE, method),
                Err(PkceError::UnsupportedMethod)
            );
        }
    }

    #[test]
    fn challenge_syntax() {
        for bad in [
            "",
            &CHALLENGE[..42],
            &format!("{CHALLENGE}A"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM",
            // The last character carries two spare bits: a non-canonical spelling.
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
        ] {
            assert_eq!(
                CodeChallenge::parse(bad, Some("S256")),
                Err(PkceError::InvalidChallenge),
                "{bad}"
            );
        }
    }

    #[test]
    fn verifier_syntax() {
        let c = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        for bad in [
            "short".to_string(),
            "a".repeat(42),
            "a".repeat(129),
            format!("{}!", "a".repeat(43)),
            format!("{} ", "a".repeat(43)),
            format!("{}é", "a".repeat(43)),
        ] {
            assert_eq!(c.verify(&bad), Err(PkceError::InvalidVerifier), "{bad}");
        }
        assert_eq!(c.verify(&"a-._~".repeat(9)), Ok(false));
        assert_eq!(c.verify(&"a".repeat(128)), Ok(false));
    }
}
