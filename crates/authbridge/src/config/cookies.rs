//! Cookie mode for single-page apps under dj-rest-auth's setting names (7.x defaults), each a
//! top-level key (and the environment variable of the same name). Cookie mode is on when
//! `JWT_AUTH_REFRESH_COOKIE` (or `JWT_AUTH_COOKIE`) names a cookie; with neither, the token API
//! keeps simplejwt's exact wire format.
//!
//! Two deliberate differences, documented in docs/browser.md: `JWT_AUTH_REFRESH_COOKIE_PATH`
//! defaults to `/api/token/` (dj-rest-auth: `/`) so the refresh cookie only travels to the token
//! endpoints, and `JWT_AUTH_SAMESITE = "None"` is refused (the refresh cookie would ride along on
//! cross-site requests).

use super::parse::{self, invalid, is_token};
use super::schema::{section, Rules};
use super::{ConfigError, RawValue};

/// `SameSite` for the auth cookies. `None` is deliberately not offered: the refresh cookie must
/// not ride along on cross-site requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lax => "Lax",
            Self::Strict => "Strict",
        }
    }
}

pub const DEFAULT_REFRESH_COOKIE_PATH: &str = "/api/token/";

section! {
    /// dj-rest-auth's cookie settings.
    pub struct CookieSettings {
        /// Also put the access token in this cookie (Path=/). authbridge's own
        /// `JWTAuthentication` reads only the header; the cookie is for a backend on the same host
        /// using dj-rest-auth's `JWTCookieAuthentication`.
        "JWT_AUTH_COOKIE" jwt_auth_cookie: Option<String> = None, cookie_name;
        /// Cookie mode's refresh-token cookie.
        "JWT_AUTH_REFRESH_COOKIE" jwt_auth_refresh_cookie: Option<String> = None, cookie_name;
        /// The refresh cookie's `Path`.
        "JWT_AUTH_REFRESH_COOKIE_PATH" jwt_auth_refresh_cookie_path: String =
            DEFAULT_REFRESH_COOKIE_PATH.into(), cookie_path;
        /// `Secure` on the cookies, and the `__Host-` / `__Secure-` name prefix.
        "JWT_AUTH_SECURE" jwt_auth_secure: bool = false, parse::boolean;
        /// `HttpOnly` on the token cookies; when on, the refresh token is left out of the body.
        "JWT_AUTH_HTTPONLY" jwt_auth_httponly: bool = true, parse::boolean;
        /// `SameSite` of the cookies: `Lax` or `Strict`.
        "JWT_AUTH_SAMESITE" jwt_auth_samesite: SameSite = SameSite::Lax, same_site;
        /// Double-submit CSRF token (Django's `csrftoken` cookie / `X-CSRFToken` header) required
        /// on cookie-authenticated requests, on top of the Origin / Sec-Fetch-Site check.
        "JWT_AUTH_COOKIE_USE_CSRF" jwt_auth_cookie_use_csrf: bool = false, parse::boolean;
    }
}

/// RFC 6265 cookie-name (a token).
fn cookie_name(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let name = parse::optional_string(key, value)?;
    if let Some(n) = &name {
        if !is_token(n) {
            return Err(invalid(key, format!("{n:?} is not a valid cookie name")));
        }
    }
    Ok(name)
}

fn cookie_path(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let p = parse::string(key, value)?;
    if !p.starts_with('/')
        || p.bytes()
            .any(|b| b == b';' || b.is_ascii_control() || b == b' ')
    {
        return Err(invalid(
            key,
            format!("{p:?} must be a URL path starting with /"),
        ));
    }
    Ok(p)
}

fn same_site(key: &str, value: &RawValue) -> Result<SameSite, ConfigError> {
    let s = parse::string(key, value)?;
    match s.to_ascii_lowercase().as_str() {
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        "none" => Err(invalid(
            key,
            "\"None\" is not supported: it would send the refresh cookie on cross-site requests. \
             Serve the app and authbridge from the same site (e.g. app.example.com and \
             auth.example.com) and use \"Lax\" or \"Strict\"",
        )),
        _ => Err(invalid(key, format!("{s:?} is not \"Lax\" or \"Strict\""))),
    }
}

impl Rules for CookieSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if self.jwt_auth_cookie.is_some() && self.jwt_auth_cookie == self.jwt_auth_refresh_cookie {
            return Err(invalid(
                "JWT_AUTH_COOKIE",
                "must differ from JWT_AUTH_REFRESH_COOKIE",
            ));
        }
        if self.jwt_auth_cookie_use_csrf && self.jwt_auth_refresh_cookie.is_none() {
            return Err(invalid(
                "JWT_AUTH_COOKIE_USE_CSRF",
                "has no effect without JWT_AUTH_REFRESH_COOKIE (only cookie-authenticated refresh and \
                 logout need a CSRF token)",
            ));
        }
        for (key, name, path) in [
            ("JWT_AUTH_COOKIE", &self.jwt_auth_cookie, "/"),
            (
                "JWT_AUTH_REFRESH_COOKIE",
                &self.jwt_auth_refresh_cookie,
                self.jwt_auth_refresh_cookie_path.as_str(),
            ),
        ] {
            let Some(name) = name else { continue };
            let prefixed = name.starts_with("__Host-") || name.starts_with("__Secure-");
            if prefixed && !self.jwt_auth_secure {
                return Err(invalid(
                    key,
                    format!("{name:?}: browsers only accept prefixed cookies with JWT_AUTH_SECURE"),
                ));
            }
            if name.starts_with("__Host-") && path != "/" {
                return Err(invalid(key, format!("{name:?}: a __Host- cookie needs Path=/ (set JWT_AUTH_REFRESH_COOKIE_PATH = \"/\")")));
            }
        }
        Ok(())
    }
}

