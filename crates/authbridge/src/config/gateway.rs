//! The `[gateway]` section: authbridge in front of Django (docs/gateway.md). Each key is also
//! `AUTHBRIDGE_GATEWAY_<KEY>` in the environment; the upstream is also `AUTHBRIDGE_UPSTREAM` and
//! `authbridge serve --upstream`. Per-path policies are `[[gateway.paths]]` (in the environment one
//! JSON array, `AUTHBRIDGE_GATEWAY_paths`), their keys lower case like `[[oidc.clients]]`'.

use axum::http::uri::{Authority, Scheme};
use axum::http::{HeaderName, Uri};
use std::time::Duration;

use super::edge::duration;
use super::schema::{section, tables, Rules};
use super::{parse, ConfigError, RawValue};

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_BODY_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_POOL_SIZE: usize = 32;
pub const DEFAULT_TOKEN_LIFETIME: i64 = 60;

/// Where proxied requests go: `http://host:port` (Django's gunicorn or uvicorn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub scheme: Scheme,
    pub authority: Authority,
}

impl Upstream {
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: Uri = text
            .parse()
            .map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if uri.scheme() != Some(&Scheme::HTTP) {
            return Err(format!(
                "{text:?} must be an http:// URL (Django on this host or a private network; TLS \
                 belongs in front of authbridge)"
            ));
        }
        let authority = uri
            .authority()
            .filter(|a| !a.as_str().contains('@'))
            .cloned()
            .ok_or_else(|| format!("{text:?} needs a host (and no user info)"))?;
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!("{text:?} must have no path or query"));
        }
        Ok(Self {
            scheme: Scheme::HTTP,
            authority,
        })
    }
}

/// How the user is told to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityMode {
    /// `X-Remote-User` and friends, for Django's `RemoteUserMiddleware`.
    Headers,
    /// A short-lived simplejwt access token in `Authorization: Bearer`, for a Django already on
    /// simplejwt.
    Bearer,
}

/// What a path requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone; the identity headers when a user is known.
    Public,
    /// A signed-in user.
    Authenticated,
    /// A signed-in user with `is_staff` (DRF's `IsAdminUser`).
    Staff,
}

section! {
    /// The gateway.
    pub struct GatewaySettings {
        /// Django's address: `http://127.0.0.1:8000`. Without it nothing is proxied.
        "UPSTREAM" upstream: Option<Upstream> = None, upstream;
        /// `headers` (X-Remote-User…) or `bearer` (a minted simplejwt access token).
        "IDENTITY" identity: IdentityMode = IdentityMode::Headers, identity;
        /// The header carrying the username.
        "USER_HEADER" user_header: HeaderName = HeaderName::from_static("x-remote-user"),
            header_name;
        /// The header carrying the user's primary key.
        "USER_ID_HEADER" user_id_header: HeaderName =
            HeaderName::from_static("x-remote-user-id"), header_name;
        /// The header carrying the user's email.
        "EMAIL_HEADER" email_header: HeaderName = HeaderName::from_static("x-remote-user-email"),
            header_name;
        /// Seconds a token minted in `bearer` mode lives.
        "TOKEN_LIFETIME" token_lifetime: i64 = DEFAULT_TOKEN_LIFETIME, token_lifetime;
        /// The policy of a path no `[[gateway.paths]]` entry matches.
        "DEFAULT_POLICY" default_policy: Policy = Policy::Public, policy;
        /// Where `redirect = true` paths send a browser that is not signed in (`?next=` added).
        "LOGIN_URL" login_url: String = "/login".into(), login_url;
        /// Send the client's `Host` to the upstream (else the upstream's own host).
        "PRESERVE_HOST" preserve_host: bool = true, parse::boolean;
        /// Time to open a connection to the upstream (else 502).
        "CONNECT_TIMEOUT" connect_timeout: Duration = DEFAULT_CONNECT_TIMEOUT, duration;
        /// Time for the upstream to start its answer (else 504).
        "READ_TIMEOUT" read_timeout: Duration = DEFAULT_READ_TIMEOUT, duration;
        /// Largest proxied request body (else 413).
        "MAX_BODY_BYTES" max_body_bytes: u64 = DEFAULT_MAX_BODY_BYTES,
            parse::int_in(1, 1 << 40);
        /// Idle upstream connections kept open for reuse.
        "POOL_SIZE" pool_size: usize = DEFAULT_POOL_SIZE, parse::int_in(0, 10_000);
        /// Per-path policies, first match wins (`[[gateway.paths]]`).
        "paths" paths: Vec<PathRule> = Vec::new(), tables::<PathRule>;
    }
}

