//! Configuration: a TOML file whose keys are the ecosystem's own names, overridden by environment
//! variables of the same names. Top-level keys are env names (`DATABASE_URL`, `DJANGO_SECRET_KEY`,
//! `AUTH_SECRET`, ...); `[simple_jwt]` holds simplejwt's setting names, each also settable as
//! `SIMPLE_JWT_<KEY>`. Unknown keys are errors that name the key and the nearest valid one.
//!
//! Each section is one struct declared with `schema::section!`, each setting written once there
//! (doc line, key, field, default, parser); `schema` fills any section from either source.

pub mod accounts;
pub mod cookies;
pub mod cors;
mod database;
pub mod edge;
pub mod email;
mod login;
mod oidc;
mod parse;
pub mod schema;
pub mod secrets;
pub mod simple_jwt;

#[cfg(test)]
mod documented;

pub use accounts::{AccountSettings, EmailVerification, LoginMethods, Rate};
pub use cookies::CookieSettings;
pub use cors::CorsSettings;
pub use database::{DatabaseUrl, DatabaseUrlError};
pub use edge::EdgeSettings;
pub use email::{EmailBackend, EmailSettings};
pub use login::{LoginSettings, ThrottleBackend};
pub use oidc::{BrandingSettings, ClientConfig as OidcClientConfig, OidcSettings};
pub use schema::RawValue;
pub use simple_jwt::{Algorithm, SimpleJwt};

use schema::{section, Rules, Section};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///authbridge.sqlite3";
pub const DEFAULT_SECRET_FILE: &str = "authbridge.secret";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "unknown configuration key {key}{}",
        suggestion.as_ref().map(|s| format!("; did you mean {s}?")).unwrap_or_default()
    )]
    UnknownKey {
        /// The key as written (`SIMPLE_JWT_ACCES_TOKEN_LIFETIME`, `simple_jwt.ACCES_...`).
        key: String,
        /// The nearest valid name, when one is close.
        suggestion: Option<String>,
    },
    #[error("configuration key {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
}

section! {
    /// Every setting: the top-level keys, the groups whose keys are top-level too, and the
    /// `[simple_jwt]` table.
    pub struct Settings {
        /// The listen address.
        "AUTHBRIDGE_BIND" bind: SocketAddr = DEFAULT_BIND
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))), parse::socket_addr;
        /// dj-database-url forms (`sqlite:///relative.db`, `postgres://...`).
        "DATABASE_URL" database_url: String = DEFAULT_DATABASE_URL.into(), database_url;
        /// Django's SECRET_KEY; `None` until `ensure_secret_key` generates or loads one.
        "DJANGO_SECRET_KEY" secret_key: Option<SecretString> = None, parse::secret;
        /// Where a generated secret is kept when none is configured.
        "AUTHBRIDGE_SECRET_FILE" secret_file: PathBuf = PathBuf::from(DEFAULT_SECRET_FILE),
            |k, v| parse::string(k, v).map(PathBuf::from);
        /// Django's `PASSWORD_HASHERS` (dotted names or algorithm names); first is preferred.
        "PASSWORD_HASHERS" password_hashers: Vec<String> = Vec::new(), password_hashers;
        /// The user table.
        "AUTH_USER_TABLE" user_table: String = "auth_user".into(), parse::identifier;
        /// Django's `USERNAME_FIELD`.
        "USERNAME_FIELD" username_field: String = "username".into(), parse::identifier;
        /// Bearer token for server-to-server calls (`/api/users/sync`); the endpoint is off
        /// without it.
        "AUTHBRIDGE_SERVICE_TOKEN" service_token: Option<SecretString> = None, parse::secret;
        /// Concurrent password hashes (the bounded blocking pool). One core is always left to the
        /// async workers, so a login flood cannot starve token verification.
        "AUTHBRIDGE_PASSWORD_WORKERS" password_workers: usize = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1).max(1)), parse::int_in(1, 256);
        /// Origins allowed to send cookie-authenticated requests (`Origin` check); empty =
        /// same-origin only.
        "AUTHBRIDGE_TRUSTED_ORIGINS" trusted_origins: Vec<String> = Vec::new(), parse::string_list;
        /// Providers whose sign-ins `/api/users/sync` may link to an existing user by verified
        /// email (Auth.js's `allowDangerousEmailAccountLinking`); never to staff or superusers.
        "AUTHBRIDGE_EMAIL_LINKING_PROVIDERS" email_linking_providers: Vec<String> = Vec::new(),
            parse::string_list;
        /// Claims of an Auth.js session that may hold the authbridge refresh token tying the
        /// session to a Django user (dotted paths reach into objects: `tokens.refresh`), tried in
        /// order.
        "AUTHBRIDGE_AUTHJS_REFRESH_CLAIMS" authjs_refresh_claims: Vec<String> =
            vec!["refreshToken".into(), "refresh_token".into()], refresh_claims;
        /// Serve the OpenAPI 3.1 description of the endpoints at `/api/schema/` (off: it tells
        /// anyone which features are on).
        "AUTHBRIDGE_API_SCHEMA" api_schema: bool = false, parse::boolean;
        /// Start with weak secrets (logged loudly); development only.
        "AUTHBRIDGE_INSECURE_DEV" insecure_dev: bool = false, parse::boolean;
        /// Django's `AUTH_PASSWORD_VALIDATORS` (default: the four `startproject` configures).
        "AUTH_PASSWORD_VALIDATORS" password_validators: crate::validation::PasswordValidators =
            crate::validation::PasswordValidators::default(), password_validators;
    }
    groups {
        /// Auth.js secrets as configured, one slot per key (see `authjs_secrets`).
        authjs_secret_slots: AuthJsSecrets,
        /// Login abuse controls: password queue, login body cap, throttling and lockout.
        pub login: LoginSettings,
        /// The network edge: timeouts, connection cap, hosts, proxies, public origin, ops listener.
        pub edge: EdgeSettings,
        /// CORS for browser clients (django-cors-headers' names).
        pub cors: CorsSettings,
        /// Cookie mode for single-page apps (dj-rest-auth's names).
        pub cookies: CookieSettings,
        /// Account flows: sign-up, email confirmation, password change and reset (allauth's and
        /// Django's names).
        pub accounts: AccountSettings,
        /// Email: Django's SMTP settings, templates and the outbox.
        pub email: EmailSettings,
    }
    tables {
        /// simplejwt's settings.
        "simple_jwt" simple_jwt: SimpleJwt,
        /// The OpenID Connect provider and its declared clients.
        "oidc" oidc: OidcSettings,
        /// What the provider's pages show.
        "branding" branding: BrandingSettings,
    }
    derived {
        /// Auth.js secrets in the order they are tried: AUTH_SECRET, AUTH_SECRET_1.._3,
        /// NEXTAUTH_SECRET.
        authjs_secrets: Vec<SecretString> = Vec::new(),
    }
}