impl CookieSettings {
    /// Cookie mode is on (some token travels in a cookie).
    pub fn cookie_mode(&self) -> bool {
        self.jwt_auth_refresh_cookie.is_some() || self.jwt_auth_cookie.is_some()
    }

    /// The name a cookie is actually set under: with `JWT_AUTH_SECURE`, `__Host-` when its path
    /// is `/` (host-only, path-wide: no sibling subdomain can plant or shadow it) and `__Secure-`
    /// otherwise (a `__Host-` cookie must have Path=/). A name that already has a prefix is kept.
    pub fn cookie_name_for(&self, base: &str, path: &str) -> String {
        if !self.jwt_auth_secure || base.starts_with("__Host-") || base.starts_with("__Secure-") {
            base.to_string()
        } else if path == "/" {
            format!("__Host-{base}")
        } else {
            format!("__Secure-{base}")
        }
    }

    /// The refresh cookie's name as sent, when cookie mode has one.
    pub fn refresh_cookie_name(&self) -> Option<String> {
        let base = self.jwt_auth_refresh_cookie.as_deref()?;
        Some(self.cookie_name_for(base, &self.jwt_auth_refresh_cookie_path))
    }

    /// The access cookie's name as sent, when configured.
    pub fn access_cookie_name(&self) -> Option<String> {
        let base = self.jwt_auth_cookie.as_deref()?;
        Some(self.cookie_name_for(base, "/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::Section;
    use crate::config::Settings;

    fn load(pairs: &[(&str, &str)]) -> Result<CookieSettings, ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(None, env).map(|s| s.cookies)
    }

    #[test]
    fn every_key_is_a_top_level_key() {
        for key in CookieSettings::KEYS {
            assert!(
                Settings::is_key(key.name),
                "{} is not a top-level key",
                key.name
            );
        }
    }

    #[test]
    fn defaults_are_the_packages_defaults() {
        let b = load(&[]).expect("settings load");
        assert!(!b.cookie_mode());
        assert!(b.jwt_auth_httponly);
        assert!(!b.jwt_auth_secure);
        assert_eq!(b.jwt_auth_samesite, SameSite::Lax);
        assert_eq!(b.jwt_auth_refresh_cookie_path, "/api/token/");
    }

    #[test]
    fn cookie_names_and_prefixes() {
        let b = load(&[
            ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
            ("JWT_AUTH_COOKIE", "access"),
        ])
        .expect("settings load");
        assert!(b.cookie_mode());
        assert_eq!(b.refresh_cookie_name().as_deref(), Some("refresh"));
        let b = load(&[
            ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
            ("JWT_AUTH_COOKIE", "access"),
            ("JWT_AUTH_SECURE", "1"),
        ])
        .expect("settings load");
        assert_eq!(b.refresh_cookie_name().as_deref(), Some("__Secure-refresh"));
        assert_eq!(b.access_cookie_name().as_deref(), Some("__Host-access"));
        let b = load(&[
            ("JWT_AUTH_REFRESH_COOKIE", "refresh"),
            ("JWT_AUTH_REFRESH_COOKIE_PATH", "/"),
            ("JWT_AUTH_SECURE", "true"),
        ])
        .expect("settings load");
        assert_eq!(b.refresh_cookie_name().as_deref(), Some("__Host-refresh"));
        assert!(load(&[("JWT_AUTH_REFRESH_COOKIE", "__Host-r")]).is_err());
        assert!(load(&[
            ("JWT_AUTH_REFRESH_COOKIE", "__Host-r"),
            ("JWT_AUTH_SECURE", "1")
        ])
        .is_err());
        assert!(load(&[("JWT_AUTH_REFRESH_COOKIE", "bad name")]).is_err());
        assert!(load(&[("JWT_AUTH_REFRESH_COOKIE", "x"), ("JWT_AUTH_COOKIE", "x")]).is_err());
    }

    #[test]
    fn samesite_and_csrf_settings() {
        assert_eq!(
            load(&[("JWT_AUTH_SAMESITE", "strict")])
                .expect("settings load")
                .jwt_auth_samesite,
            SameSite::Strict
        );
        let err = load(&[("JWT_AUTH_SAMESITE", "None")])
            .expect_err("refused")
            .to_string();
        assert!(err.contains("cross-site"), "{err}");
        assert!(load(&[("JWT_AUTH_COOKIE_USE_CSRF", "true")]).is_err());
        assert!(load(&[
            ("JWT_AUTH_COOKIE_USE_CSRF", "true"),
            ("JWT_AUTH_REFRESH_COOKIE", "r")
        ])
        .is_ok());
    }
}
