//! Account flows (dj-rest-auth + django-allauth's API under `/api/auth/`): the switch, allauth's
//! and Django's setting names for verification, login methods, links and timeouts, the site the
//! emails name, `SECRET_KEY_FALLBACKS`, and the rate limits of sign-up, resend and reset. Every
//! key is top-level (file and environment alike); see docs/configuration.md.

use secrecy::SecretString;

use super::schema::{section, Rules};
use super::{parse, ConfigError, RawValue};

/// allauth's `ACCOUNT_EMAIL_VERIFICATION`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailVerification {
    /// Login refused until the address is confirmed; sign-up answers without tokens.
    Mandatory,
    /// A confirmation email is sent; sign-up logs in.
    Optional,
    /// allauth sends no email at sign-up either (`none`).
    None,
}

/// allauth's `ACCOUNT_LOGIN_METHODS`: a set of `username` and `email`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginMethods {
    pub username: bool,
    pub email: bool,
}

impl Default for LoginMethods {
    /// allauth's default: `{"username"}`.
    fn default() -> Self {
        Self {
            username: true,
            email: false,
        }
    }
}

/// A rate: `limit` requests per `period` seconds (DRF's `"5/hour"` form); `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: i64,
    pub period: i64,
}

/// allauth's `ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS`.
pub const DEFAULT_CONFIRMATION_EXPIRE_DAYS: i64 = 3;
/// Django's `PASSWORD_RESET_TIMEOUT` (3 days).
pub const DEFAULT_PASSWORD_RESET_TIMEOUT: i64 = 259_200;
/// allauth's `ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN`.
pub const DEFAULT_CONFIRMATION_COOLDOWN: i64 = 180;
/// The `django_site` row `migrate` creates.
pub const DEFAULT_SITE: &str = "example.com";

section! {
    /// The account flows (all top-level keys).
    pub struct AccountSettings {
        /// Serve dj-rest-auth's account API under `/api/auth/` (off: those paths answer 404).
        "AUTHBRIDGE_ACCOUNTS" enabled: bool = false, parse::boolean;
        /// allauth's `mandatory`, `optional` (its default) or `none`.
        "ACCOUNT_EMAIL_VERIFICATION" email_verification: EmailVerification =
            EmailVerification::Optional, email_verification;
        /// allauth's login methods: `username`, `email`, or both.
        "ACCOUNT_LOGIN_METHODS" login_methods: LoginMethods = LoginMethods::default(), login_methods;
        /// The link in confirmation emails, with `{key}` (default: dj-rest-auth's
        /// `<origin>/api/auth/registration/account-confirm-email/{key}/`).
        "ACCOUNT_EMAIL_CONFIRMATION_URL" confirmation_url: Option<String> = None,
            |k, v| link_template(k, v, &["{key}"]);
        /// The link in reset emails, with `{uid}` and `{token}` (default:
        /// `<origin>/password-reset/confirm/{uid}/{token}/`).
        "PASSWORD_RESET_CONFIRM_URL" reset_confirm_url: Option<String> = None,
            |k, v| link_template(k, v, &["{uid}", "{token}"]);
        /// Seconds a reset token stays valid (Django's setting).
        "PASSWORD_RESET_TIMEOUT" reset_timeout: i64 = DEFAULT_PASSWORD_RESET_TIMEOUT, positive_seconds;
        /// Days a confirmation key stays valid.
        "ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS" confirmation_expire_days: i64 =
            DEFAULT_CONFIRMATION_EXPIRE_DAYS, parse::int_in(0, 36_500);
        /// Seconds between two sign-up confirmation emails to one address (0: no cooldown).
        "ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN" confirmation_cooldown: i64 =
            DEFAULT_CONFIRMATION_COOLDOWN, cooldown;
        /// The site's name in the emails (Django's `Site.name`: subject prefix and greeting).
        "SITE_NAME" site_name: String = DEFAULT_SITE.into(), parse::string;
        /// The site's domain in the emails (Django's `Site.domain`).
        "SITE_DOMAIN" site_domain: String = DEFAULT_SITE.into(), parse::string;
        /// Django's `SECRET_KEY_FALLBACKS`: older keys still accepted for confirmation keys and
        /// reset tokens (never used to sign).
        "DJANGO_SECRET_KEY_FALLBACKS" secret_key_fallbacks: Vec<SecretString> = Vec::new(), fallbacks;
        /// Sign-ups per email address (`N/s|m|h|d`, `off`).
        "AUTHBRIDGE_SIGNUP_ADDRESS_RATE" signup_address_rate: Option<Rate> =
            Some(Rate { limit: 5, period: 3600 }), rate;
        /// Sign-ups per client address.
        "AUTHBRIDGE_SIGNUP_CLIENT_RATE" signup_client_rate: Option<Rate> =
            Some(Rate { limit: 20, period: 3600 }), rate;
        /// Confirmation resends per email address.
        "AUTHBRIDGE_RESEND_ADDRESS_RATE" resend_address_rate: Option<Rate> =
            Some(Rate { limit: 5, period: 3600 }), rate;
        /// Confirmation resends per client address.
        "AUTHBRIDGE_RESEND_CLIENT_RATE" resend_client_rate: Option<Rate> =
            Some(Rate { limit: 20, period: 3600 }), rate;
        /// Password reset requests per email address.
        "AUTHBRIDGE_PASSWORD_RESET_ADDRESS_RATE" reset_address_rate: Option<Rate> =
            Some(Rate { limit: 5, period: 3600 }), rate;
        /// Password reset requests per client address.
        "AUTHBRIDGE_PASSWORD_RESET_CLIENT_RATE" reset_client_rate: Option<Rate> =
            Some(Rate { limit: 20, period: 3600 }), rate;
    }
}