section! {
    /// Auth.js secrets keep their own slots so that env and file can each set any of them; the
    /// try order is fixed afterwards.
    pub struct AuthJsSecrets {
        /// Auth.js v5's secret.
        "AUTH_SECRET" auth_secret: Option<SecretString> = None, parse::secret;
        /// A previous secret, still accepted (rotation).
        "AUTH_SECRET_1" auth_secret_1: Option<SecretString> = None, parse::secret;
        /// An older secret.
        "AUTH_SECRET_2" auth_secret_2: Option<SecretString> = None, parse::secret;
        /// An even older secret.
        "AUTH_SECRET_3" auth_secret_3: Option<SecretString> = None, parse::secret;
        /// Auth.js v4's secret.
        "NEXTAUTH_SECRET" nextauth_secret: Option<SecretString> = None, parse::secret;
    }
}

impl Rules for AuthJsSecrets {}

impl AuthJsSecrets {
    fn in_try_order(&self) -> Vec<SecretString> {
        [
            &self.auth_secret,
            &self.auth_secret_1,
            &self.auth_secret_2,
            &self.auth_secret_3,
            &self.nextauth_secret,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }
}

impl Rules for Settings {
    fn check(&self) -> Result<(), ConfigError> {
        cors::validate_trusted_origins(&self.trusted_origins)?;
        oidc::check_issuer(&self.oidc, self.edge.public_origin.as_deref())
    }
}

fn database_url(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    DatabaseUrl::parse(&s).map_err(|e| parse::invalid(key, e.to_string()))?;
    Ok(s)
}

fn password_hashers(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = parse::string_list(key, value)?;
    for name in &list {
        django_hashers::Algorithm::from_setting(name)
            .map_err(|e| parse::invalid(key, e.to_string()))?;
    }
    Ok(list)
}

fn refresh_claims(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = parse::string_list(key, value)?;
    if list.is_empty() {
        return Err(parse::invalid(key, "needs at least one claim name"));
    }
    Ok(list)
}

/// TOML: an array of tables; env: the same as JSON (Django's shape).
fn password_validators(
    key: &str,
    value: &RawValue,
) -> Result<crate::validation::PasswordValidators, ConfigError> {
    crate::validation::PasswordValidators::from_json(&parse::json(key, value)?)
        .map_err(|e| parse::invalid(key, e.to_string()))
}

impl Settings {
    /// A top-level key (file and environment alike), of any group.
    pub fn is_key(key: &str) -> bool {
        Self::all_names().contains(&key)
    }

