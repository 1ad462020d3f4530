//! Browser clients: CORS under django-cors-headers' setting names and cookie mode under
//! dj-rest-auth's, each a top-level key (and the environment variable of the same name).
//!
//! Defaults are the two packages' own (django-cors-headers 4.x, dj-rest-auth 7.x), with two
//! exceptions, both documented in docs/browser.md:
//! - `JWT_AUTH_REFRESH_COOKIE_PATH` defaults to `/api/token/` (dj-rest-auth: `/`) so the refresh
//!   cookie only travels to the token endpoints (refresh and blacklist live there);
//! - `JWT_AUTH_SAMESITE = "None"` and `CORS_ALLOW_ALL_ORIGINS` together with
//!   `CORS_ALLOW_CREDENTIALS` are refused (django-cors-headers would reflect any origin with
//!   credentials; dj-rest-auth would send the refresh cookie on cross-site requests).
//!
//! Cookie mode is on when `JWT_AUTH_REFRESH_COOKIE` (or `JWT_AUTH_COOKIE`) names a cookie; with
//! neither, the token API keeps simplejwt's exact wire format. CORS is on when any origin is
//! allowed; with none, no CORS layer is installed at all.

use regex::Regex;

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

#[derive(Debug, Clone)]
pub struct BrowserSettings {
    /// `CORS_ALLOWED_ORIGINS`: `scheme://host[:port]` (or the special `null` / `file://`).
    pub cors_allowed_origins: Vec<String>,
    /// `CORS_ALLOWED_ORIGIN_REGEXES`, matched against the whole origin (anchored at both ends;
    /// django-cors-headers' `re.match` anchors only the start, so a pattern without `$` there
    /// also allows `https://app.example.com.evil.test`). A pattern without `$` is warned about.
    pub cors_allowed_origin_regexes: Vec<Regex>,
    pub cors_allow_all_origins: bool,
    pub cors_allow_credentials: bool,
    pub cors_allow_headers: Vec<String>,
    pub cors_allow_methods: Vec<String>,
    pub cors_expose_headers: Vec<String>,
    /// Seconds; 0 omits `Access-Control-Max-Age`.
    pub cors_preflight_max_age: u32,
    /// `CORS_URLS_REGEX`, matched (like `re.match`) against the request path; `None` is the
    /// default `^.*$` (every path).
    pub cors_urls_regex: Option<Regex>,
    pub cors_allow_private_network: bool,
    /// `JWT_AUTH_COOKIE`: also put the access token in this cookie (Path=/). authbridge's own
    /// `JWTAuthentication` reads only the header; the cookie is for a backend on the same host
    /// using dj-rest-auth's `JWTCookieAuthentication`.
    pub jwt_auth_cookie: Option<String>,
    /// `JWT_AUTH_REFRESH_COOKIE`: cookie mode's refresh-token cookie.
    pub jwt_auth_refresh_cookie: Option<String>,
    pub jwt_auth_refresh_cookie_path: String,
    /// `Secure` on the cookies, and the `__Host-` / `__Secure-` name prefix.
    pub jwt_auth_secure: bool,
    /// `HttpOnly` on the token cookies; when on, the refresh token is left out of the body.
    pub jwt_auth_httponly: bool,
    pub jwt_auth_samesite: SameSite,
    /// Double-submit CSRF token (Django's `csrftoken` cookie / `X-CSRFToken` header) required on
    /// cookie-authenticated requests, on top of the Origin / Sec-Fetch-Site check.
    pub jwt_auth_cookie_use_csrf: bool,
}

/// django-cors-headers' `default_headers`.
pub const DEFAULT_ALLOW_HEADERS: &[&str] = &[
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
];
/// django-cors-headers' `default_methods`.
pub const DEFAULT_ALLOW_METHODS: &[&str] = &["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"];
pub const DEFAULT_REFRESH_COOKIE_PATH: &str = "/api/token/";

impl Default for BrowserSettings {
    fn default() -> Self {
        Self {
            cors_allowed_origins: Vec::new(),
            cors_allowed_origin_regexes: Vec::new(),
            cors_allow_all_origins: false,
            cors_allow_credentials: false,
            cors_allow_headers: DEFAULT_ALLOW_HEADERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cors_allow_methods: DEFAULT_ALLOW_METHODS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cors_expose_headers: Vec::new(),
            cors_preflight_max_age: 86400,
            cors_urls_regex: None,
            cors_allow_private_network: false,
            jwt_auth_cookie: None,
            jwt_auth_refresh_cookie: None,
            jwt_auth_refresh_cookie_path: DEFAULT_REFRESH_COOKIE_PATH.into(),
            jwt_auth_secure: false,
            jwt_auth_httponly: true,
            jwt_auth_samesite: SameSite::Lax,
            jwt_auth_cookie_use_csrf: false,
        }
    }
}

