//! The `[simple_jwt]` section: simplejwt's own setting names and defaults (5.5.1), so a Django
//! developer can copy their `SIMPLE_JWT` dict. Lifetimes are seconds (or `"5m"`, `"1d"`,
//! `"0:05:00"`, `"1 day, 0:00:00"`).

use super::{ConfigError, RawValue};
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

#[derive(Debug, Clone)]
pub struct SimpleJwt {
    pub access_token_lifetime: i64,
    pub refresh_token_lifetime: i64,
    pub rotate_refresh_tokens: bool,
    pub blacklist_after_rotation: bool,
    pub update_last_login: bool,
    pub algorithm: Algorithm,
    /// `None` means Django's SECRET_KEY (simplejwt's default).
    pub signing_key: Option<SecretString>,
    pub verifying_key: Option<String>,
    /// `kid` put in the JWKS (and in token headers) for asymmetric algorithms.
    pub signing_key_id: Option<String>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub leeway: i64,
    pub user_id_field: String,
    pub user_id_claim: String,
    pub token_type_claim: String,
    pub jti_claim: String,
    pub check_user_is_active: bool,
    pub auth_header_types: Vec<String>,
    pub auth_header_name: String,
    pub check_revoke_token: bool,
    pub revoke_token_claim: String,
    /// authbridge's own: seconds an already-rotated refresh token still yields its successor.
    pub refresh_token_grace_period: i64,
}

impl Default for SimpleJwt {
    fn default() -> Self {
        Self {
            access_token_lifetime: 5 * 60,
            refresh_token_lifetime: 24 * 3600,
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            update_last_login: false,
            algorithm: Algorithm::HS256,
            signing_key: None,
            verifying_key: None,
            signing_key_id: None,
            audience: None,
            issuer: None,
            leeway: 0,
            user_id_field: "id".into(),
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            check_user_is_active: true,
            auth_header_types: vec!["Bearer".into()],
            auth_header_name: "HTTP_AUTHORIZATION".into(),
            check_revoke_token: false,
            revoke_token_claim: "hash_password".into(),
            refresh_token_grace_period: 10,
        }
    }
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

impl SimpleJwt {
    /// Every key this section accepts, for error messages and docs.
    pub const KEYS: &'static [&'static str] = &[
        "ACCESS_TOKEN_LIFETIME",
        "REFRESH_TOKEN_LIFETIME",
        "ROTATE_REFRESH_TOKENS",
        "BLACKLIST_AFTER_ROTATION",
        "UPDATE_LAST_LOGIN",
        "ALGORITHM",
        "SIGNING_KEY",
        "VERIFYING_KEY",
        "SIGNING_KEY_ID",
        "AUDIENCE",
        "ISSUER",
        "LEEWAY",
        "USER_ID_FIELD",
        "USER_ID_CLAIM",
        "TOKEN_TYPE_CLAIM",
        "JTI_CLAIM",
        "CHECK_USER_IS_ACTIVE",
        "AUTH_HEADER_TYPES",
        "AUTH_HEADER_NAME",
        "CHECK_REVOKE_TOKEN",
        "REVOKE_TOKEN_CLAIM",
        "REFRESH_TOKEN_GRACE_PERIOD",
    ];

    pub fn set(&mut self, key: &str, value: &RawValue) -> Result<(), ConfigError> {
        let name = format!("SIMPLE_JWT.{key}");
        match key {
            "ACCESS_TOKEN_LIFETIME" => self.access_token_lifetime = value.duration(&name)?,
            "REFRESH_TOKEN_LIFETIME" => self.refresh_token_lifetime = value.duration(&name)?,
            "ROTATE_REFRESH_TOKENS" => self.rotate_refresh_tokens = value.boolean(&name)?,
            "BLACKLIST_AFTER_ROTATION" => self.blacklist_after_rotation = value.boolean(&name)?,
            "UPDATE_LAST_LOGIN" => self.update_last_login = value.boolean(&name)?,
            "ALGORITHM" => {
                let s = value.string(&name)?;
                self.algorithm = Algorithm::parse(&s).ok_or_else(|| ConfigError::Invalid {
                    key: name.clone(),
                    reason: format!(
                        "{s:?} is not supported; use HS256, HS384, HS512, EdDSA, ES256 or RS256"
                    ),
                })?;
            }
            "SIGNING_KEY" => {
                self.signing_key = value.optional_string(&name)?.map(SecretString::from)
            }
            "VERIFYING_KEY" => self.verifying_key = value.optional_string(&name)?,
            "SIGNING_KEY_ID" => self.signing_key_id = value.optional_string(&name)?,
            "AUDIENCE" => self.audience = value.optional_string(&name)?,
            "ISSUER" => self.issuer = value.optional_string(&name)?,
            "LEEWAY" => self.leeway = value.duration(&name)?,
            "USER_ID_FIELD" => {
                let s = value.string(&name)?;
                if s != "id" {
                    return Err(ConfigError::Invalid {
                        key: name,
                        reason: "only the integer primary key \"id\" is supported".into(),
                    });
                }
                self.user_id_field = s;
            }
            "USER_ID_CLAIM" => self.user_id_claim = value.string(&name)?,
            "TOKEN_TYPE_CLAIM" => self.token_type_claim = value.string(&name)?,
            "JTI_CLAIM" => self.jti_claim = value.string(&name)?,
            "CHECK_USER_IS_ACTIVE" => self.check_user_is_active = value.boolean(&name)?,
            "AUTH_HEADER_TYPES" => self.auth_header_types = value.string_list(&name)?,
            "AUTH_HEADER_NAME" => self.auth_header_name = value.string(&name)?,
            "CHECK_REVOKE_TOKEN" => self.check_revoke_token = value.boolean(&name)?,
            "REVOKE_TOKEN_CLAIM" => self.revoke_token_claim = value.string(&name)?,
            "REFRESH_TOKEN_GRACE_PERIOD" => {
                self.refresh_token_grace_period = value.duration(&name)?
            }
            k if UNSUPPORTED.contains(&k) => {
                return Err(ConfigError::Invalid {
                    key: name,
                    reason: "is a simplejwt setting that authbridge does not support".into(),
                })
            }
            _ => return Err(ConfigError::UnknownKey(name)),
        }
        Ok(())
    }

    /// Cross-field checks once every source is applied.
    pub fn validate(&self) -> Result<(), ConfigError> {
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
        let mut s = SimpleJwt::default();
        let err = s
            .set("ACESS_TOKEN_LIFETIME", &RawValue::Env("3".into()))
            .unwrap_err();
        assert!(err.to_string().contains("ACESS_TOKEN_LIFETIME"), "{err}");
        let err = s
            .set("JWK_URL", &RawValue::Env("http://x".into()))
            .unwrap_err();
        assert!(err.to_string().contains("JWK_URL"), "{err}");
    }
}
