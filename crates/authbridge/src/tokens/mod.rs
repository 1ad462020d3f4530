//! simplejwt's token rules (5.5.1): what a refresh and an access token contain, how an access token
//! is derived from a refresh token, how rotation changes a refresh token, and the checks each token
//! class runs after decoding. Pure: time and randomness come in as arguments.

#[cfg(test)]
mod fuzz;
pub mod jws;

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use serde_json::{Map, Value};

pub use jws::{ClaimRules, DecodeError, KeyError, Keys};

use crate::config::SimpleJwt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenType {
    Access,
    Refresh,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// simplejwt's `TokenError` messages, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token is invalid")]
    Invalid,
    #[error("Token is expired")]
    Expired,
    #[error("Token has no '{0}' claim")]
    MissingClaim(String),
    #[error("Token has no id")]
    NoId,
    #[error("Token has no type")]
    NoType,
    #[error("Token has wrong type")]
    WrongType,
    #[error("Token is blacklisted")]
    Blacklisted,
}

impl From<DecodeError> for TokenError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Expired => Self::Expired,
            DecodeError::Invalid => Self::Invalid,
        }
    }
}

/// A decoded or freshly built token: its claims in simplejwt's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub claims: Map<String, Value>,
}

impl Token {
    pub fn jti<'a>(&'a self, rules: &TokenRules) -> Option<&'a str> {
        self.claims.get(&rules.jti_claim).and_then(Value::as_str)
    }

    pub fn exp(&self) -> Option<i64> {
        self.claims.get("exp").and_then(jws::int_claim)
    }

    /// The `user_id` claim as an integer primary key ("9" and 9 both work, as Django's ORM coerces).
    pub fn user_id(&self, rules: &TokenRules) -> UserIdClaim {
        match self.claims.get(&rules.user_id_claim) {
            None => UserIdClaim::Absent,
            Some(v) => match jws::int_claim(v) {
                Some(id) if !v.is_boolean() => UserIdClaim::Id(id),
                _ => UserIdClaim::Unparseable,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdClaim {
    Absent,
    /// Present but not an integer: no user can match it.
    Unparseable,
    Id(i64),
}

/// The parts of `SIMPLE_JWT` that shape tokens.
#[derive(Debug, Clone)]
pub struct TokenRules {
    pub access_lifetime: i64,
    pub refresh_lifetime: i64,
    pub user_id_claim: String,
    pub token_type_claim: String,
    pub jti_claim: String,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub leeway: i64,
}

impl From<&SimpleJwt> for TokenRules {
    fn from(s: &SimpleJwt) -> Self {
        Self {
            access_lifetime: s.access_token_lifetime,
            refresh_lifetime: s.refresh_token_lifetime,
            user_id_claim: s.user_id_claim.clone(),
            token_type_claim: s.token_type_claim.clone(),
            jti_claim: s.jti_claim.clone(),
            audience: s.audience.clone(),
            issuer: s.issuer.clone(),
            leeway: s.leeway,
        }
    }
}

/// simplejwt's jti: `uuid4().hex`.
pub fn new_jti<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    hex::encode(b)
}

pub fn epoch_to_datetime(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl TokenRules {
    pub fn claim_rules(&self) -> ClaimRules {
        ClaimRules {
            leeway: self.leeway,
            audience: self.audience.clone(),
            issuer: self.issuer.clone(),
        }
    }

    /// `Token.__init__` for a new token: token_type, exp, iat, jti in that order.
    fn new_token<R: Rng + ?Sized>(
        &self,
        ty: TokenType,
        lifetime: i64,
        now: i64,
        rng: &mut R,
    ) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert(self.token_type_claim.clone(), Value::from(ty.as_str()));
        claims.insert("exp".into(), Value::from(now + lifetime));
        claims.insert("iat".into(), Value::from(now));
        claims.insert(self.jti_claim.clone(), Value::from(new_jti(rng)));
        claims
    }

    /// `RefreshToken.for_user(user)`: `user_id` is a string in simplejwt 5.5.1.
    pub fn refresh_for_user<R: Rng + ?Sized>(&self, user_id: i64, now: i64, rng: &mut R) -> Token {
        self.refresh_for_user_with(user_id, Map::new(), now, rng)
    }

    /// `for_user` plus claims set on the token before it is encoded (simplejwt's
    /// `hash_password`, or a `get_token` override's): they follow `user_id` and precede the
    /// `aud` / `iss` the backend appends at encode time.
    pub fn refresh_for_user_with<R: Rng + ?Sized>(
        &self,
        user_id: i64,
        extra: Map<String, Value>,
        now: i64,
        rng: &mut R,
    ) -> Token {
        let mut claims = self.new_token(TokenType::Refresh, self.refresh_lifetime, now, rng);
        claims.insert(self.user_id_claim.clone(), Value::from(user_id.to_string()));
        claims.extend(extra);
        self.append_registered(&mut claims);
        Token { claims }
    }

    /// `RefreshToken.access_token`: a new access token, with every other claim of the refresh
    /// token copied after its own four. `now` is the refresh token's `current_time`.
    pub fn access_from_refresh<R: Rng + ?Sized>(
        &self,
        refresh: &Token,
        now: i64,
        rng: &mut R,
    ) -> Token {
        let mut claims = self.new_token(TokenType::Access, self.access_lifetime, now, rng);
        let skip = [self.token_type_claim.as_str(), "exp", "jti", "iat"];
        for (k, v) in &refresh.claims {
            if !skip.contains(&k.as_str()) {
                claims.insert(k.clone(), v.clone());
            }
        }
        self.append_registered(&mut claims);
        Token { claims }
    }

    /// Rotation: new jti, exp = now + REFRESH_TOKEN_LIFETIME (a sliding window), iat = now; every
    /// other claim kept in place.
    pub fn rotate<R: Rng + ?Sized>(&self, refresh: &Token, now: i64, rng: &mut R) -> Token {
        let mut claims = refresh.claims.clone();
        claims.insert(self.jti_claim.clone(), Value::from(new_jti(rng)));
        claims.insert("exp".into(), Value::from(now + self.refresh_lifetime));
        claims.insert("iat".into(), Value::from(now));
        Token { claims }
    }

    /// simplejwt's backend appends `aud` / `iss` at encode time when configured.
    fn append_registered(&self, claims: &mut Map<String, Value>) {
        if let Some(aud) = &self.audience {
            claims.insert("aud".into(), Value::from(aud.as_str()));
        }
        if let Some(iss) = &self.issuer {
            claims.insert("iss".into(), Value::from(iss.as_str()));
        }
    }

    /// `Token.verify()` after decoding: exp present and not past (with leeway), jti present, and
    /// the token type when `expected` is given (`UntypedToken` passes `None`).
    pub fn verify(
        &self,
        token: &Token,
        expected: Option<TokenType>,
        now: i64,
    ) -> Result<(), TokenError> {
        let exp = token
            .claims
            .get("exp")
            .ok_or_else(|| TokenError::MissingClaim("exp".into()))?;
        // simplejwt's `check_exp` reads it with `datetime.fromtimestamp`, which takes numbers
        // only: a numeric string that PyJWT let through makes Django answer 500. Refused here.
        let exp = match exp {
            Value::Number(_) | Value::Bool(_) => jws::int_claim(exp),
            _ => None,
        }
        .ok_or(TokenError::Invalid)?;
        if exp <= now - self.leeway {
            return Err(TokenError::Expired);
        }
        if !token.claims.contains_key(&self.jti_claim) {
            return Err(TokenError::NoId);
        }
        if let Some(expected) = expected {
            match token.claims.get(&self.token_type_claim) {
                None => return Err(TokenError::NoType),
                Some(t) if t.as_str() == Some(expected.as_str()) => {}
                Some(_) => return Err(TokenError::WrongType),
            }
        }
        Ok(())
    }
}

/// Keys plus rules: everything needed to mint and check simplejwt tokens.
pub struct TokenService {
    pub keys: Keys,
    pub rules: TokenRules,
}

impl TokenService {
    pub fn encode(&self, token: &Token) -> Result<String, jsonwebtoken::errors::Error> {
        self.keys.encode(&token.claims)
    }

    /// Signature and PyJWT claim checks (the token backend's `decode`).
    pub fn decode(&self, raw: &str, now: i64) -> Result<Token, TokenError> {
        let claims = self.keys.decode(raw, &self.rules.claim_rules(), now)?;
        Ok(Token { claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Algorithm;
    use secrecy::SecretString;

    fn service(alg: Algorithm, key: &str) -> TokenService {
        let settings = SimpleJwt::default();
        TokenService {
            keys: Keys::new(alg, &SecretString::from(key.to_string()), None, None).unwrap(),
            rules: TokenRules::from(&settings),
        }
    }

    fn b64json(part: &str) -> String {
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn refresh_and_access_have_simplejwts_exact_shape() {
        let svc = service(Algorithm::HS256, "secret-key-for-tests-0123456789ab");
        let mut rng = rand::rng();
        let refresh = svc.rules.refresh_for_user(9, 1_795_745_862, &mut rng);
        let raw = svc.encode(&refresh).unwrap();
        let parts: Vec<&str> = raw.split('.').collect();
        assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
        let payload = b64json(parts[1]);
        let jti = refresh.jti(&svc.rules).unwrap();
        assert_eq!(
            payload,
            format!(
                r#"{{"token_type":"refresh","exp":1795832262,"iat":1795745862,"jti":"{jti}","user_id":"9"}}"#
            )
        );
        assert_eq!(jti.len(), 32);
        assert_eq!(&jti[12..13], "4");

        let access = svc
            .rules
            .access_from_refresh(&refresh, 1_795_745_862, &mut rng);
        let payload = b64json(svc.encode(&access).unwrap().split('.').nth(1).unwrap());
        let ajti = access.jti(&svc.rules).unwrap();
        assert_ne!(ajti, jti);
        assert_eq!(
            payload,
            format!(
                r#"{{"token_type":"access","exp":1795746162,"iat":1795745862,"jti":"{ajti}","user_id":"9"}}"#
            )
        );
    }

    #[test]
    fn verifies_a_token_minted_by_simplejwt() {
        // From the wire probe: signed by the anchor's key, so only the claims check is exercised
        // here through `verify`; decoding with a wrong key must fail as invalid.
        let raw = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTgzMjI2MiwiaWF0IjoxNzk1NzQ1ODYyLCJqdGkiOiJkMDE1MTViZTQ0MzM0MWYwOTA1NzFiMDVhNjIxN2U0NCIsInVzZXJfaWQiOiI5In0.sKruTh-EvRPfw5Qr8iaRl9ITTC7mHtYHVDzqIgBQZCA";
        let svc = service(Algorithm::HS256, "not-the-anchor-key");
        assert_eq!(svc.decode(raw, 1_795_745_900), Err(TokenError::Invalid));
    }

    #[test]
    fn rotation_keeps_claims_in_place_and_slides_exp() {
        let svc = service(Algorithm::HS256, "k");
        let mut rng = rand::rng();
        let mut refresh = svc.rules.refresh_for_user(3, 1000, &mut rng);
        refresh
            .claims
            .insert("extra_claim".into(), Value::from("kept"));
        let rotated = svc.rules.rotate(&refresh, 5000, &mut rng);
        let keys: Vec<_> = rotated.claims.keys().cloned().collect();
        assert_eq!(
            keys,
            ["token_type", "exp", "iat", "jti", "user_id", "extra_claim"]
        );
        assert_eq!(rotated.exp(), Some(5000 + 86400));
        let access = svc.rules.access_from_refresh(&rotated, 5000, &mut rng);
        assert_eq!(access.claims.get("extra_claim"), Some(&Value::from("kept")));
    }

    #[test]
    fn decode_rules_follow_pyjwt() {
        let svc = service(Algorithm::HS256, "k");
        let mut rng = rand::rng();
        let now = 10_000;
        let mk = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut t = svc.rules.refresh_for_user(1, now, &mut rand::rng());
            f(&mut t.claims);
            svc.encode(&t).unwrap()
        };
        assert!(svc.decode(&mk(&|_| {}), now).is_ok());
        assert_eq!(
            svc.decode(
                &mk(&|c| {
                    c.insert("exp".into(), now.into());
                }),
                now
            ),
            Err(TokenError::Expired)
        );
        assert_eq!(
            svc.decode(
                &mk(&|c| {
                    c.insert("iat".into(), (now + 5).into());
                }),
                now
            ),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            svc.decode(
                &mk(&|c| {
                    c.insert("nbf".into(), (now + 5).into());
                }),
                now
            ),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            svc.decode(
                &mk(&|c| {
                    c.insert("jti".into(), 5.into());
                }),
                now
            ),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            svc.decode(
                &mk(&|c| {
                    c.insert("sub".into(), 5.into());
                }),
                now
            ),
            Err(TokenError::Invalid)
        );
        assert!(svc
            .decode(
                &mk(&|c| {
                    c.insert("aud".into(), "x".into());
                }),
                now
            )
            .is_ok());
        let no_exp = svc
            .decode(
                &mk(&|c| {
                    c.remove("exp");
                }),
                now,
            )
            .unwrap();
        assert_eq!(
            svc.rules.verify(&no_exp, None, now),
            Err(TokenError::MissingClaim("exp".into()))
        );
        let no_jti = svc
            .decode(
                &mk(&|c| {
                    c.remove("jti");
                }),
                now,
            )
            .unwrap();
        assert_eq!(svc.rules.verify(&no_jti, None, now), Err(TokenError::NoId));
        let refresh = svc.decode(&mk(&|_| {}), now).unwrap();
        assert_eq!(
            svc.rules.verify(&refresh, Some(TokenType::Access), now),
            Err(TokenError::WrongType)
        );
        assert_eq!(
            svc.rules.verify(&refresh, Some(TokenType::Refresh), now),
            Ok(())
        );
        // A numeric-string `exp`: PyJWT lets it through, simplejwt's check would crash (Django
        // answers 500); refused as invalid here. Already expired, PyJWT says so first.
        let string_exp = mk(&|c| {
            c.insert("exp".into(), Value::from((now + 100).to_string()));
        });
        let t = svc.decode(&string_exp, now).unwrap();
        assert_eq!(
            svc.rules.verify(&t, Some(TokenType::Refresh), now),
            Err(TokenError::Invalid)
        );
        let old_string_exp = mk(&|c| {
            c.insert("exp".into(), Value::from((now - 100).to_string()));
        });
        assert_eq!(svc.decode(&old_string_exp, now), Err(TokenError::Expired));
        // alg none and another HMAC size are rejected.
        let t = svc.rules.refresh_for_user(1, now, &mut rng);
        let hs512 = service(Algorithm::HS512, "k").encode(&t).unwrap();
        assert_eq!(svc.decode(&hs512, now), Err(TokenError::Invalid));
        let parts: Vec<&str> = hs512.split('.').collect();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
        assert_eq!(svc.decode(&none, now), Err(TokenError::Invalid));
        assert_eq!(svc.decode("abc", now), Err(TokenError::Invalid));
        // PyJWT 2.15 accepts the padding that completes a quartet, nothing else.
        let padded = format!("{}=", mk(&|_| {}));
        assert!(svc.decode(&padded, now).is_ok());
        let over_padded = format!("{}==", mk(&|_| {}));
        assert_eq!(svc.decode(&over_padded, now), Err(TokenError::Invalid));
        let wrong = format!("{}A=", &mk(&|_| {})[..]);
        assert_eq!(svc.decode(&wrong, now), Err(TokenError::Invalid));
        assert_eq!(svc.decode("", now), Err(TokenError::Invalid));
    }

    #[test]
    fn asymmetric_keys_sign_verify_and_publish_jwks() {
        // Ed25519 test key (RFC 8037 A.1 secret) wrapped as PKCS#8.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        let keys = Keys::new(
            Algorithm::EdDSA,
            &SecretString::from(pem.to_string()),
            None,
            Some("k1".into()),
        )
        .unwrap();
        let svc = TokenService {
            keys,
            rules: TokenRules::from(&SimpleJwt::default()),
        };
        let t = svc.rules.refresh_for_user(1, 100, &mut rand::rng());
        let raw = svc.encode(&t).unwrap();
        assert!(svc.decode(&raw, 100).is_ok());
        let jwks = svc.keys.jwks().unwrap();
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(
            jwks["keys"][0]["x"],
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        assert_eq!(jwks["keys"][0]["kid"], "k1");
    }
}