/// Compile a Python pattern for `re.match` semantics: anchored at the start, not at the end.
fn python_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})"))
}

/// Compile an origin pattern to match the whole origin (`re.fullmatch`).
fn full_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// A pattern that django-cors-headers would match as a prefix only (no `$` or `\Z` at the end).
fn unanchored_at_end(pattern: &str) -> bool {
    let p = pattern.trim_end();
    let anchored =
        (p.ends_with('$') && !p.ends_with("\\$")) || p.ends_with("\\Z") || p.ends_with("\\z");
    !anchored
}

/// `AUTHBRIDGE_TRUSTED_ORIGINS`: never `null` (sandboxed frames, `data:` pages and cross-origin
/// redirects all send `Origin: null`, so trusting it trusts every site).
pub fn validate_trusted_origins(origins: &[String]) -> Result<(), ConfigError> {
    if origins
        .iter()
        .any(|o| o.trim().eq_ignore_ascii_case("null"))
    {
        return Err(invalid(
            "AUTHBRIDGE_TRUSTED_ORIGINS",
            "\"null\" cannot be trusted: sandboxed iframes, data: URLs and cross-origin redirects of \
             any website send Origin: null",
        ));
    }
    Ok(())
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// A list of patterns: a TOML array, or in the environment either a JSON array (needed when a
/// pattern contains a comma, e.g. `{1,3}`) or a comma-separated list.
fn pattern_list(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    if let RawValue::Env(s) = value {
        if s.trim_start().starts_with('[') {
            return serde_json::from_str::<Vec<String>>(s)
                .map_err(|e| invalid(key, format!("not a JSON array of strings: {e}")));
        }
    }
    value.string_list(key)
}

/// An HTTP token (RFC 9110 §5.6.2): header names and methods.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn token_list(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = value.string_list(key)?;
    if let Some(bad) = list.iter().find(|s| !is_token(s)) {
        return Err(invalid(
            key,
            format!("{bad:?} is not a valid HTTP header or method name"),
        ));
    }
    Ok(list)
}

/// django-cors-headers' system checks E013/E014: `scheme://netloc` and nothing else.
fn check_origin(key: &str, origin: &str) -> Result<(), ConfigError> {
    if origin == "null" || origin == "file://" {
        return Ok(());
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(invalid(
            key,
            format!("origin {origin:?} is missing a scheme (e.g. https://)"),
        ));
    };
    if scheme.is_empty() || rest.is_empty() {
        return Err(invalid(
            key,
            format!("origin {origin:?} is missing a scheme or host"),
        ));
    }
    if let Some(i) = rest.find(['/', '?', '#']) {
        let part = match rest.as_bytes()[i] {
            b'/' => "a path (remove the trailing slash)",
            b'?' => "a query",
            _ => "a fragment",
        };
        return Err(invalid(
            key,
            format!("origin {origin:?} should not have {part}"),
        ));
    }
    Ok(())
}

/// RFC 6265 cookie-name (a token).
fn cookie_name(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let name = value.optional_string(key)?;
    if let Some(n) = &name {
        if !is_token(n) {
            return Err(invalid(key, format!("{n:?} is not a valid cookie name")));
        }
    }
    Ok(name)
}

/// Origin as `urlsplit` sees it: lower-cased scheme and the netloc as written.
fn split_origin(origin: &str) -> Option<(String, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((scheme.to_ascii_lowercase(), &rest[..end]))
}

