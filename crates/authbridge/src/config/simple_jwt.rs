//! The `[simple_jwt]` section: simplejwt's own setting names and defaults (5.5.1), so a Django
//! developer can copy their `SIMPLE_JWT` dict. Lifetimes are seconds (or `"5m"`, `"1d"`,
//! `"0:05:00"`, `"1 day, 0:00:00"`).

use super::schema::{section, Rules};
use super::{parse, ConfigError, RawValue};
use secrecy::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    ES256,
    EdDSA,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            "RS256" => Self::RS256,
            "ES256" => Self::ES256,
            "EdDSA" => Self::EdDSA,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
    pub fn is_symmetric(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }
}

section! {
    /// simplejwt's settings, by its own names and with its defaults.
    pub struct SimpleJwt {
        /// Seconds an access token lives.
        "ACCESS_TOKEN_LIFETIME" access_token_lifetime: i64 = 5 * 60, parse::seconds;
        /// Seconds a refresh token lives (each rotation extends it).
        "REFRESH_TOKEN_LIFETIME" refresh_token_lifetime: i64 = 24 * 3600, parse::seconds;
        /// A refresh also returns a new refresh token.
        "ROTATE_REFRESH_TOKENS" rotate_refresh_tokens: bool = false, parse::boolean;
        /// With rotation, the old refresh token is blacklisted (enables reuse detection).
        "BLACKLIST_AFTER_ROTATION" blacklist_after_rotation: bool = false, parse::boolean;
        /// A login updates `last_login`.
        "UPDATE_LAST_LOGIN" update_last_login: bool = false, parse::boolean;
        /// The signing algorithm.
        "ALGORITHM" algorithm: Algorithm = Algorithm::HS256, algorithm;
        /// `None` means Django's SECRET_KEY (simplejwt's default).
        "SIGNING_KEY" signing_key: Option<SecretString> = None, parse::secret;
        /// Public PEM (derived from the private key when unset).
        "VERIFYING_KEY" verifying_key: Option<String> = None, parse::optional_string;
        /// `kid` put in the JWKS (and in token headers) for asymmetric algorithms.
        "SIGNING_KEY_ID" signing_key_id: Option<String> = None, parse::optional_string;
        /// `aud` added to tokens and required on decode.
        "AUDIENCE" audience: Option<String> = None, parse::optional_string;
        /// `iss` added to tokens and required on decode.
        "ISSUER" issuer: Option<String> = None, parse::optional_string;
        /// Seconds of clock skew tolerated on decode.
        "LEEWAY" leeway: i64 = 0, parse::seconds;
        /// The user model's id field (only `id`).
        "USER_ID_FIELD" user_id_field: String = "id".into(), user_id_field;
        /// The claim holding the user id.
        "USER_ID_CLAIM" user_id_claim: String = "user_id".into(), parse::string;
        /// The claim holding the token type.
        "TOKEN_TYPE_CLAIM" token_type_claim: String = "token_type".into(), parse::string;
        /// The claim holding the token id.
        "JTI_CLAIM" jti_claim: String = "jti".into(), parse::string;
        /// Inactive users get no tokens and their tokens are refused.
        "CHECK_USER_IS_ACTIVE" check_user_is_active: bool = true, parse::boolean;
        /// Accepted `Authorization` schemes.
        "AUTH_HEADER_TYPES" auth_header_types: Vec<String> = vec!["Bearer".into()], parse::string_list;
        /// The header carrying the token, in Django's `META` spelling.
        "AUTH_HEADER_NAME" auth_header_name: String = "HTTP_AUTHORIZATION".into(), parse::string;
        /// Tokens carry a hash of the password and die when it changes.
        "CHECK_REVOKE_TOKEN" check_revoke_token: bool = false, parse::boolean;
        /// The claim holding that hash.
        "REVOKE_TOKEN_CLAIM" revoke_token_claim: String = "hash_password".into(), parse::string;
        /// authbridge's own: seconds an already-rotated refresh token still yields its successor.
        "REFRESH_TOKEN_GRACE_PERIOD" refresh_token_grace_period: i64 = 10, parse::seconds;
    }
}

fn algorithm(key: &str, value: &RawValue) -> Result<Algorithm, ConfigError> {
    let s = parse::string(key, value)?;
    Algorithm::parse(&s).ok_or_else(|| {
        parse::invalid(
            key,
            format!("{s:?} is not supported; use HS256, HS384, HS512, EdDSA, ES256 or RS256"),
        )
    })
}

