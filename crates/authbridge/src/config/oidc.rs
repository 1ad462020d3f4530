//! The `[oidc]` section (the OpenID Connect provider, with its clients as `[[oidc.clients]]`) and
//! the `[branding]` section (what the login, consent and logout pages show).
//!
//! `[oidc]` keys are authbridge's own, upper case like every other key (`AUTHBRIDGE_OIDC_<KEY>` in the
//! environment). A client's keys are lower case: they are the OAuth client metadata names of RFC
//! 7591 (`client_id`, `redirect_uris`, `post_logout_redirect_uris`, …), so a client declared here
//! reads like a registration anywhere else. In the environment all clients are one JSON array,
//! `AUTHBRIDGE_OIDC_clients`.

use secrecy::{ExposeSecret, SecretString};

use super::schema::{section, tables, Rules};
use super::{parse, ConfigError, RawValue};
use crate::oidc::client::{Client, ClientAuth, RedirectUri, SecretHash};
use crate::oidc::keys::SigningAlg;

section! {
    /// The OpenID Connect provider.
    pub struct OidcSettings {
        /// Serve the provider's endpoints and pages.
        "ENABLED" enabled: bool = false, parse::boolean;
        /// The issuer, byte for byte as in every token; default `AUTHBRIDGE_PUBLIC_URL`.
        "ISSUER" issuer: Option<String> = None, issuer;
        /// Seconds an ID token lives.
        "ID_TOKEN_LIFETIME" id_token_lifetime: i64 = 3600, lifetime(60, 86_400);
        /// Seconds an authorization code lives (at most 10 minutes, RFC 6749 §4.1.2).
        "CODE_LIFETIME" code_lifetime: i64 = 300,
            lifetime(1, crate::oidc::code::MAX_LIFETIME_SECS);
        /// Seconds an access token issued to a client lives; default SIMPLE_JWT's.
        "ACCESS_TOKEN_LIFETIME" access_token_lifetime: Option<i64> = None,
            |k, v| lifetime(1, 366 * 86_400)(k, v).map(Some);
        /// Seconds a refresh token issued to a client lives; default SIMPLE_JWT's.
        "REFRESH_TOKEN_LIFETIME" refresh_token_lifetime: Option<i64> = None,
            |k, v| lifetime(1, 366 * 86_400)(k, v).map(Some);
        /// The ID-token algorithm for clients that do not name one.
        "ID_TOKEN_SIGNING_ALG" id_token_signing_alg: SigningAlg = SigningAlg::RS256, algorithm;
        /// Algorithms with a signing key, all published in the JWKS.
        "SIGNING_ALGORITHMS" signing_algorithms: Vec<SigningAlg> = SigningAlg::ALL.to_vec(),
            algorithms;
        /// After `authbridge keys rotate`, how long the old keys stay published.
        "KEY_OVERLAP" key_overlap: i64 = 7 * 86_400, lifetime(60, 365 * 86_400);
        /// `email_verified` in tokens: whether the Django site verifies its users' addresses.
        "EMAIL_VERIFIED" email_verified: bool = false, parse::boolean;
        /// Clients declared in the file (`[[oidc.clients]]`), besides those added by the CLI.
        "clients" clients: Vec<ClientConfig> = Vec::new(), tables::<ClientConfig>;
    }
}

section! {
    /// One `[[oidc.clients]]` entry.
    pub struct ClientConfig {
        /// The client's id.
        "client_id" client_id: String = String::new(), client_id;
        /// The name shown on the consent screen; default the client_id.
        "client_name" client_name: Option<String> = None, parse::optional_string;
        /// The secret (at least 32 characters, random); required unless `public`.
        "client_secret" client_secret: Option<SecretString> = None, parse::secret;
        /// A public client (a single-page or native app): no secret, PKCE required.
        "public" public: bool = false, parse::boolean;
        /// Where codes may be sent, each matched byte for byte.
        "redirect_uris" redirect_uris: Vec<RedirectUri> = Vec::new(), redirect_uris;
        /// Where `end_session` may send the browser afterwards.
        "post_logout_redirect_uris" post_logout_redirect_uris: Vec<RedirectUri> = Vec::new(),
            redirect_uris;
        /// The site's own app: no consent screen.
        "first_party" first_party: bool = false, parse::boolean;
        /// This client's ID-token algorithm; default `ID_TOKEN_SIGNING_ALG`.
        "id_token_signed_response_alg" id_token_alg: Option<SigningAlg> = None,
            |k, v| algorithm(k, v).map(Some);
    }
}

