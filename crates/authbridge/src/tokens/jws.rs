//! JWS compact encoding and decoding exactly as PyJWT does it for simplejwt: header
//! `{"alg":"HS256","typ":"JWT"}` (sorted keys, compact), compact claims in insertion order, and
//! PyJWT's claim validation (exp/iat/nbf with leeway, aud, iss, string sub/jti).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{crypto, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::config::Algorithm;

/// Signing and verifying keys for the configured algorithm.
#[derive(Clone)]
pub struct Keys {
    alg: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: Option<String>,
    /// Public JWK for asymmetric algorithms (published at the JWKS endpoint).
    public_jwk: Option<Jwk>,
    /// Precomputed `b64(header)` for encoding.
    header_b64: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("SIGNING_KEY is empty")]
    Empty,
    #[error("SIGNING_KEY / VERIFYING_KEY for {alg} is not a valid PEM key: {reason}")]
    Pem { alg: &'static str, reason: String },
}

fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        Algorithm::HS384 => jsonwebtoken::Algorithm::HS384,
        Algorithm::HS512 => jsonwebtoken::Algorithm::HS512,
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
    }
}

impl Keys {
    /// `signing_key`: the HMAC secret (UTF-8 bytes, as simplejwt) or a private PEM.
    /// `verifying_key`: optional public PEM for asymmetric algorithms (derived when absent).
    pub fn new(
        alg: Algorithm,
        signing_key: &SecretString,
        verifying_key: Option<&str>,
        kid: Option<String>,
    ) -> Result<Self, KeyError> {
        let secret = signing_key.expose_secret().as_bytes();
        if secret.is_empty() {
            return Err(KeyError::Empty);
        }
        let pem_err = |e: jsonwebtoken::errors::Error| KeyError::Pem {
            alg: alg.name(),
            reason: e.to_string(),
        };
        let (encoding, decoding, public_jwk) = if alg.is_symmetric() {
            (
                EncodingKey::from_secret(secret),
                DecodingKey::from_secret(secret),
                None,
            )
        } else {
            let encoding = match alg {
                Algorithm::RS256 => EncodingKey::from_rsa_pem(secret),
                Algorithm::ES256 => EncodingKey::from_ec_pem(secret),
                _ => EncodingKey::from_ed_pem(secret),
            }
            .map_err(pem_err)?;
            let mut jwk = Jwk::from_encoding_key(&encoding, jwt_alg(alg)).map_err(pem_err)?;
            let decoding = match verifying_key {
                Some(pem) => match alg {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(pem.as_bytes()),
                    _ => DecodingKey::from_ed_pem(pem.as_bytes()),
                }
                .map_err(pem_err)?,
                None => DecodingKey::from_jwk(&jwk).map_err(pem_err)?,
            };
            jwk.common.key_id = kid.clone();
            jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
            (encoding, decoding, Some(jwk))
        };
        // PyJWT sorts header keys: alg, (kid,) typ.
        let header = match (&kid, alg.is_symmetric()) {
            (Some(kid), false) => {
                serde_json::json!({"alg": alg.name(), "kid": kid, "typ": "JWT"}).to_string()
            }
            _ => serde_json::json!({"alg": alg.name(), "typ": "JWT"}).to_string(),
        };
        Ok(Self {
            alg,
            encoding,
            decoding,
            kid,
            public_jwk,
            header_b64: URL_SAFE_NO_PAD.encode(header.as_bytes()),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The JWKS document (`{"keys":[...]}`), `None` for HMAC (a shared secret is never published).
    pub fn jwks(&self) -> Option<Value> {
        let jwk = self.public_jwk.as_ref()?;
        let jwk = serde_json::to_value(jwk).ok()?;
        Some(serde_json::json!({ "keys": [jwk] }))
    }

    /// Sign compact claims. Only fails if the crypto backend rejects the key, which `new` has
    /// already exercised.
    pub fn encode(
        &self,
        claims: &Map<String, Value>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let payload = serde_json::to_vec(claims).map_err(jsonwebtoken::errors::Error::from)?;
        let mut message = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 90);
        message.push_str(&self.header_b64);
        message.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut message);
        let signature = crypto::sign(message.as_bytes(), &self.encoding, jwt_alg(self.alg))?;
        message.push('.');
        message.push_str(&signature);
        Ok(message)
    }

    /// Verify the signature and decode the claims; validate them as PyJWT does.
    pub fn decode(
        &self,
        token: &str,
        rules: &ClaimRules,
        now: i64,
    ) -> Result<Map<String, Value>, DecodeError> {
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DecodeError::Invalid);
        };
        if s.contains('.') {
            return Err(DecodeError::Invalid);
        }
        let header_bytes = segment(h).ok_or(DecodeError::Invalid)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&header_bytes).map_err(|_| DecodeError::Invalid)?;
        if header.get("alg").and_then(Value::as_str) != Some(self.alg.name()) {
            return Err(DecodeError::Invalid);
        }
        if header.get("kid").is_some_and(|k| !k.is_string()) {
            return Err(DecodeError::Invalid);
        }
        check_critical(&header)?;
        let message_len = h.len() + 1 + p.len();
        let message = &token.as_bytes()[..message_len];
        let signature = segment(s).ok_or(DecodeError::Invalid)?;
        match crypto::verify(
            &URL_SAFE_NO_PAD.encode(signature),
            message,
            &self.decoding,
            jwt_alg(self.alg),
        ) {
            Ok(true) => {}
            _ => return Err(DecodeError::Invalid),
        }
        let payload = segment(p).ok_or(DecodeError::Invalid)?;
        let claims: Map<String, Value> =
            serde_json::from_slice(&payload).map_err(|_| DecodeError::Invalid)?;
        rules.validate(&claims, now)?;
        Ok(claims)
    }
}