    /// Load the file (if any), then apply the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let table: toml::Table = text.parse().map_err(|source| ConfigError::Toml {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
            for (key, value) in table {
                schema::apply_file_entry(&mut settings, &key, value)?;
            }
        }
        for (key, value) in env {
            schema::apply_env_var(&mut settings, &key, value)?;
        }
        settings.authjs_secrets = settings.authjs_secret_slots.in_try_order();
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_simplejwt_defaults() {
        let s = Settings::load(None, env(&[])).unwrap();
        assert_eq!(s.simple_jwt.access_token_lifetime, 300);
        assert_eq!(s.simple_jwt.refresh_token_lifetime, 86400);
        assert!(!s.simple_jwt.rotate_refresh_tokens);
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authbridge.toml");
        std::fs::write(
            &path,
            r#"
DATABASE_URL = "sqlite:///x.db"
DJANGO_SECRET_KEY = "file-secret"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
[simple_jwt]
ACCESS_TOKEN_LIFETIME = "0:10:00"
ROTATE_REFRESH_TOKENS = true
"#,
        )
        .unwrap();
        let s = Settings::load(
            Some(&path),
            env(&[
                ("SIMPLE_JWT_ACCESS_TOKEN_LIFETIME", "60"),
                ("AUTH_SECRET_1", "old"),
                ("AUTH_SECRET", "new"),
                ("NEXTAUTH_SECRET", "v4"),
                ("UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.simple_jwt.access_token_lifetime, 60);
        assert!(s.simple_jwt.rotate_refresh_tokens);
        assert_eq!(
            s.secret_key.as_ref().unwrap().expose_secret(),
            "file-secret"
        );
        let secrets: Vec<_> = s
            .authjs_secrets
            .iter()
            .map(|s| s.expose_secret().to_string())
            .collect();
        assert_eq!(secrets, ["new", "old", "v4"]);
    }

    #[test]
    fn unknown_file_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[simple_jwt]\nROTATE_REFRESH_TOKEN = true\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ROTATE_REFRESH_TOKEN"), "{err}");
        assert!(
            err.ends_with("did you mean ROTATE_REFRESH_TOKENS?"),
            "{err}"
        );
        std::fs::write(&path, "DATABSE_URL = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABSE_URL"), "{err}");
        assert!(err.ends_with("did you mean DATABASE_URL?"), "{err}");
        std::fs::write(&path, "ACCESS_TOKEN_LIFETIME = 60\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("did you mean ACCESS_TOKEN_LIFETIME in [simple_jwt]?"),
            "{err}"
        );
    }

    #[test]
    fn unknown_simple_jwt_env_key_is_named() {
        let err = Settings::load(None, env(&[("SIMPLE_JWT_NOPE", "1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("NOPE"), "{err}");
    }

    #[test]
    fn password_validators_from_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            r#"
[[AUTH_PASSWORD_VALIDATORS]]
NAME = "django.contrib.auth.password_validation.MinimumLengthValidator"
OPTIONS = { min_length = 12 }
"#,
        )
        .unwrap();
        let s = Settings::load(Some(&path), env(&[])).unwrap();
        assert_eq!(
            s.password_validators.validate("short-pw", None),
            ["This password is too short. It must contain at least 12 characters."]
        );
        let s = Settings::load(None, env(&[("AUTH_PASSWORD_VALIDATORS", "[]")])).unwrap();
        assert!(s.password_validators.validate("1", None).is_empty());
        let err = Settings::load(
            None,
            env(&[("AUTH_PASSWORD_VALIDATORS", r#"[{"NAME": "Nope"}]"#)]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("AUTH_PASSWORD_VALIDATORS") && err.contains("Nope"),
            "{err}"
        );
    }

    #[test]
    fn table_names_must_be_identifiers() {
        assert!(Settings::load(None, env(&[("AUTH_USER_TABLE", "x; drop table y")])).is_err());
        let s = Settings::load(None, env(&[("AUTH_USER_TABLE", "accounts_user")])).unwrap();
        assert_eq!(s.user_table, "accounts_user");
    }
}
