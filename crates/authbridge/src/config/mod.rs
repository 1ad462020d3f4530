//! Configuration: a TOML file whose keys are the ecosystem's own names, overridden by environment
//! variables of the same names. Top-level keys are env names (`DATABASE_URL`, `DJANGO_SECRET_KEY`,
//! `AUTH_SECRET`, ...); `[simple_jwt]` holds simplejwt's setting names, each also settable as
//! `SIMPLE_JWT_<KEY>`. Unknown keys are errors that name the key.

pub mod browser;
mod database;
pub mod edge;
mod login;
pub mod secrets;
pub mod simple_jwt;

pub use browser::BrowserSettings;
pub use database::{DatabaseUrl, DatabaseUrlError};
pub use edge::EdgeSettings;
pub use login::{LoginSettings, ThrottleBackend};
pub use simple_jwt::{Algorithm, SimpleJwt};

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:///authbridge.sqlite3";
pub const DEFAULT_SECRET_FILE: &str = "authbridge.secret";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown configuration key {0}")]
    UnknownKey(String),
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

/// One value from either source, with the conversions both need.
#[derive(Debug, Clone)]
pub enum RawValue {
    Toml(toml::Value),
    Env(String),
}

impl RawValue {
    fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub fn string(&self, key: &str) -> Result<String, ConfigError> {
        match self {
            Self::Env(s) | Self::Toml(toml::Value::String(s)) => Ok(s.clone()),
            Self::Toml(toml::Value::Integer(i)) => Ok(i.to_string()),
            Self::Toml(_) => Err(Self::invalid(key, "expected a string")),
        }
    }

    /// Empty strings (and Python's `None` spelled as a string) mean unset.
    pub fn optional_string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        let s = self.string(key)?;
        Ok(if s.is_empty() || s == "None" {
            None
        } else {
            Some(s)
        })
    }

    pub fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self {
            Self::Toml(toml::Value::Boolean(b)) => Ok(*b),
            Self::Env(s) | Self::Toml(toml::Value::String(s)) => {
                match s.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => Ok(true),
                    "0" | "false" | "no" | "off" => Ok(false),
                    _ => Err(Self::invalid(key, format!("{s:?} is not a boolean"))),
                }
            }
            Self::Toml(_) => Err(Self::invalid(key, "expected a boolean")),
        }
    }

    /// Seconds, from an integer or a string (see `simple_jwt::parse_duration`).
    pub fn duration(&self, key: &str) -> Result<i64, ConfigError> {
        match self {
            Self::Toml(toml::Value::Integer(i)) => Ok(*i),
            Self::Toml(toml::Value::Float(f)) => Ok(*f as i64),
            Self::Env(s) | Self::Toml(toml::Value::String(s)) => simple_jwt::parse_duration(s)
                .ok_or_else(|| Self::invalid(key, format!("{s:?} is not a duration"))),
            Self::Toml(_) => Err(Self::invalid(key, "expected seconds or a duration string")),
        }
    }

    pub fn integer(&self, key: &str) -> Result<i64, ConfigError> {
        match self {
            Self::Toml(toml::Value::Integer(i)) => Ok(*i),
            Self::Env(s) | Self::Toml(toml::Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| Self::invalid(key, format!("{s:?} is not an integer"))),
            Self::Toml(_) => Err(Self::invalid(key, "expected an integer")),
        }
    }

    /// A TOML array of strings, or a comma-separated env value.
    pub fn string_list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        match self {
            Self::Toml(toml::Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(Self::invalid(key, "expected a list of strings")),
                })
                .collect(),
            Self::Env(s) | Self::Toml(toml::Value::String(s)) => Ok(s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()),
            Self::Toml(_) => Err(Self::invalid(key, "expected a list of strings")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    /// Django's SECRET_KEY; `None` until `ensure_secret_key` generates or loads one.
    pub secret_key: Option<SecretString>,
    /// Where a generated secret is kept when none is configured.
    pub secret_file: PathBuf,
    pub simple_jwt: SimpleJwt,
    /// Django's `PASSWORD_HASHERS` (dotted names or algorithm names); first is preferred.
    pub password_hashers: Vec<String>,
    /// The user table and Django's `USERNAME_FIELD`.
    pub user_table: String,
    pub username_field: String,
    /// Auth.js secrets in the order they are tried: AUTH_SECRET, AUTH_SECRET_1.._3, NEXTAUTH_SECRET.
    pub authjs_secrets: Vec<SecretString>,
    /// Bearer token for server-to-server calls (`/api/users/sync`); the endpoint is off without it.
    pub service_token: Option<SecretString>,
    /// Concurrent password hashes (the bounded blocking pool).
    pub password_workers: usize,
    /// Origins allowed to send cookie-authenticated requests (`Origin` check); empty = same-origin only.
    pub trusted_origins: Vec<String>,
    /// Browser clients: CORS (django-cors-headers' names) and cookie mode (dj-rest-auth's).
    pub browser: BrowserSettings,
    /// Login abuse controls: password queue, login body cap, throttling and lockout.
    pub login: LoginSettings,
    /// Providers whose sign-ins `/api/users/sync` may link to an existing user by verified email
    /// (Auth.js's `allowDangerousEmailAccountLinking`); never to staff or superusers. Empty: none.
    pub email_linking_providers: Vec<String>,
    /// Claims of an Auth.js session that may hold the authbridge refresh token tying the session
    /// to a Django user (dotted paths reach into objects: `tokens.refresh`), tried in order.
    pub authjs_refresh_claims: Vec<String>,
    /// The network edge: timeouts, connection cap, hosts, proxies, public origin, ops listener.
    pub edge: EdgeSettings,
    /// `AUTHBRIDGE_INSECURE_DEV`: start with weak secrets (logged loudly); development only.
    pub insecure_dev: bool,
    /// Django's `AUTH_PASSWORD_VALIDATORS` (default: the four `startproject` configures).
    pub password_validators: crate::validation::PasswordValidators,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url: DEFAULT_DATABASE_URL.into(),
            secret_key: None,
            secret_file: PathBuf::from(DEFAULT_SECRET_FILE),
            simple_jwt: SimpleJwt::default(),
            password_hashers: Vec::new(),
            user_table: "auth_user".into(),
            username_field: "username".into(),
            authjs_secrets: Vec::new(),
            service_token: None,
            // One core is always left to the async workers, so a login flood cannot starve token
            // verification.
            password_workers: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            trusted_origins: Vec::new(),
            browser: BrowserSettings::default(),
            login: LoginSettings::default(),
            email_linking_providers: Vec::new(),
            authjs_refresh_claims: vec!["refreshToken".into(), "refresh_token".into()],
            edge: EdgeSettings::default(),
            insecure_dev: false,
            password_validators: crate::validation::PasswordValidators::default(),
        }
    }
}

