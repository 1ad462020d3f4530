//! Login abuse controls: the password queue, the login body cap, and failed-login throttling with
//! lockout (see docs/security.md, "Login flooding and guessing").

use super::schema::{section, Rules};
use super::{parse, ConfigError, RawValue};

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

pub const DEFAULT_PASSWORD_QUEUE: usize = 16;
pub const DEFAULT_LOGIN_MAX_BODY_BYTES: usize = 64 * 1024;

section! {
    /// Login abuse controls (all top-level keys).
    pub struct LoginSettings {
        /// Logins that may wait for a password worker; more are answered 503 at once.
        "AUTHBRIDGE_PASSWORD_QUEUE" password_queue: usize = DEFAULT_PASSWORD_QUEUE,
            parse::int_in(0, 100_000);
        /// Largest request body accepted by the login endpoint.
        "AUTHBRIDGE_LOGIN_MAX_BODY_BYTES" max_body_bytes: usize = DEFAULT_LOGIN_MAX_BODY_BYTES,
            parse::int_in(1024, crate::http::drf::body::MAX_BODY_BYTES as i64);
        /// Where failed-login counters live.
        "AUTHBRIDGE_LOGIN_THROTTLE" backend: ThrottleBackend = ThrottleBackend::Auto, backend;
        /// Redis for the counters (and `auto` then picks it).
        "REDIS_URL" redis_url: Option<String> = None, parse::optional_string;
        /// Failures per (username, client address) before lockout; 0 disables.
        "AUTHBRIDGE_LOGIN_FAILURES" failures: i64 = 5, parse::int_in(0, 1_000_000);
        /// Seconds a (username, address) stays locked, and the period failures are counted in.
        "AUTHBRIDGE_LOGIN_LOCKOUT" lockout: i64 = 15 * 60, period;
        /// Failures per client address (any username) before it is throttled; 0 disables.
        "AUTHBRIDGE_LOGIN_ADDRESS_FAILURES" address_failures: i64 = 100, parse::int_in(0, 1_000_000);
        /// The period of the address counter.
        "AUTHBRIDGE_LOGIN_ADDRESS_PERIOD" address_period: i64 = 15 * 60, period;
        /// Failures per username (any address) before the username is locked for everyone; 0
        /// (the default) disables: see docs/security.md on lockout as a denial of service.
        "AUTHBRIDGE_LOGIN_USERNAME_FAILURES" username_failures: i64 = 0, parse::int_in(0, 1_000_000);
        /// The period of the username counter.
        "AUTHBRIDGE_LOGIN_USERNAME_PERIOD" username_period: i64 = 15 * 60, period;
    }
}

/// A counting period: 1 second to 30 days.
fn period(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    let s = parse::seconds(key, value)?;
    if (1..=30 * 86_400).contains(&s) {
        Ok(s)
    } else {
        Err(parse::invalid(key, "must be between 1 second and 30 days"))
    }
}

fn backend(key: &str, value: &RawValue) -> Result<ThrottleBackend, ConfigError> {
    Ok(
        match parse::string(key, value)?.to_ascii_lowercase().as_str() {
            "auto" | "" => ThrottleBackend::Auto,
            "memory" => ThrottleBackend::Memory,
            "database" => ThrottleBackend::Database,
            "redis" => ThrottleBackend::Redis,
            "off" => ThrottleBackend::Off,
            other => {
                return Err(parse::invalid(
                    key,
                    format!("{other:?} is not one of auto, memory, database, redis, off"),
                ))
            }
        },
    )
}

impl Rules for LoginSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.backend == ThrottleBackend::Redis && self.redis_url.is_none() {
            return Err(parse::invalid(
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
