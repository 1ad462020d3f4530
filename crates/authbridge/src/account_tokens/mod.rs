//! The tokens of dj-rest-auth + django-allauth's account flows, pure (no clock reads, no I/O):
//! - `signing`: Django's `signing.dumps/loads` (`TimestampSigner` with a salt), and allauth's
//!   email-confirmation key built on it (`dumps(<account_emailaddress.id>, salt="account")`);
//! - `reset`: allauth's `EmailAwarePasswordResetTokenGenerator` (Django's
//!   `PasswordResetTokenGenerator` whose hash value also covers the user's email addresses);
//! - `base36`: Django's `int_to_base36`/`base36_to_int`, the uid of reset links.
//!
//! Every secret is Django's `SECRET_KEY`, then each of `SECRET_KEY_FALLBACKS` when checking; every
//! comparison of a signature is constant-time. Vectors minted by the real Django 5.2 and allauth
//! 65 are in `fixtures/account_tokens.json` beside this module's tests.

pub mod base36;
pub mod reset;
pub mod signing;

#[cfg(test)]
mod tests;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub use reset::{ResetTokenUser, ResetTokens};
pub use signing::{confirmation_key, read_confirmation_key, SigningError};

/// Django's `SECRET_KEY` and `SECRET_KEY_FALLBACKS`: new values are signed with the first, checks
/// accept any.
#[derive(Clone)]
pub struct SecretKeys {
    current: SecretString,
    fallbacks: Vec<SecretString>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("fallbacks", &self.fallbacks.len())
            .finish_non_exhaustive()
    }
}

impl SecretKeys {
    pub fn new(current: SecretString, fallbacks: Vec<SecretString>) -> Self {
        Self { current, fallbacks }
    }

    /// The key new signatures use.
    pub(crate) fn current(&self) -> &[u8] {
        self.current.expose_secret().as_bytes()
    }

    /// Every key a check accepts, current first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(&self.current)
            .chain(self.fallbacks.iter())
            .map(|s| s.expose_secret().as_bytes())
    }
}

/// Django's `salted_hmac(key_salt, value, secret, algorithm="sha256")`: HMAC-SHA256 keyed with
/// `sha256(key_salt + secret)`.
pub(crate) fn salted_hmac(key_salt: &str, value: &[u8], secret: &[u8]) -> [u8; 32] {
    let mut key = Sha256::new();
    key.update(key_salt.as_bytes());
    key.update(secret);
    let key: zeroize::Zeroizing<[u8; 32]> = zeroize::Zeroizing::new(key.finalize().into());
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_slice());
    let tag = aws_lc_rs::hmac::sign(&key, value);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// `constant_time_compare` of two texts (length is not secret).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
