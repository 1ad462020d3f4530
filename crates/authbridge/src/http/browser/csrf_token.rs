//! Django's CSRF token for the double-submit check of cookie mode (`JWT_AUTH_COOKIE_USE_CSRF`):
//! the `csrftoken` cookie, the `X-CSRFToken` header, Django's alphabet, masking and messages, so
//! a Django on the same host and authbridge accept each other's tokens.

use axum::http::header::{HeaderMap, HeaderName};
use rand::Rng;
use subtle::ConstantTimeEq;

use crate::http::extract::cookie_value;
use crate::http::DrfError;

/// Django's `CSRF_COOKIE_NAME`, `CSRF_HEADER_NAME` and `CSRF_COOKIE_AGE`.
pub const CSRF_COOKIE: &str = "csrftoken";
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrftoken");
pub(super) const CSRF_COOKIE_AGE: i64 = 31_449_600;
/// Django's CSRF alphabet and lengths (`CSRF_SECRET_LENGTH`, `CSRF_TOKEN_LENGTH`).
const CSRF_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const CSRF_SECRET_LENGTH: usize = 32;

fn forbidden(reason: &str) -> DrfError {
    DrfError::Forbidden(format!("CSRF Failed: {reason}"))
}

/// Django's `CsrfViewMiddleware` check for a header-submitted token, with its messages.
pub(super) fn double_submit_check(headers: &HeaderMap) -> Result<(), DrfError> {
    let cookie =
        cookie_value(headers, CSRF_COOKIE).ok_or_else(|| forbidden("CSRF cookie not set."))?;
    let secret = csrf_secret(&cookie).ok_or_else(|| forbidden("CSRF cookie not set."))?;
    let header = headers
        .get(&CSRF_HEADER)
        .ok_or_else(|| forbidden("CSRF token missing."))?;
    let token = header
        .to_str()
        .map_err(|_| forbidden("CSRF token missing."))?;
    let from = "CSRF token from the 'X-Csrftoken' HTTP header";
    if token.len() != CSRF_SECRET_LENGTH && token.len() != 2 * CSRF_SECRET_LENGTH {
        return Err(forbidden(&format!("{from} has incorrect length.")));
    }
    let presented =
        csrf_secret(token).ok_or_else(|| forbidden(&format!("{from} has invalid characters.")))?;
    if bool::from(presented.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(forbidden(&format!("{from} incorrect.")))
    }
}

/// Django's `_get_new_csrf_string`, drawn from the injected source.
pub(super) fn new_csrf_secret(random: &dyn crate::random::Random) -> String {
    let mut rng = random.rng();
    (0..CSRF_SECRET_LENGTH)
        .map(|_| CSRF_CHARS[rng.random_range(0..CSRF_CHARS.len())] as char)
        .collect()
}

/// The secret behind a Django CSRF token: a 32-character secret as is, a 64-character masked
/// token unmasked (`_unmask_cipher_token`); anything else is not a token.
pub(super) fn csrf_secret(token: &str) -> Option<String> {
    let index = |c: u8| CSRF_CHARS.iter().position(|&x| x == c);
    let bytes = token.as_bytes();
    if !bytes.iter().all(|&b| index(b).is_some()) {
        return None;
    }
    match bytes.len() {
        CSRF_SECRET_LENGTH => Some(token.to_string()),
        n if n == 2 * CSRF_SECRET_LENGTH => {
            let (mask, cipher) = bytes.split_at(CSRF_SECRET_LENGTH);
            cipher
                .iter()
                .zip(mask)
                .map(|(&c, &m)| {
                    let (c, m) = (index(c)?, index(m)?);
                    Some(CSRF_CHARS[(c + CSRF_CHARS.len() - m) % CSRF_CHARS.len()] as char)
                })
                .collect()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::headers;

    /// Django's `_mask_cipher_secret`, to produce a masked token for the check.
    fn mask(secret: &str, mask: &str) -> String {
        let index = |c: u8| CSRF_CHARS.iter().position(|&x| x == c).expect("test value");
        let cipher: String = secret
            .bytes()
            .zip(mask.bytes())
            .map(|(s, m)| CSRF_CHARS[(index(s) + index(m)) % CSRF_CHARS.len()] as char)
            .collect();
        format!("{mask}{cipher}")
    }

    #[test]
    fn csrf_tokens_are_djangos() {
        let secret = new_csrf_secret(&crate::random::OsRandom);
        assert_eq!(secret.len(), 32);
        assert_eq!(csrf_secret(&secret).as_deref(), Some(secret.as_str()));
        let masked = mask(&secret, "ZZZZaaaa0000bbbb1111cccc2222dddd");
        assert_eq!(masked.len(), 64);
        assert_eq!(csrf_secret(&masked).as_deref(), Some(secret.as_str()));
        assert_eq!(csrf_secret("short"), None);
        assert_eq!(csrf_secret(&"!".repeat(32)), None);

        let cookie = format!("csrftoken={secret}");
        let ok = headers(&[("cookie", &cookie), ("x-csrftoken", &masked)]);
        assert!(double_submit_check(&ok).is_ok());
        let ok = headers(&[("cookie", &cookie), ("x-csrftoken", &secret)]);
        assert!(double_submit_check(&ok).is_ok());
        let detail = |h: &HeaderMap| match double_submit_check(h) {
            Err(DrfError::Forbidden(d)) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            detail(&headers(&[("x-csrftoken", &secret)])),
            "CSRF Failed: CSRF cookie not set."
        );
        assert_eq!(
            detail(&headers(&[("cookie", &cookie)])),
            "CSRF Failed: CSRF token missing."
        );
        let other = new_csrf_secret(&crate::random::OsRandom);
        assert_eq!(
            detail(&headers(&[("cookie", &cookie), ("x-csrftoken", &other)])),
            "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."
        );
        assert_eq!(
            detail(&headers(&[("cookie", &cookie), ("x-csrftoken", "abc")])),
            "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
        );
    }
}