section! {
    /// What the provider's pages show.
    pub struct BrandingSettings {
        /// The name in titles and headings.
        "PRODUCT_NAME" product_name: String = "authbridge".into(), product_name;
        /// A logo: an https URL or a path on this server.
        "LOGO_URL" logo_url: Option<String> = None, logo_url;
        /// The accent colour, `#rgb` or `#rrggbb`.
        "PRIMARY_COLOR" primary_color: String = "#2f5bd3".into(), color;
    }
}

impl Rules for BrandingSettings {}

impl Rules for ClientConfig {
    fn check(&self) -> Result<(), ConfigError> {
        let key = |k: &str| format!("oidc.clients[{}].{k}", self.client_id);
        if self.client_id.is_empty() {
            return Err(parse::invalid("oidc.clients.client_id", "is required"));
        }
        if self.redirect_uris.is_empty() {
            return Err(parse::invalid(
                &key("redirect_uris"),
                "needs at least one URI",
            ));
        }
        match (&self.client_secret, self.public) {
            (Some(_), true) => Err(parse::invalid(
                &key("client_secret"),
                "a public client has no secret",
            )),
            (None, false) => Err(parse::invalid(
                &key("client_secret"),
                "is required (or set public = true)",
            )),
            (Some(secret), false) => {
                match super::secrets::shared_secret_rule(secret.expose_secret()) {
                    // SHA-256 stores it (oidc::client): only a long random secret makes that safe.
                    Some(rule) => Err(parse::invalid(&key("client_secret"), rule)),
                    None => Ok(()),
                }
            }
            (None, true) => Ok(()),
        }
    }
}

impl ClientConfig {
    /// The domain's client (the secret hashed as the CLI stores it).
    pub fn to_client(&self) -> Client {
        Client {
            client_id: self.client_id.clone(),
            name: self
                .client_name
                .clone()
                .unwrap_or_else(|| self.client_id.clone()),
            auth: match &self.client_secret {
                Some(secret) => ClientAuth::Secret(SecretHash::of(secret.expose_secret())),
                None => ClientAuth::Public,
            },
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            first_party: self.first_party,
            id_token_alg: self.id_token_alg,
        }
    }
}