impl BrowserSettings {
    /// Every key this group accepts (all top-level, file and environment alike).
    pub const KEYS: &'static [&'static str] = &[
        "CORS_ALLOWED_ORIGINS",
        "CORS_ALLOWED_ORIGIN_REGEXES",
        "CORS_ALLOW_ALL_ORIGINS",
        "CORS_ALLOW_CREDENTIALS",
        "CORS_ALLOW_HEADERS",
        "CORS_ALLOW_METHODS",
        "CORS_EXPOSE_HEADERS",
        "CORS_PREFLIGHT_MAX_AGE",
        "CORS_URLS_REGEX",
        "CORS_ALLOW_PRIVATE_NETWORK",
        "JWT_AUTH_COOKIE",
        "JWT_AUTH_REFRESH_COOKIE",
        "JWT_AUTH_REFRESH_COOKIE_PATH",
        "JWT_AUTH_SECURE",
        "JWT_AUTH_HTTPONLY",
        "JWT_AUTH_SAMESITE",
        "JWT_AUTH_COOKIE_USE_CSRF",
    ];

    pub fn set(&mut self, key: &str, value: &RawValue) -> Result<(), ConfigError> {
        match key {
            "CORS_ALLOWED_ORIGINS" => {
                let list = value.string_list(key)?;
                for origin in &list {
                    check_origin(key, origin)?;
                }
                self.cors_allowed_origins = list;
            }
            "CORS_ALLOWED_ORIGIN_REGEXES" => {
                let patterns = pattern_list(key, value)?;
                self.cors_allowed_origin_regexes = patterns
                    .iter()
                    .map(|p| {
                        full_match(p)
                            .map_err(|e| invalid(key, format!("{p:?} is not a valid regex: {e}")))
                    })
                    .collect::<Result<_, _>>()?;
                for p in patterns.iter().filter(|p| unanchored_at_end(p)) {
                    tracing::warn!(
                        pattern = %p,
                        "CORS_ALLOWED_ORIGIN_REGEXES: the pattern does not end with $; authbridge \
                         matches it against the whole origin, but django-cors-headers matches only \
                         its start (so there it would also allow e.g. <origin>.evil.example). \
                         End it with $ to mean the same thing in both"
                    );
                }
            }
            "CORS_ALLOW_ALL_ORIGINS" => self.cors_allow_all_origins = value.boolean(key)?,
            "CORS_ALLOW_CREDENTIALS" => self.cors_allow_credentials = value.boolean(key)?,
            "CORS_ALLOW_HEADERS" => self.cors_allow_headers = token_list(key, value)?,
            "CORS_ALLOW_METHODS" => self.cors_allow_methods = token_list(key, value)?,
            "CORS_EXPOSE_HEADERS" => self.cors_expose_headers = token_list(key, value)?,
            "CORS_PREFLIGHT_MAX_AGE" => {
                let n = value.integer(key)?;
                self.cors_preflight_max_age = u32::try_from(n).map_err(|_| {
                    invalid(key, "should be an integer greater than or equal to zero")
                })?;
            }
            "CORS_URLS_REGEX" => {
                let p = value.string(key)?;
                self.cors_urls_regex = Some(
                    python_match(&p)
                        .map_err(|e| invalid(key, format!("{p:?} is not a valid regex: {e}")))?,
                );
            }
            "CORS_ALLOW_PRIVATE_NETWORK" => self.cors_allow_private_network = value.boolean(key)?,
            "JWT_AUTH_COOKIE" => self.jwt_auth_cookie = cookie_name(key, value)?,
            "JWT_AUTH_REFRESH_COOKIE" => self.jwt_auth_refresh_cookie = cookie_name(key, value)?,
            "JWT_AUTH_REFRESH_COOKIE_PATH" => {
                let p = value.string(key)?;
                if !p.starts_with('/')
                    || p.bytes()
                        .any(|b| b == b';' || b.is_ascii_control() || b == b' ')
                {
                    return Err(invalid(
                        key,
                        format!("{p:?} must be a URL path starting with /"),
                    ));
                }
                self.jwt_auth_refresh_cookie_path = p;
            }
            "JWT_AUTH_SECURE" => self.jwt_auth_secure = value.boolean(key)?,
            "JWT_AUTH_HTTPONLY" => self.jwt_auth_httponly = value.boolean(key)?,
            "JWT_AUTH_SAMESITE" => {
                let s = value.string(key)?;
                self.jwt_auth_samesite = match s.to_ascii_lowercase().as_str() {
                    "lax" => SameSite::Lax,
                    "strict" => SameSite::Strict,
                    "none" => {
                        return Err(invalid(
                            key,
                            "\"None\" is not supported: it would send the refresh cookie on cross-site requests. \
                             Serve the app and authbridge from the same site (e.g. app.example.com and \
                             auth.example.com) and use \"Lax\" or \"Strict\"",
                        ))
                    }
                    _ => return Err(invalid(key, format!("{s:?} is not \"Lax\" or \"Strict\""))),
                };
            }
            "JWT_AUTH_COOKIE_USE_CSRF" => self.jwt_auth_cookie_use_csrf = value.boolean(key)?,
            _ => return Err(ConfigError::UnknownKey(key.to_string())),
        }
        Ok(())
    }

    /// Cross-field checks once every source is applied.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cors_allow_credentials && self.cors_allowed_origins.iter().any(|o| o == "null") {
            return Err(invalid(
                "CORS_ALLOWED_ORIGINS",
                "\"null\" cannot be combined with CORS_ALLOW_CREDENTIALS: sandboxed iframes, data: \
                 URLs and cross-origin redirects of any website send Origin: null, so every site \
                 could make credentialed requests and read the answers",
            ));
        }
        if self.cors_allow_all_origins && self.cors_allow_credentials {
            return Err(invalid(
                "CORS_ALLOW_ALL_ORIGINS",
                "cannot be combined with CORS_ALLOW_CREDENTIALS: every website could then make \
                 credentialed requests and read the answers. List the origins in CORS_ALLOWED_ORIGINS \
                 or CORS_ALLOWED_ORIGIN_REGEXES instead",
            ));
        }
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

    /// Whether CORS applies to a request path (`CORS_URLS_REGEX`).
    pub fn cors_applies_to(&self, path: &str) -> bool {
        self.cors_urls_regex
            .as_ref()
            .is_none_or(|r| r.is_match(path))
    }

    /// Whether a CORS layer is needed at all.
    pub fn cors_enabled(&self) -> bool {
        self.cors_allow_all_origins
            || !self.cors_allowed_origins.is_empty()
            || !self.cors_allowed_origin_regexes.is_empty()
    }

    /// django-cors-headers' `origin_found_in_white_lists`: `null` only when listed literally,
    /// otherwise same scheme and netloc as a listed origin, or a regex match.
    pub fn cors_origin_listed(&self, origin: &str) -> bool {
        if origin == "null" {
            return self.cors_allowed_origins.iter().any(|o| o == "null");
        }
        let listed = split_origin(origin).is_some_and(|(scheme, netloc)| {
            self.cors_allowed_origins
                .iter()
                .filter(|o| o.as_str() != "null")
                .filter_map(|o| split_origin(o))
                .any(|(s, n)| s == scheme && n == netloc)
        });
        listed
            || self
                .cors_allowed_origin_regexes
                .iter()
                .any(|r| r.is_match(origin))
    }

    /// Origins that may send credentialed cross-origin requests and read the answers: they are
    /// also trusted by the cookie-mode CSRF check.
    /// `null` never is (refused with credentials at load time, and excluded here as well).
    pub fn cors_credentialed_origin(&self, origin: &str) -> bool {
        self.cors_allow_credentials && origin != "null" && self.cors_origin_listed(origin)
    }

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
    use crate::config::Settings;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<BrowserSettings, ConfigError> {
        Settings::load(None, env(pairs)).map(|s| s.browser)
    }

    #[test]
    fn every_key_is_a_top_level_key() {
        for key in BrowserSettings::KEYS {
            assert!(Settings::is_key(key), "{key} is not a top-level key");
        }
    }

    #[test]
    fn defaults_are_the_packages_defaults() {
        let b = load(&[]).expect("settings load");
        assert!(!b.cors_enabled());
        assert!(!b.cookie_mode());
        assert_eq!(b.cors_allow_headers, DEFAULT_ALLOW_HEADERS);
        assert_eq!(b.cors_allow_methods, DEFAULT_ALLOW_METHODS);
        assert_eq!(b.cors_preflight_max_age, 86400);
        assert!(b.cors_applies_to("/anything"));
        assert!(b.jwt_auth_httponly);
        assert!(!b.jwt_auth_secure);
        assert_eq!(b.jwt_auth_samesite, SameSite::Lax);
        assert_eq!(b.jwt_auth_refresh_cookie_path, "/api/token/");
    }

    #[test]
    fn allow_all_with_credentials_is_refused() {
        let err = load(&[
            ("CORS_ALLOW_ALL_ORIGINS", "true"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ])
        .expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("CORS_ALLOW_ALL_ORIGINS") && msg.contains("CORS_ALLOW_CREDENTIALS"),
            "{msg}"
        );
        assert!(load(&[("CORS_ALLOW_ALL_ORIGINS", "true")]).is_ok());
    }

    #[test]
    fn origins_are_checked_like_django_cors_headers() {
        assert!(load(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com, http://localhost:3000, null"
        )])
        .is_ok());
        let err = load(&[("CORS_ALLOWED_ORIGINS", "https://app.example.com/")])
            .expect_err("refused")
            .to_string();
        assert!(err.contains("path"), "{err}");
        let err = load(&[("CORS_ALLOWED_ORIGINS", "app.example.com")])
            .expect_err("refused")
            .to_string();
        assert!(err.contains("scheme"), "{err}");
    }

    #[test]
    fn origin_matching() {
        let b = load(&[
            (
                "CORS_ALLOWED_ORIGINS",
                "https://app.example.com,http://localhost:3000",
            ),
            (
                "CORS_ALLOWED_ORIGIN_REGEXES",
                r#"["^https://[a-z0-9-]{1,30}\\.preview\\.example\\.com$"]"#,
            ),
        ])
        .expect("settings load");
        assert!(b.cors_origin_listed("https://app.example.com"));
        assert!(b.cors_origin_listed("HTTPS://app.example.com"));
        assert!(!b.cors_origin_listed("https://app.example.com:8443"));
        assert!(!b.cors_origin_listed("http://app.example.com"));
        assert!(b.cors_origin_listed("http://localhost:3000"));
        assert!(!b.cors_origin_listed("http://localhost:3001"));
        assert!(b.cors_origin_listed("https://pr-12.preview.example.com"));
        assert!(!b.cors_origin_listed("https://pr-12.preview.example.com.evil.test"));
        assert!(!b.cors_origin_listed("null"));
        // Without credentials nothing is trusted for CSRF purposes.
        assert!(!b.cors_credentialed_origin("https://app.example.com"));
    }

    #[test]
    fn origin_regexes_match_the_whole_origin() {
        let b = load(&[("CORS_ALLOWED_ORIGIN_REGEXES", r"https://\w+\.example\.com")])
            .expect("settings load");
        assert!(b.cors_origin_listed("https://a.example.com"));
        // django-cors-headers' re.match would accept this one (start-anchored only); authbridge
        // matches the whole origin.
        assert!(!b.cors_origin_listed("https://a.example.com.evil.test"));
        assert!(!b.cors_origin_listed("http://x/https://a.example.com"));
        assert!(unanchored_at_end(r"https://\w+\.example\.com"));
        assert!(!unanchored_at_end(r"^https://\w+\.example\.com$"));
        assert!(unanchored_at_end(r"https://example\.com\$"));
        assert!(load(&[("CORS_ALLOWED_ORIGIN_REGEXES", "(unclosed")]).is_err());
        let b = load(&[("CORS_URLS_REGEX", r"^/api/")]).expect("settings load");
        assert!(b.cors_applies_to("/api/token/"));
        assert!(!b.cors_applies_to("/health"));
    }

    #[test]
    fn null_origin_is_never_trusted_with_credentials() {
        let err = load(&[
            ("CORS_ALLOWED_ORIGINS", "https://app.example.com, null"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ])
        .expect_err("refused")
        .to_string();
        assert!(
            err.contains("CORS_ALLOWED_ORIGINS")
                && err.contains("null")
                && err.contains("CORS_ALLOW_CREDENTIALS"),
            "{err}"
        );
        // Without credentials django-cors-headers' literal `null` stays allowed (no cookies ride).
        let b = load(&[("CORS_ALLOWED_ORIGINS", "null")]).expect("settings load");
        assert!(b.cors_origin_listed("null"));
        assert!(!b.cors_credentialed_origin("null"));
        // A regex that happens to match "null" does not make it a credentialed origin either.
        let b = load(&[
            ("CORS_ALLOWED_ORIGIN_REGEXES", "n.*"),
            ("CORS_ALLOW_CREDENTIALS", "true"),
        ])
        .expect("settings load");
        assert!(!b.cors_credentialed_origin("null"));
        let err = Settings::load(
            None,
            env(&[("AUTHBRIDGE_TRUSTED_ORIGINS", "https://a.test, null")]),
        )
        .expect_err("refused")
        .to_string();
        assert!(err.contains("AUTHBRIDGE_TRUSTED_ORIGINS"), "{err}");
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
        assert!(load(&[("CORS_PREFLIGHT_MAX_AGE", "-1")]).is_err());
        assert!(load(&[("CORS_ALLOW_HEADERS", "x-ok, bad header")]).is_err());
    }

    #[test]
    fn toml_file_keys() {
        let dir = tempfile::tempdir().expect("settings load");
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            r#"
CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
CORS_ALLOWED_ORIGIN_REGEXES = ['^https://\w{1,20}\.example\.com$']
CORS_ALLOW_CREDENTIALS = true
CORS_PREFLIGHT_MAX_AGE = 600
JWT_AUTH_REFRESH_COOKIE = "refresh"
JWT_AUTH_SECURE = true
JWT_AUTH_SAMESITE = "Strict"
"#,
        )
        .expect("settings load");
        let b = Settings::load(Some(&path), env(&[]))
            .expect("settings load")
            .browser;
        assert!(b.cors_credentialed_origin("https://app.example.com"));
        assert!(b.cors_credentialed_origin("https://x.example.com"));
        assert_eq!(b.cors_preflight_max_age, 600);
        assert_eq!(b.jwt_auth_samesite, SameSite::Strict);
    }
}