section! {
    /// One `[[gateway.paths]]` entry.
    pub struct PathRule {
        /// A path prefix (`/api/`).
        "prefix" prefix: Option<String> = None, path_pattern;
        /// A glob (`/api/*/admin/**`): `*` within one segment, `**` across segments.
        "glob" glob: Option<String> = None, path_pattern;
        /// `public`, `authenticated` or `staff`.
        "policy" policy: Policy = Policy::Authenticated, policy;
        /// An HTML path: a browser that is not signed in is redirected to `LOGIN_URL`.
        "redirect" redirect: bool = false, parse::boolean;
    }
}

impl Rules for GatewaySettings {
    fn check(&self) -> Result<(), ConfigError> {
        let headers = [&self.user_header, &self.user_id_header, &self.email_header];
        for (i, a) in headers.iter().enumerate() {
            if headers[i + 1..].iter().any(|b| meta_key(a) == meta_key(b)) {
                return Err(parse::invalid(
                    "GATEWAY.USER_HEADER",
                    "the identity headers must differ (also as Django's META keys)",
                ));
            }
        }
        Ok(())
    }
}

impl Rules for PathRule {
    fn check(&self) -> Result<(), ConfigError> {
        match (&self.prefix, &self.glob) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            _ => Err(parse::invalid(
                "gateway.paths",
                "each entry needs exactly one of prefix or glob",
            )),
        }
    }
}

/// Django's `request.META` key of an HTTP header (`X-Remote-User` → `HTTP_X_REMOTE_USER`).
pub fn meta_key(name: &HeaderName) -> String {
    format!(
        "HTTP_{}",
        name.as_str().to_ascii_uppercase().replace('-', "_")
    )
}

fn upstream(key: &str, value: &RawValue) -> Result<Option<Upstream>, ConfigError> {
    parse::optional_string(key, value)?
        .map(|s| Upstream::parse(s.trim()).map_err(|e| parse::invalid(key, e)))
        .transpose()
}

fn identity(key: &str, value: &RawValue) -> Result<IdentityMode, ConfigError> {
    match parse::string(key, value)?.to_ascii_lowercase().as_str() {
        "headers" => Ok(IdentityMode::Headers),
        "bearer" => Ok(IdentityMode::Bearer),
        other => Err(parse::invalid(
            key,
            format!("{other:?} is not headers or bearer"),
        )),
    }
}

fn policy(key: &str, value: &RawValue) -> Result<Policy, ConfigError> {
    match parse::string(key, value)?.to_ascii_lowercase().as_str() {
        "public" => Ok(Policy::Public),
        "authenticated" => Ok(Policy::Authenticated),
        "staff" => Ok(Policy::Staff),
        other => Err(parse::invalid(
            key,
            format!("{other:?} is not public, authenticated or staff"),
        )),
    }
}

/// Headers the gateway owns or that mean something to HTTP itself cannot carry the identity.
const RESERVED: &[&str] = &[
    "authorization",
    "cookie",
    "host",
    "connection",
    "content-length",
    "content-type",
    "transfer-encoding",
    "upgrade",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-request-id",
];

fn header_name(key: &str, value: &RawValue) -> Result<HeaderName, ConfigError> {
    let s = parse::string(key, value)?;
    let name = HeaderName::from_bytes(s.trim().as_bytes())
        .map_err(|_| parse::invalid(key, format!("{s:?} is not a header name")))?;
    if RESERVED.contains(&name.as_str()) {
        return Err(parse::invalid(
            key,
            format!("{s:?} cannot carry the identity"),
        ));
    }
    Ok(name)
}

fn token_lifetime(key: &str, value: &RawValue) -> Result<i64, ConfigError> {
    let secs = parse::seconds(key, value)?;
    if (1..=3600).contains(&secs) {
        Ok(secs)
    } else {
        Err(parse::invalid(key, "must be between 1 and 3600 seconds"))
    }
}

