//! Email: Django's SMTP settings under Django's names (`EMAIL_HOST`, `EMAIL_PORT`, ...,
//! `DEFAULT_FROM_EMAIL`, `EMAIL_BACKEND`), allauth's `ACCOUNT_EMAIL_SUBJECT_PREFIX`, the template
//! override directory and the outbox's retry policy. All top-level keys; see docs/email.md.

use std::path::PathBuf;

use secrecy::SecretString;

use super::schema::{section, Rules};
use super::{parse, ConfigError, RawValue};

pub const SMTP_BACKEND: &str = "django.core.mail.backends.smtp.EmailBackend";
pub const CONSOLE_BACKEND: &str = "django.core.mail.backends.console.EmailBackend";

/// How emails leave (Django's `EMAIL_BACKEND`, the two that make sense for a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailBackend {
    /// SMTP with the `EMAIL_*` settings.
    Smtp,
    /// Each message printed to standard output (development).
    Console,
}

section! {
    /// Email sending and the outbox (all top-level keys).
    pub struct EmailSettings {
        /// Django's `EMAIL_BACKEND`: `django.core.mail.backends.smtp.EmailBackend` (or `smtp`)
        /// or `django.core.mail.backends.console.EmailBackend` (or `console`).
        "EMAIL_BACKEND" backend: EmailBackend = EmailBackend::Smtp, backend;
        /// The SMTP server.
        "EMAIL_HOST" host: String = "localhost".into(), host;
        /// The SMTP port.
        "EMAIL_PORT" port: u16 = 25, parse::int_in(1, 65_535);
        /// The SMTP user; no authentication when empty.
        "EMAIL_HOST_USER" user: String = String::new(), parse::string;
        /// The SMTP password (a secret: never logged).
        "EMAIL_HOST_PASSWORD" password: Option<SecretString> = None, parse::secret;
        /// STARTTLS on the plain port (usually 587).
        "EMAIL_USE_TLS" use_tls: bool = false, parse::boolean;
        /// Implicit TLS from the first byte (usually port 465).
        "EMAIL_USE_SSL" use_ssl: bool = false, parse::boolean;
        /// Seconds an SMTP connection or command may take (Django's default is none; authbridge
        /// bounds it).
        "EMAIL_TIMEOUT" timeout_secs: u64 = 30, timeout;
        /// The sender of every email: `addr` or `Name <addr>`.
        "DEFAULT_FROM_EMAIL" from: String = "webmaster@localhost".into(), from;
        /// allauth's subject prefix; unset: `[<site name>] `.
        "ACCOUNT_EMAIL_SUBJECT_PREFIX" subject_prefix: Option<String> = None,
            parse::optional_string;
        /// A directory whose `account/email/` files replace the default templates.
        "AUTHBRIDGE_EMAIL_TEMPLATES_DIR" templates_dir: Option<PathBuf> = None,
            |k, v| parse::optional_string(k, v).map(|s| s.map(PathBuf::from));
        /// Attempts before an email is marked dead.
        "AUTHBRIDGE_OUTBOX_MAX_ATTEMPTS" max_attempts: i64 = 12, parse::int_in(1, 1000);
        /// The first retry's delay; each next one doubles (with jitter).
        "AUTHBRIDGE_OUTBOX_RETRY_BASE" retry_base_secs: i64 = 30, parse::seconds;
        /// The longest delay between two attempts.
        "AUTHBRIDGE_OUTBOX_RETRY_MAX" retry_max_secs: i64 = 3600, parse::seconds;
        /// How often the worker looks for due emails when nothing wakes it.
        "AUTHBRIDGE_OUTBOX_POLL_INTERVAL" poll_secs: i64 = 30, parse::seconds;
        /// Emails claimed at once by one worker.
        "AUTHBRIDGE_OUTBOX_BATCH" batch: i64 = 10, parse::int_in(1, 1000);
        /// How long a claim holds an email before another worker may take it.
        "AUTHBRIDGE_OUTBOX_LEASE" lease_secs: i64 = 600, parse::seconds;
        /// How long sent emails are kept before they are deleted.
        "AUTHBRIDGE_OUTBOX_RETENTION" retention_secs: i64 = 7 * 86_400, parse::seconds;
    }
}

impl Rules for EmailSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.use_tls && self.use_ssl {
            // Django's own message.
            return Err(parse::invalid(
                "EMAIL_USE_TLS",
                "EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive, so only set one of those \
                 settings to True.",
            ));
        }
        for (key, secs, lo, hi) in [
            (
                "AUTHBRIDGE_OUTBOX_RETRY_BASE",
                self.retry_base_secs,
                1,
                86_400,
            ),
            (
                "AUTHBRIDGE_OUTBOX_RETRY_MAX",
                self.retry_max_secs,
                1,
                7 * 86_400,
            ),
            ("AUTHBRIDGE_OUTBOX_POLL_INTERVAL", self.poll_secs, 1, 3600),
            ("AUTHBRIDGE_OUTBOX_LEASE", self.lease_secs, 10, 86_400),
            (
                "AUTHBRIDGE_OUTBOX_RETENTION",
                self.retention_secs,
                60,
                3650 * 86_400,
            ),
        ] {
            if !(lo..=hi).contains(&secs) {
                return Err(parse::invalid(
                    key,
                    format!("must be between {lo} and {hi} seconds"),
                ));
            }
        }
        // One send (three times EMAIL_TIMEOUT) must fit in a lease, or no email would ever start.
        if self.lease_secs <= 3 * self.timeout_secs as i64 {
            return Err(parse::invalid(
                "AUTHBRIDGE_OUTBOX_LEASE",
                "must be longer than three times EMAIL_TIMEOUT (the most one send may take)",
            ));
        }
        if self.retry_max_secs < self.retry_base_secs {
            return Err(parse::invalid(
                "AUTHBRIDGE_OUTBOX_RETRY_MAX",
                "must not be shorter than AUTHBRIDGE_OUTBOX_RETRY_BASE",
            ));
        }
        Ok(())
    }
}

