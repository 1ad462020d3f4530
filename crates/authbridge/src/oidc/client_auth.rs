//! Which client a token, revocation or introspection request claims to be (RFC 6749 §2.3.1):
//! `client_secret_basic` (an `Authorization: Basic` header whose id and secret are each
//! form-urlencoded before base64, a step clients such as oauth4webapi do take),
//! `client_secret_post` (`client_id` and `client_secret` in the body), or `none` (a public client:
//! `client_id` alone).
//! Using two methods at once is refused (RFC 6749 §2.3). Checking the secret is
//! `Client::check_secret`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::ErrorCode;

/// The credentials a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// `authorization`: the header's value, if any; `form_id`/`form_secret`: the body's fields.
/// Errors are `invalid_request` (malformed, or two methods) and `invalid_client` (no client).
pub fn presented(
    authorization: Option<&str>,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Presented, ErrorCode> {
    let basic = authorization.and_then(|value| {
        let (scheme, rest) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
    });
    match (basic, form_id, form_secret) {
        (Some(_), _, Some(_)) => Err(ErrorCode::InvalidRequest),
        (Some(encoded), form_id, None) => {
            let (client_id, secret) = decode_basic(encoded).ok_or(ErrorCode::InvalidClient)?;
            // A body client_id may repeat the header's (some clients send both), never differ.
            if form_id.is_some_and(|id| id != client_id) {
                return Err(ErrorCode::InvalidRequest);
            }
            Ok(Presented {
                client_id,
                secret: Some(secret),
                method: Method::ClientSecretBasic,
            })
        }
        (None, Some(id), secret) if !id.is_empty() => Ok(Presented {
            client_id: id.to_string(),
            secret: secret.map(String::from),
            method: match secret {
                Some(_) => Method::ClientSecretPost,
                None => Method::None,
            },
        }),
        _ => Err(ErrorCode::InvalidClient),
    }
}

fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let bytes = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    (!id.is_empty()).then_some((id, secret))
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space).
fn form_decode(text: &str) -> Option<String> {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn the_three_methods() {
        let p = presented(Some(&basic("web", "s3cret")), None, None).unwrap();
        assert_eq!(
            (p.client_id.as_str(), p.secret.as_deref(), p.method),
            ("web", Some("s3cret"), Method::ClientSecretBasic)
        );
        let p = presented(None, Some("web"), Some("s3cret")).unwrap();
        assert_eq!(p.method, Method::ClientSecretPost);
        let p = presented(None, Some("spa"), None).unwrap();
        assert_eq!((p.secret, p.method), (None, Method::None));
        // The header's client_id repeated in the body is fine.
        assert!(presented(Some(&basic("web", "s")), Some("web"), None).is_ok());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        // RFC 6749 §2.3.1: "a:b" with a secret containing ':' and '+' and '%'.
        let header = basic("my%3Aclient", "a+b%25c%3A");
        let p = presented(Some(&header), None, None).unwrap();
        assert_eq!(
            (p.client_id.as_str(), p.secret.as_deref()),
            ("my:client", Some("a b%c:"))
        );
        let p = presented(Some(&basic("web", "x:y")), None, None).unwrap();
        assert_eq!(p.secret.as_deref(), Some("x:y"), "the first ':' separates");
        let p = presented(
            Some(&format!("basic {}", STANDARD.encode("web:s"))),
            None,
            None,
        );
        assert!(p.is_ok(), "the scheme is case-insensitive");
    }

    #[test]
    fn refusals() {
        assert_eq!(presented(None, None, None), Err(ErrorCode::InvalidClient));
        assert_eq!(
            presented(None, Some(""), None),
            Err(ErrorCode::InvalidClient)
        );
        assert_eq!(
            presented(None, None, Some("s")),
            Err(ErrorCode::InvalidClient)
        );
        assert_eq!(
            presented(Some(&basic("web", "s")), None, Some("s")),
            Err(ErrorCode::InvalidRequest),
            "two methods"
        );
        assert_eq!(
            presented(Some(&basic("web", "s")), Some("other"), None),
            Err(ErrorCode::InvalidRequest)
        );
        for bad in [
            "Basic !!!",
            "Basic d2Vi",
            "Basic OnM=",
            "Basic /w==",
            "Basic JUZGOnM=",
        ] {
            assert_eq!(
                presented(Some(bad), None, None),
                Err(ErrorCode::InvalidClient),
                "{bad}"
            );
        }
        // A Bearer header is not client authentication; the body decides.
        let p = presented(Some("Bearer abc"), Some("spa"), None).unwrap();
        assert_eq!(p.method, Method::None);
    }
}
