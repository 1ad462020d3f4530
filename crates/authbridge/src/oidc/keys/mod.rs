//! ID-token signing keys: generation, the public JWK (with its RFC 7638 thumbprint as `kid`),
//! signing and verifying. `sealing` keeps the private halves encrypted at rest; `set` holds the
//! rotation rules (which key signs, which are published).
//!
//! The JWK encoding and thumbprint are jsonwebtoken's (`Jwk::from_encoding_key`, `thumbprint`),
//! the same encoder that publishes SIMPLE_JWT's asymmetric key (`tokens::jws`).

mod sealing;
mod set;

pub use sealing::{KeySealer, SealError};
pub use set::{retired, retirements, KeyRecord, KeySet, KeyState, LoadedKey};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// The ID-token signing algorithms offered. RS256 first: it is the default of OpenID Connect and
/// the one every relying party (Auth.js among them) assumes without configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [Self::RS256, Self::EdDSA, Self::ES256];

    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the crypto backend could not generate a {0} key")]
    Generate(&'static str),
    #[error("stored {alg} key is not a valid PKCS#8 key: {reason}")]
    Invalid { alg: &'static str, reason: String },
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A private signing key with its public JWK. The PKCS#8 document is zeroized on drop; the copy
/// inside jsonwebtoken's `EncodingKey` is not (jsonwebtoken does not zeroize), which is why keys
/// are loaded once and kept, not re-parsed per request.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    pkcs8: Zeroizing<Vec<u8>>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key: RSA 2048 bits, P-256 or Ed25519.
    ///
    /// aws-lc-rs generates keys from its own system RNG and offers no way to hand it one; this is
    /// the one place the OIDC domain uses randomness it was not given.
    pub fn generate(alg: SigningAlg) -> Result<Self, KeyError> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let err = |_| KeyError::Generate(alg.name());
        let pkcs8: Vec<u8> = match alg {
            SigningAlg::RS256 => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(err)?;
                let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(err)?;
                der.as_ref().to_vec()
            }
            SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|p| p.to_pkcs8v1())
                .map_err(err)?
                .as_ref()
                .to_vec(),
            // PKCS#8 v1 (no public key inside): the 48-byte form jsonwebtoken's JWK encoder reads.
            SigningAlg::EdDSA => Ed25519KeyPair::generate()
                .and_then(|p| p.to_pkcs8v1())
                .map_err(err)?
                .as_ref()
                .to_vec(),
        };
        Self::from_pkcs8(alg, Zeroizing::new(pkcs8))
    }

    /// A key from its PKCS#8 document (as generated, or as unsealed from storage).
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, KeyError> {
        let invalid = |e: jsonwebtoken::errors::Error| KeyError::Invalid {
            alg: alg.name(),
            reason: e.to_string(),
        };
        // jsonwebtoken reads PKCS#8 through PEM (its DER constructors want PKCS#1 for RSA).
        let pem = pem_private_key(&pkcs8);
        let encoding = match alg {
            SigningAlg::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            SigningAlg::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            SigningAlg::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        }
        .map_err(invalid)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt()).map_err(invalid)?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(invalid)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(invalid)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            alg,
            kid,
            pkcs8,
            encoding,
            decoding,
            jwk,
        })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key: stable across restarts and instances,
    /// so every instance names a shared key the same way.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key, for sealing before it is stored.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public JWK: `kty`, `crv`/`n`/`e`/`x`/`y`, `kid`, `alg`, `use: "sig"`.
    pub fn public_jwk(&self) -> Value {
        serde_json::to_value(&self.jwk).unwrap_or(Value::Null)
    }

    /// A compact JWS over `claims`, header `{"typ":"JWT","alg":…,"kid":…}` and nothing else (no
    /// `crit`: oauth4webapi refuses any).
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// The claims of a token this key signed, signature and algorithm checked. Time-based claims
    /// are not checked here: see `claims::check_id_token`, which takes `now`.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != self.alg.jwt() || header.kid.as_deref() != Some(&self.kid) {
            return None;
        }
        let mut validation = Validation::new(self.alg.jwt());
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

fn pem_private_key(der: &[u8]) -> Zeroizing<String> {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut pem = Zeroizing::new(String::with_capacity(body.len() + 80));
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn claims() -> Map<String, Value> {
        serde_json::json!({"iss": "https://auth.test", "sub": "7"})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn each_algorithm_signs_verifies_and_publishes_its_jwk() {
        for alg in SigningAlg::ALL {
            let key = SigningKey::generate(alg).unwrap();
            let token = key.sign(&claims()).unwrap();
            let header: Value = serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(token.split('.').next().unwrap())
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], key.kid());
            assert!(header.get("crit").is_none());
            assert_eq!(key.verify(&token), Some(claims()));

            let jwk = key.public_jwk();
            assert_eq!(jwk["kid"], key.kid());
            assert_eq!(jwk["alg"], alg.name());
            assert_eq!(jwk["use"], "sig");
            assert!(jwk.get("d").is_none(), "no private part: {jwk}");
            match alg {
                SigningAlg::RS256 => {
                    assert_eq!(jwk["kty"], "RSA");
                    assert_eq!(jwk["e"], "AQAB");
                    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
                    assert_eq!(n.len(), 256, "2048 bits, no leading zero");
                    assert!(n[0] >= 0x80);
                }
                SigningAlg::ES256 => {
                    assert_eq!(
                        (jwk["kty"].as_str(), jwk["crv"].as_str()),
                        (Some("EC"), Some("P-256"))
                    );
                    for c in ["x", "y"] {
                        let v = URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
                        assert_eq!(v.len(), 32);
                    }
                }
                SigningAlg::EdDSA => {
                    assert_eq!(
                        (jwk["kty"].as_str(), jwk["crv"].as_str()),
                        (Some("OKP"), Some("Ed25519"))
                    );
                }
            }

            // The same key reloaded from its PKCS#8 keeps its kid and verifies the old token.
            let again = SigningKey::from_pkcs8(alg, Zeroizing::new(key.pkcs8().to_vec())).unwrap();
            assert_eq!(again.kid(), key.kid());
            assert_eq!(again.verify(&token), Some(claims()));
            // Another key of the same algorithm does not.
            let other = SigningKey::generate(alg).unwrap();
            assert_ne!(other.kid(), key.kid());
            assert_eq!(other.verify(&token), None);
        }
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let key = SigningKey::generate(SigningAlg::EdDSA).unwrap();
        let token = key.sign(&claims()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://auth.test","sub":"8"}"#);
        assert_eq!(key.verify(&parts.join(".")), None);
        assert_eq!(key.verify("not.a.token"), None);
    }

    /// RFC 7638 §3.1 (RSA) and RFC 8037 Appendix A.3 (Ed25519): the kid is jsonwebtoken's
    /// thumbprint, which must match the RFCs' vectors.
    #[test]
    fn thumbprints_match_the_rfc_vectors() {
        let rsa: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            rsa.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let ed: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }))
        .unwrap();
        assert_eq!(
            ed.thumbprint(ThumbprintHash::SHA256).unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn garbage_is_not_a_key() {
        let err = SigningKey::from_pkcs8(SigningAlg::RS256, Zeroizing::new(vec![1, 2, 3]));
        assert!(matches!(err, Err(KeyError::Invalid { .. })));
        // An Ed25519 document is not an RSA key.
        let ed = SigningKey::generate(SigningAlg::EdDSA).unwrap();
        let err = SigningKey::from_pkcs8(SigningAlg::RS256, Zeroizing::new(ed.pkcs8().to_vec()));
        assert!(err.is_err());
    }
}