impl Rules for OidcSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if !self.signing_algorithms.contains(&self.id_token_signing_alg) {
            return Err(parse::invalid(
                "OIDC.ID_TOKEN_SIGNING_ALG",
                "must be one of OIDC.SIGNING_ALGORITHMS",
            ));
        }
        if self.key_overlap < self.id_token_lifetime {
            return Err(parse::invalid(
                "OIDC.KEY_OVERLAP",
                "must be at least OIDC.ID_TOKEN_LIFETIME (tokens signed by a retired key must \
                 stay verifiable until they expire)",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for client in &self.clients {
            if !seen.insert(client.client_id.as_str()) {
                return Err(parse::invalid(
                    &format!("oidc.clients[{}]", client.client_id),
                    "client_id is declared twice",
                ));
            }
            if let Some(alg) = client.id_token_alg {
                if !self.signing_algorithms.contains(&alg) {
                    return Err(parse::invalid(
                        &format!(
                            "oidc.clients[{}].id_token_signed_response_alg",
                            client.client_id
                        ),
                        "must be one of OIDC.SIGNING_ALGORITHMS",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl OidcSettings {
    /// The issuer: `ISSUER`, else the public URL. `None` only when neither is set, which
    /// [`check_issuer`] refuses for an enabled provider.
    pub fn issuer<'a>(&'a self, public_url: Option<&'a str>) -> Option<&'a str> {
        self.issuer.as_deref().or(public_url)
    }
}

/// Cross-section rule (run by `Settings`): an enabled provider needs an issuer.
pub fn check_issuer(oidc: &OidcSettings, public_url: Option<&str>) -> Result<(), ConfigError> {
    if oidc.enabled && oidc.issuer(public_url).is_none() {
        return Err(parse::invalid(
            "OIDC.ISSUER",
            "the provider needs an issuer: set OIDC.ISSUER or AUTHBRIDGE_PUBLIC_URL",
        ));
    }
    Ok(())
}

fn lifetime(lo: i64, hi: i64) -> impl Fn(&str, &RawValue) -> Result<i64, ConfigError> {
    move |key, value| {
        let secs = parse::seconds(key, value)?;
        if (lo..=hi).contains(&secs) {
            Ok(secs)
        } else {
            Err(parse::invalid(
                key,
                format!("must be between {lo} and {hi} seconds"),
            ))
        }
    }
}

/// An http(s) URL without query or fragment; plain http only on a loopback host (development).
fn issuer(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let Some(text) = parse::optional_string(key, value)? else {
        return Ok(None);
    };
    let url = url::Url::parse(&text).map_err(|e| parse::invalid(key, format!("{text:?}: {e}")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    let secure = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !secure || url.host_str().is_none() {
        return Err(parse::invalid(
            key,
            format!("{text:?} must be an https URL (plain http only on a loopback host)"),
        ));
    }
    if text.contains(['?', '#']) {
        return Err(parse::invalid(
            key,
            format!("{text:?} has a query or fragment"),
        ));
    }
    Ok(Some(text))
}

fn algorithm(key: &str, value: &RawValue) -> Result<SigningAlg, ConfigError> {
    let s = parse::string(key, value)?;
    SigningAlg::parse(&s)
        .ok_or_else(|| parse::invalid(key, format!("{s:?} is not one of RS256, EdDSA, ES256")))
}

fn algorithms(key: &str, value: &RawValue) -> Result<Vec<SigningAlg>, ConfigError> {
    let mut list = Vec::new();
    for name in parse::string_list(key, value)? {
        let alg = algorithm(key, &RawValue::Env(name))?;
        if !list.contains(&alg) {
            list.push(alg);
        }
    }
    if list.is_empty() {
        return Err(parse::invalid(key, "needs at least one algorithm"));
    }
    Ok(list)
}

fn client_id(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    // Printable ASCII without spaces: it travels in URLs, Basic credentials and logs.
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) || s.contains(':')
    {
        return Err(parse::invalid(
            key,
            "must be 1 to 255 printable ASCII characters, no spaces or ':'",
        ));
    }
    Ok(s)
}

fn redirect_uris(key: &str, value: &RawValue) -> Result<Vec<RedirectUri>, ConfigError> {
    parse::string_list(key, value)?
        .iter()
        .map(|s| RedirectUri::parse(s).map_err(|e| parse::invalid(key, e.to_string())))
        .collect()
}

fn product_name(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    if s.trim().is_empty() || s.chars().count() > 80 || s.chars().any(char::is_control) {
        return Err(parse::invalid(
            key,
            "must be 1 to 80 characters, no control characters",
        ));
    }
    Ok(s)
}

/// An https URL or a path on this server (`/static/logo.svg`), never `//host` (another origin
/// in disguise) nor quotes or spaces (it lands in an HTML attribute and in the CSP).
fn logo_url(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    let Some(s) = parse::optional_string(key, value)? else {
        return Ok(None);
    };
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`".contains(&b));
    let path = s.starts_with('/') && !s.starts_with("//");
    let https = url::Url::parse(&s).is_ok_and(|u| u.scheme() == "https" && u.host().is_some());
    if !plain || !(path || https) {
        return Err(parse::invalid(
            key,
            "must be an https URL or a path starting with /",
        ));
    }
    Ok(Some(s))
}

/// `#rgb` or `#rrggbb`: it is written into a stylesheet, so nothing else gets through.
fn color(key: &str, value: &RawValue) -> Result<String, ConfigError> {
    let s = parse::string(key, value)?;
    let hex = s.strip_prefix('#').unwrap_or("");
    if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(parse::invalid(key, format!("{s:?} is not #rgb or #rrggbb")));
    }
    Ok(s.to_ascii_lowercase())
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