impl Rules for AccountSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if !self.login_methods.username && !self.login_methods.email {
            return Err(parse::invalid(
                "ACCOUNT_LOGIN_METHODS",
                "needs username, email or both",
            ));
        }
        Ok(())
    }
}

impl AccountSettings {
    /// `ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS` in seconds (allauth's `max_age`).
    pub fn confirmation_max_age(&self) -> i64 {
        self.confirmation_expire_days * 86_400
    }
}

fn email_verification(key: &str, value: &RawValue) -> Result<EmailVerification, ConfigError> {
    match parse::string(key, value)?.to_ascii_lowercase().as_str() {
        "mandatory" => Ok(EmailVerification::Mandatory),
        "optional" => Ok(EmailVerification::Optional),
        "none" => Ok(EmailVerification::None),
        other => Err(parse::invalid(
            key,
            format!("{other:?} is not one of mandatory, optional, none"),
        )),
    }
}

fn login_methods(key: &str, value: &RawValue) -> Result<LoginMethods, ConfigError> {
    let mut methods = LoginMethods {
        username: false,
        email: false,
    };
    for name in parse::string_list(key, value)? {
        match name.to_ascii_lowercase().as_str() {
            "username" => methods.username = true,
            "email" => methods.email = true,
            other => {
                return Err(parse::invalid(
                    key,
                    format!("{other:?} is not username or email"),
                ))
            }
        }
    }
    Ok(methods)
}

/// A link template: an absolute http(s) URL holding each placeholder.
fn link_template(
    key: &str,
    value: &RawValue,
    placeholders: &[&str],
) -> Result<Option<String>, ConfigError> {
    let Some(s) = parse::optional_string(key, value)? else {
        return Ok(None);
    };
    if !(s.starts_with("https://") || s.starts_with("http://")) {
        return Err(parse::invalid(key, "must be an absolute http(s) URL"));
    }
    for p in placeholders {
        if !s.contains(p) {
            return Err(parse::invalid(key, format!("must contain {p}")));
        }
    }
    Ok(Some(s))
}

fn positive_seconds(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    let s = parse::seconds(key, value)?;
    if (1..=10 * 365 * 86_400).contains(&s) {
        Ok(s)
    } else {
        Err(parse::invalid(key, "must be between 1 second and 10 years"))
    }
}

fn cooldown(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    let s = parse::seconds(key, value)?;
    if (0..=30 * 86_400).contains(&s) {
        Ok(s)
    } else {
        Err(parse::invalid(key, "must be between 0 and 30 days"))
    }
}

fn fallbacks(key: &str, value: &RawValue) -> Result<Vec<SecretString>, ConfigError> {
    Ok(parse::string_list(key, value)?
        .into_iter()
        .map(SecretString::from)
        .collect())
}

