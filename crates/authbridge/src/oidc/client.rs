//! Clients (relying parties): registration rules for redirect URIs, exact matching at the
//! authorization endpoint, and client secrets.
//!
//! Secrets are 32 random bytes (256 bits) generated here and hashed with plain SHA-256. A slow
//! password hash guards low-entropy human passwords against guessing; a 256-bit random value
//! cannot be guessed whatever the hash, so SHA-256's preimage resistance is all the stored hash
//! needs, and the token endpoint stays cheap (no blocking pool, no denial of service by hashing).
//! Secrets declared in the config file must be long for the same reason (`config::oidc`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::keys::SigningAlg;

/// SHA-256 of a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Lower-case hex, as stored.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    /// Whether `presented` is the secret, compared in constant time.
    pub fn verify(&self, presented: &str) -> bool {
        Self::of(presented).0.ct_eq(&self.0).into()
    }
}

/// A new client secret: 32 random bytes, base64url (43 characters). Shown once, stored hashed.
pub fn generate_secret<R: CryptoRng + ?Sized>(rng: &mut R) -> (String, SecretHash) {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(bytes.as_mut());
    let secret = URL_SAFE_NO_PAD.encode(bytes.as_ref());
    let hash = SecretHash::of(&secret);
    (secret, hash)
}

/// A new client_id: 16 random bytes, base64url. Not a secret, only unique.
pub fn generate_client_id<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `token_endpoint_auth_method: none`: PKCE is what binds its codes.
    Public,
    /// `client_secret_basic` or `client_secret_post`.
    Secret(SecretHash),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub auth: ClientAuth,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Trusted (the site's own apps): no consent screen.
    pub first_party: bool,
    /// `id_token_signed_response_alg`; `None` = the configured default (RS256 unless changed).
    pub id_token_alg: Option<SigningAlg>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth == ClientAuth::Public
    }

    /// The registered URI equal byte for byte to `requested` (no normalisation: RFC 9700 §4.1.3).
    pub fn redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|u| u.as_str() == requested)
    }

    pub fn post_logout_redirect_uri(&self, requested: &str) -> Option<&RedirectUri> {
        self.post_logout_redirect_uris
            .iter()
            .find(|u| u.as_str() == requested)
    }

    /// Whether `presented` authenticates this client. A public client has no secret, so any
    /// presented secret fails (a confused client should hear so, not be let through).
    pub fn check_secret(&self, presented: Option<&str>) -> bool {
        match (&self.auth, presented) {
            (ClientAuth::Public, None) => true,
            (ClientAuth::Secret(hash), Some(secret)) => hash.verify(secret),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("{0:?} is not an absolute URL")]
    NotAbsolute(String),
    #[error("{0:?} has a fragment")]
    Fragment(String),
    #[error("{0:?} has user credentials")]
    Credentials(String),
    #[error("{0:?} must use https (plain http only on 127.0.0.1, [::1] or localhost)")]
    Insecure(String),
    #[error("{0:?} is longer than 2000 characters")]
    TooLong(String),
}