/// A path on this site (`/login`), never `//host` nor anything that could leave it.
fn login_url(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    let plain = s.bytes().all(|b| b.is_ascii_graphic()) && !s.contains(['?', '#', '\\']);
    if !plain || !s.starts_with('/') || s.starts_with("//") {
        return Err(parse::invalid(
            key,
            "must be a path on this site starting with / (no query)",
        ));
    }
    Ok(s)
}

/// A path pattern: starts with `/`, printable ASCII, at most 512 characters.
fn path_pattern(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let s = parse::string(key, value)?;
    if !s.starts_with('/') || s.len() > 512 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(parse::invalid(
            key,
            "must start with / and be at most 512 printable ASCII characters",
        ));
    }
    Ok(Some(s))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::Settings;
    use super::*;

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, file).unwrap();
        Settings::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn file_env_and_alias() {
        let s = load(
            r#"
[gateway]
UPSTREAM = "http://127.0.0.1:8000"
IDENTITY = "bearer"
READ_TIMEOUT = "2s"
[[gateway.paths]]
prefix = "/admin/"
policy = "staff"
redirect = true
[[gateway.paths]]
glob = "/api/*/private/**"
"#,
            &[],
        )
        .unwrap();
        let g = &s.gateway;
        assert_eq!(g.upstream.as_ref().unwrap().authority, "127.0.0.1:8000");
        assert_eq!(g.identity, IdentityMode::Bearer);
        assert_eq!(g.read_timeout, Duration::from_secs(2));
        assert_eq!(g.paths.len(), 2);
        assert_eq!(g.paths[0].policy, Policy::Staff);
        assert!(g.paths[0].redirect);
        assert_eq!(g.paths[1].policy, Policy::Authenticated);
        // AUTHBRIDGE_UPSTREAM (the short name) wins over the file, as any environment variable.
        let s = load(
            "[gateway]\nUPSTREAM = \"http://127.0.0.1:8000\"\n",
            &[("AUTHBRIDGE_UPSTREAM", "http://localhost:9000")],
        )
        .unwrap();
        assert_eq!(
            s.gateway.upstream.unwrap().authority.as_str(),
            "localhost:9000"
        );
        let s = load("", &[("AUTHBRIDGE_GATEWAY_USER_HEADER", "X-User")]).unwrap();
        assert_eq!(s.gateway.user_header, "x-user");
        assert!(s.gateway.upstream.is_none());
    }

    #[test]
    fn refusals() {
        for (file, needle) in [
            ("[gateway]\nUPSTREAM = \"https://x\"\n", "http://"),
            ("[gateway]\nUPSTREAM = \"http://x/app\"\n", "no path"),
            ("[gateway]\nUPSTREAM = \"http://u@x\"\n", "user info"),
            ("[gateway]\nIDENTITY = \"cookie\"\n", "headers or bearer"),
            (
                "[gateway]\nUSER_HEADER = \"Authorization\"\n",
                "cannot carry",
            ),
            (
                "[gateway]\nUSER_HEADER = \"X-Remote-User-Id\"\n",
                "must differ",
            ),
            (
                "[gateway]\nUSER_HEADER = \"X_Remote_User_Id\"\n",
                "must differ",
            ),
            (
                "[gateway]\nLOGIN_URL = \"//evil.example\"\n",
                "path on this site",
            ),
            ("[[gateway.paths]]\npolicy = \"staff\"\n", "exactly one"),
            (
                "[[gateway.paths]]\nprefix = \"/a\"\nglob = \"/b\"\n",
                "exactly one",
            ),
            ("[[gateway.paths]]\nprefix = \"a\"\n", "start with /"),
            (
                "[[gateway.paths]]\nprefix = \"/a\"\npolicy = \"admin\"\n",
                "staff",
            ),
        ] {
            let err = load(file, &[]).unwrap_err().to_string();
            assert!(err.contains(needle), "{file}: {err}");
        }
    }

    #[test]
    fn meta_keys() {
        assert_eq!(
            meta_key(&HeaderName::from_static("x-remote-user")),
            "HTTP_X_REMOTE_USER"
        );
    }
}