/// DRF's rate form: `N/period` where the period's first letter is `s`, `m`, `h` or `d`
/// (`5/hour`, `20/m`); `off`, `none` or `0` turns the limit off.
fn rate(key: &str, value: &RawValue) -> Result<Option<Rate>, ConfigError> {
    let s = parse::string(key, value)?;
    let t = s.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "off" | "none" | "0" | "") {
        return Ok(None);
    }
    let bad = || parse::invalid(key, format!("{s:?} is not N/s, N/m, N/h or N/d (or off)"));
    let (n, period) = t.split_once('/').ok_or_else(bad)?;
    let limit: i64 = n.trim().parse().map_err(|_| bad())?;
    let period = match period.trim().chars().next() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(bad()),
    };
    if !(0..=1_000_000).contains(&limit) {
        return Err(bad());
    }
    Ok((limit > 0).then_some(Rate { limit, period }))
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
    fn defaults_are_allauths_and_djangos() {
        let s = load(&[]).unwrap().accounts;
        assert!(!s.enabled);
        assert_eq!(s.email_verification, EmailVerification::Optional);
        assert_eq!(s.login_methods, LoginMethods::default());
        assert_eq!(s.reset_timeout, 259_200);
        assert_eq!(s.confirmation_max_age(), 3 * 86_400);
        assert_eq!(s.confirmation_cooldown, 180);
        assert_eq!(
            (s.site_name.as_str(), s.site_domain.as_str()),
            ("example.com", "example.com")
        );
        assert!(s.secret_key_fallbacks.is_empty());
        assert_eq!(
            s.signup_address_rate,
            Some(Rate {
                limit: 5,
                period: 3600
            })
        );
    }

    #[test]
    fn overrides() {
        let s = load(&[
            ("AUTHBRIDGE_ACCOUNTS", "true"),
            ("ACCOUNT_EMAIL_VERIFICATION", "Mandatory"),
            ("ACCOUNT_LOGIN_METHODS", "username,email"),
            (
                "ACCOUNT_EMAIL_CONFIRMATION_URL",
                "https://app.example/confirm/{key}",
            ),
            (
                "PASSWORD_RESET_CONFIRM_URL",
                "https://app.example/reset/{uid}/{token}",
            ),
            ("PASSWORD_RESET_TIMEOUT", "1h"),
            ("ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN", "0"),
            ("DJANGO_SECRET_KEY_FALLBACKS", "old-one,older-one"),
            ("AUTHBRIDGE_SIGNUP_ADDRESS_RATE", "3/minute"),
            ("AUTHBRIDGE_PASSWORD_RESET_CLIENT_RATE", "off"),
        ])
        .unwrap()
        .accounts;
        assert!(s.enabled);
        assert_eq!(s.email_verification, EmailVerification::Mandatory);
        assert_eq!(
            s.login_methods,
            LoginMethods {
                username: true,
                email: true
            }
        );
        assert_eq!(s.reset_timeout, 3600);
        assert_eq!(s.confirmation_cooldown, 0);
        assert_eq!(s.secret_key_fallbacks.len(), 2);
        assert_eq!(s.secret_key_fallbacks[1].expose_secret(), "older-one");
        assert_eq!(
            s.signup_address_rate,
            Some(Rate {
                limit: 3,
                period: 60
            })
        );
        assert_eq!(s.reset_client_rate, None);
    }

    #[test]
    fn bad_values_name_the_key() {
        for (key, value) in [
            ("ACCOUNT_EMAIL_VERIFICATION", "sometimes"),
            ("ACCOUNT_LOGIN_METHODS", "phone"),
            ("ACCOUNT_LOGIN_METHODS", ""),
            (
                "ACCOUNT_EMAIL_CONFIRMATION_URL",
                "https://app.example/confirm/",
            ),
            ("ACCOUNT_EMAIL_CONFIRMATION_URL", "/confirm/{key}"),
            (
                "PASSWORD_RESET_CONFIRM_URL",
                "https://app.example/reset/{uid}",
            ),
            ("PASSWORD_RESET_TIMEOUT", "0"),
            ("AUTHBRIDGE_RESEND_ADDRESS_RATE", "5/fortnight"),
            ("AUTHBRIDGE_RESEND_CLIENT_RATE", "many/h"),
        ] {
            let err = load(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key), "{key}={value}: {err}");
        }
    }
}