fn user_id_field(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    if s != "id" {
        return Err(parse::invalid(
            key,
            "only the integer primary key \"id\" is supported",
        ));
    }
    Ok(s)
}

/// Settings simplejwt has that make no sense outside Python (class paths) or that authbridge
/// does not implement; naming them is an error that says so rather than silently ignoring them.
const UNSUPPORTED: &[&str] = &[
    "JSON_ENCODER",
    "JWK_URL",
    "USER_AUTHENTICATION_RULE",
    "AUTH_TOKEN_CLASSES",
    "TOKEN_USER_CLASS",
    "TOKEN_OBTAIN_SERIALIZER",
    "TOKEN_REFRESH_SERIALIZER",
    "TOKEN_VERIFY_SERIALIZER",
    "TOKEN_BLACKLIST_SERIALIZER",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    "SLIDING_TOKEN_REFRESH_SERIALIZER",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM",
    "SLIDING_TOKEN_LIFETIME",
    "SLIDING_TOKEN_REFRESH_LIFETIME",
];

impl Rules for SimpleJwt {
    fn refused(name: &str) -> Option<&'static str> {
        UNSUPPORTED
            .contains(&name)
            .then_some("is a simplejwt setting that authbridge does not support")
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.access_token_lifetime <= 0 || self.refresh_token_lifetime <= 0 {
            return Err(ConfigError::Invalid {
                key: "SIMPLE_JWT.*_TOKEN_LIFETIME".into(),
                reason: "lifetimes must be positive".into(),
            });
        }
        if !self.algorithm.is_symmetric() && self.signing_key.is_none() {
            return Err(ConfigError::Invalid {
                key: "SIMPLE_JWT.SIGNING_KEY".into(),
                reason: format!("{} needs a private key (PEM)", self.algorithm.name()),
            });
        }
        if self.auth_header_types.is_empty() {
            return Err(ConfigError::Invalid {
                key: "SIMPLE_JWT.AUTH_HEADER_TYPES".into(),
                reason: "needs at least one type".into(),
            });
        }
        Ok(())
    }
}

/// Parse a lifetime: integer seconds, `"<n>s|m|h|d"`, or Python's `str(timedelta)`
/// (`"0:05:00"`, `"1 day, 0:00:00"`, `"2 days, 1:00:00"`).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Some((num, unit)) = s.char_indices().last().map(|(i, c)| (&s[..i], c)) {
        if let Ok(n) = num.trim().parse::<i64>() {
            let mult = match unit {
                's' => Some(1),
                'm' => Some(60),
                'h' => Some(3600),
                'd' => Some(86400),
                _ => None,
            };
            if let Some(m) = mult {
                return n.checked_mul(m);
            }
        }
    }
    let (days, clock) = match s.split_once(',') {
        Some((d, rest)) => {
            let d = d.trim();
            let n = d.strip_suffix(" days").or_else(|| d.strip_suffix(" day"))?;
            (n.trim().parse::<i64>().ok()?, rest.trim())
        }
        None => (0, s),
    };
    let mut parts = clock.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: f64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(days * 86400 + h * 3600 + m * 60 + sec as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(300));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("1d"), Some(86400));
        assert_eq!(parse_duration("0:05:00"), Some(300));
        assert_eq!(parse_duration("1 day, 0:00:00"), Some(86400));
        assert_eq!(parse_duration("2 days, 1:00:00"), Some(2 * 86400 + 3600));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn unknown_and_unsupported_keys_are_named() {
        let load = |k: &str, v: &str| {
            super::super::Settings::load(None, [(k.to_string(), v.to_string())])
                .unwrap_err()
                .to_string()
        };
        let err = load("SIMPLE_JWT_ACESS_TOKEN_LIFETIME", "3");
        assert!(err.contains("ACESS_TOKEN_LIFETIME"), "{err}");
        assert_eq!(
            err,
            "unknown configuration key SIMPLE_JWT_ACESS_TOKEN_LIFETIME; did you mean \
             ACCESS_TOKEN_LIFETIME?"
        );
        let err = load("SIMPLE_JWT_JWK_URL", "http://x");
        assert!(
            err.contains("JWK_URL") && err.contains("does not support"),
            "{err}"
        );
    }
}