fn backend(key: &str, value: &RawValue) -> Result<EmailBackend, ConfigError> {
    match parse::string(key, value)?.trim() {
        SMTP_BACKEND | "smtp" => Ok(EmailBackend::Smtp),
        CONSOLE_BACKEND | "console" => Ok(EmailBackend::Console),
        other => Err(parse::invalid(
            key,
            format!(
                "{other:?} is not supported: use {SMTP_BACKEND} (SMTP with the EMAIL_* settings) \
                 or {CONSOLE_BACKEND} (print to standard output)"
            ),
        )),
    }
}

fn host(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let host = parse::string(key, value)?;
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(parse::invalid(key, "must be a host name or address"));
    }
    Ok(host)
}

/// Whole seconds, 1 to 600 (Django takes a float; a fraction is rounded up).
fn timeout(key: &str, value: &RawValue) -> Result<u64, ConfigError> {
    let secs = match value {
        RawValue::Toml(toml::Value::Float(f)) => Some(f.ceil()),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => {
            s.trim().parse::<f64>().ok().map(f64::ceil)
        }
        RawValue::Toml(toml::Value::Integer(i)) => Some(*i as f64),
        RawValue::Toml(_) => None,
    };
    match secs {
        Some(s) if (1.0..=600.0).contains(&s) => Ok(s as u64),
        _ => Err(parse::invalid(key, "must be a number of seconds, 1 to 600")),
    }
}

fn from(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let from = parse::string(key, value)?;
    crate::mail::check_mailbox(&from).map_err(|e| parse::invalid(key, e.to_string()))?;
    Ok(from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::Settings;
    use super::*;
    use secrecy::ExposeSecret;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::load(
            None,
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_are_djangos() {
        let s = load(&[]).unwrap().email;
        assert_eq!(s.backend, EmailBackend::Smtp);
        assert_eq!((s.host.as_str(), s.port), ("localhost", 25));
        assert_eq!(s.user, "");
        assert!(s.password.is_none());
        assert!(!s.use_tls && !s.use_ssl);
        assert_eq!(s.from, "webmaster@localhost");
        assert_eq!(s.subject_prefix, None);
    }

    #[test]
    fn django_names_set_them() {
        let s = load(&[
            ("EMAIL_BACKEND", CONSOLE_BACKEND),
            ("EMAIL_HOST", "smtp.example.com"),
            ("EMAIL_PORT", "587"),
            ("EMAIL_HOST_USER", "mailer"),
            ("EMAIL_HOST_PASSWORD", "pw"),
            ("EMAIL_USE_TLS", "True"),
            ("EMAIL_TIMEOUT", "2.5"),
            ("DEFAULT_FROM_EMAIL", "Example <noreply@example.com>"),
            ("ACCOUNT_EMAIL_SUBJECT_PREFIX", "[Shop] "),
            ("AUTHBRIDGE_OUTBOX_RETRY_BASE", "10s"),
        ])
        .unwrap()
        .email;
        assert_eq!(s.backend, EmailBackend::Console);
        assert_eq!((s.host.as_str(), s.port), ("smtp.example.com", 587));
        assert_eq!(s.password.unwrap().expose_secret(), "pw");
        assert!(s.use_tls);
        assert_eq!(s.timeout_secs, 3);
        assert_eq!(s.from, "Example <noreply@example.com>");
        assert_eq!(s.subject_prefix.as_deref(), Some("[Shop] "));
        assert_eq!(s.retry_base_secs, 10);
        assert_eq!(
            load(&[("EMAIL_BACKEND", "smtp")]).unwrap().email.backend,
            EmailBackend::Smtp
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        for (key, value) in [
            (
                "EMAIL_BACKEND",
                "django.core.mail.backends.locmem.EmailBackend",
            ),
            ("EMAIL_PORT", "0"),
            ("EMAIL_HOST", "smtp.example.com\r\nX: y"),
            ("EMAIL_TIMEOUT", "0"),
            ("EMAIL_TIMEOUT", "soon"),
            ("DEFAULT_FROM_EMAIL", "not an address"),
            ("DEFAULT_FROM_EMAIL", "a@b.c\r\nBcc: eve@example.com"),
            ("AUTHBRIDGE_OUTBOX_MAX_ATTEMPTS", "0"),
            ("AUTHBRIDGE_OUTBOX_LEASE", "1"),
            ("AUTHBRIDGE_OUTBOX_RETRY_MAX", "5"),
            ("AUTHBRIDGE_OUTBOX_LEASE", "60"),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}={value:?}: {err}");
        }
        let err = load(&[(
            "EMAIL_BACKEND",
            "django.core.mail.backends.locmem.EmailBackend",
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not supported"), "{err}");
    }

    #[test]
    fn tls_and_ssl_together_are_refused_as_django_does() {
        let err = load(&[("EMAIL_USE_TLS", "true"), ("EMAIL_USE_SSL", "true")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mutually exclusive"), "{err}");
    }
}
