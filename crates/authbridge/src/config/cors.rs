//! CORS under django-cors-headers' setting names (4.x defaults), each a top-level key (and the
//! environment variable of the same name). CORS is on when any origin is allowed; with none, no
//! CORS layer is installed at all.
//!
//! One deliberate difference, documented in docs/browser.md: `CORS_ALLOW_ALL_ORIGINS` together
//! with `CORS_ALLOW_CREDENTIALS` is refused (django-cors-headers would reflect any origin with
//! credentials), and so is the literal origin `null` with credentials.

use regex::Regex;

use super::parse::{self, invalid, is_token};
use super::schema::{section, Rules};
use super::{ConfigError, RawValue};

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

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

section! {
    /// django-cors-headers' settings.
    pub struct CorsSettings {
        /// `scheme://host[:port]` (or the special `null` / `file://`).
        "CORS_ALLOWED_ORIGINS" cors_allowed_origins: Vec<String> = Vec::new(), origins;
        /// Matched against the whole origin (anchored at both ends; django-cors-headers' `re.match`
        /// anchors only the start, so a pattern without `$` there also allows
        /// `https://app.example.com.evil.test`). A pattern without `$` is warned about.
        "CORS_ALLOWED_ORIGIN_REGEXES" cors_allowed_origin_regexes: Vec<Regex> = Vec::new(),
            origin_regexes;
        /// `Access-Control-Allow-Origin: *`.
        "CORS_ALLOW_ALL_ORIGINS" cors_allow_all_origins: bool = false, parse::boolean;
        /// `Access-Control-Allow-Credentials: true` (these origins also pass cookie mode's CSRF check).
        "CORS_ALLOW_CREDENTIALS" cors_allow_credentials: bool = false, parse::boolean;
        /// `Access-Control-Allow-Headers` on preflights.
        "CORS_ALLOW_HEADERS" cors_allow_headers: Vec<String> = strings(DEFAULT_ALLOW_HEADERS),
            token_list;
        /// `Access-Control-Allow-Methods` on preflights.
        "CORS_ALLOW_METHODS" cors_allow_methods: Vec<String> = strings(DEFAULT_ALLOW_METHODS),
            token_list;
        /// `Access-Control-Expose-Headers`.
        "CORS_EXPOSE_HEADERS" cors_expose_headers: Vec<String> = Vec::new(), token_list;
        /// Seconds; 0 omits `Access-Control-Max-Age`.
        "CORS_PREFLIGHT_MAX_AGE" cors_preflight_max_age: u32 = 86400, max_age;
        /// Matched (like `re.match`) against the request path; `None` is the default `^.*$`.
        "CORS_URLS_REGEX" cors_urls_regex: Option<Regex> = None, urls_regex;
        /// Answer Private Network Access preflights.
        "CORS_ALLOW_PRIVATE_NETWORK" cors_allow_private_network: bool = false, parse::boolean;
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

/// A list of patterns: a TOML array, or in the environment either a JSON array (needed when a
/// pattern contains a comma, e.g. `{1,3}`) or a comma-separated list.
fn pattern_list(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    if let RawValue::Env(s) = value {
        if s.trim_start().starts_with('[') {
            return serde_json::from_str::<Vec<String>>(s)
                .map_err(|e| invalid(key, format!("not a JSON array of strings: {e}")));
        }
    }
    parse::string_list(key, value)
}

fn origin_regexes(key: &str, value: &RawValue) -> Result<Vec<Regex>, ConfigError> {
    let patterns = pattern_list(key, value)?;
    let regexes = patterns
        .iter()
        .map(|p| {
            full_match(p).map_err(|e| invalid(key, format!("{p:?} is not a valid regex: {e}")))
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
    Ok(regexes)
}

fn urls_regex(key: &str, value: &RawValue) -> Result<Option<Regex>, ConfigError> {
    let p = parse::string(key, value)?;
    python_match(&p)
        .map(Some)
        .map_err(|e| invalid(key, format!("{p:?} is not a valid regex: {e}")))
}

fn max_age(key: &str, value: &RawValue) -> Result<u32, ConfigError> {
    let n = parse::integer(key, value)?;
    u32::try_from(n).map_err(|_| invalid(key, "should be an integer greater than or equal to zero"))
}

fn token_list(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = parse::string_list(key, value)?;
    if let Some(bad) = list.iter().find(|s| !is_token(s)) {
        return Err(invalid(
            key,
            format!("{bad:?} is not a valid HTTP header or method name"),
        ));
    }
    Ok(list)
}

fn origins(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = parse::string_list(key, value)?;
    for origin in &list {
        check_origin(key, origin)?;
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

/// Origin as `urlsplit` sees it: lower-cased scheme and the netloc as written.
fn split_origin(origin: &str) -> Option<(String, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((scheme.to_ascii_lowercase(), &rest[..end]))
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

impl Rules for CorsSettings {
    fn check(&self) -> Result<(), ConfigError> {
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
        Ok(())
    }
}

impl CorsSettings {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::Section;
    use crate::config::Settings;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(pairs: &[(&str, &str)]) -> Result<CorsSettings, ConfigError> {
        Settings::load(None, env(pairs)).map(|s| s.cors)
    }

    #[test]
    fn every_key_is_a_top_level_key() {
        for key in CorsSettings::KEYS {
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
        assert!(!b.cors_enabled());
        assert_eq!(b.cors_allow_headers, DEFAULT_ALLOW_HEADERS);
        assert_eq!(b.cors_allow_methods, DEFAULT_ALLOW_METHODS);
        assert_eq!(b.cors_preflight_max_age, 86400);
        assert!(b.cors_applies_to("/anything"));
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
    fn bad_values() {
        assert!(load(&[("CORS_PREFLIGHT_MAX_AGE", "-1")]).is_err());
        assert!(load(&[("CORS_ALLOW_HEADERS", "x-ok, bad header")]).is_err());
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
        let s = Settings::load(Some(&path), env(&[])).expect("settings load");
        let b = s.cors;
        assert!(b.cors_credentialed_origin("https://app.example.com"));
        assert!(b.cors_credentialed_origin("https://x.example.com"));
        assert_eq!(b.cors_preflight_max_age, 600);
        assert_eq!(
            s.cookies.jwt_auth_samesite,
            crate::config::cookies::SameSite::Strict
        );
    }
}
