//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `end_session`.
//!
//! The browser is sent back only to a `post_logout_redirect_uri` registered, byte for byte, for
//! the client the request is about (named by `client_id` or by the `id_token_hint`'s audience):
//! anything else would make the endpoint an open redirector. Without a valid hint for the
//! signed-in user the user is asked first (§2: a bare link must not log anyone out, or any page
//! could sign its visitors out of every application).

use super::claims::IdTokenHint;
use super::client::Client;

/// The `id_token_hint` as the HTTP layer found it (signature checked with `KeySet::verify`, claims
/// read with `claims::id_token_hint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    Absent,
    /// Present but not ours (bad signature, unknown key, another issuer).
    Invalid,
    Valid(IdTokenHint),
}

impl Hint {
    /// The client to look up: `client_id` if sent, else the hint's audience.
    pub fn client_id<'a>(&'a self, client_id: Option<&'a str>) -> Option<&'a str> {
        match self {
            Hint::Valid(hint) => client_id.or(Some(hint.client_id.as_str())),
            _ => client_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    #[error("The id_token_hint is not a token this server issued.")]
    InvalidHint,
    #[error("The client_id does not match the id_token_hint.")]
    ClientMismatch,
    #[error("The application (client_id) is not registered.")]
    UnknownClient,
    #[error("post_logout_redirect_uri needs a client_id or an id_token_hint.")]
    NoClient,
    #[error("The post_logout_redirect_uri is not registered for this application.")]
    UnregisteredRedirectUri,
}

/// What `end_session` does. `redirect` is the full `Location` (with `state`) to send the browser
/// to afterwards; `None` shows the signed-out page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutPlan {
    /// End the session now (a valid hint for the signed-in user, or nobody signed in).
    Now { redirect: Option<String> },
    /// Ask the user (a form posted back with CSRF protection), then end the session.
    Confirm { redirect: Option<String> },
}

/// `client`: the client found by [`Hint::client_id`] (`None`: none named or not found).
/// `session_user`: the signed-in user's id, if any.
pub fn plan(
    hint: &Hint,
    client_id: Option<&str>,
    client: Option<&Client>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
    session_user: Option<i64>,
) -> Result<LogoutPlan, LogoutError> {
    if *hint == Hint::Invalid {
        return Err(LogoutError::InvalidHint);
    }
    if let (Hint::Valid(h), Some(id)) = (hint, client_id) {
        if h.client_id != id {
            return Err(LogoutError::ClientMismatch);
        }
    }
    let named = hint.client_id(client_id);
    let client = match (named, client) {
        (Some(id), Some(c)) if c.client_id == id => Some(c),
        (Some(_), _) => return Err(LogoutError::UnknownClient),
        (None, _) => None,
    };
    let redirect = match post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let client = client.ok_or(LogoutError::NoClient)?;
            let registered = client
                .post_logout_redirect_uri(uri)
                .ok_or(LogoutError::UnregisteredRedirectUri)?;
            Some(with_state(registered.as_str(), state))
        }
    };
    let hint_is_the_user = match (hint, session_user) {
        (Hint::Valid(h), Some(user)) => h.sub == user.to_string(),
        _ => false,
    };
    Ok(if session_user.is_none() || hint_is_the_user {
        LogoutPlan::Now { redirect }
    } else {
        LogoutPlan::Confirm { redirect }
    })
}

fn with_state(uri: &str, state: Option<&str>) -> String {
    match state.filter(|s| !s.is_empty()) {
        None => uri.to_string(),
        Some(state) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish();
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}{query}")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::oidc::client::{ClientAuth, RedirectUri};

    fn client() -> Client {
        Client {
            client_id: "web".into(),
            name: "Web".into(),
            auth: ClientAuth::Public,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![
                RedirectUri::parse("https://app.test/bye").unwrap(),
                RedirectUri::parse("https://app.test/out?x=1").unwrap(),
            ],
            first_party: false,
            id_token_alg: None,
        }
    }

    fn hint(sub: &str, client_id: &str) -> Hint {
        Hint::Valid(IdTokenHint {
            sub: sub.into(),
            client_id: client_id.into(),
        })
    }

    #[test]
    fn a_valid_hint_for_the_user_logs_out_and_redirects_with_state() {
        let c = client();
        let h = hint("7", "web");
        assert_eq!(h.client_id(None), Some("web"));
        assert_eq!(
            plan(
                &h,
                None,
                Some(&c),
                Some("https://app.test/bye"),
                Some("s 1"),
                Some(7)
            ),
            Ok(LogoutPlan::Now {
                redirect: Some("https://app.test/bye?state=s+1".into())
            })
        );
        assert_eq!(
            plan(
                &h,
                Some("web"),
                Some(&c),
                Some("https://app.test/out?x=1"),
                None,
                Some(7)
            ),
            Ok(LogoutPlan::Now {
                redirect: Some("https://app.test/out?x=1".into())
            })
        );
        assert_eq!(
            plan(&h, None, Some(&c), None, Some("s"), Some(7)),
            Ok(LogoutPlan::Now { redirect: None })
        );
    }

    #[test]
    fn without_a_hint_for_the_user_the_user_is_asked() {
        let c = client();
        let bye = Some("https://app.test/bye");
        assert_eq!(
            plan(&Hint::Absent, Some("web"), Some(&c), bye, None, Some(7)),
            Ok(LogoutPlan::Confirm {
                redirect: Some("https://app.test/bye".into())
            })
        );
        assert_eq!(
            plan(&hint("8", "web"), None, Some(&c), None, None, Some(7)),
            Ok(LogoutPlan::Confirm { redirect: None })
        );
        // Nobody signed in: nothing to protect.
        assert_eq!(
            plan(&Hint::Absent, None, None, None, None, None),
            Ok(LogoutPlan::Now { redirect: None })
        );
    }

    #[test]
    fn no_open_redirects() {
        let c = client();
        let h = hint("7", "web");
        for uri in [
            "https://app.test/bye/",
            "https://evil.test/bye",
            "https://app.test/out",
        ] {
            assert_eq!(
                plan(&h, None, Some(&c), Some(uri), None, Some(7)),
                Err(LogoutError::UnregisteredRedirectUri),
                "{uri}"
            );
        }
        let bye = Some("https://app.test/bye");
        assert_eq!(
            plan(&Hint::Absent, None, None, bye, None, Some(7)),
            Err(LogoutError::NoClient)
        );
        assert_eq!(
            plan(&Hint::Invalid, Some("web"), Some(&c), bye, None, Some(7)),
            Err(LogoutError::InvalidHint)
        );
        assert_eq!(
            plan(&h, Some("other"), Some(&c), bye, None, Some(7)),
            Err(LogoutError::ClientMismatch)
        );
        assert_eq!(
            plan(&Hint::Absent, Some("gone"), None, bye, None, Some(7)),
            Err(LogoutError::UnknownClient)
        );
        assert_eq!(
            plan(&hint("7", "other"), None, Some(&c), bye, None, Some(7)),
            Err(LogoutError::UnknownClient),
            "the client looked up must be the one named"
        );
    }
}