/// Auth.js secrets keep their own slots so that env and file can each set any of them; the
/// try order is fixed afterwards.
#[derive(Default)]
struct AuthJsSecrets {
    auth_secret: Option<String>,
    numbered: [Option<String>; 3],
    nextauth_secret: Option<String>,
}

impl Settings {
    /// Top-level keys (file and env share these names); the browser group adds its own
    /// (`BrowserSettings::KEYS`), see `is_key`.
    pub const KEYS: &'static [&'static str] = &[
        "AUTHBRIDGE_BIND",
        "DATABASE_URL",
        "DJANGO_SECRET_KEY",
        "AUTHBRIDGE_SECRET_FILE",
        "PASSWORD_HASHERS",
        "AUTH_USER_TABLE",
        "USERNAME_FIELD",
        "AUTH_SECRET",
        "AUTH_SECRET_1",
        "AUTH_SECRET_2",
        "AUTH_SECRET_3",
        "NEXTAUTH_SECRET",
        "AUTHBRIDGE_SERVICE_TOKEN",
        "AUTHBRIDGE_PASSWORD_WORKERS",
        "AUTHBRIDGE_TRUSTED_ORIGINS",
        "AUTHBRIDGE_EMAIL_LINKING_PROVIDERS",
        "AUTHBRIDGE_AUTHJS_REFRESH_CLAIMS",
        "AUTHBRIDGE_INSECURE_DEV",
        "AUTH_PASSWORD_VALIDATORS",
    ];

    /// A top-level key: one of `KEYS` or of the browser group's (`BrowserSettings::KEYS`).
    pub fn is_key(key: &str) -> bool {
        Self::KEYS.contains(&key)
            || BrowserSettings::KEYS.contains(&key)
            || LoginSettings::KEYS.contains(&key)
            || EdgeSettings::KEYS.contains(&key)
    }

    /// Load the file (if any), then apply the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        let mut secrets = AuthJsSecrets::default();
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
                if key.eq_ignore_ascii_case("simple_jwt") {
                    let toml::Value::Table(section) = value else {
                        return Err(RawValue::invalid("simple_jwt", "must be a table"));
                    };
                    for (k, v) in section {
                        settings.simple_jwt.set(&k, &RawValue::Toml(v))?;
                    }
                } else {
                    settings.set(&key, &RawValue::Toml(value), &mut secrets)?;
                }
            }
        }
        for (key, value) in env {
            if let Some(k) = key.strip_prefix("SIMPLE_JWT_") {
                settings.simple_jwt.set(k, &RawValue::Env(value))?;
            } else if Self::is_key(&key) {
                settings.set(&key, &RawValue::Env(value), &mut secrets)?;
            }
            // Other environment variables belong to other programs.
        }
        settings.authjs_secrets = [secrets.auth_secret]
            .into_iter()
            .chain(secrets.numbered)
            .chain([secrets.nextauth_secret])
            .flatten()
            .filter(|s| !s.is_empty())
            .map(SecretString::from)
            .collect();
        settings.simple_jwt.validate()?;
        settings.browser.validate()?;
        settings.login.validate()?;
        browser::validate_trusted_origins(&settings.trusted_origins)?;
        Ok(settings)
    }

    fn set(
        &mut self,
        key: &str,
        value: &RawValue,
        secrets: &mut AuthJsSecrets,
    ) -> Result<(), ConfigError> {
        match key {
            "AUTHBRIDGE_BIND" => {
                let s = value.string(key)?;
                self.bind = s
                    .parse()
                    .map_err(|_| RawValue::invalid(key, format!("{s:?} is not HOST:PORT")))?;
            }
            "DATABASE_URL" => {
                let s = value.string(key)?;
                DatabaseUrl::parse(&s).map_err(|e| RawValue::invalid(key, e.to_string()))?;
                self.database_url = s;
            }
            "DJANGO_SECRET_KEY" => {
                self.secret_key = value.optional_string(key)?.map(SecretString::from)
            }
            "AUTHBRIDGE_SECRET_FILE" => self.secret_file = PathBuf::from(value.string(key)?),
            "PASSWORD_HASHERS" => {
                let list = value.string_list(key)?;
                for name in &list {
                    django_hashers::Algorithm::from_setting(name)
                        .map_err(|e| RawValue::invalid(key, e.to_string()))?;
                }
                self.password_hashers = list;
            }
            "AUTH_USER_TABLE" => self.user_table = identifier(key, value)?,
            "USERNAME_FIELD" => self.username_field = identifier(key, value)?,
            "AUTH_SECRET" => secrets.auth_secret = value.optional_string(key)?,
            "AUTH_SECRET_1" => secrets.numbered[0] = value.optional_string(key)?,
            "AUTH_SECRET_2" => secrets.numbered[1] = value.optional_string(key)?,
            "AUTH_SECRET_3" => secrets.numbered[2] = value.optional_string(key)?,
            "NEXTAUTH_SECRET" => secrets.nextauth_secret = value.optional_string(key)?,
            "AUTHBRIDGE_SERVICE_TOKEN" => {
                self.service_token = value.optional_string(key)?.map(SecretString::from)
            }
            "AUTHBRIDGE_PASSWORD_WORKERS" => {
                let n = value.integer(key)?;
                if !(1..=256).contains(&n) {
                    return Err(RawValue::invalid(key, "must be between 1 and 256"));
                }
                self.password_workers = n as usize;
            }
            "AUTHBRIDGE_TRUSTED_ORIGINS" => self.trusted_origins = value.string_list(key)?,
            "AUTHBRIDGE_EMAIL_LINKING_PROVIDERS" => {
                self.email_linking_providers = value.string_list(key)?
            }
            "AUTHBRIDGE_AUTHJS_REFRESH_CLAIMS" => {
                let list = value.string_list(key)?;
                if list.is_empty() {
                    return Err(RawValue::invalid(key, "needs at least one claim name"));
                }
                self.authjs_refresh_claims = list;
            }
            "AUTHBRIDGE_INSECURE_DEV" => self.insecure_dev = value.boolean(key)?,
            "AUTH_PASSWORD_VALIDATORS" => {
                // TOML: an array of tables; env: the same as JSON (Django's shape).
                let json = match value {
                    RawValue::Toml(v) => serde_json::to_value(v)
                        .map_err(|e| RawValue::invalid(key, e.to_string()))?,
                    RawValue::Env(s) => serde_json::from_str(s)
                        .map_err(|e| RawValue::invalid(key, format!("not JSON: {e}")))?,
                };
                self.password_validators = crate::validation::PasswordValidators::from_json(&json)
                    .map_err(|e| RawValue::invalid(key, e.to_string()))?;
            }
            k if BrowserSettings::KEYS.contains(&k) => self.browser.set(k, value)?,
            k if LoginSettings::KEYS.contains(&k) => self.login.set(k, value)?,
            k if EdgeSettings::KEYS.contains(&k) => self.edge.set(k, value)?,
            _ => return Err(ConfigError::UnknownKey(key.to_string())),
        }
        Ok(())
    }
}

/// Table and column names end up in SQL; allow only plain identifiers.
fn identifier(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = value.string(key)?;
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(s)
    } else {
        Err(RawValue::invalid(
            key,
            format!("{s:?} is not a plain SQL identifier"),
        ))
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
        std::fs::write(&path, "DATABSE_URL = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABSE_URL"), "{err}");
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
