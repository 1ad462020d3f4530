//! Login abuse controls: the password queue, the login body cap, and failed-login throttling with
//! lockout (see docs/security.md, "Login flooding and guessing").

use super::{ConfigError, RawValue};

/// Where failed-login counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleBackend {
    /// Redis when `REDIS_URL` is set; otherwise the database on PostgreSQL and process memory on
    /// SQLite (one instance per SQLite file).
    Auto,
    Memory,
    Database,
    Redis,
    /// No throttling or lockout (as simplejwt).
    Off,
}

#[derive(Debug, Clone)]
pub struct LoginSettings {
    /// Logins that may wait for a password worker; more are answered 503 at once.
    pub password_queue: usize,
    /// Largest request body accepted by the login endpoint.
    pub max_body_bytes: usize,
    pub backend: ThrottleBackend,
    pub redis_url: Option<String>,
    /// Failures per (username, client address) before lockout; 0 disables.
    pub failures: i64,
    /// Seconds a (username, address) stays locked, and the period failures are counted in.
    pub lockout: i64,
    /// Failures per client address (any username) before it is throttled; 0 disables.
    pub address_failures: i64,
    pub address_period: i64,
    /// Failures per username (any address) before the username is locked for everyone; 0
    /// (the default) disables: see docs/security.md on lockout as a denial of service.
    pub username_failures: i64,
    pub username_period: i64,
}

pub const DEFAULT_PASSWORD_QUEUE: usize = 16;
pub const DEFAULT_LOGIN_MAX_BODY_BYTES: usize = 64 * 1024;

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            password_queue: DEFAULT_PASSWORD_QUEUE,
            max_body_bytes: DEFAULT_LOGIN_MAX_BODY_BYTES,
            backend: ThrottleBackend::Auto,
            redis_url: None,
            failures: 5,
            lockout: 15 * 60,
            address_failures: 100,
            address_period: 15 * 60,
            username_failures: 0,
            username_period: 15 * 60,
        }
    }
}

impl LoginSettings {
    pub const KEYS: &'static [&'static str] = &[
        "AUTHBRIDGE_PASSWORD_QUEUE",
        "AUTHBRIDGE_LOGIN_MAX_BODY_BYTES",
        "AUTHBRIDGE_LOGIN_THROTTLE",
        "REDIS_URL",
        "AUTHBRIDGE_LOGIN_FAILURES",
        "AUTHBRIDGE_LOGIN_LOCKOUT",
        "AUTHBRIDGE_LOGIN_ADDRESS_FAILURES",
        "AUTHBRIDGE_LOGIN_ADDRESS_PERIOD",
        "AUTHBRIDGE_LOGIN_USERNAME_FAILURES",
        "AUTHBRIDGE_LOGIN_USERNAME_PERIOD",
    ];

    pub fn set(&mut self, key: &str, value: &RawValue) -> Result<(), ConfigError> {
        let bounded = |lo: i64, hi: i64| -> Result<i64, ConfigError> {
            let n = value.integer(key)?;
            if (lo..=hi).contains(&n) {
                Ok(n)
            } else {
                Err(RawValue::invalid(
                    key,
                    format!("must be between {lo} and {hi}"),
                ))
            }
        };
        let period = || -> Result<i64, ConfigError> {
            let s = value.duration(key)?;
            if (1..=30 * 86_400).contains(&s) {
                Ok(s)
            } else {
                Err(RawValue::invalid(
                    key,
                    "must be between 1 second and 30 days",
                ))
            }
        };
        match key {
            "AUTHBRIDGE_PASSWORD_QUEUE" => self.password_queue = bounded(0, 100_000)? as usize,
            "AUTHBRIDGE_LOGIN_MAX_BODY_BYTES" => {
                self.max_body_bytes =
                    bounded(1024, crate::http::body::MAX_BODY_BYTES as i64)? as usize
            }
            "AUTHBRIDGE_LOGIN_THROTTLE" => {
                self.backend = match value.string(key)?.to_ascii_lowercase().as_str() {
                    "auto" | "" => ThrottleBackend::Auto,
                    "memory" => ThrottleBackend::Memory,
                    "database" => ThrottleBackend::Database,
                    "redis" => ThrottleBackend::Redis,
                    "off" => ThrottleBackend::Off,
                    other => {
                        return Err(RawValue::invalid(
                            key,
                            format!("{other:?} is not one of auto, memory, database, redis, off"),
                        ))
                    }
                }
            }
            "REDIS_URL" => self.redis_url = value.optional_string(key)?,
            "AUTHBRIDGE_LOGIN_FAILURES" => self.failures = bounded(0, 1_000_000)?,
            "AUTHBRIDGE_LOGIN_LOCKOUT" => self.lockout = period()?,
            "AUTHBRIDGE_LOGIN_ADDRESS_FAILURES" => self.address_failures = bounded(0, 1_000_000)?,
            "AUTHBRIDGE_LOGIN_ADDRESS_PERIOD" => self.address_period = period()?,
            "AUTHBRIDGE_LOGIN_USERNAME_FAILURES" => self.username_failures = bounded(0, 1_000_000)?,
            "AUTHBRIDGE_LOGIN_USERNAME_PERIOD" => self.username_period = period()?,
            _ => return Err(ConfigError::UnknownKey(key.to_string())),
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.backend == ThrottleBackend::Redis && self.redis_url.is_none() {
            return Err(RawValue::invalid(
                "AUTHBRIDGE_LOGIN_THROTTLE",
                "redis needs REDIS_URL",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::Settings;
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(
            None,
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_and_overrides() {
        let s = load(&[]).unwrap().login;
        assert_eq!((s.failures, s.lockout), (5, 900));
        assert_eq!((s.address_failures, s.username_failures), (100, 0));
        assert_eq!(s.backend, ThrottleBackend::Auto);
        assert_eq!(s.max_body_bytes, 65_536);
        let s = load(&[
            ("AUTHBRIDGE_LOGIN_LOCKOUT", "1h"),
            ("AUTHBRIDGE_LOGIN_THROTTLE", "Database"),
            ("AUTHBRIDGE_PASSWORD_QUEUE", "0"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
        ])
        .unwrap()
        .login;
        assert_eq!(s.lockout, 3600);
        assert_eq!(s.backend, ThrottleBackend::Database);
        assert_eq!(s.password_queue, 0);
        assert_eq!(s.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (key, value) in [
            ("AUTHBRIDGE_LOGIN_THROTTLE", "memcached"),
            ("AUTHBRIDGE_LOGIN_FAILURES", "-1"),
            ("AUTHBRIDGE_LOGIN_LOCKOUT", "0"),
            ("AUTHBRIDGE_LOGIN_MAX_BODY_BYTES", "3000000"),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
        let err = load(&[("AUTHBRIDGE_LOGIN_THROTTLE", "redis")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("REDIS_URL"), "{err}");
    }
}