/// One compact-serialization segment, decoded as PyJWT 2.15 does: the base64url alphabet only, at
/// most two trailing `=` and only where they complete a quartet, and the canonical spelling (no
/// stray trailing bits). So a token has exactly one spelling, bar that optional padding.
fn segment(text: &str) -> Option<Vec<u8>> {
    let stripped = text.trim_end_matches('=');
    let padding = text.len() - stripped.len();
    if padding > 2 || (padding > 0 && !text.len().is_multiple_of(4)) {
        return None;
    }
    // URL_SAFE_NO_PAD refuses other alphabets, padding and non-canonical trailing bits.
    URL_SAFE_NO_PAD.decode(stripped).ok()
}

/// RFC 7515 §4.1.11: a `crit` header must be a non-empty list of extensions the recipient
/// understands, and simplejwt understands none that change verification. `b64: false` (RFC 7797)
/// means a detached, unencoded payload, which a simplejwt token never has. PyJWT refuses both.
fn check_critical(header: &Map<String, Value>) -> Result<(), DecodeError> {
    if let Some(crit) = header.get("crit") {
        let Some(list) = crit.as_array().filter(|l| !l.is_empty()) else {
            return Err(DecodeError::Invalid);
        };
        // PyJWT knows `b64` only; listing it is harmless while `b64` stays true.
        if list.iter().any(|ext| ext.as_str() != Some("b64")) {
            return Err(DecodeError::Invalid);
        }
    }
    if header.get("b64") == Some(&Value::Bool(false)) {
        return Err(DecodeError::Invalid);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// PyJWT's `ExpiredSignatureError` ("Token is expired").
    #[error("Token is expired")]
    Expired,
    /// Every other PyJWT error ("Token is invalid").
    #[error("Token is invalid")]
    Invalid,
}

/// PyJWT's registered-claim checks with simplejwt's options.
#[derive(Debug, Clone, Default)]
pub struct ClaimRules {
    pub leeway: i64,
    pub audience: Option<String>,
    pub issuer: Option<String>,
}

/// PyJWT reads numeric claims with `int(...)`: ints, floats (truncated) and numeric strings pass.
pub fn int_claim(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

impl ClaimRules {
    fn validate(&self, claims: &Map<String, Value>, now: i64) -> Result<(), DecodeError> {
        let leeway = self.leeway;
        if let Some(iat) = claims.get("iat") {
            let iat = int_claim(iat).ok_or(DecodeError::Invalid)?;
            if iat > now + leeway {
                return Err(DecodeError::Invalid);
            }
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = int_claim(nbf).ok_or(DecodeError::Invalid)?;
            if nbf > now + leeway {
                return Err(DecodeError::Invalid);
            }
        }
        if let Some(exp) = claims.get("exp") {
            let exp = int_claim(exp).ok_or(DecodeError::Invalid)?;
            if exp <= now - leeway {
                return Err(DecodeError::Expired);
            }
        }
        if let Some(issuer) = &self.issuer {
            match claims.get("iss") {
                Some(Value::String(iss)) if iss == issuer => {}
                _ => return Err(DecodeError::Invalid),
            }
        }
        if let Some(audience) = &self.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => a == audience,
                Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(audience)),
                _ => false,
            };
            if !ok {
                return Err(DecodeError::Invalid);
            }
        }
        for claim in ["sub", "jti"] {
            if claims.get(claim).is_some_and(|v| !v.is_string()) {
                return Err(DecodeError::Invalid);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a-test-key-that-is-long-enough-for-hs256-0123456789";

    fn keys() -> Keys {
        Keys::new(
            Algorithm::HS256,
            &SecretString::from(KEY.to_string()),
            None,
            None,
        )
        .unwrap()
    }

    /// A token over exactly these header and payload texts, with a signature that can be respelled.
    fn token(header: &str, payload: &str, respell: impl Fn(&str, &[u8]) -> String) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(KEY.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&sig).unwrap();
        format!("{message}.{}", respell(&sig, &raw))
    }

    const PAYLOAD: &str = r#"{"token_type":"access","exp":4000000000,"jti":"j","user_id":"1"}"#;
    const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    fn decode(t: &str) -> Result<Map<String, Value>, DecodeError> {
        keys().decode(t, &ClaimRules::default(), 1_000)
    }

    #[test]
    fn critical_headers_are_refused_as_pyjwt_does() {
        let same = |s: &str, _: &[u8]| s.to_string();
        assert!(decode(&token(HEADER, PAYLOAD, same)).is_ok());
        for header in [
            r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
            r#"{"alg":"HS256","typ":"JWT","crit":["b64","x"],"x":1}"#,
            r#"{"alg":"HS256","typ":"JWT","crit":[]}"#,
            r#"{"alg":"HS256","typ":"JWT","crit":"b64"}"#,
            r#"{"alg":"HS256","typ":"JWT","crit":[1]}"#,
            r#"{"alg":"HS256","typ":"JWT","b64":false}"#,
            r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}"#,
        ] {
            assert_eq!(
                decode(&token(header, PAYLOAD, same)),
                Err(DecodeError::Invalid),
                "{header}"
            );
        }
        // Listing `b64` while it stays true changes nothing (PyJWT accepts it too).
        let benign = r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":true}"#;
        assert!(decode(&token(benign, PAYLOAD, same)).is_ok());
    }

    #[test]
    fn one_spelling_per_signature() {
        let ok = |t: String| assert!(decode(&t).is_ok(), "{t}");
        let bad = |t: String| assert_eq!(decode(&t), Err(DecodeError::Invalid), "{t}");
        ok(token(HEADER, PAYLOAD, |s, _| format!("{s}=")));
        bad(token(HEADER, PAYLOAD, |s, _| format!("{s}==")));
        bad(token(HEADER, PAYLOAD, |s, _| format!("{s}=a")));
        // The standard alphabet, where the signature has a `+` or `/` to show.
        bad(token(HEADER, PAYLOAD, |s, raw| {
            let std = base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw);
            if std == s {
                format!("{s}+")
            } else {
                std
            }
        }));
        // Non-canonical: 32 bytes leave 2 spare bits in the last character; set one.
        bad(token(HEADER, PAYLOAD, |s, _| {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = s.as_bytes()[s.len() - 1];
            let i = ALPHABET.iter().position(|c| *c == last).unwrap();
            format!("{}{}", &s[..s.len() - 1], ALPHABET[i ^ 1] as char)
        }));
        bad(token(HEADER, PAYLOAD, |s, _| {
            format!("{}!{}", &s[..5], &s[5..])
        }));
        bad(token(HEADER, PAYLOAD, |s, _| format!("{} ", s)));
    }

    #[test]
    fn segment_decoding() {
        assert_eq!(segment("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(segment("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(segment("YQ="), None);
        assert_eq!(segment("YQ==="), None);
        assert_eq!(segment("YR"), None, "non-canonical trailing bits");
        assert_eq!(segment("Y"), None);
        assert_eq!(segment("+/8"), None);
        assert_eq!(segment("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
        assert_eq!(segment("").as_deref(), Some(&b""[..]));
    }
}
