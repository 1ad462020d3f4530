//! What every page needs and the router builds once: the keys that sign form tokens and
//! timestamps (derived from the server secret, so every instance agrees), the cookie names and
//! attributes (`__Host-` and `Secure` when the issuer is https), the stylesheet with the brand's
//! colours, and the issuer.

use aws_lc_rs::hmac;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::style;
use crate::config::Settings;
use crate::random::Random;

pub struct PageContext {
    csrf_key: hmac::Key,
    stamp_key: hmac::Key,
    /// `https` issuer: cookies get `Secure` and the `__Host-` prefix.
    pub secure: bool,
    pub issuer: String,
    pub product_name: String,
    pub logo_url: Option<String>,
    pub stylesheet: String,
    /// `/static/authbridge.css?v=<digest>`: a new brand colour is a new URL, so the sheet may be
    /// cached for long.
    pub stylesheet_url: String,
    /// The `img-src` of the pages' CSP: ours, plus the logo's origin when it is elsewhere.
    pub img_src: String,
}

/// A key of its own per use, so a form token can never pass for a timestamp or the reverse.
fn derive(secret: &[u8], label: &str) -> hmac::Key {
    let master = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let tag = hmac::sign(&master, format!("authbridge pages: {label}").as_bytes());
    hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref())
}

impl PageContext {
    pub fn new(settings: &Settings, random: &dyn Random) -> Self {
        let secret: zeroize::Zeroizing<Vec<u8>> = match &settings.secret_key {
            Some(key) => key.expose_secret().as_bytes().to_vec().into(),
            // Only a state built without `ensure_secret_key` (some tests): tokens then live as
            // long as the process, which is all such a server has.
            None => {
                let mut bytes = vec![0; 32];
                random.fill_bytes(&mut bytes);
                bytes.into()
            }
        };
        let issuer = settings
            .oidc
            .issuer(settings.edge.public_origin.as_deref())
            .unwrap_or_default()
            .to_string();
        let branding = &settings.branding;
        let stylesheet = style::stylesheet(&branding.primary_color);
        let digest = hex::encode(&Sha256::digest(stylesheet.as_bytes())[..6]);
        let logo_origin = branding
            .logo_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization());
        Self {
            csrf_key: derive(&secret, "csrf"),
            stamp_key: derive(&secret, "authorize time"),
            secure: issuer.starts_with("https://"),
            issuer,
            product_name: branding.product_name.clone(),
            logo_url: branding.logo_url.clone(),
            stylesheet_url: format!("{}?v={digest}", style::PATH),
            stylesheet,
            img_src: match logo_origin {
                Some(origin) => format!("'self' {origin}"),
                None => "'self'".into(),
            },
        }
    }

    /// A cookie's name: `__Host-<name>` on https (the browser then insists on `Secure`,
    /// `Path=/` and no `Domain`, so no sibling subdomain can plant or shadow it).
    pub fn cookie_name(&self, name: &str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// `Set-Cookie` for one of our cookies; `max_age` `None`: until the browser closes.
    pub fn set_cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax",
            self.cookie_name(name)
        );
        if let Some(secs) = max_age {
            cookie.push_str(&format!("; Max-Age={secs}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    pub fn clear_cookie(&self, name: &str) -> String {
        self.set_cookie(name, "", Some(0))
    }

    pub fn csrf_token(&self, secret: &str) -> String {
        hex::encode(hmac::sign(&self.csrf_key, secret.as_bytes()).as_ref())
    }

    pub fn csrf_valid(&self, secret: &str, token: &str) -> bool {
        let expected = self.csrf_token(secret);
        expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    pub fn stamp(&self, text: &str) -> String {
        hex::encode(hmac::sign(&self.stamp_key, text.as_bytes()).as_ref())
    }

    pub fn stamp_valid(&self, text: &str, mac: &str) -> bool {
        let expected = self.stamp(text);
        expected.len() == mac.len() && bool::from(expected.as_bytes().ct_eq(mac.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn ctx(issuer: &str) -> PageContext {
        let env = [
            ("AUTHBRIDGE_OIDC_ENABLED", "true"),
            ("AUTHBRIDGE_OIDC_ISSUER", issuer),
            (
                "DJANGO_SECRET_KEY",
                "a-test-secret-key-that-is-long-enough-0123456789abcdef",
            ),
        ];
        let settings = Settings::load(
            None,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .expect("settings");
        PageContext::new(&settings, &SeededRandom::new(1))
    }

    #[test]
    fn tokens_and_stamps_are_keyed_and_distinct() {
        let c = ctx("http://127.0.0.1:9000");
        let token = c.csrf_token("s");
        assert!(c.csrf_valid("s", &token));
        assert!(!c.csrf_valid("t", &token));
        assert!(!c.csrf_valid("s", &token[..62]));
        assert!(!c.csrf_valid("s", ""));
        assert_ne!(c.stamp("s"), token, "one key per use");
        assert!(c.stamp_valid("1", &c.stamp("1")) && !c.stamp_valid("2", &c.stamp("1")));
        // Instances sharing DJANGO_SECRET_KEY agree on tokens.
        assert_eq!(ctx("http://127.0.0.1:9000").csrf_token("s"), token);
    }

    #[test]
    fn cookies_follow_the_issuer_scheme() {
        let plain = ctx("http://127.0.0.1:9000");
        assert_eq!(
            plain.set_cookie("authbridge_session", "v", Some(60)),
            "authbridge_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let https = ctx("https://auth.example.test");
        assert_eq!(
            https.set_cookie("authbridge_csrf", "v", None),
            "__Host-authbridge_csrf=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            https.clear_cookie("authbridge_session"),
            "__Host-authbridge_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }
}