/// A registered redirect URI, kept exactly as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// The registration rules: absolute, no fragment, no credentials; https, or plain http on a
    /// loopback host (any port) for development clients (RFC 8252 §7.3).
    pub fn parse(text: &str) -> Result<Self, RedirectUriError> {
        let owned = || text.to_string();
        if text.len() > 2000 {
            return Err(RedirectUriError::TooLong(owned()));
        }
        // Checked on the text: the parser would drop an empty fragment (`…/cb#`).
        if text.contains('#') {
            return Err(RedirectUriError::Fragment(owned()));
        }
        let url = url::Url::parse(text).map_err(|_| RedirectUriError::NotAbsolute(owned()))?;
        let host = url
            .host_str()
            .ok_or_else(|| RedirectUriError::NotAbsolute(owned()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError::Credentials(owned()));
        }
        match url.scheme() {
            "https" => {}
            "http" if matches!(host, "127.0.0.1" | "[::1]" | "localhost") => {}
            _ => return Err(RedirectUriError::Insecure(owned())),
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn client(auth: ClientAuth) -> Client {
        Client {
            client_id: "c".into(),
            name: "App".into(),
            auth,
            redirect_uris: vec![
                RedirectUri::parse("https://app.test/api/auth/callback/authbridge").unwrap(),
                RedirectUri::parse("http://127.0.0.1:3000/cb?x=1").unwrap(),
            ],
            post_logout_redirect_uris: vec![RedirectUri::parse("https://app.test/").unwrap()],
            first_party: false,
            id_token_alg: None,
        }
    }

    #[test]
    fn registration_rules() {
        for ok in [
            "https://app.test/cb",
            "https://app.test:8443/cb?tenant=a",
            "http://127.0.0.1:3000/api/auth/callback/authbridge",
            "http://[::1]:8000/oidc/callback/",
            "http://localhost:5173/cb",
            "http://localhost/cb",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for (bad, want) in [
            ("/cb", "absolute"),
            ("app.test/cb", "absolute"),
            ("https://app.test/cb#", "fragment"),
            ("https://app.test/cb#x", "fragment"),
            ("http://app.test/cb", "https"),
            ("http://127.0.0.2/cb", "https"),
            ("http://localhost.app.test/cb", "https"),
            ("javascript:alert(1)", "absolute"),
            ("com.example.app:/cb", "absolute"),
            ("ftp://app.test/cb", "https"),
            ("https://user:pw@app.test/cb", "credentials"),
        ] {
            let err = RedirectUri::parse(bad).unwrap_err().to_string();
            assert!(err.contains(want), "{bad}: {err}");
        }
        assert!(RedirectUri::parse(&format!("https://a.test/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn matching_is_exact() {
        let c = client(ClientAuth::Public);
        assert!(c
            .redirect_uri("https://app.test/api/auth/callback/authbridge")
            .is_some());
        assert!(c.redirect_uri("http://127.0.0.1:3000/cb?x=1").is_some());
        for near in [
            "https://app.test/api/auth/callback/authbridge/",
            "https://app.test/api/auth/callback/authbridge?x=1",
            "https://app.test/api/auth/callback/authbridge#",
            "https://app.test:443/api/auth/callback/authbridge",
            "https://APP.test/api/auth/callback/authbridge",
            "https://app.test/api/auth/callback/Authbridge",
            "https://app.test/api/auth/callback/authbridg",
            "http://127.0.0.1:3001/cb?x=1",
            "http://localhost:3000/cb?x=1",
            "http://127.0.0.1:3000/cb",
            "http://127.0.0.1:3000/cb?x=1&y=2",
            "",
        ] {
            assert!(c.redirect_uri(near).is_none(), "{near}");
        }
        assert!(c.post_logout_redirect_uri("https://app.test/").is_some());
        assert!(c.post_logout_redirect_uri("https://app.test").is_none());
        assert!(c.post_logout_redirect_uri("https://evil.test/").is_none());
    }

    #[test]
    fn secrets() {
        let mut rng = StdRng::seed_from_u64(3);
        let (secret, hash) = generate_secret(&mut rng);
        assert_eq!(secret.len(), 43);
        let (other, _) = generate_secret(&mut rng);
        assert_ne!(secret, other);
        assert!(hash.verify(&secret));
        assert!(!hash.verify(&other));
        assert!(!hash.verify(""));
        assert_eq!(SecretHash::from_hex(&hash.to_hex()), Some(hash.clone()));
        assert_eq!(SecretHash::from_hex("abcd"), None);
        assert_eq!(SecretHash::from_hex("zz"), None);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            SecretHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );

        let confidential = client(ClientAuth::Secret(hash));
        assert!(confidential.check_secret(Some(&secret)));
        assert!(!confidential.check_secret(Some(&other)));
        assert!(!confidential.check_secret(None));
        let public = client(ClientAuth::Public);
        assert!(public.check_secret(None));
        assert!(!public.check_secret(Some(&secret)));
        assert!(public.is_public() && !confidential.is_public());

        assert_eq!(generate_client_id(&mut rng).len(), 22);
    }
}
